/**
 * Upper tails, log-space tails and quantiles of the F, chi-square, Student t and normal distributions in f64.
 *
 * Everything rests on two regularised incomplete functions, each returned as a pair of natural-log tails so that
 * neither tail underflows silently:
 * - the incomplete gamma P(a, x) / Q(a, x) (power series for P when x < a + 1, Legendre continued fraction for Q
 *   otherwise; the other tail is `log1p(-exp(.))` of the first, which is never a deep tail there);
 * - the incomplete beta I_x(a, b) (continued fraction with the modified Lentz algorithm, evaluated on the side
 *   x < (a + 1) / (a + b + 2) where it converges, the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) giving the rest).
 * The prefactors x^a e^-x / Gamma(a) and x^a (1-x)^b / B(a, b) are computed in log space from Stirling's error
 * term and the deviance bd0 (Loader 2000, "Fast and accurate computation of binomial probabilities"), so they keep
 * full relative precision for large degrees of freedom where differences of log-gamma values would cancel.
 *
 * Precision (test/stats/distributions.test.ts, goldens from R 4.2 by data/stats/make-golden.R and from mpmath at
 * 40 digits by data/stats/make-golden-mpmath.py where R's own pbeta/qchisq lose accuracy): relative error
 * <= 1e-10 wherever p > 1e-300, and |log10 p| error <= 1e-8 in log-space tails far below the f64 range
 * (chi2 = 1e5, F = 1e7, t = 1e5). Cost: O(1) plus O(sqrt(a + b)) continued-fraction or series terms.
 *
 * Conventions: degrees of freedom may be non-integer (Satterthwaite) and must be > 0 (F's d2 and t's df may be
 * Infinity); an invalid parameter throws RangeError. A NaN statistic gives NaN, as in R.
 */

const LN10 = Math.LN10;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** Relative tolerance at which series and continued fractions stop. */
const EPS = 1e-16;
/** Smallest magnitude the Lentz algorithm lets a denominator take before it nudges it. */
const TINY = 1e-300;

function checkDf(name: string, df: number, allowInfinity = false): void {
  if (!(df > 0) || (!allowInfinity && df === Infinity)) {
    throw new RangeError(`${name}: degrees of freedom must be ${allowInfinity ? '> 0' : 'finite and > 0'}, got ${df}`);
  }
}

/** log(1 - exp(l)) for l <= 0, accurate for l near 0 and for l very negative. */
function log1mExp(l: number): number {
  return l > -Math.LN2 ? Math.log(-Math.expm1(l)) : Math.log1p(-Math.exp(l));
}

/**
 * Stirling's error term delta(z) = log Gamma(z + 1) - [(z + 1/2) log z - z + log sqrt(2 pi)], z > 0.
 * For z > 15 the asymptotic series to z^-9 (truncation < 3e-16); below, the exact recursion
 * delta(z) = delta(z + 1) + (z + 1/2) log1p(1/z) - 1 climbs to that range. Absolute error ~1e-15.
 */
function stirlerr(z: number): number {
  const twice = 2 * z;
  if (twice <= 30 && Number.isInteger(twice)) return STIRLERR_HALVES[twice]!;
  return stirlerrByRecursion(z);
}

function stirlerrByRecursion(z: number): number {
  let acc = 0;
  while (z <= 15) {
    acc += (z + 0.5) * Math.log1p(1 / z) - 1;
    z += 1;
  }
  const z2 = 1 / (z * z);
  return acc + (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - z2 / 1188) * z2) * z2) * z2) / z;
}

/** delta(k / 2) for k = 0..30 (degrees of freedom are mostly integers, so a, b = df / 2 hit this table). */
const STIRLERR_HALVES = Float64Array.from({ length: 31 }, (_, k) => (k === 0 ? Infinity : stirlerrByRecursion(k / 2)));

/**
 * Deviance term bd0(x, m) = x log(x / m) + m - x >= 0 (Loader 2000), by its series in v = (x - m) / (x + m)
 * when |x - m| < 0.1 (x + m), so it keeps relative precision when x and m are close.
 */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  const r = x / m;
  return x * (Number.isFinite(r) && r > 0 ? Math.log(r) : Math.log(x) - Math.log(m)) + m - x;
}

