/**
 * Pseudobulk differential expression: counts summed per donor x condition sample, then limma-voom
 * (Law et al. 2014): log-CPM with precision weights from the mean-variance trend, weighted least squares per
 * gene, empirical Bayes moderated t (Smyth 2004). Library sizes TMM-normalised (src/sc/tmm.ts) by default.
 *
 * Sample design: intercept, condition (B = 1), covariates averaged over the sample's cells, and for paired
 * designs one blocking column per donor beyond the first (donor as a fixed effect).
 */
import { memoryBlock } from '../io/count-blocks.js';
import type { SparseCounts } from '../io/mtx.js';
import { PassAccumulator, type Pseudobulk } from './accumulate.js';
import { tSurvival2 } from '../stats/distributions.js';
import type { AnalysisDesign } from './design.js';
import { fitFDist, squeezeVar } from './ebayes.js';
import { linearInterpolant, lowess } from './lowess.js';
import { backSolveInPlace, cholInPlace, cholInverseInto, forwardSolveInPlace } from '../lmm/small-linalg.js';
import { tmmNormFactors } from './tmm.js';

export type { Pseudobulk } from './accumulate.js';

/** Sums the analysed cells' counts of an in-memory matrix per (donor, condition) sample, with the sample design. Cost O(nnz_analysed + samples q). */
export function pseudobulkCounts(counts: SparseCounts, design: AnalysisDesign): Pseudobulk {
  const acc = new PassAccumulator(counts.nGenes, counts.nCells, [{ design, cellStats: false, pseudobulk: true }], null, null);
  acc.add(memoryBlock(counts));
  return acc.pseudobulk(0);
}

export interface VoomResult {
  readonly logFc: Float64Array;
  readonly se: Float64Array;
  readonly t: Float64Array;
  readonly df: Float64Array;
  readonly p: Float64Array;
  /** Mean log2-CPM over samples. */
  readonly meanLogCpm: Float64Array;
  /** Posterior (moderated) residual variance. */
  readonly s2Post: Float64Array;
  readonly nonzeroCells: Int32Array;
  readonly prior: { s02: number; d0: number };
}

/** Library-size normalisation of pseudobulk samples: TMM factors (edgeR calcNormFactors) or none. */
export type PseudobulkNormalisation = 'tmm' | 'none';

/**
 * limma-voom + eBayes on `pb` for the genes with keep[g] = 1 (others: NaN, the caller sets their status).
 *   logCPM_gs = log2((c_gs + 0.5) / (L_s + 1) * 1e6), L_s = N_s f_s with N_s the sum over kept genes and f_s
 *   the TMM factor (1 with normalisation 'none'), as voom on a DGEList after calcNormFactors;
 *   trend: lowess(f = 0.5) of sqrt(sigma_g) on mean logCPM + mean log2(L + 1) - log2(1e6) (unweighted OLS fits);
 *   weights w_gs = trend(log2 fitted count_gs)^-4; weighted OLS per gene; s2 moderated with fitFDist's prior;
 *   t = beta / (sqrt(s2_post) * stdev_unscaled), df = min(df_res + d0, total residual df).
 * Cost O(genes * samples * q^2).
 */
