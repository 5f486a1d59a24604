/**
 * printf("%.10g")-exact text of f64 values straight into bytes, for GEMMA's text kinship (n^2 numbers: at
 * n = 5,000 the writing rivalled the kinship itself). {@link formatG} is the reference (V8's correctly rounded
 * toPrecision/toExponential); {@link writeRowsG} takes a fast path for the values a kinship mostly holds,
 * 1e-4 <= |v| < 1e9 (fixed notation): the ten significant digits are the integer q nearest to |v| 10^(9-e)
 * (e = floor(log10 |v|), 10^(9-e) exact for the exponents of that range), which one product finds exactly
 * unless its fraction lies within 1e-5 of one half (the product's rounding error is below 2^-20): such near-ties,
 * and every other value, go through formatG. Tests compare the two on millions of values and on edge cases.
 * This module imports nothing, so the writer's helper threads load it alone (src/io/kinship-format-worker.ts).
 */

/** Drops trailing zeros of a decimal fraction (and a bare trailing point): "0.2500" -> "0.25", "3.000" -> "3". */
function trimFraction(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** Formats like printf("%.{digits}g"): shortest of fixed/exponent, trailing zeros removed, exponent >= 2 digits. */
export function formatG(v: number, digits = 10): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const a = Math.abs(v);
  // Fast path: JS and C agree on fixed notation when the rounded exponent is in [-4, digits).
  if (a >= 1e-4 && a < 10 ** (digits - 1)) {
    const fixed = v.toPrecision(digits);
    if (fixed.indexOf('e') < 0) return trimFraction(fixed);
  }
  const [mantissa, expText] = v.toExponential(digits - 1).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= digits) return `${trimFraction(mantissa!)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trimFraction(v.toFixed(Math.max(0, digits - 1 - exp)));
}

/** 10^k for k in [-4, 13] at POW10[k + 4], as parsed (exact for k >= 0; only comparisons use the negative ones). */
const POW10 = Array.from({ length: 18 }, (_, i) => Number(`1e${i - 4}`));
let digits5: Uint8Array | undefined;
let zeros5: Uint8Array | undefined;

/** ASCII digits of 0..99999 (five each, zero padded) and each number's trailing zero count. */
function tables(): [Uint8Array, Uint8Array] {
  if (!digits5 || !zeros5) {
    digits5 = new Uint8Array(500000);
    zeros5 = new Uint8Array(100000);
    for (let i = 0; i < 100000; i++) {
      for (let k = 4, r = i; k >= 0; k--, r = Math.floor(r / 10)) digits5[5 * i + k] = 48 + (r % 10);
      let z = 0;
      for (let r = i; z < 5 && r % 10 === 0; r /= 10) z++;
      zeros5[i] = z;
    }
  }
  return [digits5, zeros5];
}

/** Most bytes one value can take (sign, 10 digits, point, 4 leading zeros, or formatG's exponent form). */
export const MAX_G_BYTES = 24;

/**
 * Writes rows [i0, i1) of the n x n column-major `k` (entry (i, j) at data[i + j ld]) as %.10g text, tab
 * separated, one line per row, into `out` from byte 0; returns the bytes written. `out` must hold
 * (i1 - i0) n MAX_G_BYTES bytes.
 */
export function writeRowsG(data: Float64Array, ld: number, n: number, i0: number, i1: number, out: Uint8Array): number {
  const [d5, z5] = tables();
  let pos = 0;
  for (let i = i0; i < i1; i++) {
    for (let j = 0; j < n; j++) {
      if (j > 0) out[pos++] = 9;
      const v = data[i + j * ld]!;
      const a = v < 0 ? -v : v;
      let q = -1;
      let e = 0;
      if (a >= 1e-4 && a < 1e9) {
        if (a >= 1) while (POW10[e + 5]! <= a) e++;
        else for (e = -1; POW10[e + 4]! > a; ) e--;
        const t = a * POW10[13 - e]!;
        const fl = Math.floor(t);
        const fr = t - fl;
        if (!(fr > 0.49999 && fr < 0.50001)) {
          q = fr > 0.5 ? fl + 1 : fl;
          if (q === 1e10) {
            q = 1e9;
            e++;
          }
          if (q < 1e9) q = -1; // not ten digits (cannot happen; kept as a guard)
        }
      }
      if (q < 0) {
        const s = formatG(v);
        for (let c = 0; c < s.length; c++) out[pos++] = s.charCodeAt(c);
        continue;
      }
      // q has ten digits: hi (five) and lo (five); print up to the last non-zero one.
      const hi = Math.floor(q / 1e5);
      const lo = q - hi * 1e5;
      const sig = lo === 0 ? 5 - z5[hi]! : 10 - z5[lo]!;
      if (v < 0) out[pos++] = 45;
      if (e < 0) {
        out[pos++] = 48;
        out[pos++] = 46;
        for (let z = -1; z > e; z--) out[pos++] = 48;
      }
      for (let d = 0; d < sig; d++) {
        if (d === e + 1 && e >= 0) out[pos++] = 46;
        out[pos++] = d < 5 ? d5[5 * hi + d]! : d5[5 * lo + d - 5]!;
      }
      for (let d = sig; d <= e; d++) out[pos++] = 48;
    }
    out[pos++] = 10;
  }
  return pos;
}