/**
 * log Gamma(z) for z > 0, as log sqrt(2 pi) + (z - 1/2) log z - z + delta(z) with Stirling's error delta.
 * Absolute error ~1e-15 (relative precision is lost only near the zeros z = 1, 2). Throws for z <= 0.
 */
export function logGamma(z: number): number {
  if (!(z > 0)) throw new RangeError(`logGamma: argument must be > 0, got ${z}`);
  if (z === Infinity) return Infinity;
  return LN_SQRT_2PI + (z - 0.5) * Math.log(z) - z + stirlerr(z);
}

/** Natural-log lower and upper tails of a distribution at one point. */
interface LogTails {
  lower: number;
  upper: number;
}

/**
 * Regularised incomplete gamma P(a, x) (lower) and Q(a, x) = 1 - P (upper) as natural logs, a > 0, x >= 0.
 * Prefactor log(x^a e^-x / Gamma(a)) = log a - delta(a) - bd0(a, x) - log sqrt(2 pi a).
 * Series P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a+1)...(a+n)) for x < a + 1; else Legendre's continued
 * fraction Q = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1(1 - a) / (x + 3 - a - 2(2 - a) / ...)) by modified Lentz.
 */
function gammaLogTails(a: number, x: number): LogTails & { logPrefactor: number } {
  if (x === 0) return { lower: -Infinity, upper: 0, logPrefactor: -Infinity };
  if (x === Infinity) return { lower: 0, upper: -Infinity, logPrefactor: -Infinity };
  const logPrefactor = Math.log(a) - stirlerr(a) - bd0(a, x) - LN_SQRT_2PI - 0.5 * Math.log(a);
  const maxIter = 10_000 + Math.ceil(50 * Math.sqrt(a + x));
  if (x < a + 1) {
    // Series for P: terms x^n / ((a+1)...(a+n)), ratio x / (a + n) < 1.
    let term = 1;
    let sum = 1;
    for (let n = 1; n < maxIter; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * EPS) {
        const lower = logPrefactor - Math.log(a) + Math.log(sum);
        return { lower, upper: log1mExp(lower), logPrefactor };
      }
    }
    throw new Error(`incomplete gamma series did not converge (a=${a}, x=${x})`);
  }
  // Continued fraction for Q (modified Lentz).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < maxIter; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) {
      const upper = logPrefactor + Math.log(h);
      return { lower: log1mExp(upper), upper, logPrefactor };
    }
  }
  throw new Error(`incomplete gamma continued fraction did not converge (a=${a}, x=${x})`);
}

/**
 * Regularised incomplete beta I_x(a, b) (lower) and 1 - I_x(a, b) (upper) as natural logs; a, b > 0 and
 * x + y = 1 passed separately so that neither loses precision near 0 or 1.
 * Prefactor log(x^a y^b / B(a, b)) = log sqrt(ab / (2 pi n)) + delta(n) - delta(a) - delta(b) - bd0(a, nx)
 * - bd0(b, ny) with n = a + b; I_x(a, b) = prefactor / a * CF, CF the continued fraction with
 * d_{2m+1} = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)), d_{2m} = m(b-m)x / ((a+2m-1)(a+2m)), used where
 * x < (a + 1) / (a + b + 2) and through the symmetry I_x(a, b) = 1 - I_y(b, a) otherwise.
 */
function betaLogTails(a: number, b: number, x: number, y: number): LogTails & { logPrefactor: number } {
  if (x <= 0) return { lower: -Infinity, upper: 0, logPrefactor: -Infinity };
  if (y <= 0) return { lower: 0, upper: -Infinity, logPrefactor: -Infinity };
  if (x > (a + 1) / (a + b + 2)) {
    const swapped = betaLogTails(b, a, y, x);
    return { lower: swapped.upper, upper: swapped.lower, logPrefactor: swapped.logPrefactor };
  }
  const n = a + b;
  const logPrefactor =
    0.5 * Math.log((a * b) / (2 * Math.PI * n)) + stirlerr(n) - stirlerr(a) - stirlerr(b) - bd0(a, n * x) - bd0(b, n * y);
  const lower = logPrefactor - Math.log(a) + Math.log(betaContinuedFraction(a, b, x));
  return { lower, upper: log1mExp(lower), logPrefactor };
}

