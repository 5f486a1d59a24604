/**
 * Numbers printed exactly as GEMMA 0.98.5 prints them (C++ iostreams: `scientific << setprecision(6)` for
 * statistics, `fixed << setprecision(3)` for af), i.e. C's "%.6e" and "%.3f": correctly rounded from the exact
 * binary value with ties to even, an exponent of at least two digits, "nan" / "inf" for non-finite values.
 * JavaScript's toExponential/toFixed round ties away from zero, so exact ties are detected and corrected.
 */

/** C printf("%.{digits}e", x). */
export function formatSci(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  let s = x.toExponential(digits);
  // A tie is only possible when the next digits are exactly 5000...; check the exact expansion then.
  if (x !== 0 && /5000e/.test(x.toExponential(digits + 4))) s = roundHalfEvenSci(x, digits);
  const e = s.indexOf('e');
  const exp = s.slice(e + 1);
  const sign = exp[0] === '-' ? '-' : '+';
  const digitsExp = exp.replace(/^[+-]/, '');
  return `${s.slice(0, e)}e${sign}${digitsExp.length < 2 ? `0${digitsExp}` : digitsExp}`;
}

/** C printf("%.{digits}f", x). */
export function formatFixed(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const s = x.toFixed(digits);
  if (!/5000$/.test(x.toFixed(digits + 4))) return s;
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const head = exact.slice(0, dot + 1 + digits);
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return s;
  // Exact tie: round half to even on the last kept digit.
  const last = Number(head[head.length - 1] === '.' ? head[head.length - 2] : head[head.length - 1]);
  const down = (x < 0 ? '-' : '') + (digits === 0 ? head.slice(0, -1) : head);
  return last % 2 === 0 ? down : s;
}

function roundHalfEvenSci(x: number, digits: number): string {
  const exact = Math.abs(x).toExponential(100);
  const e = exact.indexOf('e');
  const mant = exact.slice(0, e).replace('.', '');
  const rest = mant.slice(digits + 1);
  const rounded = x.toExponential(digits);
  if (!/^50*$/.test(rest)) return rounded;
  const lastDigit = Number(mant[digits]);
  if (lastDigit % 2 === 1) return rounded; // ties away from zero == to even here
  const kept = mant.slice(0, digits + 1);
  const body = digits === 0 ? kept : `${kept[0]}.${kept.slice(1)}`;
  return `${x < 0 ? '-' : ''}${body}${exact.slice(e)}`;
}
