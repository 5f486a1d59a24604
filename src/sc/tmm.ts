/**
 * Trimmed mean of M-values normalisation (Robinson & Oshlack 2010, Genome Biology 11:R25), with the choices of
 * edgeR's calcNormFactors(method = "TMM") so that pseudobulk results match a DGEList -> calcNormFactors -> voom
 * workflow.
 *
 * For sample s against a reference sample r, over genes g with a non-zero count in both:
 *   M_g = log2((c_gs / N_s) / (c_gr / N_r)),  A_g = (log2(c_gs / N_s) + log2(c_gr / N_r)) / 2,
 *   v_g = (N_s - c_gs) / (N_s c_gs) + (N_r - c_gr) / (N_r c_gr)      (delta-method variance of M_g),
 * the genes whose M rank lies in [floor(0.3 G) + 1, G - floor(0.3 G)] and whose A rank lies in
 * [floor(0.05 G) + 1, G - floor(0.05 G)] (ranks with ties averaged) are kept, and
 *   log2 f_s = sum_kept M_g / v_g / sum_kept 1 / v_g      (f_s = 1 when every |M_g| < 1e-6).
 * The reference is the sample whose upper quartile of c_gs / N_s (quantile type 7) is closest to the mean of the
 * samples' upper quartiles (the sample with the largest sum of sqrt(c_gs) when the median upper quartile is below
 * 1e-20). Genes with a zero count in every sample are left out first. Finally the factors are scaled to a
 * geometric mean of 1. Effective library sizes are N_s f_s.
 *
 * Precision f64. Cost O(S G log G) for S samples and G genes.
 */

/** Trimming shares and weighting of TMM (edgeR's defaults). */
const LOGRATIO_TRIM = 0.3;
const SUM_TRIM = 0.05;

/**
 * Ranks 1..n of `v` with ties given their average rank (R's rank(ties.method = "average")): the values sorted
 * once (a typed-array sort, no comparator), each rank from the first and last position of its value.
 * Cost O(n log n).
 */
function averageRanks(v: Float64Array): Float64Array {
  const sorted = Float64Array.from(v).sort();
  const n = sorted.length;
  const rank = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    let last = lo;
    let top = n;
    while (last + 1 < top) {
      const mid = (last + top) >> 1;
      if (sorted[mid]! <= x) last = mid;
      else top = mid;
    }
    rank[i] = (lo + last) / 2 + 1;
  }
  return rank;
}

/** The p quantile of `v` by linear interpolation between order statistics (R's quantile type 7). */
function quantile7(v: Float64Array, p: number): number {
  const s = Float64Array.from(v).sort();
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
}

/** TMM factor of one sample's counts against the reference's (see the module comment). */
function tmmFactor(obs: Float64Array, ref: Float64Array, libObs: number, libRef: number): number {
  const m: number[] = [];
  const a: number[] = [];
  const v: number[] = [];
  for (let g = 0; g < obs.length; g++) {
    const o = obs[g]!;
    const r = ref[g]!;
    if (!(o > 0 && r > 0)) continue; // M and A are not finite
    // M as one log of the ratio (as edgeR): mathematically equal ratios (1/1, 2/2, ...) stay exact ties, which
    // decide the rank trimming; a difference of two logs would break them at random in the last bit.
    const lo = Math.log2(o / libObs);
    const lr = Math.log2(r / libRef);
    m.push(Math.log2(o / libObs / (r / libRef)));
    a.push((lo + lr) / 2);
    v.push((libObs - o) / libObs / o + (libRef - r) / libRef / r);
  }
  if (m.every((x) => Math.abs(x) < 1e-6)) return 1;
  const n = m.length;
  const loL = Math.floor(n * LOGRATIO_TRIM) + 1;
  const hiL = n + 1 - loL;
  const loS = Math.floor(n * SUM_TRIM) + 1;
  const hiS = n + 1 - loS;
  const rm = averageRanks(Float64Array.from(m));
  const ra = averageRanks(Float64Array.from(a));
  let num = 0;
  let den = 0;
  for (let g = 0; g < n; g++) {
    if (rm[g]! < loL || rm[g]! > hiL || ra[g]! < loS || ra[g]! > hiS) continue;
    num += m[g]! / v[g]!;
    den += 1 / v[g]!;
  }
  return den > 0 ? 2 ** (num / den) : 1;
}

/**
 * TMM normalisation factors of the samples (geometric mean 1).
 * @param counts genes x samples, gene fastest (counts[s * nGenes + g]), non-negative
 * @param genes the genes to use (the expression-filtered set, as the DGEList given to calcNormFactors)
 * @param lib library size N_s of each sample (column sums over `genes`)
 */
export function tmmNormFactors(counts: Float64Array, nGenes: number, nSamples: number, genes: readonly number[], lib: Float64Array): Float64Array {
  if (counts.length !== nGenes * nSamples) throw new RangeError(`tmmNormFactors: ${counts.length} counts for ${nGenes} genes x ${nSamples} samples`);
  if (lib.length !== nSamples) throw new RangeError(`tmmNormFactors: ${lib.length} library sizes for ${nSamples} samples`);
  const used = genes.filter((g) => {
    for (let s = 0; s < nSamples; s++) if (counts[s * nGenes + g]! > 0) return true;
    return false;
  });
  const f = new Float64Array(nSamples).fill(1);
  if (used.length === 0 || nSamples === 1) return f;
  const column = (s: number): Float64Array => {
    const c = new Float64Array(used.length);
    for (let k = 0; k < used.length; k++) c[k] = counts[s * nGenes + used[k]!]!;
    return c;
  };
  const cols = Array.from({ length: nSamples }, (_, s) => column(s));
  const upper = cols.map((c, s) => quantile7(c, 0.75) / lib[s]!);
  let ref = 0;
  if (quantile7(Float64Array.from(upper), 0.5) < 1e-20) {
    const rootSum = cols.map((c) => c.reduce((t, x) => t + Math.sqrt(x), 0));
    ref = rootSum.indexOf(Math.max(...rootSum));
  } else {
    const mean = upper.reduce((t, x) => t + x, 0) / nSamples;
    for (let s = 1; s < nSamples; s++) if (Math.abs(upper[s]! - mean) < Math.abs(upper[ref]! - mean)) ref = s;
  }
  for (let s = 0; s < nSamples; s++) f[s] = tmmFactor(cols[s]!, cols[ref]!, lib[s]!, lib[ref]!);
  let logMean = 0;
  for (let s = 0; s < nSamples; s++) logMean += Math.log(f[s]!) / nSamples;
  const scale = Math.exp(logMean);
  for (let s = 0; s < nSamples; s++) f[s]! /= scale;
  return f;
}
