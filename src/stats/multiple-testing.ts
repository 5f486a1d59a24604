/**
 * Multiple-testing summaries of a vector of p-values: Benjamini-Hochberg adjusted p (FDR q-values) and the
 * genomic inflation factor lambda_GC. Both match R (p.adjust(p, "BH"); median(qchisq(1 - p, 1)) / qchisq(0.5, 1)),
 * checked by test/stats/multiple-testing.test.ts against goldens from data/stats/make-golden.R.
 */
import { chi2Quantile } from './distributions.js';

function checkPValues(fn: string, p: Float64Array): void {
  if (!(p instanceof Float64Array)) throw new TypeError(`${fn}: expected a Float64Array of p-values`);
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (v < 0 || v > 1) throw new RangeError(`${fn}: p[${i}] = ${v} is outside [0, 1]`);
  }
}

/**
 * Benjamini-Hochberg adjusted p-values: with the m non-NaN p sorted ascending, p_(1) <= ... <= p_(m),
 * q_(i) = min(1, min_{j >= i} m p_(j) / j), returned in the input order. NaN entries stay NaN and do not
 * count in m (as R's p.adjust). Throws for a value outside [0, 1]. Cost O(m log m) time, O(m) memory.
 */
export function benjaminiHochberg(p: Float64Array): Float64Array {
  checkPValues('benjaminiHochberg', p);
  const out = new Float64Array(p.length).fill(NaN);
  let m = 0;
  const order = new Uint32Array(p.length);
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i]!)) order[m++] = i;
  const idx = order.subarray(0, m).sort((a, b) => p[a]! - p[b]!);
  // Step down from the largest p: running minimum of m p_(j) / j.
  let running = 1;
  for (let j = m; j >= 1; j--) {
    const i = idx[j - 1]!;
    running = Math.min(running, (m / j) * p[i]!);
    out[i] = running;
  }
  return out;
}

/** qchisq(0.5, 1): the median of chi-square on 1 df, 0.45493642311957... */
const CHI2_1_MEDIAN = chi2Quantile(0.5, 1);

/**
 * Genomic inflation factor lambda_GC = median_i qchisq(1 - p_i, 1) / qchisq(0.5, 1) over the non-NaN p.
 * Median convention: R's median, i.e. the mean of the two middle chi-square values when their count is even
 * (the statistic is taken per p before averaging, not from the mean of the two middle p). The quantile is the
 * upper-tail one, so tiny p keep full precision; p = 0 maps to Infinity. Throws if no p is non-NaN or a value is
 * outside [0, 1]. Cost O(m log m) (one sort of a copy).
 */
export function genomicInflation(p: Float64Array): number {
  checkPValues('genomicInflation', p);
  const kept = p.filter((v) => !Number.isNaN(v)).sort();
  const m = kept.length;
  if (m === 0) throw new RangeError('genomicInflation: no non-NaN p-values');
  // chi2 is decreasing in p, so the middle chi-square values come from the middle p.
  const hi = chi2Quantile(kept[(m - 1) >> 1]!, 1, false);
  const lo = chi2Quantile(kept[m >> 1]!, 1, false);
  return (0.5 * (hi + lo)) / CHI2_1_MEDIAN;
}
