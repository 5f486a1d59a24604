/**
 * Confidence intervals of a linear mixed model's parameters, as lme4's confint.merMod:
 * - Wald: beta_j +- z_{1-a/2} se_j for the fixed effects (none for the variance parameters, as lme4);
 * - profile (lme4's default): the likelihood-ratio interval {psi : |zeta(psi)| <= z_{1-a/2}} of each parameter
 *   psi on lme4's scale (`.sig01`, ...: standard deviations and correlations of each random-effects term in the
 *   order of theta, diagonal positions sd and off-diagonal correlations; `.sigma`; the fixed effects), with the
 *   signed root zeta(psi) = sign(psi - psi^) sqrt(D(psi) - D^) of the profiled ML deviance (REML fits are refitted
 *   by ML first, as lme4's profile does):
 *     variance parameter fixed at v: D(v) = min over the other (sd, cor, sigma) of
 *       log|L_theta|^2 + r^2_theta / sigma^2 + n log(2 pi sigma^2),   theta = chol(Sigma_k / sigma^2) per term;
 *     fixed effect beta_j fixed at b: the ML deviance of the model with y - x_j b and X without x_j.
 *   lme4 interpolates a spline through a grid of profile points; here each end is the root of zeta(psi) = +-z found
 *   by bracketing and Illinois false position (to 1e-9 relative), so lme4's values differ by its interpolation
 *   error. A bound (sd = 0, cor = +-1) reached before |zeta| = z is the interval's end, as lme4 reports it.
 * Cost: each zeta is one optimisation (a variance parameter: over the others; a fixed effect: an ML refit),
 * about 10 per end.
 */
import { normalQuantile } from '../../stats/distributions.js';
import { estimateLmm } from './lmm.js';
import { DataError } from './model-frame.js';
import { fit, type MixedModel } from './model.js';
import { minimizeModelBased } from './optimizer.js';
import { PlsError } from './pls.js';
import { f64Matrix } from '../../../kernels/matrix.js';

/** One interval; estimate is the (ML, for profile intervals) estimate of the parameter. */
export interface ConfintRow {
  parm: string;
  estimate: number;
  lower: number;
  upper: number;
}

export type ConfintMethod = 'profile' | 'Wald';

/** Variance parameters on lme4's sd/cor scale from theta (per term, the positions of theta) and sigma. */
export function thetaToSdcor(sizes: readonly number[], theta: readonly number[], sigma: number): number[] {
  const out: number[] = [];
  let k = 0;
  for (const p of sizes) {
    const T = new Float64Array(p * p);
    for (let c = 0; c < p; c++) for (let r = c; r < p; r++) T[r + c * p] = theta[k++]!;
    const S = (i: number, j: number) => {
      let s = 0;
      for (let c = 0; c <= Math.min(i, j); c++) s += T[i + c * p]! * T[j + c * p]!;
      return s;
    };
    for (let c = 0; c < p; c++) {
      for (let r = c; r < p; r++) {
        if (r === c) out.push(sigma * Math.sqrt(S(r, r)));
        else {
          const d = Math.sqrt(S(r, r) * S(c, c));
          out.push(d > 0 ? S(r, c) / d : 0);
        }
      }
    }
  }
  return out;
}

/** theta from sd/cor parameters and sigma: T_k = chol(D R D / sigma^2), zero columns where an sd is 0. */
export function sdcorToTheta(sizes: readonly number[], sdcor: readonly number[], sigma: number): number[] {
  const theta: number[] = [];
  let k = 0;
  for (const p of sizes) {
    const V = new Float64Array(p * p);
    const at = new Int32Array(p * p);
    for (let c = 0; c < p; c++) for (let r = c; r < p; r++) at[r + c * p] = k++;
    const sd = (i: number) => sdcor[at[i + i * p]!]! / sigma;
    for (let c = 0; c < p; c++) {
      for (let r = c; r < p; r++) {
        const v = r === c ? sd(r) ** 2 : sdcor[at[r + c * p]!]! * sd(r) * sd(c);
        V[r + c * p] = V[c + r * p] = v;
      }
    }
    // Cholesky, a non-positive pivot giving a zero column
    const L = new Float64Array(p * p);
    for (let c = 0; c < p; c++) {
      let d = V[c + c * p]!;
      for (let q = 0; q < c; q++) d -= L[c + q * p]! ** 2;
      const lcc = d > 1e-300 ? Math.sqrt(d) : 0;
      L[c + c * p] = lcc;
      for (let r = c + 1; r < p; r++) {
        let s = V[r + c * p]!;
        for (let q = 0; q < c; q++) s -= L[r + q * p]! * L[c + q * p]!;
        L[r + c * p] = lcc > 0 ? s / lcc : 0;
      }
    }
    for (let c = 0; c < p; c++) for (let r = c; r < p; r++) theta.push(L[r + c * p]!);
  }
  return theta;
}

