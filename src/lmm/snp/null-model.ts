/**
 * The null model y = W a + g + e (no SNP), fitted as GEMMA 0.98.5 does before a scan (gemma.cpp / lmm.cpp
 * CalcLambda on the null, CalcPve, CalcLmmVgVeBeta), on eigen-rotated data.
 *
 * At the null REML lambda: ve = P_yy / (n - c), vg = lambda ve,
 * pve = t lambda / (t lambda + 1) with t the mean eigenvalue, se(pve) = t / (t lambda + 1)^2 sqrt(|-1 / lR''(lambda)|),
 * a = (W' H^-1 W)^-1 W' H^-1 y with se(a_j) = sqrt(|ve [(W' H^-1 W)^-1]_jj|). All f64; cost O(n c^2) per
 * likelihood evaluation, a few dozen evaluations.
 */
import { LAMBDA_GRID, L_MAX, L_MIN, optimiseLambda, type LambdaStatus } from './lambda-optimiser.js';
import { LambdaObjective, logDetH } from './likelihood.js';
import { pairCount, pairIndex } from './projection.js';

/** Eigen-rotated inputs shared by a phenotype's null model and its scan. */
export interface RotatedInputs {
  /** Eigenvalues of K (n), zeroed below 1e-10 in magnitude. */
  d: Float64Array;
  /** U' W, n x c column-major (c >= 1 columns, the intercept included). */
  uw: Float64Array;
  c: number;
  /** U' y (n). */
  uy: Float64Array;
}

/** GEMMA's null-model summary (the numbers of its log file), JSON-serialisable. */
export interface NullModel {
  n: number;
  /** Number of covariates, intercept included. */
  c: number;
  lambdaRemle: number;
  lambdaMle: number;
  loglRemle: number;
  loglMle: number;
  pve: number;
  pveSe: number;
  vg: number;
  ve: number;
  /** Mean eigenvalue of the kinship (GEMMA's trace_G). */
  traceG: number;
  beta: number[];
  betaSe: number[];
  status: LambdaStatus;
}

/** |x| < 1e-10 -> 0, as GEMMA's EigenDecomp_Zeroed. Writes into its argument and returns it. */
export function zeroSmallEigenvaluesInPlace(d: Float64Array): Float64Array {
  for (let i = 0; i < d.length; i++) if (Math.abs(d[i]!) < 1e-10) d[i] = 0;
  return d;
}

/** Checks shapes and finiteness of rotated inputs; throws RangeError naming the problem. */
export function checkRotatedInputs(r: RotatedInputs): number {
  const n = r.d.length;
  if (n < 2) throw new RangeError(`null model: need at least 2 individuals, got ${n}`);
  if (!Number.isInteger(r.c) || r.c < 1) throw new RangeError(`null model: c must be an integer >= 1, got ${r.c}`);
  if (r.uw.length < n * r.c) throw new RangeError(`null model: U'W has ${r.uw.length} entries, expected ${n}x${r.c}`);
  if (r.uy.length !== n) throw new RangeError(`null model: U'y has ${r.uy.length} entries, expected ${n}`);
  if (n - r.c - 1 < 1) throw new RangeError(`null model: n - c - 1 = ${n - r.c - 1} residual degrees of freedom, need >= 1`);
  for (const [name, v] of [['eigenvalues', r.d], ["U'W", r.uw], ["U'y", r.uy]] as const) {
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new RangeError(`null model: ${name} has a non-finite entry at ${i}`);
  }
  return n;
}

/**
 * Interleaved products of the columns [W, (x), y]: ab[i * np + pairIndex(a, b)] = a_i b_i, with the x column
 * left as zeros (filled per SNP by the caller). q = c + 1 (null) or c + 2 (with x). O(n q^2).
 */
export function fixedProducts(r: RotatedInputs, withX: boolean): Float64Array {
  const n = r.d.length;
  const c = r.c;
  const q = c + (withX ? 2 : 1);
  const np = pairCount(q);
  const ab = new Float64Array(n * np);
  const iy = q - 1;
  const col = (a: number, i: number): number => (a === iy ? r.uy[i]! : a < c ? r.uw[i + a * n]! : 0);
  for (let a = 0; a < q; a++) {
    if (withX && a === c) continue;
    for (let b = a; b < q; b++) {
      if (withX && b === c) continue;
      const k = pairIndex(a, b, q);
      for (let i = 0; i < n; i++) ab[i * np + k] = col(a, i) * col(b, i);
    }
  }
  return ab;
}

