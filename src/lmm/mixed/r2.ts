/**
 * Variance-explained summaries of a fitted mixed model.
 *
 * Nakagawa & Schielzeth (2013, Methods Ecol. Evol. 4, eqs. 26-30) with Johnson's (2014, Methods Ecol. Evol.
 * 5) extension to random slopes:
 *   sigma2_f = var(X beta)                           (sample variance of the fixed predictions, n - 1)
 *   sigma2_r = sum_k mean_i z_ik' Sigma_k z_ik        (z_ik: row i of term k's columns)
 *   sigma2_e = sigma^2 (gaussian; with a residual variance function, the mean of sigma^2 delta_i^2 over the
 *              rows), pi^2 / 3 (binomial logit, latent scale), or log(1 + 1/lambda) (Poisson
 *              log, the lognormal approximation of Nakagawa, Johnson & Schielzeth 2017, J. R. Soc. Interface
 *              14: 20170213) with lambda = exp(beta_0) of the null model y ~ 1 (+ offset) + the same random
 *              terms, as R's performance::r2_nakagawa (insight 0.19) computes it;
 *              for GLMMs plus the variance of observation-level random effects (a grouping factor with one
 *              level per observation), which model overdispersion and so leave sigma2_r
 *   R2_marginal = sigma2_f / (sigma2_f + sigma2_r + sigma2_e),  R2_conditional = (sigma2_f + sigma2_r) / (...)
 *   ICC (adjusted) = sigma2_r / (sigma2_r + sigma2_e).
 * Cost O(n (p + sum_k p_k^2)), plus the null-model fit for Poisson.
 */
import { fit, type MixedModel } from './model.js';
import { thetaToFactors } from './pls.js';

export interface VarianceExplained {
  marginal: number;
  conditional: number;
  icc: number;
  varFixed: number;
  varRandom: number;
  varResidual: number;
}

/** Nakagawa marginal / conditional R^2 and the adjusted ICC (gaussian, binomial-logit and Poisson-log models). */
export function r2Nakagawa(m: MixedModel): VarianceExplained {
  const { x, beta, terms } = m.internals;
  const n = x.rows;
  const pred = new Float64Array(n);
  for (let j = 0; j < x.cols; j++) for (let i = 0; i < n; i++) pred[i]! += x.data[i + j * x.ld]! * beta[j]!;
  let mean = 0;
  for (const v of pred) mean += v / n;
  let varFixed = 0;
  for (const v of pred) varFixed += ((v - mean) * (v - mean)) / (n - 1);
  const T = thetaToFactors(terms, m.theta);
  let varRandom = 0;
  let varDispersion = 0;
  terms.forEach((t, k) => {
    const p = t.p;
    const Tk = T[k]!;
    // Sigma_k = sigma^2 T T'
    const S = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
      let s = 0;
      for (let c = 0; c <= Math.min(a, b); c++) s += Tk[a + c * p]! * Tk[b + c * p]!;
      S[a + b * p] = m.sigma * m.sigma * s;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) sum += t.z[i * p + a]! * S[a + b * p]! * t.z[i * p + b]!;
    }
    if (m.family !== 'gaussian' && t.levels.length === n) varDispersion += sum / n;
    else varRandom += sum / n;
  });
  const varResidual = varDispersion + (m.family === 'gaussian' ? m.sigma * m.sigma * meanSquaredSdRatio(m) : m.family === 'binomial' ? Math.PI ** 2 / 3 : poissonVariance(m));
  const total = varFixed + varRandom + varResidual;
  return {
    marginal: varFixed / total, conditional: (varFixed + varRandom) / total, icc: varRandom / (varRandom + varResidual),
    varFixed, varRandom, varResidual,
  };
}

/** The mean over rows of delta_i^2, the residual variance function's squared SD ratios (1 without one). */
function meanSquaredSdRatio(m: MixedModel): number {
  const r = m.internals.residual;
  if (!r) return 1;
  let s = 0;
  for (const d of r.structure.sdRatios(r.par)) s += d * d;
  return s / m.nobs;
}

/**
 * Poisson log-link distribution-specific variance log(1 + 1/lambda), lambda = exp(beta_0) of the null model
 * (intercept, the model's offset and random terms), refitted with the default (glmer) Laplace deviance.
 */
function poissonVariance(m: MixedModel): number {
  const { parsed, data } = m.internals;
  const nullModel = fit(data, { ...parsed, text: `${parsed.text} (null model: intercept only)`, fixed: { intercept: true, terms: [] } }, { family: 'poisson' });
  return Math.log1p(Math.exp(-nullModel.fixef[0]!.estimate));
}
