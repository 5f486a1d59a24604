/**
 * Numerical guards at the entry of the model fits: a variable a model is fitted to must be finite, must vary,
 * and must live on a scale whose squares and sums of squares stay inside double precision (|v| between 1e-100
 * and 1e100: squares of 1e-150 underflow towards the subnormals, sums of squares of 1e155 overflow). Beyond
 * that the optimisers would see infinite or zero deviances and report garbage or loop; a NumericError naming
 * the variable and the cure (rescale it) is clearer. Cost O(n).
 */
import { NumericError } from '../errors.js';

/** Largest |value| accepted (squares 1e200, sums of squares of 1e100 of them still finite). */
export const MAX_ABS_VALUE = 1e100;
/** Smallest largest-|value| accepted for a non-zero variable. */
export const MIN_ABS_VALUE = 1e-100;
/** A spread (max - min) below this share of the largest |value| is rounding: the variable is constant. */
export const CONSTANT_SPREAD = 1e-13;

/** The exponent k of the power of ten that brings `x` near 1. */
const decade = (x: number): number => Math.round(Math.log10(x));

/**
 * Checks a variable to be modelled (a response, or with `mustVary: false` a predictor column): every value
 * finite (NaN entries are skipped: missing), not constant (max - min above CONSTANT_SPREAD * max |v|), max |v|
 * within [MIN_ABS_VALUE, MAX_ABS_VALUE]. Throws a NumericError naming `name` (the caller's words for it).
 */
export function checkModelVariable(values: ArrayLike<number>, name: string, mustVary = true): void {
  let min = Infinity;
  let max = -Infinity;
  let maxAbs = 0;
  let seen = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isFinite(v)) throw new NumericError(`${name}: value ${v} (entry ${i + 1}) is not finite`);
    seen++;
    if (v < min) min = v;
    if (v > max) max = v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  if (seen === 0) return;
  if (maxAbs > MAX_ABS_VALUE) {
    throw new NumericError(`${name}: values up to ${maxAbs.toExponential(3)} overflow double precision in sums of squares; rescale it (e.g. divide by 1e${decade(maxAbs)})`);
  }
  if (mustVary && max - min <= CONSTANT_SPREAD * maxAbs) {
    throw new NumericError(`${name} is constant (${min === max ? `every value is ${min}` : `values ${min} to ${max}, equal up to rounding`}): there is no variation to model`);
  }
  if (maxAbs > 0 && maxAbs < MIN_ABS_VALUE) {
    throw new NumericError(`${name}: values no larger than ${maxAbs.toExponential(3)} underflow double precision in sums of squares; rescale it (e.g. multiply by 1e${-decade(maxAbs)})`);
  }
}
