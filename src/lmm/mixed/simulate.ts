/**
 * Responses simulated from a fitted mixed model, as lme4's simulate.merMod with its defaults (re.form = NA: new
 * random effects each time): per simulation,
 *   u ~ N(0, I_q), b = Lambda_theta u (sigma b for gaussian), eta = offset + X beta + Z b,
 *   gaussian  y = eta + sigma e, e ~ N(0, I);   binomial  y ~ Bin(trials, logit^-1(eta)) (successes for a cbind
 *   response, 0/1 otherwise);   Poisson  y ~ Pois(exp(eta)).
 * So E y = X beta (+ offset) and Var y = sigma^2 (Z Lambda Lambda' Z' + I) for gaussian; with a residual
 * correlation or variance structure (residual.ts) the residuals are sigma W^{-1} e, so Var y = sigma^2 (Z Lambda
 * Lambda' Z' + Lambda_R). Seeded (src/stats/random.ts):
 * the same seed gives the same draws (R's draws differ: compare moments, not values). O(nsim (n sum_k p_k^2 + q)).
 */
import { binomial, mulberry32, normal, poisson } from '../../stats/random.js';
import type { MixedModel } from './model.js';

/** nsim simulated response vectors of the fitted rows (each of length nobs). */
export function simulate(model: MixedModel, nsim: number, seed: number): Float64Array[] {
  if (!(Number.isInteger(nsim) && nsim >= 1)) throw new RangeError(`simulate: nsim must be a positive integer, got ${nsim}`);
  const mi = model.internals;
  const { frame, x, terms } = mi;
  const n = frame.n;
  const p = x.cols;
  const u = mulberry32(seed);
  const z = normal(u);
  const fixed = new Float64Array(n);
  if (frame.offset) fixed.set(frame.offset);
  for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) fixed[i]! += x.data[i + j * x.ld]! * mi.beta[j]!;
  const T = mi.pls.lambdaFactors;
  const scale = model.family === 'gaussian' ? model.sigma : 1;
  const out: Float64Array[] = [];
  for (let s = 0; s < nsim; s++) {
    const eta = Float64Array.from(fixed);
    terms.forEach((t, k) => {
      // b_l = scale T_k u_l for each level l (T_k lower triangular p x p)
      const Tk = T[k]!;
      const b = new Float64Array(t.levels.length * t.p);
      const ul = new Float64Array(t.p);
      for (let l = 0; l < t.levels.length; l++) {
        for (let r = 0; r < t.p; r++) ul[r] = z();
        for (let r = 0; r < t.p; r++) {
          let v = 0;
          for (let c = 0; c <= r; c++) v += Tk[r + c * t.p]! * ul[c]!;
          b[l * t.p + r] = scale * v;
        }
      }
      for (let i = 0; i < n; i++) {
        const base = t.codes[i]! * t.p;
        for (let r = 0; r < t.p; r++) eta[i]! += t.z[i * t.p + r]! * b[base + r]!;
      }
    });
    const y = new Float64Array(n);
    const resid = mi.residual;
    const noise = resid ? Float64Array.from({ length: n }, () => z()) : null;
    if (resid) resid.structure.colour(resid.par, noise!);
    for (let i = 0; i < n; i++) {
      const e = eta[i]!;
      if (model.family === 'gaussian') y[i] = e + model.sigma * (noise ? noise[i]! : z());
      else if (model.family === 'poisson') y[i] = poisson(u, Math.exp(e));
      else y[i] = binomial(u, frame.trials ? frame.trials[i]! : 1, 1 / (1 + Math.exp(-e)));
    }
    out.push(y);
  }
  return out;
}
