/**
 * Splits a predictor into its between-group part (the group mean) and its within-group part (the deviation
 * from the group mean), for models that separate the two effects (e.g. y ~ x_between + x_within + (1 | g);
 * Bell & Jones 2015, eq. 5). Missing x values stay missing and do not enter the group means. O(n).
 */
import { DataError } from './model-frame.js';

export interface WithinBetween {
  between: Float64Array;
  within: Float64Array;
}

/** Group means and deviations of `x` by `groups` (same length). NaN/null x gives NaN in both parts. */
export function splitWithinBetween(x: ArrayLike<number | null>, groups: ArrayLike<string | number>): WithinBetween {
  const n = x.length;
  if (groups.length !== n) throw new DataError(`splitWithinBetween: x has ${n} values, groups has ${groups.length}`);
  const sum = new Map<string, { s: number; k: number }>();
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    const key = String(groups[i]);
    const acc = sum.get(key) ?? { s: 0, k: 0 };
    acc.s += v;
    acc.k++;
    sum.set(key, acc);
  }
  const between = new Float64Array(n);
  const within = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const acc = sum.get(String(groups[i]));
    if (v === null || v === undefined || Number.isNaN(v) || !acc) {
      between[i] = within[i] = Number.NaN;
      continue;
    }
    between[i] = acc.s / acc.k;
    within[i] = v - between[i]!;
  }
  return { between, within };
}
