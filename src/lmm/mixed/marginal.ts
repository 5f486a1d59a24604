/**
 * Population-averaged (marginal) effects of a GLMM: the mean response integrated over the random effects, and
 * the marginal coefficients (Hedeker, du Toit, Demirtas & Gibbons 2018, "A note on marginalization of regression
 * parameters from mixed models of binary outcomes", Biometrics 74:354-361; as GLMMadaptive's marginal_coefs).
 *
 * For a row with linear predictor eta = offset + x' beta and random part z' b, b = Lambda u, u ~ N(0, I), the
 * random part is normal with variance v = |Lambda' z|^2 = sum_k |L_k' z_k|^2 (terms independent), so for scalar
 * and vector random effects alike the marginal mean is one-dimensional:
 *   mu^M = E[g^{-1}(eta + sqrt(v) s)],  s ~ N(0, 1),
 * computed for the logit link by the trapezoidal rule in s on [-12, 12] with step h = min(0.2, 0.5 / sqrt(v))
 * ({@link marginalMeans}): for an integrand analytic in the strip |Im s| < a the rule's error is O(exp(-2 pi a / h))
 * (Trefethen & Weideman 2014, SIAM Review 56:385-458, thm 5.1); logit^{-1}(eta + sqrt(v) s) has its nearest poles
 * at |Im s| = pi / sqrt(v), so the error is O(exp(-2 pi^2 / (h sqrt(v)))) <= exp(-39), and the truncation
 * adds at most the N(0, 1) mass beyond 12 (4e-33). Gauss-Hermite rules converge far slower here (a 64-point
 * rule is off by 1e-4 relative at v = 25). For the log link exactly mu^M = exp(eta + v / 2) (the lognormal mean). The marginal coefficients regress g(mu^M) - offset on
 * X over the fitted rows, beta^M = (X'X)^{-1} X' (g(mu^M) - offset), with the delta-method covariance
 * J vcov(beta) J', J = (X'X)^{-1} X' diag(g'(mu^M) dmu^M/deta) X (the uncertainty of the variance parameters is not
 * included, as vcov(beta) of lme4 does not include it). Cost O(n (k + p^2 + sum_k p_k^2)), k = 24 / h nodes.
 */
import type { MixedModel } from './model.js';
import { invertSmall } from './numeric-derivatives.js';
import { thetaToFactors } from './pls.js';

const HALF_WIDTH = 12;

/**
 * Marginal means mu^M_i = E[g^{-1}(eta_i + sqrt(v_i) s)], s ~ N(0, 1), and their derivatives dmu^M_i / deta_i =
 * E[(g^{-1})'(eta_i + sqrt(v_i) s)]: logit by the trapezoidal rule of the module comment, log in closed form.
 * O(n k), k = 24 / h <= 24 sqrt(v) / 0.5 + 121 nodes per row.
 */
export function marginalMeans(family: 'binomial' | 'poisson', eta: Float64Array, v: Float64Array): { mu: Float64Array; dmu: Float64Array } {
  const n = eta.length;
  const mu = new Float64Array(n);
  const dmu = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (family === 'poisson') {
      mu[i] = dmu[i] = Math.exp(eta[i]! + v[i]! / 2);
      continue;
    }
    const sd = Math.sqrt(v[i]!);
    const steps = Math.ceil(HALF_WIDTH / Math.min(0.2, 0.5 / sd));
    const h = HALF_WIDTH / steps;
    let m = 0;
    let d = 0;
    for (let q = -steps; q <= steps; q++) {
      const s = q * h;
      const w = Math.exp(-0.5 * s * s);
      const p = 1 / (1 + Math.exp(-(eta[i]! + sd * s)));
      m += w * p;
      d += w * p * (1 - p);
    }
    const c = h / Math.sqrt(2 * Math.PI);
    mu[i] = m * c;
    dmu[i] = d * c;
  }
  return { mu, dmu };
}