/** ln|H| at the two ends of GEMMA's lambda range (shared by every SNP of a scan). */
export function logDetHAtEnds(d: Float64Array): [number, number] {
  return [logDetH(d, L_MIN), logDetH(d, L_MAX)];
}

/** Fits the null model (REML and ML lambda, pve, vg, ve, covariate effects). */
export function fitNullModel(r: RotatedInputs): NullModel {
  const n = checkRotatedInputs(r);
  const c = r.c;
  const q = c + 1;
  const obj = new LambdaObjective(r.d, fixedProducts(r, false), q, c);
  const remlDev1 = new Float64Array(LAMBDA_GRID.length);
  const mlDev1 = new Float64Array(LAMBDA_GRID.length);
  const ends = new Float64Array(4);
  obj.grid(logDetHAtEnds(r.d), remlDev1, mlDev1, ends);
  const remle = optimiseLambda(obj, 'reml', remlDev1, [ends[0]!, ends[1]!]);
  const mle = optimiseLambda(obj, 'ml', mlDev1, [ends[2]!, ends[3]!]);
  let traceG = 0;
  for (let i = 0; i < n; i++) traceG += r.d[i]!;
  traceG /= n;
  const lam = remle.lambda;
  const d12 = new Float64Array(2);
  obj.dev12('reml', lam, d12);
  const seLambda = Math.sqrt(Math.abs(-1 / d12[1]!));
  const pve = (traceG * lam) / (traceG * lam + 1);
  const pveSe = (traceG / ((traceG * lam + 1) * (traceG * lam + 1))) * seLambda;
  // P at level 0 (W'H^-1 W, W'H^-1 y) and level c (y'Py) at the REML lambda.
  obj.project(lam);
  const ve = obj.pAt(c, q - 1, q - 1) / (n - c);
  const whiw = new Float64Array(c * c);
  const whiy = new Float64Array(c);
  for (let a = 0; a < c; a++) {
    whiy[a] = obj.pAt(0, a, q - 1);
    for (let b = 0; b < c; b++) whiw[a + b * c] = obj.pAt(0, a, b);
  }
  const inv = invertSmallSpd(whiw, c);
  const beta: number[] = [];
  const betaSe: number[] = [];
  for (let a = 0; a < c; a++) {
    let s = 0;
    for (let b = 0; b < c; b++) s += inv[a + b * c]! * whiy[b]!;
    beta.push(s);
    betaSe.push(Math.sqrt(Math.abs(ve * inv[a + a * c]!)));
  }
  const status: LambdaStatus = remle.status !== 'ok' ? remle.status : mle.status;
  return {
    n, c,
    lambdaRemle: remle.lambda, lambdaMle: mle.lambda, loglRemle: remle.logl, loglMle: mle.logl,
    pve, pveSe, vg: ve * lam, ve, traceG, beta, betaSe, status,
  };
}

/** Inverse of a small c x c matrix by Gauss-Jordan with partial pivoting (c is the number of covariates). */
function invertSmallSpd(a: Float64Array, c: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(c * c);
  for (let i = 0; i < c; i++) inv[i + i * c] = 1;
  for (let col = 0; col < c; col++) {
    let piv = col;
    for (let r = col + 1; r < c; r++) if (Math.abs(m[r + col * c]!) > Math.abs(m[piv + col * c]!)) piv = r;
    const pv = m[piv + col * c]!;
    if (pv === 0) throw new RangeError("null model: W'H^-1 W is singular (covariates are linearly dependent)");
    if (piv !== col) {
      for (let j = 0; j < c; j++) {
        let t = m[col + j * c]!;
        m[col + j * c] = m[piv + j * c]!;
        m[piv + j * c] = t;
        t = inv[col + j * c]!;
        inv[col + j * c] = inv[piv + j * c]!;
        inv[piv + j * c] = t;
      }
    }
    for (let j = 0; j < c; j++) {
      m[col + j * c]! /= pv;
      inv[col + j * c]! /= pv;
    }
    for (let r = 0; r < c; r++) {
      if (r === col) continue;
      const f = m[r + col * c]!;
      if (f === 0) continue;
      for (let j = 0; j < c; j++) {
        m[r + j * c]! -= f * m[col + j * c]!;
        inv[r + j * c]! -= f * inv[col + j * c]!;
      }
    }
  }
  return inv;
}
