/**
 * Variance-explained summaries of a fitted mixed model.
 *
 * Nakagawa & Schielzeth (2013, Methods Ecol. Evol. 4, eqs. 26-30) with Johnson's (2014, Methods Ecol. Evol.
 * 5) extension to random slopes:
 *   sigma2_f = var(X beta)                           (sample variance of the fixed predictions, n - 1)
 *   sigma2_r = sum_k mean_i z_ik' Sigma_k z_ik        (z_ik: row i of term k's columns)
 *   sigma2_e = sigma^2 (gaussian) or pi^2 / 3 (binomial logit, latent scale)
 *   R2_marginal = sigma2_f / (sigma2_f + sigma2_r + sigma2_e),  R2_conditional = (sigma2_f + sigma2_r) / (...)
 *   ICC (adjusted) = sigma2_r / (sigma2_r + sigma2_e).
 * Cost O(n (p + sum_k p_k^2)).
 */
import type { MixedModel } from './model.js';
import { DataError } from './model-frame.js';
import { thetaToFactors } from './pls.js';

export interface VarianceExplained {
  marginal: number;
  conditional: number;
  icc: number;
  varFixed: number;
  varRandom: number;
  varResidual: number;
}

/** Nakagawa marginal / conditional R^2 and the adjusted ICC (gaussian and binomial-logit models). */
export function r2Nakagawa(m: MixedModel): VarianceExplained {
  if (m.family === 'poisson') throw new DataError('r2Nakagawa: Poisson models are not supported (gaussian and binomial only)');
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
    varRandom += sum / n;
  });
  const varResidual = m.family === 'gaussian' ? m.sigma * m.sigma : Math.PI ** 2 / 3;
  const total = varFixed + varRandom + varResidual;
  return {
    marginal: varFixed / total, conditional: (varFixed + varRandom) / total, icc: varRandom / (varRandom + varResidual),
    varFixed, varRandom, varResidual,
  };
}