/** The continued fraction of I_x(a, b) by the modified Lentz algorithm; O(sqrt(a + b)) terms near the mean. */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const maxIter = 10_000 + Math.ceil(50 * Math.sqrt(a + b));
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < maxIter; m++) {
    const m2 = 2 * m;
    // Even step d_{2m}.
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // Odd step d_{2m+1}.
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  throw new Error(`incomplete beta continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
}

/** Natural-log tails of chi-square(df) at x: lower = log P(X <= x), upper = log P(X > x). */
function chi2LogTails(x: number, df: number): LogTails & { logPrefactor: number } {
  if (x <= 0) return { lower: -Infinity, upper: 0, logPrefactor: -Infinity };
  return gammaLogTails(df / 2, x / 2);
}

/** Natural-log tails of the standard normal at z: lower = log Phi(z), upper = log(1 - Phi(z)). */
function normalLogTails(z: number): LogTails {
  // P(|Z| > |z|) = Q(1/2, z^2 / 2); each one-sided tail is half of it, or 1 minus that half.
  const g = gammaLogTails(0.5, 0.5 * z * z);
  const small = g.upper - Math.LN2;
  const large = Math.log1p(0.5 * Math.expm1(g.lower)) ;
  return z >= 0 ? { lower: large, upper: small } : { lower: small, upper: large };
}

/** Natural-log tails of F(d1, d2) at x (d2 = Infinity is chi2(d1) / d1). */
function fLogTails(x: number, d1: number, d2: number): LogTails {
  if (x <= 0) return { lower: -Infinity, upper: 0 };
  if (d2 === Infinity) return chi2LogTails(d1 * x, d1);
  // P(F > x) = I_y(d2/2, d1/2) with y = d2 / (d2 + d1 x).
  const s = d2 + d1 * x;
  const t = betaLogTails(d2 / 2, d1 / 2, d2 / s, (d1 * x) / s);
  return { lower: t.upper, upper: t.lower };
}

/** Natural log of the two-sided p = P(|T| > |t|) of Student's t(df) (df = Infinity is the normal). */
function tLogSurvival2(t: number, df: number): number {
  if (df === Infinity) return normalLogTails(Math.abs(t)).upper + Math.LN2;
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t^2).
  const t2 = t * t;
  const s = df + t2;
  return betaLogTails(df / 2, 0.5, df / s, t2 / s).lower;
}

/** P(F > x) for F ~ F(d1, d2), d1 > 0 finite, d2 > 0 (Infinity allowed); x <= 0 gives 1. */
export function fSurvival(x: number, d1: number, d2: number): number {
  checkDf('fSurvival d1', d1);
  checkDf('fSurvival d2', d2, true);
  if (Number.isNaN(x)) return NaN;
  return Math.exp(fLogTails(x, d1, d2).upper);
}

/** log10 P(F > x) for F ~ F(d1, d2), finite far below the smallest f64 (e.g. F(1, 1400) = 1e5). */
export function fLog10Survival(x: number, d1: number, d2: number): number {
  checkDf('fLog10Survival d1', d1);
  checkDf('fLog10Survival d2', d2, true);
  if (Number.isNaN(x)) return NaN;
  return fLogTails(x, d1, d2).upper / LN10;
}

/** P(X > x) for X ~ chi-square(df), df > 0; x <= 0 gives 1. */
export function chi2Survival(x: number, df: number): number {
  checkDf('chi2Survival', df);
  if (Number.isNaN(x)) return NaN;
  return Math.exp(chi2LogTails(x, df).upper);
}

/** log10 P(X > x) for X ~ chi-square(df), finite far below the smallest f64 (e.g. chi2 = 5000 on 1 df). */
export function chi2Log10Survival(x: number, df: number): number {
  checkDf('chi2Log10Survival', df);
  if (Number.isNaN(x)) return NaN;
  return chi2LogTails(x, df).upper / LN10;
}

/** Two-sided p = P(|T| > |t|) for T ~ Student t(df), df > 0 (Infinity: normal). */
export function tSurvival2(t: number, df: number): number {
  checkDf('tSurvival2', df, true);
  if (Number.isNaN(t)) return NaN;
  return Math.exp(tLogSurvival2(t, df));
}

/** log10 of the two-sided p = P(|T| > |t|) for T ~ Student t(df), finite far below the smallest f64. */
export function tLog10Survival2(t: number, df: number): number {
  checkDf('tLog10Survival2', df, true);
  if (Number.isNaN(t)) return NaN;
  return tLogSurvival2(t, df) / LN10;
}

/** Upper tail 1 - Phi(z) of the standard normal (R's pnorm(z, lower.tail = FALSE)). */
export function normalSurvival(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return Math.exp(normalLogTails(z).upper);
}

/** Natural log of the upper tail, log(1 - Phi(z)), finite far below the smallest f64 (e.g. z = 40: -804.6). */
export function normalLogSurvival(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return normalLogTails(z).upper;
}

/**
 * Standard normal quantile Phi^-1(p) (R's qnorm(p)); p in [0, 1], 0 and 1 give -/+Infinity, NaN gives NaN.
 * Acklam's rational approximation (relative error < 1.2e-9) polished by Newton steps on log Phi(z) = log p,
 * which converge quadratically and keep full precision for p down to the smallest subnormal.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p)) return NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p > 0.5) return -normalQuantile(1 - p); // 1 - p is exact for p >= 1/2 (Sterbenz)
  let z = acklamLower(p);
  const logP = Math.log(p);
  for (let it = 0; it < 8; it++) {
    const logDensity = -0.5 * z * z - LN_SQRT_2PI;
    let step: number;
    if (p < 1e-280) {
      // Newton on g(z) = log Phi(z) - log p, g'(z) = phi(z) / Phi(z): no underflow however small p is.
      const logPhi = normalLogTails(z).lower;
      step = (logPhi - logP) / Math.exp(logDensity - logPhi);
    } else {
      // Newton on Phi(z) - p. For z <= 0, Phi(z) = Q(1/2, z^2/2) / 2 = 1/2 - P(1/2, z^2/2) / 2; near the
      // centre the second form keeps 1/2 - p exact, so z keeps full relative precision as p -> 1/2.
      const g = gammaLogTails(0.5, 0.5 * z * z);
      const halfP = 0.5 * Math.exp(g.lower);
      const diff = p < 0.1 ? 0.5 * Math.exp(g.upper) - p : z <= 0 ? 0.5 - p - halfP : 0.5 - p + halfP;
      step = diff / Math.exp(logDensity);
    }
    z -= step;
    if (Math.abs(step) <= 1e-15 * Math.abs(z)) break;
  }
  return z;
}

/** Acklam's starting value for Phi^-1(p), 0 < p <= 1/2. */
function acklamLower(p: number): number {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q +
        4.374664141464968) *
        q +
        2.938163982698783) /
      ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r + 1.38357751867269e2) * r -
      3.066479806614716e1) *
      r +
      2.506628277459239) *
      q) /
    (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r + 6.680131188771972e1) * r -
      1.328068155288572e1) *
      r +
      1)
  );
}

/**
 * Chi-square quantile: the x with P(X <= x) = p (R's qchisq(p, df)), or with P(X > x) = p when
 * `lowerTail` is false (R's qchisq(p, df, lower.tail = FALSE), precise for tiny upper-tail p).
 * Wilson-Hilferty (or the small-x power law) start, then safeguarded Newton in u = log x on the log of whichever
 * tail is below 1/2; relative precision ~1e-14. p in [0, 1]; df > 0.
 */
export function chi2Quantile(p: number, df: number, lowerTail = true): number {
  checkDf('chi2Quantile', df);
  if (Number.isNaN(p)) return NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`chi2Quantile: p must be in [0, 1], got ${p}`);
  const pLower = lowerTail ? p : 1 - p;
  const pUpper = lowerTail ? 1 - p : p;
  if (pLower === 0) return 0;
  if (pUpper === 0) return Infinity;
  if (df === 1 && pUpper <= 0.5) {
    // X = Z^2: P(X > x) = 2 Phi(-sqrt x).
    const z = normalQuantile(pUpper / 2);
    return z * z;
  }
  // Solve on the smaller tail: g(u) = log tail(e^u) - log target, monotone in u.
  const useLower = pLower <= 0.5;
  const target = Math.log(useLower ? pLower : pUpper);
  const a = df / 2;
  // Starting value: Wilson-Hilferty, or x = 2 (p Gamma(a + 1))^(1/a) deep in the lower tail.
  const z = useLower ? normalQuantile(pLower) : -normalQuantile(pUpper);
  const c = 2 / (9 * df);
  let x = df * Math.pow(1 - c + z * Math.sqrt(c), 3);
  if (useLower) {
    const xSmall = 2 * Math.exp((target + logGamma(a + 1)) / a);
    if (!(x > 0) || xSmall < x) x = xSmall;
  }
  if (!(x > 0)) x = df;
  let u = Math.log(x);
  let lo = -Infinity; // g < 0 side (in increasing orientation)
  let hi = Infinity;
  for (let it = 0; it < 200; it++) {
    const t = chi2LogTails(Math.exp(u), df);
    // d log P / du = x f(x) / P = exp(logPrefactor - log P); the upper tail has the opposite sign.
    const g = useLower ? t.lower - target : target - t.upper;
    const slope = Math.exp(t.logPrefactor - (useLower ? t.lower : t.upper));
    if (g < 0) lo = u;
    else hi = u;
    let next = u - g / slope;
    if (!(next > lo && next < hi)) {
      next = Number.isFinite(lo) && Number.isFinite(hi) ? 0.5 * (lo + hi) : u + (g < 0 ? 1 : -1);
    }
    if (Math.abs(next - u) <= 1e-15 * Math.max(1, Math.abs(u))) return Math.exp(next);
    u = next;
  }
  return Math.exp(u);
}

/**
 * Beta(a, b) quantile: the x with I_x(a, b) = p (R's qbeta(p, a, b)). Safeguarded Newton in u = log x on the
 * log of whichever tail is below 1/2 (g(u) = log I_x - log p, or log(1 - p) - log(1 - I_x)), with
 * d log I / du = x f(x) / I = x^a (1-x)^(b-1) / (B(a, b) I) (likewise over 1 - I), from the mean; bisection in u
 * where a Newton step leaves the bracket. Relative precision ~1e-10 (that of the incomplete beta near the mean
 * for a + b ~ 1e7; ~1e-14 for small shapes); O(iterations x sqrt(a + b)) (the incomplete
 * beta's continued fraction near the mean). Used for the QQ plot's band: the k-th smallest of n uniform
 * p-values is Beta(k, n - k + 1). p in [0, 1]; a, b > 0.
 */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(a > 0 && a < Infinity && b > 0 && b < Infinity)) throw new RangeError(`betaQuantile: shapes must be finite and > 0, got a = ${a}, b = ${b}`);
  if (Number.isNaN(p)) return NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`betaQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  const useLower = p <= 0.5;
  const target = useLower ? Math.log(p) : Math.log1p(-p);
  let u = Math.log(a / (a + b));
  let lo = -Infinity; // g < 0 side (g increases with u)
  let hi = 0;
  for (let it = 0; it < 300; it++) {
    const x = Math.exp(u);
    const t = betaLogTails(a, b, x, -Math.expm1(u));
    const g = useLower ? t.lower - target : target - t.upper;
    if (g < 0) lo = u;
    else hi = u;
    const slope = Math.exp(t.logPrefactor - Math.log1p(-x) - (useLower ? t.lower : t.upper));
    let next = u - g / slope;
    if (!(next > lo && next < hi) || !Number.isFinite(next)) next = Number.isFinite(lo) ? 0.5 * (lo + hi) : u - Math.max(1, Math.abs(u));
    if (Math.abs(next - u) <= 1e-13 * Math.max(1, Math.abs(u))) return Math.exp(next);
    u = next;
  }
  return Math.exp(u);
}

/**
 * Student t quantile: the t with P(T <= t) = p for T ~ t(df) (R's qt(p, df)); df = Infinity is the normal.
 * From the incomplete beta: P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t^2), so |t| = sqrt(df (1 - x) / x)
 * for x = betaQuantile(2 min(p, 1 - p), df/2, 1/2). Relative precision ~1e-12 away from p = 1/2 (that of
 * betaQuantile); p in [0, 1], df > 0.
 */
export function tQuantile(p: number, df: number): number {
  checkDf('tQuantile', df, true);
  if (Number.isNaN(p)) return NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`tQuantile: p must be in [0, 1], got ${p}`);
  if (df === Infinity) return normalQuantile(p);
  if (p === 0.5) return 0;
  const lower = Math.min(p, 1 - p);
  if (lower === 0) return p < 0.5 ? -Infinity : Infinity;
  const x = betaQuantile(2 * lower, df / 2, 0.5);
  const t = Math.sqrt((df * (1 - x)) / x);
  return p < 0.5 ? -t : t;
}
