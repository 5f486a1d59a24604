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
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import type { ReTerm } from './design.js';
import { minimizeModelBased } from './optimizer.js';
import { BlockedPls, PlsError, thetaLower, thetaStart, type PlsFactor } from './pls.js';
import type { ResidualStructure } from './residual.js';

/** Profiled deviance of a factorisation (eq. 34 or 41), plus log|Lambda| of a residual structure. */
export function profiledDeviance(f: { ldL2: number; ldRX2: number; pwrss: number; logDetR?: number }, n: number, p: number, reml: boolean): number {
  const nu = reml ? n - p : n;
  return f.ldL2 + (reml ? f.ldRX2 : 0) + nu * (1 + Math.log((2 * Math.PI * f.pwrss) / nu)) + (f.logDetR ?? 0);
}

/** The pieces of the criterion at (theta, residual parameters): the factor's and log|Lambda| (0 with iid residuals). */
export interface DevianceParts extends PlsFactor {
  logDetR: number;
}

/**
 * The factorisation of a linear mixed model at (theta, rpar), with the residual structure's whitening
 * (residual.ts) applied to y, X and each Z_k first when the model has one: W y, W X, W Z_k are formed again
 * only when rpar changes (O(n (p + sum_k p_k)) for the structures there), then the blocked PLS factor at theta
 * as for iid residuals. With no structure, rpar is empty and this is BlockedPls.factor.
 */
export class LmmCriterion {
  readonly pls: BlockedPls;
  private readonly xw: F64Matrix | null;
  private readonly zw: Float64Array[];
  private readonly yw: Float64Array | null;
  private whitenedAt: number[] | null = null;

  constructor(
    readonly terms: readonly ReTerm[],
    readonly x: F64Matrix,
    readonly y: Float64Array,
    readonly residual: ResidualStructure | null = null,
  ) {
    this.pls = new BlockedPls(terms, x, y);
    this.xw = residual ? f64Matrix(x.rows, x.cols) : null;
    this.zw = residual ? terms.map((t) => new Float64Array(t.z.length)) : [];
    this.yw = residual ? new Float64Array(y.length) : null;
  }

  /** Number of residual-structure parameters. */
  get nResidual(): number {
    return this.residual?.nPar ?? 0;
  }

  /** Factors at theta and residual parameters rpar. Throws PlsError on a non-positive pivot or a singular W. */
  factor(theta: ArrayLike<number>, rpar: readonly number[] = []): DevianceParts {
    const r = this.residual;
    if (!r) return { ...this.pls.factor(theta), logDetR: 0 };
    if (!this.whitenedAt || this.whitenedAt.some((v, i) => v !== rpar[i])) {
      const { x, y, terms } = this;
      const xw = this.xw!;
      let ok = r.whiten(rpar, y, this.yw!);
      for (let j = 0; ok && j < x.cols; j++) ok = r.whiten(rpar, x.data.subarray(j * x.ld, j * x.ld + x.rows), xw.data.subarray(j * x.rows, (j + 1) * x.rows));
      terms.forEach((t, k) => {
        for (let c = 0; ok && c < t.p; c++) ok = r.whiten(rpar, t.z, this.zw[k]!, t.p, c);
      });
      if (!ok) {
        this.whitenedAt = null;
        throw new PlsError('the residual correlation is not positive definite at these parameters');
      }
      this.pls.setDesignValues(xw, this.zw, this.yw!);
      this.whitenedAt = rpar.slice();
    }
    return { ...this.pls.factor(theta), logDetR: r.logDet(rpar) };
  }
}

/** The estimation result of a linear mixed model (what inference and reporting build on). */
export interface LmmEstimate {
  pls: BlockedPls;
  /** the criterion, factored at the optimum */
  criterionFn: LmmCriterion;
  theta: number[];
  /** unconstrained residual-structure parameters (empty with iid residuals) */
  residualPar: number[];
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
 * Fits y = X beta + Z b + e, b ~ N(0, sigma^2 Lambda Lambda'), e ~ N(0, sigma^2 Lambda_R) (Lambda_R = I without a
 * residual structure), by minimising the profiled (RE)ML deviance over theta and the residual structure's
 * parameters jointly (nlme profiles sigma the same way).
 * @param terms random-effects terms in lme4 order (most levels first)
 */
export function estimateLmm(terms: ReTerm[], x: F64Matrix, y: Float64Array, reml: boolean, theta0?: number[], residual: ResidualStructure | null = null): LmmEstimate {
  const n = y.length;
  const p = x.cols;
  if (reml && n <= p) throw new PlsError(`REML needs more observations (${n}) than fixed effects (${p})`);
  const crit = new LmmCriterion(terms, x, y, residual);
  const nt = thetaLower(terms).length;
  const objective = (v: number[]): number => {
    try {
      const d = profiledDeviance(crit.factor(v.slice(0, nt), v.slice(nt)), n, p, reml);
      return Number.isFinite(d) ? d : Infinity;
    } catch (e) {
      if (e instanceof PlsError) return Infinity;
      throw e;
    }
  };
  const lower = [...thetaLower(terms), ...Array.from({ length: crit.nResidual }, () => -Infinity)];
  // begin from the moment estimates of the random intercepts (lme4's identity start for other terms)
  const start = [...(theta0 ?? momentStart(terms, y)), ...(residual?.start() ?? [])];
  // resolution 1e-5 in theta: the golden fits' variance components stay as close to lme4's as at 1e-6; the
  // residual structure's parameters need 1e-7 for nlme's to 1e-4 relative
  const opt = minimizeModelBased(objective, start, { lower, rhoEnd: residual ? 1e-7 : 1e-5 });
  // snap diagonal elements that sit within rounding of the bound, as lme4 reports them
  const theta = opt.x.slice(0, nt).map((v, i) => (lower[i] === 0 && v < 1e-10 ? 0 : v));
  const residualPar = opt.x.slice(nt);
  const f = crit.factor(theta, residualPar);
  const criterion = profiledDeviance(f, n, p, reml);
  const { u, beta } = crit.pls.solve();
  const b = crit.pls.lambdaTimes(u);
  const sigma = Math.sqrt(f.pwrss / (reml ? n - p : n));
  return { pls: crit.pls, criterionFn: crit, theta, residualPar, criterion, sigma, beta, u, b, evals: opt.evals, converged: opt.converged };
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
