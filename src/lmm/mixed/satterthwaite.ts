/**
 * Satterthwaite denominator degrees of freedom for each fixed effect, as lmerTest computes them
 * (Kuznetsova, Brockhoff & Christensen 2017, J. Stat. Softw. 82(13), eqs. 4-6).
 *
 * With varpar = (theta, sigma), A = 2 H^{-1} the asymptotic covariance of varpar from the Hessian H of the
 * unprofiled (RE)ML deviance
 *   REML: d(theta, sigma) = log|L_theta|^2 + log|R_X|^2 + r^2_theta / sigma^2 + (n - p) log(2 pi sigma^2)
 *   ML:   d(theta, sigma) = log|L_theta|^2 + r^2_theta / sigma^2 + n log(2 pi sigma^2),
 * C(varpar) = sigma^2 U(theta), U = (R_X' R_X)^{-1} = vcov(beta) / sigma^2, and g_i = dC_jj / dvarpar_i, the df
 * of beta_j is nu_j = 2 C_jj^2 / (g' A g); for a contrast L (q x p) the F test's df follow lmerTest's
 * eigen-decomposition of L C L' (anova.ts).
 *
 * Only theta needs finite differences: with g(theta) = log|L|^2 (+ log|R_X|^2) and r2(theta) = r^2_theta,
 *   d_{sigma sigma} = 6 r2 / sigma^4 - 2 nu / sigma^2,   d_{theta_i sigma} = -2 (dr2/dtheta_i) / sigma^3,
 *   d_{theta_i theta_j} = d2g/dtheta_i dtheta_j + (d2r2/dtheta_i dtheta_j) / sigma^2,
 *   dC/dsigma = 2 sigma U,   dC/dtheta_i = sigma^2 dU/dtheta_i,
 * with central differences in theta (step h_i = 1e-4 max(|theta_i|, 0.1), the optimal order eps^(1/4) for a
 * second difference; cross terms from theta +- (h_i e_i + h_j e_j) and the axis points, O(h^2) like the rest).
 * Cost 1 + 2t + t(t - 1) PLS factorisations for t = length(theta) (13 for InstEval's three variance
 * parameters), against ~30 t^2 for
 * Richardson-extrapolated differences in all of (theta, sigma) as numDeriv does.
 *
 * With a residual correlation or variance structure (residual.ts) its unconstrained parameters rho join theta:
 * varpar = (theta, rho, sigma), g(theta, rho) gains log|Lambda_R(rho)| and every derivative in rho is taken by the
 * same differences as in theta (the df are invariant to the parametrisation of the variance parameters, so
 * the unconstrained scale gives the same nu as phi itself).
 */
import type { ModelInternals } from './model.js';
import { invertSmall } from './numeric-derivatives.js';

/** The Hessian of the deviance in varpar, its inverse-based covariance A and the Jacobian of C = vcov(beta). */
export interface VarparDerivatives {
  /** length(theta) + (residual-structure parameters) + 1 */
  d: number;
  /** A = 2 H^{-1}, d x d column-major */
  A: Float64Array;
  /** dC/dvarpar_i for i < d, each p x p column-major */
  jacobian: Float64Array[];
  /** C = sigma^2 U at the optimum, p x p */
  vcov: Float64Array;
}

/**
 * Derivatives of the deviance and of vcov(beta) in varpar = (theta, rho, sigma) at the fit (rho: the residual
 * structure's parameters, none with iid residuals). Leaves the PLS factored at the optimum.
 */
export function varparDerivatives(m: ModelInternals, theta0: readonly number[], sigma: number, reml: boolean): VarparDerivatives {
  const { pls } = m;
  const nTheta = theta0.length;
  const rho = m.residual?.par ?? [];
  const theta = [...theta0, ...rho];
  const t = theta.length;
  const d = t + 1;
  const nu = reml ? pls.n - pls.p : pls.n;
  const s2 = sigma * sigma;
  /** g(theta, rho), r2(theta, rho) and, when asked, U(theta, rho) */
  const at = (th: number[], withU: boolean) => {
    const f = m.criterion && rho.length ? m.criterion.factor(th.slice(0, nTheta), th.slice(nTheta)) : { ...pls.factor(th), logDetR: 0 };
    return { g: f.ldL2 + (reml ? f.ldRX2 : 0) + f.logDetR, r2: f.pwrss, U: withU ? pls.unscaledVcov() : null };
  };
  const h = theta.map((x) => 1e-4 * Math.max(Math.abs(x), 0.1));
  const shifted = (i: number, si: number, j: number, sj: number) => {
    const th = theta.slice();
    th[i]! += si * h[i]!;
    if (j >= 0) th[j]! += sj * h[j]!;
    return th;
  };
  const c0 = at(theta.slice(), true);
  const up = theta.map((_, i) => at(shifted(i, 1, -1, 0), true));
  const dn = theta.map((_, i) => at(shifted(i, -1, -1, 0), true));
  const H = new Float64Array(d * d);
  for (let i = 0; i < t; i++) {
    const hi = h[i]!;
    const g2 = (up[i]!.g - 2 * c0.g + dn[i]!.g) / (hi * hi);
    const r22 = (up[i]!.r2 - 2 * c0.r2 + dn[i]!.r2) / (hi * hi);
    H[i + i * d] = g2 + r22 / s2;
    const dr2 = (up[i]!.r2 - dn[i]!.r2) / (2 * hi);
    H[i + t * d] = H[t + i * d] = (-2 * dr2) / (s2 * sigma);
    for (let j = 0; j < i; j++) {
      // f(+i+j) + f(-i-j) - f(+i) - f(-i) - f(+j) - f(-j) + 2 f(0) = 2 h_i h_j f_ij + O(h^4)
      const pp = at(shifted(i, 1, j, 1), false);
      const mm = at(shifted(i, -1, j, -1), false);
      const den = 2 * hi * h[j]!;
      const cross = (k: 'g' | 'r2') => (pp[k] + mm[k] - up[i]![k] - dn[i]![k] - up[j]![k] - dn[j]![k] + 2 * c0[k]) / den;
      H[i + j * d] = H[j + i * d] = cross('g') + cross('r2') / s2;
    }
  }
  H[t + t * d] = (6 * c0.r2) / (s2 * s2) - (2 * nu) / s2;
  const A = invertSmall(H, d).map((v) => 2 * v);
  const U0 = c0.U!;
  const jacobian = theta.map((_, i) => up[i]!.U!.map((u, k) => (s2 * (u - dn[i]!.U![k]!)) / (2 * h[i]!)));
  jacobian.push(U0.map((u) => 2 * sigma * u));
  at(theta, false);
  return { d, A, jacobian, vcov: U0.map((u) => s2 * u) };
}

/** Satterthwaite df of each fixed effect (contrast e_j). Leaves the PLS factored at theta. */
export function satterthwaiteDf(m: ModelInternals, theta: number[], sigma: number, reml: boolean): number[] {
  const p = m.pls.p;
  const { d, A, jacobian, vcov } = varparDerivatives(m, theta, sigma, reml);
  const df: number[] = [];
  for (let j = 0; j < p; j++) {
    const g = jacobian.map((J) => J[j + j * p]!);
    let q = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) q += g[a]! * A[a + b * d]! * g[b]!;
    const v = vcov[j + j * p]!;
    df.push((2 * v * v) / q);
  }
  return df;
}