/** lme4's names of the variance parameters: .sig01, .sig02, ..., then .sigma. */
function sigNames(count: number): string[] {
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => `.sig${String(i + 1).padStart(width, '0')}`);
}

/** Confidence intervals at `level` (default 0.95) of the variance parameters and fixed effects, as confint.merMod. */
export function confint(model: MixedModel, method: ConfintMethod = 'profile', level = 0.95): ConfintRow[] {
  if (!(level > 0 && level < 1)) throw new DataError(`confint: level must lie in (0, 1), got ${level}`);
  const z = normalQuantile(1 - (1 - level) / 2);
  const sizes = model.internals.terms.map((t) => t.p);
  const nVar = sizes.reduce((s, p) => s + (p * (p + 1)) / 2, 0);
  const names = sigNames(nVar);
  if (method === 'Wald') {
    const sdcor = thetaToSdcor(sizes, model.theta, model.sigma);
    const varRows = names.map((parm, i) => ({ parm, estimate: sdcor[i]!, lower: Number.NaN, upper: Number.NaN }));
    if (model.family === 'gaussian') varRows.push({ parm: '.sigma', estimate: model.sigma, lower: Number.NaN, upper: Number.NaN });
    return [...varRows, ...model.fixef.map((r) => ({ parm: r.term, estimate: r.estimate, lower: r.estimate - z * r.se, upper: r.estimate + z * r.se }))];
  }
  if (model.family !== 'gaussian') throw new DataError('profile intervals are implemented for linear mixed models; use the Wald method for GLMMs');
  if (model.internals.residual) throw new DataError('profile intervals are implemented for iid residuals; use the Wald method with a residual correlation or variance structure');
  return profileIntervals(model, sizes, [...names, '.sigma'], z);
}

