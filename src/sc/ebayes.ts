/**
 * Empirical Bayes moderation of per-gene variances (Smyth 2004, limma's squeezeVar / fitFDist / eBayes) and
 * the polygamma functions it needs. f64 throughout.
 */

/** digamma psi(x), x > 0: recurrence up to x >= 6, then the asymptotic series. Abs error < 1e-13. */
export function digamma(x: number): number {
  let r = 0;
  while (x < 6) {
    r -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** trigamma psi'(x), x > 0. Abs error < 1e-13. */
export function trigamma(x: number): number {
  let r = 0;
  while (x < 6) {
    r += 1 / (x * x);
    x += 1;
  }
  const f = 1 / (x * x);
  return r + 1 / x + f / 2 + (f / x) * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)));
}

/** tetragamma psi''(x), x > 0. */
function tetragamma(x: number): number {
  let r = 0;
  while (x < 6) {
    r -= 2 / (x * x * x);
    x += 1;
  }
  const f = 1 / (x * x);
  return r - f - f / x - f * f * (1 / 2 - f * (1 / 6 - f * (1 / 6 - (3 * f) / 10)));
}

/** y with trigamma(y) = x (limma's Newton iteration from y = 0.5 + 1/x). */
export function trigammaInverse(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x > 1e7) return 1 / Math.sqrt(x);
  if (x < 1e-6) return 1 / x;
  let y = 0.5 + 1 / x;
  for (let iter = 0; iter < 50; iter++) {
    const tri = trigamma(y);
    const dif = (tri * (1 - tri / x)) / tetragamma(y);
    y += dif;
    if (-dif / y < 1e-8) break;
  }
  return y;
}

export interface PriorFit {
  /** s0^2: prior variance (scale). */
  readonly s02: number;
  /** d0: prior degrees of freedom (Infinity when the sample variances show no extra spread). */
  readonly d0: number;
}

/**
 * Moment estimates of the scaled-F prior of sample variances s2 with df1 residual df (limma fitFDist without
 * covariate): e = log s2 - digamma(df1/2) + log(df1/2); evar = var(e) - mean(trigamma(df1/2));
 * d0 = 2 trigammaInverse(evar), s0^2 = exp(mean(e) + digamma(d0/2) - log(d0/2)); when evar <= 0, d0 = Infinity and
 * s0^2 = mean(s2). Non-finite entries are skipped;
 * s2 is floored at 1e-5 median(s2) as limma does. Cost O(m).
 */
export function fitFDist(s2: Float64Array, df1: Float64Array): PriorFit {
  const ok: number[] = [];
  for (let i = 0; i < s2.length; i++) if (Number.isFinite(s2[i]!) && s2[i]! > -1e-15 && df1[i]! > 1e-15) ok.push(i);
  const m = ok.length;
  if (m < 2) return { s02: Number.NaN, d0: Number.NaN };
  const xs = ok.map((i) => Math.max(s2[i]!, 0));
  const sorted = [...xs].sort((a, b) => a - b);
  let med = m % 2 ? sorted[(m - 1) / 2]! : 0.5 * (sorted[m / 2 - 1]! + sorted[m / 2]!);
  if (med === 0) med = 1;
  const e = ok.map((i, k) => Math.log(Math.max(xs[k]!, 1e-5 * med)) - digamma(df1[i]! / 2) + Math.log(df1[i]! / 2));
  const emean = e.reduce((a, b) => a + b, 0) / m;
  let evar = e.reduce((a, b) => a + (b - emean) ** 2, 0) / (m - 1);
  evar -= ok.reduce((a, i) => a + trigamma(df1[i]! / 2), 0) / m;
  if (evar > 0) {
    const d0 = 2 * trigammaInverse(evar);
    return { s02: Math.exp(emean + digamma(d0 / 2) - Math.log(d0 / 2)), d0 };
  }
  return { s02: ok.reduce((a, _, k) => a + Math.max(xs[k]!, 1e-5 * med), 0) / m, d0: Number.POSITIVE_INFINITY };
}

/** Posterior variances (d s2 + d0 s0^2) / (d + d0) (s0^2 when d0 is infinite). Cost O(m). */
export function squeezeVar(s2: Float64Array, df: Float64Array, prior: PriorFit): Float64Array {
  const out = new Float64Array(s2.length);
  for (let i = 0; i < s2.length; i++) {
    out[i] = Number.isFinite(prior.d0) ? (df[i]! * s2[i]! + prior.d0 * prior.s02) / (df[i]! + prior.d0) : prior.s02;
  }
  return out;
}
