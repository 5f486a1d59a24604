/**
 * Saddle-point approximation (SPA) of the two-sided p-value of a score statistic S = sum_i g_i Y_i with
 * independent Y_i ~ Bernoulli(mu_i) (Dey, Schmidt, Abecasis, Lee 2017, AJHG 101:37; the SPAtest package; SAIGE
 * applies it to a rescaled mixed-model score, see score-test.ts).
 *
 * Cumulant generating function and derivatives, with pi_i(t) = expit(logit(mu_i) + g_i t):
 *   K(t) = sum_i log(1 - mu_i + mu_i e^{g_i t}),  K'(t) = sum_i g_i pi_i(t),  K''(t) = sum_i g_i^2 pi_i(1 - pi_i).
 * For an observed s the root zeta of K'(zeta) = s gives (Lugannani-Rice / Barndorff-Nielsen)
 *   w = sign(zeta) sqrt(2 (zeta s - K(zeta))),  v = zeta sqrt(K''(zeta)),  P(S beyond s) ~ 1 - Phi(|w + log(v / w) / w|).
 * Two-sided: the tail beyond q plus the tail beyond its reflection 2 m1 - q about the mean m1 = sum mu_i g_i.
 * Near the mean (|q - m1| / sqrt(var) < cutoff, default 2, var = sum mu_i (1 - mu_i) g_i^2) the normal
 * approximation is used, as SPAtest and SAIGE do; and when the SPA p is more than 1000 times smaller than the
 * normal one, the cutoff is doubled and the test repeated (SPAtest's guard against a spurious saddle point).
 * Everything in f64 and log space: p-values far below 1e-308 stay finite in log10. Cost O(n) per root-finding
 * step (about 5-20 Newton steps per tail).
 */
import { chi2Log10Survival, normalLogSurvival } from '../../stats/distributions.js';
import { log1pExp } from './logistic.js';

export interface SpaResult {
  /** log10 of the two-sided p-value (<= 0, finite). */
  log10p: number;
  /** Which approximation gave it. */
  method: 'normal' | 'spa';
  /** false when a saddle point was not found and the normal approximation was used instead. */
  converged: boolean;
}

const LN10 = Math.log(10);

/** The per-individual quantities of the CGF, precomputed once per variant: logit(mu_i) and g_i. */
export class BernoulliCgf {
  /** logit(mu_i). */
  readonly logitMu: Float64Array;
  readonly m1: number;
  readonly variance: number;
  /** sum of the positive / negative g_i: the support of S is inside (gNeg, gPos). */
  readonly gPos: number;
  readonly gNeg: number;

  /** mu in (0, 1) and g (n each); `logitMu` may be given when shared by many variants. O(n). */
  constructor(readonly mu: Float64Array, readonly g: Float64Array, logitMu?: Float64Array) {
    const n = mu.length;
    if (g.length !== n) throw new RangeError(`BernoulliCgf: g has ${g.length} values, expected ${n}`);
    this.logitMu = logitMu ?? new Float64Array(n);
    let m1 = 0;
    let v = 0;
    let pos = 0;
    let neg = 0;
    for (let i = 0; i < n; i++) {
      const m = mu[i]!;
      if (!(m > 0 && m < 1)) throw new RangeError(`BernoulliCgf: mu[${i}] = ${m}, expected in (0, 1)`);
      if (!logitMu) this.logitMu[i] = Math.log(m / (1 - m));
      const gi = g[i]!;
      m1 += m * gi;
      v += m * (1 - m) * gi * gi;
      if (gi > 0) pos += gi;
      else neg += gi;
    }
    this.m1 = m1;
    this.variance = v;
    this.gPos = pos;
    this.gNeg = neg;
  }