function profileIntervals(model: MixedModel, sizes: number[], varNames: string[], z: number): ConfintRow[] {
  const ml = model.REML ? fit(model.internals.data, model.internals.parsed, { ...model.internals.options, REML: false, ddf: 'residual' }) : model;
  const mi = ml.internals;
  const { pls, frame, x, terms } = mi;
  const n = frame.n;
  const dev0 = ml.deviance!;
  const nv = varNames.length;
  const pars0 = [...thetaToSdcor(sizes, ml.theta, ml.sigma), ml.sigma];
  const isCor: boolean[] = [];
  for (const p of sizes) for (let c = 0; c < p; c++) for (let r = c; r < p; r++) isCor.push(r !== c);
  isCor.push(false);
  const lower = isCor.map((c, i) => (c ? -1 : i === nv - 1 ? 1e-10 * ml.sigma : 0));
  const upper = isCor.map((c) => (c ? 1 : Infinity));
  /** the ML deviance at (sd/cor, sigma), beta profiled out */
  const deviance = (pars: readonly number[]): number => {
    const sigma = pars[nv - 1]!;
    try {
      const f = pls.factor(sdcorToTheta(sizes, pars.slice(0, -1), sigma));
      return f.ldL2 + f.pwrss / (sigma * sigma) + n * Math.log(2 * Math.PI * sigma * sigma);
    } catch (e) {
      if (e instanceof PlsError) return Infinity;
      throw e;
    }
  };
  const rows: ConfintRow[] = [];
  // variance parameters: optimise the others at each fixed value, warm-started from the last optimum
  for (let k = 0; k < nv; k++) {
    let start = pars0.filter((_, i) => i !== k);
    const zeta = (v: number): number => {
      const full = (rest: readonly number[]) => [...rest.slice(0, k), v, ...rest.slice(k)];
      const lo = lower.filter((_, i) => i !== k);
      const hi = upper.filter((_, i) => i !== k);
      const opt = minimizeModelBased((rest) => deviance(full(rest)), start, { lower: lo, upper: hi, rhoEnd: 1e-8 });
      start = opt.x;
      return Math.sign(v - pars0[k]!) * Math.sqrt(Math.max(0, opt.f - dev0));
    };
    const est = pars0[k]!;
    const step = isCor[k] ? 0.1 : Math.max(0.25 * Math.abs(est), 1e-3 * ml.sigma);
    const ends = [-1, 1].map((s) => {
      start = pars0.filter((_, i) => i !== k);
      return profileEnd(zeta, est, s, s * z, step, lower[k]!, upper[k]!);
    });
    rows.push({ parm: varNames[k]!, estimate: est, lower: ends[0]!, upper: ends[1]! });
  }
  // fixed effects: ML refits with x_j b moved to the offset
  const off = frame.offset;
  const p = x.cols;
  ml.fixef.forEach((r, j) => {
    const xm = f64Matrix(n, p - 1);
    for (let c = 0, q = 0; c < p; c++) if (c !== j) xm.data.set(x.data.subarray(c * x.ld, c * x.ld + n), q++ * n);
    let theta0 = ml.theta;
    const zeta = (b: number): number => {
      const y = Float64Array.from(frame.y, (v, i) => v - (off ? off[i]! : 0) - b * x.data[i + j * x.ld]!);
      const est = estimateLmm(terms, xm, y, false, theta0);
      theta0 = est.theta;
      return Math.sign(b - r.estimate) * Math.sqrt(Math.max(0, est.criterion - dev0));
    };
    const ends = [-1, 1].map((s) => {
      theta0 = ml.theta;
      return profileEnd(zeta, r.estimate, s, s * z, r.se, -Infinity, Infinity);
    });
    rows.push({ parm: r.term, estimate: r.estimate, lower: ends[0]!, upper: ends[1]! });
  });
  model.internals.pls.factor(model.theta);
  return rows;
}

/**
 * The root of zeta(v) = target on side `side` of the estimate: steps outward (each step at least `step`, longer
 * by the secant through the last two points) until zeta passes the target or v reaches the bound (then the bound
 * is the end, or NaN if zeta never moves), then Illinois false position to 1e-9 relative.
 */
function profileEnd(zeta: (v: number) => number, est: number, side: number, target: number, step: number, lo: number, hi: number): number {
  const bound = side < 0 ? lo : hi;
  let a = est;
  let fa = -target; // zeta(est) = 0
  let b = Math.min(hi, Math.max(lo, est + side * Math.abs(target) * step));
  let fb = zeta(b) - target;
  for (let it = 0; side * fb < 0 && it < 60; it++) {
    if (b === bound) return bound;
    const slope = (fb - fa) / (b - a);
    let next = slope !== 0 && Number.isFinite(slope) ? b - fb / slope : b + side * step;
    if (side * (next - b) < step) next = b + side * step;
    next = Math.min(hi, Math.max(lo, b + Math.min(Math.abs(next - b), 4 * Math.abs(b - a)) * side));
    a = b;
    fa = fb;
    b = next;
    fb = zeta(b) - target;
  }
  if (side * fb < 0) return Number.NaN;
  // Illinois false position on [a, b] (fa, fb of opposite signs)
  let side0 = 0;
  for (let it = 0; it < 100 && Math.abs(b - a) > 1e-9 * Math.max(1, Math.abs(b)); it++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = zeta(c) - target;
    if (fc === 0) return c;
    if (Math.sign(fc) === Math.sign(fb)) {
      b = c;
      fb = fc;
      if (side0 === -1) fa /= 2;
      side0 = -1;
    } else {
      a = c;
      fa = fc;
      if (side0 === 1) fb /= 2;
      side0 = 1;
    }
  }
  return (a * fb - b * fa) / (fb - fa);
}
