/**
 * Clusters and working correlation matrices R(alpha) of a GEE (Liang & Zeger 1986), as geepack's corstr:
 * - independence: R = I;
 * - exchangeable: R_jk = alpha (j != k);
 * - ar1: R_jk = alpha^|t_j - t_k|, t the wave (time) index of each observation: the rows' order within the
 *   cluster (1, 2, ...), or the rank of the wave value among all distinct wave values (geeglm's
 *   as.integer(as.factor(waves))), so gaps in the waves give higher powers.
 *
 * The estimating equations need quadratic forms a' R^{-1} b per cluster; {@link whitenClusterInPlace} applies
 * a W with W'W = R^{-1} in O(n_i) per column (exchangeable: W = (I - h J/n)/sqrt(1 - alpha),
 * h = 1 - sqrt((1 - alpha) / (1 + (n - 1) alpha)); ar1 in time order: the innovations
 * e_1 = v_1, e_j = (v_j - r_j v_{j-1}) / sqrt(1 - r_j^2), r_j = alpha^(t_j - t_{j-1})).
 */
import { NumericError } from '../../errors.js';
import { DataError } from '../mixed/model-frame.js';

export type CorStr = 'independence' | 'exchangeable' | 'ar1';
export const CORSTRS: readonly CorStr[] = ['independence', 'exchangeable', 'ar1'];

/** Observations grouped by cluster: positions order[start[c]..start[c+1]) are cluster c's rows, in wave order. */
export interface Clusters {
  /** frame row of each position (length n) */
  order: Int32Array;
  /** first position of each cluster (length K + 1) */
  start: Int32Array;
  /** wave index t of each position (used by ar1) */
  time: Float64Array;
  /** the id level of each cluster */
  labels: string[];
  maxSize: number;
  /** largest wave distance within a cluster */
  maxDistance: number;
}

/**
 * Groups rows by id code (a stable counting sort: clusters need not be contiguous; within a cluster the rows
 * keep their order unless wave codes are given, which then order them). Wave codes must be distinct within a
 * cluster when they are given (a DataError names the cluster). Cost O(n log m), m the largest cluster.
 */
export function buildClusters(idCodes: Int32Array, idLevels: readonly string[], waveCodes: Int32Array | null, waveLevels: readonly string[] | null): Clusters {
  const n = idCodes.length;
  const counts = new Int32Array(idLevels.length + 1);
  for (let i = 0; i < n; i++) counts[idCodes[i]! + 1]!++;
  for (let c = 0; c < idLevels.length; c++) counts[c + 1]! += counts[c]!;
  const order = new Int32Array(n);
  const fill = counts.slice(0, idLevels.length);
  for (let i = 0; i < n; i++) order[fill[idCodes[i]!]!++] = i;
  // drop levels without rows (all rows of an id dropped for missing values)
  const start: number[] = [0];
  const labels: string[] = [];
  for (let c = 0; c < idLevels.length; c++) {
    if (counts[c + 1]! > counts[c]!) {
      start.push(counts[c + 1]!);
      labels.push(idLevels[c]!);
    }
  }
  const time = new Float64Array(n);
  let maxSize = 0;
  let maxDistance = 0;
  for (let c = 0; c < labels.length; c++) {
    const s = start[c]!;
    const e = start[c + 1]!;
    maxSize = Math.max(maxSize, e - s);
    if (waveCodes) {
      const seg = Array.from(order.subarray(s, e)).sort((a, b) => waveCodes[a]! - waveCodes[b]!);
      order.set(seg, s);
      for (let j = s; j < e; j++) {
        time[j] = waveCodes[order[j]!]! + 1;
        if (j > s && time[j] === time[j - 1]) throw new DataError(`id ${labels[c]}: wave ${waveLevels![waveCodes[order[j]!]!]} occurs more than once in the cluster (waves must be distinct within a cluster)`);
      }
    } else for (let j = s; j < e; j++) time[j] = j - s + 1;
    maxDistance = Math.max(maxDistance, time[e - 1]! - time[s]!);
  }
  return { order, start: Int32Array.from(start), time, labels, maxSize, maxDistance };
}

/** Throws a NumericError when R(alpha) is not positive definite for a cluster of `maxSize` rows. */
export function checkAlpha(corstr: CorStr, alpha: number, maxSize: number): void {
  if (corstr === 'independence') return;
  const lower = corstr === 'ar1' ? -1 : maxSize > 1 ? -1 / (maxSize - 1) : -Infinity;
  if (!(alpha < 1 && alpha > lower)) {
    throw new NumericError(`the ${corstr} working correlation alpha = ${alpha} gives a working correlation matrix that is not positive definite (clusters of up to ${maxSize} rows need ${lower === -Infinity ? '' : `${lower.toPrecision(4)} < `}alpha < 1)`);
  }
}

/**
 * Replaces rows [s, e) of a row-major buffer (row stride `k`, all k columns) by W v, W'W = R(alpha)^{-1} of that
 * cluster (see the module comment); `time` holds the wave index of each row. Cost O((e - s) k).
 */
export function whitenClusterInPlace(buf: Float64Array, k: number, s: number, e: number, corstr: CorStr, alpha: number, time: Float64Array): void {
  const n = e - s;
  if (corstr === 'independence' || n === 1) return;
  if (corstr === 'exchangeable') {
    const h = 1 - Math.sqrt((1 - alpha) / (1 + (n - 1) * alpha));
    const scale = 1 / Math.sqrt(1 - alpha);
    for (let j = 0; j < k; j++) {
      let m = 0;
      for (let i = s; i < e; i++) m += buf[i * k + j]!;
      const shift = (h * m) / n;
      for (let i = s; i < e; i++) buf[i * k + j] = (buf[i * k + j]! - shift) * scale;
    }
    return;
  }
  // ar1: innovations, last row first so each step reads the previous row's original value
  for (let i = e - 1; i > s; i--) {
    const r = alpha ** (time[i]! - time[i - 1]!);
    const f = 1 / Math.sqrt(1 - r * r);
    for (let j = 0; j < k; j++) buf[i * k + j] = (buf[i * k + j]! - r * buf[(i - 1) * k + j]!) * f;
  }
}

/**
 * rho(d) = R_jk(alpha) and E(d) = d rho / d alpha for every wave distance d = |t_j - t_k| in 0..maxDistance
 * (geepack's cor_rho_ar1: E = 1 at d = 1, d alpha^(d - 1) otherwise; exchangeable: alpha and 1). Cost O(maxDistance).
 */
export function pairCorrelations(corstr: CorStr, alpha: number, maxDistance: number): { rho: Float64Array; e: Float64Array } {
  const rho = new Float64Array(maxDistance + 1);
  const e = new Float64Array(maxDistance + 1);
  for (let d = 0; d <= maxDistance; d++) {
    rho[d] = corstr === 'exchangeable' ? alpha : alpha ** d;
    e[d] = corstr === 'exchangeable' || d === 1 ? 1 : d * alpha ** (d - 1);
  }
  return { rho, e };
}