export function voomLimma(pb: Pseudobulk, keep: Uint8Array, normalisation: PseudobulkNormalisation = 'tmm'): VoomResult {
  const { nGenes: nG, nSamples: n, q, x, coef } = pb;
  const dfRes = n - q;
  const nan = () => new Float64Array(nG).fill(Number.NaN);
  const out = { logFc: nan(), se: nan(), t: nan(), df: nan(), p: nan(), meanLogCpm: nan(), s2Post: nan(), nonzeroCells: pb.nonzeroCells };
  if (dfRes < 1) return { ...out, prior: { s02: Number.NaN, d0: Number.NaN } };
  const genes: number[] = [];
  for (let g = 0; g < nG; g++) if (keep[g]) genes.push(g);
  const lib = new Float64Array(n);
  for (const g of genes) for (let s = 0; s < n; s++) lib[s]! += pb.counts[s * nG + g]!;
  if (normalisation === 'tmm') {
    const f = tmmNormFactors(pb.counts, nG, n, genes, lib);
    for (let s = 0; s < n; s++) lib[s]! *= f[s]!;
  }
  const y = new Float64Array(genes.length * n);
  genes.forEach((g, k) => {
    for (let s = 0; s < n; s++) y[k * n + s] = Math.log2(((pb.counts[s * nG + g]! + 0.5) / (lib[s]! + 1)) * 1e6);
  });
  const ones = new Float64Array(n).fill(1);
  // Step 1: unweighted fits, the mean-variance trend.
  const ols = weightedFits(y, genes.length, () => ones, x, n, q, coef);
  let meanLogLib = 0;
  for (let s = 0; s < n; s++) meanLogLib += Math.log2(lib[s]! + 1) / n;
  const sx: number[] = [];
  const sy: number[] = [];
  genes.forEach((g, k) => {
    let m = 0;
    for (let s = 0; s < n; s++) m += y[k * n + s]! / n;
    out.meanLogCpm[g] = m;
    let tot = 0;
    for (let s = 0; s < n; s++) tot += pb.counts[s * nG + g]!;
    if (tot === 0) return;
    sx.push(m + meanLogLib - Math.log2(1e6));
    sy.push(Math.sqrt(Math.sqrt(ols.s2[k]!)));
  });
  const trend = lowess(Float64Array.from(sx), Float64Array.from(sy), 0.5);
  const f = linearInterpolant(trend.x, trend.y);
  // Step 2: precision weights from fitted log-counts.
  const w = new Float64Array(genes.length * n);
  for (let k = 0; k < genes.length; k++) {
    for (let s = 0; s < n; s++) {
      let fitted = 0;
      for (let j = 0; j < q; j++) fitted += ols.beta[k * q + j]! * x[s * q + j]!;
      const logCount = Math.log2(2 ** fitted * 1e-6 * (lib[s]! + 1));
      w[k * n + s] = 1 / f(logCount) ** 4;
    }
  }
  // Step 3: weighted fits and empirical Bayes.
  const wls = weightedFits(y, genes.length, (k) => w.subarray(k * n, (k + 1) * n), x, n, q, coef);
  const df1 = new Float64Array(genes.length).fill(dfRes);
  const prior = fitFDist(wls.s2, df1);
  const post = squeezeVar(wls.s2, df1, prior);
  const dfTotal = Math.min(dfRes + prior.d0, dfRes * genes.length);
  genes.forEach((g, k) => {
    const b = wls.beta[k * q + coef]!;
    const se = Math.sqrt(post[k]!) * wls.unscaled[k]!;
    out.logFc[g] = b;
    out.se[g] = se;
    out.t[g] = b / se;
    out.df[g] = dfTotal;
    out.p[g] = tSurvival2(b / se, dfTotal);
    out.s2Post[g] = post[k]!;
  });
  return { ...out, prior };
}

/**
 * Weighted least squares for each of m responses y_k (n values each) on the shared design x (row-major n x q):
 * beta_k (m x q), residual variance s2_k = sum_s w_s r_s^2 / (n - q), and stdev_unscaled of column `coef`,
 * sqrt([(X^T W X)^-1]_coef,coef). A singular X^T W X gives NaN for that response. Cost O(m n q^2).
 */
function weightedFits(
  y: Float64Array,
  m: number,
  weights: (k: number) => Float64Array,
  x: Float64Array,
  n: number,
  q: number,
  coef: number,
): { beta: Float64Array; s2: Float64Array; unscaled: Float64Array } {
  const beta = new Float64Array(m * q);
  const s2 = new Float64Array(m);
  const unscaled = new Float64Array(m);
  const a = new Float64Array(q * q);
  const b = new Float64Array(q);
  const inv = new Float64Array(q * q);
  const col = new Float64Array(q);
  for (let k = 0; k < m; k++) {
    const w = weights(k);
    a.fill(0);
    b.fill(0);
    for (let s = 0; s < n; s++) {
      const ws = w[s]!;
      const ys = y[k * n + s]!;
      for (let i = 0; i < q; i++) {
        const wx = ws * x[s * q + i]!;
        b[i]! += wx * ys;
        for (let j = 0; j < q; j++) a[i * q + j]! += wx * x[s * q + j]!;
      }
    }
    if (Number.isNaN(cholInPlace(a, q))) {
      s2[k] = unscaled[k] = Number.NaN;
      beta.fill(Number.NaN, k * q, (k + 1) * q);
      continue;
    }
    cholInverseInto(a, q, inv, col);
    forwardSolveInPlace(a, q, b);
    backSolveInPlace(a, q, b);
    let rss = 0;
    for (let s = 0; s < n; s++) {
      let fit = 0;
      for (let j = 0; j < q; j++) fit += b[j]! * x[s * q + j]!;
      rss += w[s]! * (y[k * n + s]! - fit) ** 2;
    }
    s2[k] = rss / (n - q);
    beta.set(b, k * q);
    unscaled[k] = Math.sqrt(inv[coef * q + coef]!);
  }
  return { beta, s2, unscaled };
}