/**
 * Adds |L' z_i|^2 of one random-effects term to v_i for rows i < n: `zAt(i, r)` the term's r-th column at row i,
 * L its p x p lower-triangular relative covariance factor (column-major, from theta). O(n p^2).
 */
export function addTermVariance(v: Float64Array, n: number, p: number, L: Float64Array, zAt: (i: number, r: number) => number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < p; c++) {
      let w = 0;
      for (let r = c; r < p; r++) w += zAt(i, r) * L[r + c * p]!;
      s += w * w;
    }
    v[i]! += s;
  }
}

/** The relative covariance factors L_k of the model's terms (Sigma_k = sigma^2 L_k L_k'). */
export function termFactors(model: MixedModel): Float64Array[] {
  return thetaToFactors(model.internals.terms, model.theta);
}

export interface MarginalRow {
  term: string;
  conditional: number;
  conditionalSe: number;
  marginal: number;
  se: number;
}

export interface MarginalEffects {
  rows: MarginalRow[];
  /** delta-method covariance of the marginal coefficients, p x p row-major */
  vcov: Float64Array;
  /** mu^M of each fitted row (frame order) */
  mu: Float64Array;
}

/** The marginal coefficients of a binomial or Poisson GLMM fit (see the module comment). */
export function marginalEffects(model: MixedModel): MarginalEffects {
  if (model.family === 'gaussian') throw new RangeError('marginalEffects: a linear mixed model (identity link) has marginal = conditional coefficients');
  const mi = model.internals;
  const { x, beta } = mi;
  const n = x.rows;
  const p = mi.xNames.length;
  const offset = mi.frame.offset;
  const eta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let e = offset ? offset[i]! : 0;
    for (let j = 0; j < p; j++) e += x.data[i + j * x.ld]! * beta[j]!;
    eta[i] = e;
  }
  const v = new Float64Array(n);
  const factors = termFactors(model);
  mi.terms.forEach((t, k) => addTermVariance(v, n, t.p, factors[k]!, (i, r) => t.z[i * t.p + r]!));
  const { mu, dmu } = marginalMeans(model.family, eta, v);
  // g(mu^M) - offset and the chain factor g'(mu^M) dmu^M/deta
  const target = new Float64Array(n);
  const chain = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = mu[i]!;
    target[i] = (model.family === 'binomial' ? Math.log(m / (1 - m)) : Math.log(m)) - (offset ? offset[i]! : 0);
    chain[i] = dmu[i]! / (model.family === 'binomial' ? m * (1 - m) : m);
  }
  // X'X, X' target, X' diag(chain) X (column-major p x p)
  const xtx = new Float64Array(p * p);
  const xtw = new Float64Array(p * p);
  const xty = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    for (let i = 0; i < n; i++) xty[a]! += x.data[i + a * x.ld]! * target[i]!;
    for (let b = 0; b < p; b++) {
      let s = 0, w = 0;
      for (let i = 0; i < n; i++) {
        const xx = x.data[i + a * x.ld]! * x.data[i + b * x.ld]!;
        s += xx;
        w += xx * chain[i]!;
      }
      xtx[a + b * p] = s;
      xtw[a + b * p] = w;
    }
  }
  const inv = invertSmall(xtx, p);
  const bm = new Float64Array(p);
  const J = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
    bm[a]! += inv[a + b * p]! * xty[b]!;
    let s = 0;
    for (let m = 0; m < p; m++) s += inv[a + m * p]! * xtw[m + b * p]!;
    J[a + b * p] = s;
  }
  // V^M = J C J', C = vcov(beta) column-major
  const C = model.vcov;
  const vcov = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
    let s = 0;
    for (let m = 0; m < p; m++) for (let l = 0; l < p; l++) s += J[a + m * p]! * C[m + l * p]! * J[b + l * p]!;
    vcov[a * p + b] = s;
  }
  const rows = model.fixef.map((r, j) => ({ term: r.term, conditional: r.estimate, conditionalSe: r.se, marginal: bm[j]!, se: Math.sqrt(vcov[j * p + j]!) }));
  return { rows, vcov, mu };
}
