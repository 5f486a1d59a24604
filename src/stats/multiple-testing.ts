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
  const sorted = nonNaNSorted(p);
  const m = sorted.length;
  // Step down from the largest p: q_(j) = running minimum of m p_(j) / j.
  const q = new Float64Array(m);
  let running = 1;
  for (let j = m; j >= 1; j--) {
    running = Math.min(running, (m / j) * sorted[j - 1]!);
    q[j - 1] = running;
  }
  // Tied p share one q (the running minimum makes them equal), so each p maps to q at its first sorted position.
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    out[i] = Number.isNaN(v) ? NaN : q[lowerBound(sorted, v)]!;
  }
  return out;
}

/** Copy of the non-NaN values, sorted ascending (native numeric sort). */
function nonNaNSorted(p: Float64Array): Float64Array {
  const kept = new Float64Array(p.length);
  let m = 0;
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i]!)) kept[m++] = p[i]!;
  return kept.subarray(0, m).sort();
}

/** First index k with a[k] >= v in ascending `a`. */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
  const kept = nonNaNSorted(p);
  const m = kept.length;
  if (m === 0) throw new RangeError('genomicInflation: no non-NaN p-values');
  // chi2 is decreasing in p, so the middle chi-square values come from the middle p.
  const hi = chi2Quantile(kept[(m - 1) >> 1]!, 1, false);
  const lo = chi2Quantile(kept[m >> 1]!, 1, false);
  return (0.5 * (hi + lo)) / CHI2_1_MEDIAN;
}
