/**
 * Satterthwaite denominator degrees of freedom for each fixed effect, as lmerTest computes them
 * (Kuznetsova, Brockhoff & Christensen 2017, J. Stat. Softw. 82(13), eqs. 4-6).
 *
 * With varpar = (theta, sigma), A = 2 H^{-1} the asymptotic covariance of varpar from the Hessian H of the
 * unprofiled (RE)ML deviance
 *   REML: -2 l_R(theta, sigma) = log|L_theta|^2 + log|R_X|^2 + r^2_theta / sigma^2 + (n - p) log(2 pi sigma^2)
 *   ML:   -2 l(theta, sigma)   = log|L_theta|^2 + r^2_theta / sigma^2 + n log(2 pi sigma^2),
 * C(varpar) = sigma^2 (R_X' R_X)^{-1} = vcov(beta) and g_i = dC_jj / dvarpar_i, the df of beta_j is
 *   nu_j = 2 C_jj^2 / (g' A g).
 * Derivatives are Richardson-extrapolated central differences (numDeriv in lmerTest). Cost O(d^2) PLS
 * factorisations with d = length(theta) + 1.
 */
import type { ModelInternals } from './model.js';
import { hessian, invertSymmetric, jacobian } from './numeric-derivatives.js';

/** Unprofiled deviance in (theta, sigma) and vcov(beta) as functions of varpar, on the model's PLS. */
export function varparFunctions(m: ModelInternals, reml: boolean) {
  const { pls } = m;
  const n = pls.n;
  const p = pls.p;
  const deviance = (vp: number[]): number => {
    const sigma2 = vp[vp.length - 1]! ** 2;
    const f = pls.factor(vp.slice(0, -1));
    const nu = reml ? n - p : n;
    return f.ldL2 + (reml ? f.ldRX2 : 0) + f.pwrss / sigma2 + nu * Math.log(2 * Math.PI * sigma2);
  };
  const vcov = (vp: number[]): Float64Array => {
    const sigma2 = vp[vp.length - 1]! ** 2;
    pls.factor(vp.slice(0, -1));
    return pls.unscaledVcov().map((v) => v * sigma2);
  };
  return { deviance, vcov };
}

/** Satterthwaite df of each fixed effect (contrast e_j). Leaves the PLS factored at theta. */
export function satterthwaiteDf(m: ModelInternals, theta: number[], sigma: number, reml: boolean): number[] {
  const p = m.pls.p;
  const vp = theta.concat(sigma);
  const { deviance, vcov } = varparFunctions(m, reml);
  const d = vp.length;
  const A = invertSymmetric(hessian(deviance, vp), d).map((v) => 2 * v);
  const J = jacobian(vcov, vp);
  const C = vcov(vp);
  const df: number[] = [];
  for (let j = 0; j < p; j++) {
    const g = J.map((Ji) => Ji[j + j * p]!);
    let q = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) q += g[a]! * A[a + b * d]! * g[b]!;
    const v = C[j + j * p]!;
    df.push((2 * v * v) / q);
  }
  m.pls.factor(theta);
  return df;
}
