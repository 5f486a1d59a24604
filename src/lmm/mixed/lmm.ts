/**
 * Linear mixed models by profiled REML / ML over theta (Bates et al. 2015, section 3).
 *
 * The profiled deviances, with r^2_theta the penalised residual sum of squares and L_theta, R_X from the
 * blocked factor (pls.ts):
 *   ML   (eq. 34):  d(theta)   = log|L_theta|^2 + n [1 + log(2 pi r^2_theta / n)]
 *   REML (eq. 41):  d_R(theta) = log|L_theta|^2 + log|R_X|^2 + (n - p) [1 + log(2 pi r^2_theta / (n - p))]
 * are minimised over theta >= 0 on the diagonals of each T_k by the bounded optimiser; then
 * sigma^2 = r^2 / n (ML) or r^2 / (n - p) (REML), beta and u from the factor (eqs. 17-18).
 */
import type { F64Matrix } from '../../../kernels/matrix.js';
import type { ReTerm } from './design.js';
import { minimizeModelBased } from './optimizer.js';
import { BlockedPls, PlsError, thetaLower, thetaStart } from './pls.js';

/** Profiled deviance of a factorisation (eq. 34 or 41). */
export function profiledDeviance(f: { ldL2: number; ldRX2: number; pwrss: number }, n: number, p: number, reml: boolean): number {
  const nu = reml ? n - p : n;
  return f.ldL2 + (reml ? f.ldRX2 : 0) + nu * (1 + Math.log((2 * Math.PI * f.pwrss) / nu));
}

/** The estimation result of a linear mixed model (what inference and reporting build on). */
export interface LmmEstimate {
  pls: BlockedPls;
  theta: number[];
  /** profiled deviance at the optimum: the REML criterion or the ML deviance */
  criterion: number;
  sigma: number;
  beta: Float64Array;
  /** spherical random effects u (first term first) and b = Lambda u */
  u: Float64Array;
  b: Float64Array;
  /** objective evaluations */
  evals: number;
  converged: boolean;
}

/**
 * Fits y = X beta + Z b + e, b ~ N(0, sigma^2 Lambda Lambda'), by minimising the profiled (RE)ML deviance.
 * @param terms random-effects terms in lme4 order (most levels first)
 */
export function estimateLmm(terms: ReTerm[], x: F64Matrix, y: Float64Array, reml: boolean, theta0?: number[]): LmmEstimate {
  const n = y.length;
  const p = x.cols;
  if (reml && n <= p) throw new PlsError(`REML needs more observations (${n}) than fixed effects (${p})`);
  const pls = new BlockedPls(terms, x, y);
  const objective = (theta: number[]): number => {
    try {
      return profiledDeviance(pls.factor(theta), n, p, reml);
    } catch (e) {
      if (e instanceof PlsError) return Infinity;
      throw e;
    }
  };
  const lower = thetaLower(terms);
  // begin from the moment estimates of the random intercepts (lme4's identity start for other terms)
  const start = theta0 ?? momentStart(terms, y);
  // resolution 1e-5 in theta: the golden fits' variance components stay as close to lme4's as at 1e-6
  const opt = minimizeModelBased(objective, start, { lower, rhoEnd: 1e-5 });
  // snap diagonal elements that sit within rounding of the bound, as lme4 reports them
  const theta = opt.x.map((v, i) => (lower[i] === 0 && v < 1e-10 ? 0 : v));
  const f = pls.factor(theta);
  const criterion = profiledDeviance(f, n, p, reml);
  const { u, beta } = pls.solve();
  const b = pls.lambdaTimes(u);
  const sigma = Math.sqrt(f.pwrss / (reml ? n - p : n));
  return { pls, theta, criterion, sigma, beta, u, b, evals: opt.evals, converged: opt.converged };
}

/**
 * A cheap starting theta: for each random-intercept term, the one-way ANOVA moment estimate of its
 * variance relative to the residual, sigma2_k / sigma2_e with sigma2_e the pooled within-level variance of y
 * and sigma2_k = max(var(level means) - sigma2_e / mean level size, 0.01 sigma2_e); other terms keep the
 * identity start. O(n) per term.
 */
function momentStart(terms: ReTerm[], y: Float64Array): number[] {
  const start = thetaStart(terms);
  let k = 0;
  for (const t of terms) {
    const intercept = t.p === 1 && t.z.every((v) => v === 1);
    if (intercept) {
      const L = t.levels.length;
      const sum = new Float64Array(L);
      const cnt = new Float64Array(L);
      for (let i = 0; i < y.length; i++) {
        sum[t.codes[i]!]! += y[i]!;
        cnt[t.codes[i]!]!++;
      }
      let within = 0;
      for (let i = 0; i < y.length; i++) {
        const d = y[i]! - sum[t.codes[i]!]! / cnt[t.codes[i]!]!;
        within += d * d;
      }
      const s2e = within / Math.max(1, y.length - L);
      let mean = 0;
      for (let l = 0; l < L; l++) mean += sum[l]! / cnt[l]! / L;
      let between = 0;
      for (let l = 0; l < L; l++) between += (sum[l]! / cnt[l]! - mean) ** 2 / Math.max(1, L - 1);
      const s2k = Math.max(between - s2e / (y.length / L), 0.01 * s2e);
      if (s2e > 0) start[k] = Math.sqrt(s2k / s2e);
    }
    k += (t.p * (t.p + 1)) / 2;
  }
  return start;
}