  /** K(t), K'(t), K''(t) into out[0..2]. O(n). */
  eval(t: number, out: Float64Array): void {
    let k0 = 0;
    let k1 = 0;
    let k2 = 0;
    const { g, logitMu } = this;
    for (let i = 0; i < g.length; i++) {
      const gi = g[i]!;
      const lm = logitMu[i]!;
      const a = lm + gi * t;
      k0 += log1pExp(a) - log1pExp(lm);
      const pi = a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a));
      k1 += gi * pi;
      k2 += gi * gi * pi * (1 - pi);
    }
    out[0] = k0;
    out[1] = k1;
    out[2] = k2;
  }

  /**
   * Root of K'(t) = s by Newton's method kept inside a bracket (K' is increasing), bisecting when a step leaves it.
   * Returns NaN when s is outside the support or no root was found in 200 steps.
   */
  root(s: number, scratch: Float64Array): number {
    if (!(s > this.gNeg && s < this.gPos)) return NaN;
    let lo = -Infinity;
    let hi = Infinity;
    let t = 0;
    for (let it = 0; it < 200; it++) {
      this.eval(t, scratch);
      const f = scratch[1]! - s;
      if (f === 0) return t;
      if (f < 0) lo = t;
      else hi = t;
      let next = scratch[2]! > 0 ? t - f / scratch[2]! : NaN;
      if (!(next > lo && next < hi)) {
        // Outside the bracket: bisect, or expand geometrically while one side is still open.
        if (Number.isFinite(lo) && Number.isFinite(hi)) next = 0.5 * (lo + hi);
        else if (Number.isFinite(lo)) next = lo + Math.max(1, 2 * Math.abs(lo));
        else next = hi - Math.max(1, 2 * Math.abs(hi));
      }
      if (Math.abs(next - t) <= 1e-12 * (1 + Math.abs(t))) return next;
      t = next;
    }
    return NaN;
  }

  /** Natural log of the SPA tail probability beyond s (away from the mean); NaN when no saddle point was found. */
  logTail(s: number, scratch: Float64Array): number {
    if (s >= this.gPos || s <= this.gNeg) return -Infinity; // beyond the support: probability 0
    const zeta = this.root(s, scratch);
    if (Number.isNaN(zeta)) return NaN;
    this.eval(zeta, scratch);
    const e = zeta * s - scratch[0]!;
    if (!(e > 0) || !(scratch[2]! > 0)) return NaN;
    const w = Math.sign(zeta) * Math.sqrt(2 * e);
    const v = zeta * Math.sqrt(scratch[2]!);
    const z = w + Math.log(v / w) / w;
    return Number.isFinite(z) ? normalLogSurvival(Math.abs(z)) : NaN;
  }
}

/** log(e^a + e^b) for a, b <= 0 (either may be -Infinity). */
function logAddExp(a: number, b: number): number {
  const m = Math.max(a, b);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * Two-sided SPA p-value of S = q (see the file comment), with the normal approximation for |q - m1| < cutoff sd.
 * Returns a finite log10 p (a tail beyond the support counts 0; both tails empty cannot happen for an attainable
 * q). O(n) per Newton step.
 */
export function spaPValue(cgf: BernoulliCgf, q: number, cutoff = 2): SpaResult {
  const s = q - cgf.m1;
  const chi2 = (s * s) / cgf.variance;
  const normal = chi2Log10Survival(chi2, 1);
  if (!(cgf.variance > 0)) return { log10p: 0, method: 'normal', converged: true };
  if (Math.abs(s) / Math.sqrt(cgf.variance) < Math.max(cutoff, 0.1)) return { log10p: normal, method: 'normal', converged: true };
  const scratch = new Float64Array(3);
  const p1 = cgf.logTail(q, scratch);
  const p2 = cgf.logTail(2 * cgf.m1 - q, scratch);
  if (Number.isNaN(p1) || Number.isNaN(p2)) return { log10p: normal, method: 'normal', converged: false };
  const log10p = Math.min(0, logAddExp(p1, p2) / LN10);
  if (log10p !== -Infinity && normal - log10p > 3) return spaPValue(cgf, q, cutoff * 2);
  return { log10p: Number.isFinite(log10p) ? log10p : normal, method: 'spa', converged: Number.isFinite(log10p) };
}
