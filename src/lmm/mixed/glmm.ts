/**
 * Generalised linear mixed models (binomial logit, Poisson log) by the Laplace approximation, as glmer
 * with nAGQ = 1 (Bates et al. 2015; lme4's "Computational methods" vignette, section 5).
 *
 * Penalised iteratively re-weighted least squares (PIRLS) finds the conditional modes u~ for given theta,
 * beta by repeatedly solving the weighted PLS problem with working weights w = prior * (dmu/deta)^2 / V(mu)
 * and working response z = eta - fixed + (y - mu) / (dmu/deta), halving steps that raise the penalised
 * deviance. The Laplace approximation to the deviance is
 *   -2 log L(theta, beta) ~= -2 sum_i log p(y_i | mu_i) + ||u~||^2 + log|L_theta|^2,
 * with L_theta L_theta' = Lambda' Z' W Z Lambda + I. As glmer: stage 1 optimises theta with beta updated
 * inside PIRLS (the nAGQ = 0 objective), stage 2 optimises (theta, beta) jointly from there, and vcov(beta)
 * is the beta block of (H / 2)^{-1}, H the central-difference Hessian of the stage-2 deviance (lme4's
 * deriv12, step 1e-4; vcov.merMod's use.hessian path), falling back to (R_X' R_X)^{-1} when that is not
 * positive definite.
 *
 * Two evaluations of the Laplace deviance ({@link LaplaceMode}):
 * - 'glmer' (default) reproduces lme4 1.1-31's compiled deviance (glmerLaplace / pwrssUpdate in
 *   src/external.cpp): every evaluation starts PIRLS from the same linear predictor (lp0: the PIRLS solution
 *   at the end of the previous stage), stops when the relative change of the penalised deviance
 *   sum(devResid) + ||u||^2 falls below 1e-7, and takes log|L|^2 from the factor of the last PIRLS step,
 *   whose weights are those of the penultimate iterate. This differs from the exact Laplace value by up to
 *   a few 1e-3 (5.6e-4 at cbpp's optimum), and not smoothly: the gap depends on how many PIRLS steps the
 *   run took from lp0. On cbpp it moves the optimum by ~1.4e-3 se and the Hessian-based se by ~1.3e-2
 *   relative (test/lmm/mixed/golden.test.ts holds both modes to their references at 1e-3).
 *   Where those jumps are large (stage-2 optimum far from the stage-1 point, flat likelihood) glmer's own
 *   optimum depends on its optimiser's path (grouseticks' null model TICKS ~ 1 + three intercepts: intercept
 *   0.4219 with Nelder-Mead, which lme4 flags as not converged, 0.4389 with bobyqa and here).
 * - 'exact' iterates PIRLS to a relative change below 1e-13 and refactors at the converged weights: the
 *   Laplace approximation itself, as glmmTMB computes it. Selected by fit(..., { laplace: 'exact' }).
 * Cost per deviance evaluation: a few PIRLS steps of one PLS factorisation each (see BlockedPls.factor).
 */
import { commonPool } from '../../../kernels/cpu/pool.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { logGamma } from '../../stats/distributions.js';
import { potrfLowerInPlace } from './dense-cholesky.js';
import type { ReTerm } from './design.js';
import type { ModelFrame } from './model-frame.js';
import { centralHessianBatch, invertSmall } from './numeric-derivatives.js';
import { minimizeModelBased } from './optimizer.js';
import { BlockedPls, lambdaTimes, PlsError, thetaLower, thetaStart, thetaToFactors } from './pls.js';

export type GlmmFamily = 'binomial' | 'poisson';

/** Which Laplace deviance is optimised: lme4's compiled one ('glmer', default) or the exact one. */
export type LaplaceMode = 'glmer' | 'exact';

export interface GlmmOptions {
  /** default 'glmer' (parity with lme4) */
  laplace?: LaplaceMode;
}

export interface GlmmEstimate {
  pls: BlockedPls;
  theta: number[];
  beta: Float64Array;
  u: Float64Array;
  b: Float64Array;
  logLik: number;
  vcov: Float64Array;
  evals: number;
  converged: boolean;
  messages: string[];
}

/** What the Laplace deviance reads of the model frame. */
export type GlmmData = Pick<ModelFrame, 'n' | 'y' | 'trials' | 'offset'>;

/** A LaplaceDeviance's inputs and current lp0, for another thread (glmm-worker.ts). */
export interface LaplaceSnapshot {
  terms: ReTerm[];
  x: F64Matrix;
  frame: GlmmData;
  family: GlmmFamily;
  mode: LaplaceMode;
  lp0: Float64Array;
}

/** Work (points x observations) from which stage2Many hands half of the points to a helper thread. */
const PARALLEL_WORK = 200_000;
const WORKER_MODULE = new URL('./glmm-worker.js', import.meta.url);
/** The helper module exists as JavaScript beside this one only in the compiled build (not under vitest's TypeScript). */
const COMPILED = import.meta.url.endsWith('.js');

/** Thrown when PIRLS fails (no convergence, step halving cannot lower the penalised deviance, NaN). */
export class PirlsError extends Error {
  override name = 'PirlsError';
}

interface FamilyOps {
  /** glm's starting mean (family$initialize's mustart) for response y with prior weight wt */
  muStart(y: number, wt: number): number;
  /** the link g(mu) */
  link(mu: number): number;
  /**
   * PIRLS working weights and response at eta, into w and z: w_i = wt_i (dmu/deta)^2 / V(mu_i),
   * z_i = eta_i - fixed_i + (y_i - mu_i) / (dmu/deta), with R's clamps in mu = g^{-1}(eta) and dmu/deta.
   */
  working(eta: Float64Array, fixed: Float64Array, y: Float64Array, wt: Float64Array, w: Float64Array, z: Float64Array): void;
  /** sum_i of the deviance residuals 2 wt_i (log p(y_i | y_i) - log p(y_i | mu_i)) at eta */
  residualDeviance(eta: Float64Array, y: Float64Array, wt: Float64Array): number;
  /** R's family$aic at eta: c - 2 sum_i log p(y_i | mu_i), c the normalising constants' -2 sum (accumulated in order) */
  aic(eta: Float64Array, y: Float64Array, wt: Float64Array, c: number): number;
  /** the normalising constant of log p(y_i | mu_i) */
  logConstant(y: number, wt: number): number;
}

const EPS = 2.220446049250313e-16;
const lchoose = (n: number, k: number): number => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
/** y log(y / mu), 0 at y = 0 */
const ylogy = (y: number, mu: number): number => (y > 0 ? y * Math.log(y / mu) : 0);
/** R's logit_linkinv: exp(eta) clamped to [eps, 1/eps] beyond |eta| = 30, then t / (1 + t) */
const logitMu = (eta: number): number => {
  const t = eta < -30 ? EPS : eta > 30 ? 1 / EPS : Math.exp(eta);
  return t / (1 + t);
};
/** R's poisson linkinv: max(exp(eta), eps) */
const logMu = (eta: number): number => Math.max(Math.exp(eta), EPS);

const FAMILIES: Record<GlmmFamily, FamilyOps> = {
  binomial: {
    muStart: (y, wt) => (wt * y + 0.5) / (wt + 1),
    link: (mu) => Math.log(mu / (1 - mu)),
    working(eta, fixed, y, wt, w, z) {
      for (let i = 0; i < eta.length; i++) {
        const e = eta[i]!;
        const t = e < -30 ? EPS : e > 30 ? 1 / EPS : Math.exp(e);
        const mu = t / (1 + t);
        // R's logit_mu_eta: eps beyond |eta| = 30
        const dmu = Math.abs(e) > 30 ? EPS : t / ((1 + t) * (1 + t));
        w[i] = (wt[i]! * dmu * dmu) / (mu * (1 - mu));
        z[i] = e - fixed[i]! + (y[i]! - mu) / dmu;
      }
    },
    residualDeviance(eta, y, wt) {
      let s = 0;
      for (let i = 0; i < eta.length; i++) {
        const mu = logitMu(eta[i]!);
        s += 2 * wt[i]! * (ylogy(y[i]!, mu) + ylogy(1 - y[i]!, 1 - mu));
      }
      return s;
    },
    aic(eta, y, wt, c) {
      let s = c;
      for (let i = 0; i < eta.length; i++) {
        const mu = logitMu(eta[i]!);
        const k = Math.round(y[i]! * wt[i]!);
        s -= 2 * (k * Math.log(mu) + (wt[i]! - k) * Math.log(1 - mu));
      }
      return s;
    },
    logConstant: (y, wt) => lchoose(wt, Math.round(y * wt)),
  },
  poisson: {
    muStart: (y) => y + 0.1,
    link: (mu) => Math.log(mu),
    working(eta, fixed, y, wt, w, z) {
      for (let i = 0; i < eta.length; i++) {
        const mu = logMu(eta[i]!);
        w[i] = wt[i]! * mu;
        z[i] = eta[i]! - fixed[i]! + (y[i]! - mu) / mu;
      }
    },
    residualDeviance(eta, y, wt) {
      let s = 0;
      for (let i = 0; i < eta.length; i++) {
        const mu = logMu(eta[i]!);
        s += 2 * wt[i]! * (ylogy(y[i]!, mu) - (y[i]! - mu));
      }
      return s;
    },
    aic(eta, y, _wt, c) {
      let s = c;
      for (let i = 0; i < eta.length; i++) {
        const mu = logMu(eta[i]!);
        s -= 2 * (y[i]! * Math.log(mu) - mu);
      }
      return s;
    },
    logConstant: (y) => -logGamma(y + 1),
  },
};

/** glmer's PIRLS tolerance (glmerControl tolPwrss), maximum iterations and step halvings. */
const TOL_GLMER = 1e-7;
const TOL_EXACT = 1e-13;
const MAX_IT = 100;
const MAX_HALVINGS = 20;

/** One PIRLS solution: the Laplace deviance and the state it was computed from. */
interface PirlsResult {
  dev: number;
  u: Float64Array;
  beta: Float64Array;
  /** linear predictor offset + X beta + Z Lambda u at the returned u */
  eta: Float64Array;
  /** the PLS system, factored at the weights `w` its log|L|^2 came from */
  pls: BlockedPls;
  w: Float64Array;
}

/**
 * The Laplace deviance of one model as a function of theta (stage 1, beta profiled inside PIRLS) or of
 * (theta, beta) (stage 2), evaluated as glmer or exactly.
 */
export class LaplaceDeviance {
  readonly nTheta: number;
  private readonly fam: FamilyOps;
  private readonly n: number;
  private readonly wt: Float64Array;
  /** -2 sum_i of the log-density constants */
  private readonly devConstant: number;
  /** PLS systems for stage 1 (u and beta) and stage 2 (u alone), re-weighted each PIRLS step */
  private readonly plsUB: BlockedPls;
  private readonly plsU: BlockedPls;
  /** the linear predictor every PIRLS run of the current stage starts from (glmer's lp0) */
  private lp0: Float64Array;

  constructor(
    private readonly terms: ReTerm[],
    private readonly x: F64Matrix,
    private readonly frame: GlmmData,
    private readonly family: GlmmFamily,
    readonly mode: LaplaceMode = 'glmer',
    lp0?: Float64Array,
  ) {
    if (mode !== 'glmer' && mode !== 'exact') throw new RangeError(`unknown laplace mode '${String(mode)}' (expected glmer or exact)`);
    this.fam = FAMILIES[family];
    this.n = frame.n;
    this.nTheta = thetaLower(terms).length;
    this.wt = frame.trials ?? new Float64Array(this.n).fill(1);
    let c = 0;
    for (let i = 0; i < this.n; i++) c -= 2 * this.fam.logConstant(frame.y[i]!, this.wt[i]!);
    this.devConstant = c;
    this.plsUB = new BlockedPls(terms, x, new Float64Array(this.n));
    this.plsU = new BlockedPls(terms, f64Matrix(this.n, 0), new Float64Array(this.n));
    // glmer's construction: PIRLS for (u, beta) at the starting theta from the glm starting values
    this.lp0 = lp0 ?? Float64Array.from(frame.y, (y, i) => this.fam.link(this.fam.muStart(y, this.wt[i]!)));
    if (!lp0) this.lp0 = this.pirls(thetaStart(terms), null).eta;
  }

  /** What another thread needs to evaluate the same deviance (structured-cloneable): see {@link LaplaceDeviance.restore}. */
  snapshot(): LaplaceSnapshot {
    const { n, y, trials, offset } = this.frame;
    return { terms: this.terms, x: this.x, frame: { n, y, trials, offset }, family: this.family, mode: this.mode, lp0: this.lp0 };
  }

  /** The deviance of a snapshot, in its current stage (the same lp0): equal values at equal points. */
  static restore(s: LaplaceSnapshot): LaplaceDeviance {
    return new LaplaceDeviance(s.terms, s.x, s.frame, s.family, s.mode, s.lp0);
  }

  /**
   * Stage-2 deviances at many points (Infinity where PIRLS fails). Each starts PIRLS from lp0, so values do not
   * depend on the order: with a helper thread of the process pool (kernels/cpu/pool.ts) and enough work, the
   * first half of the points is evaluated there while this thread takes the second half, blocking on the
   * helper's shared completion flag (fit() stays synchronous). Same values either way.
   */
  stage2Many(points: number[][]): Float64Array {
    const out = new Float64Array(points.length);
    const helper = points.length * this.n >= PARALLEL_WORK && COMPILED ? commonPool() : null;
    const split = helper && helper.helpers > 0 ? points.length >> 1 : 0;
    let shared: { out: Float64Array; done: Int32Array } | null = null;
    if (split > 0) {
      const d = points[0]!.length;
      const pts = new Float64Array(new SharedArrayBuffer(split * d * 8));
      points.slice(0, split).forEach((p, k) => pts.set(p, k * d));
      shared = { out: new Float64Array(new SharedArrayBuffer(split * 8)), done: new Int32Array(new SharedArrayBuffer(8)) };
      void helper!.runModuleTask(0, WORKER_MODULE.href, 'stage2Deviances', [this.snapshot(), pts, d, shared.out, shared.done]).catch(() => undefined);
    }
    for (let k = split; k < points.length; k++) out[k] = orInfinity(() => this.stage2(points[k]!));
    if (shared) {
      // wait for the helper (state 0: running; 1: done; 2: failed), at most 10 minutes
      if (Atomics.wait(shared.done, 0, 0, 600_000) === 'timed-out' || Atomics.load(shared.done, 0) !== 1) {
        throw new Error('glmm: the helper thread evaluating the Hessian failed or did not answer');
      }
      out.set(shared.out, 0);
    }
    return out;
  }

  /** Stage 1 (nAGQ = 0): the deviance at theta with beta and u from PIRLS. */
  stage1(theta: number[]): number {
    return this.pirls(theta, null).dev;
  }

  /**
   * Optimises stage 1 over theta from lme4's start, then makes PIRLS at the optimum the start of every
   * stage-2 run (glmer's updateGlmerDevfun after optwrap's final evaluation). Returns (theta, beta) there,
   * the start of stage 2.
   */
  optimizeStage1(): { theta: number[]; beta: Float64Array; evals: number; converged: boolean } {
    const lower = thetaLower(this.terms);
    const s1 = minimizeModelBased((th) => orInfinity(() => this.stage1(th)), thetaStart(this.terms), { lower, rhoEnd: 1e-6 });
    const r = this.pirls(s1.x, null);
    this.lp0 = r.eta;
    return { theta: s1.x, beta: r.beta, evals: s1.evals, converged: s1.converged };
  }

  /** Stage 2 (nAGQ = 1): the deviance at par = [theta, beta] with u from PIRLS. */
  stage2(par: readonly number[]): number {
    return this.stage2State(par).dev;
  }

  /** Stage 2 with the PIRLS state (conditional modes, factor) at par. */
  stage2State(par: readonly number[]): PirlsResult {
    return this.pirls(par.slice(0, this.nTheta), Float64Array.from(par.slice(this.nTheta)));
  }

  /**
   * (R_X' R_X)^{-1} at theta with the weights that factored `state` (lme4's pp$unsc(), sigma = 1), the
   * fallback vcov(beta). O(n p^2 + one PLS factorisation).
   */
  unscaledVcov(theta: number[], state: PirlsResult): Float64Array {
    this.plsUB.setValues(new Float64Array(this.n), state.w);
    this.plsUB.factor(theta);
    return this.plsUB.unscaledVcov();
  }

  /** eta = fixed + Z Lambda u (fixed: offset + X beta) */
  private linearPredictor(fixed: Float64Array, b: Float64Array): Float64Array {
    const eta = Float64Array.from(fixed);
    let off = 0;
    for (const t of this.terms) {
      for (let i = 0; i < this.n; i++) {
        const base = off + t.codes[i]! * t.p;
        for (let r = 0; r < t.p; r++) eta[i]! += t.z[i * t.p + r]! * b[base + r]!;
      }
      off += t.levels.length * t.p;
    }
    return eta;
  }

  /** offset + X beta (beta null: the offset alone) */
  private fixedPart(beta: Float64Array | null): Float64Array {
    const { n, x } = this;
    const f = new Float64Array(n);
    if (this.frame.offset) f.set(this.frame.offset);
    if (beta) for (let j = 0; j < x.cols; j++) for (let i = 0; i < n; i++) f[i]! += x.data[i + j * x.ld]! * beta[j]!;
    return f;
  }

  /** working weights and response (z - fixed) at eta */
  private working(eta: Float64Array, fixed: Float64Array): { w: Float64Array; z: Float64Array } {
    const w = new Float64Array(this.n);
    const z = new Float64Array(this.n);
    this.fam.working(eta, fixed, this.frame.y, this.wt, w, z);
    return { w, z };
  }

  /**
   * PIRLS at theta from lp0 as lme4's pwrssUpdate: with `beta` given only u is updated (stage 2), with beta
   * null beta is updated with u (stage 1). Each step factors at the current weights, solves, and moves to
   * the solution (halving towards the previous iterate while the penalised deviance rises); it stops when
   * the relative change of sum(devResid) + ||u||^2 is below the tolerance.
   */
  private pirls(theta: number[], betaIn: Float64Array | null): PirlsResult {
    const uOnly = betaIn !== null;
    const pls = uOnly ? this.plsU : this.plsUB;
    const T = thetaToFactors(this.terms, theta);
    const fixedU = this.fixedPart(betaIn);
    const offsetOnly = this.fixedPart(null);
    const q = this.plsU.q1 + this.plsU.q2;
    const tol = this.mode === 'glmer' ? TOL_GLMER : TOL_EXACT;
    const state = (u: Float64Array, beta: Float64Array) => {
      const eta = this.linearPredictor(uOnly ? fixedU : this.fixedPart(beta), lambdaTimes(this.terms, T, u));
      let uu = 0;
      for (const v of u) uu += v * v;
      return { eta, uu, pdev: this.fam.residualDeviance(eta, this.frame.y, this.wt) + uu };
    };
    let eta = this.lp0;
    let u: Float64Array = new Float64Array(q);
    let beta: Float64Array = betaIn ?? new Float64Array(this.x.cols);
    let oldPdev = Number.MAX_VALUE;
    let ldL2 = 0;
    let wFactored: Float64Array = new Float64Array(0);
    let converged = false;
    let cur = { eta, uu: 0, pdev: oldPdev };
    for (let it = 0; it < MAX_IT && !converged; it++) {
      const { w, z } = this.working(eta, uOnly ? fixedU : offsetOnly);
      pls.setValues(z, w);
      wFactored = w;
      ldL2 = pls.factor(theta).ldL2;
      const sol = pls.solve();
      const u0 = u;
      const b0 = beta;
      u = sol.u;
      if (!uOnly) beta = sol.beta;
      cur = state(u, beta);
      if (Math.abs((oldPdev - cur.pdev) / cur.pdev) < tol) converged = true;
      else {
        // step halving towards the previous iterate while the penalised deviance rises (or is NaN)
        for (let k = 0; k < MAX_HALVINGS && !(cur.pdev <= oldPdev); k++) {
          u = u.map((v, i) => (v + u0[i]!) / 2);
          if (!uOnly) beta = beta.map((v, i) => (v + b0[i]!) / 2);
          cur = state(u, beta);
        }
        if (Number.isNaN(cur.pdev)) throw new PirlsError('PIRLS: the penalised deviance is NaN');
        if (cur.pdev - oldPdev > tol) throw new PirlsError('PIRLS: step halvings failed to reduce the penalised deviance');
        oldPdev = cur.pdev;
      }
      eta = cur.eta;
    }
    if (!converged) throw new PirlsError(`PIRLS did not converge in ${MAX_IT} iterations`);
    if (this.mode === 'exact') {
      // factor at the converged weights
      const { w, z } = this.working(eta, uOnly ? fixedU : offsetOnly);
      pls.setValues(z, w);
      wFactored = w;
      ldL2 = pls.factor(theta).ldL2;
    }
    // -2 sum log p(y | mu) (R's family$aic) + ||u||^2 + log|L|^2
    const aic = this.fam.aic(eta, this.frame.y, this.wt, this.devConstant);
    return { dev: aic + cur.uu + ldL2, u, beta, eta, pls, w: wFactored };
  }
}

/** f(x), or Infinity where PIRLS or the factorisation fails (the optimiser then steps back). */
export function orInfinity(f: () => number): number {
  try {
    return f();
  } catch (e) {
    if (e instanceof PlsError || e instanceof PirlsError) return Infinity;
    throw e;
  }
}

/** lme4's boundary.tol: a theta this close to its lower bound is tried at the bound. */
const BOUNDARY_TOL = 1e-5;
/** deriv12's step */
const HESSIAN_STEP = 1e-4;

/**
 * Fits a binomial or Poisson GLMM by Laplace, with glmer's two stages. glmer optimises stage 1 with bobyqa
 * and stage 2 with its Nelder-Mead (initial steps 0.02 for theta and 0.2 min(sd(beta), 10) for beta, stop
 * at steps 5e-4 times those or FtolAbs 1e-5); on the golden fits its result lies within 5e-5 se of the
 * tight minimum of its own deviance (checked in R with bobyqa at rhoend 1e-11), so both stages here are
 * the trust-region minimiser run to small radii on the same functions (stage 2 to 1e-6: the golden fixed
 * effects stay within 6.2e-5 se of glmer's, as at 1e-7, with 406 instead of 474 evaluations over the six). Cost: the evaluations of both
 * optimisations plus 2 d^2 for the Hessian (d = #theta + p), each a PIRLS run.
 */
export function estimateGlmm(terms: ReTerm[], x: F64Matrix, frame: ModelFrame, family: GlmmFamily, opts: GlmmOptions = {}): GlmmEstimate {
  const dev = new LaplaceDeviance(terms, x, frame, family, opts.laplace ?? 'glmer');
  const lower = thetaLower(terms);
  const nt = lower.length;
  const messages: string[] = [];
  // stage 1: theta only, beta inside PIRLS
  const s1 = dev.optimizeStage1();
  // stage 2: (theta, beta) jointly, u alone in PIRLS
  const stage2 = (v: number[]) => orInfinity(() => dev.stage2(v));
  const start = s1.theta.concat(Array.from(s1.beta));
  const s2 = minimizeModelBased(stage2, start, { lower: lower.concat(Array.from(s1.beta, () => -Infinity)), rhoBeg: 0.05, rhoEnd: 1e-6 });
  // vcov(beta) from the Hessian of the stage-2 deviance at the optimum (before the boundary check, as lme4)
  const H = centralHessianBatch((points) => dev.stage2Many(points), s2.x, HESSIAN_STEP, s2.f);
  let par = s2.x;
  let fval = s2.f;
  // boundary check (lme4's check.boundary): theta within BOUNDARY_TOL of 0 is tried at 0
  for (let i = 0; i < nt; i++) {
    if (lower[i] === 0 && par[i]! > 0 && par[i]! < BOUNDARY_TOL) {
      const at0 = par.slice();
      at0[i] = 0;
      const f0 = stage2(at0);
      if (f0 < fval) {
        par = at0;
        fval = f0;
      }
    }
  }
  const theta = par.slice(0, nt);
  const beta = Float64Array.from(par.slice(nt));
  const fin = dev.stage2State(par);
  const p = beta.length;
  let vcov = hessianVcov(H, nt, p);
  if (!vcov) {
    messages.push('variance-covariance matrix computed from finite-difference Hessian is not positive definite: falling back to var-cov estimated from RX');
    vcov = dev.unscaledVcov(theta, fin);
  }
  return {
    pls: fin.pls, theta, beta, u: fin.u, b: fin.pls.lambdaTimes(fin.u), logLik: -fval / 2, vcov,
    evals: s1.evals + s2.evals, converged: s1.converged && s2.converged, messages,
  };
}

/**
 * vcov(beta) = the beta block of (H / 2)^{-1} (H: Hessian of the deviance -2 log L in (theta, beta), d x d
 * with d = nt + p), symmetrised as vcov.merMod does; null when H is singular or the block is not positive
 * definite. O(d^3).
 */
function hessianVcov(H: Float64Array, nt: number, p: number): Float64Array | null {
  const d = nt + p;
  let Hinv: Float64Array;
  try {
    Hinv = invertSmall(H, d);
  } catch {
    return null;
  }
  const v = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let c = 0; c < p; c++) v[a + c * p] = Hinv[nt + a + (nt + c) * d]! + Hinv[nt + c + (nt + a) * d]!;
  return potrfLowerInPlace(Float64Array.from(v), p) < 0 ? v : null;
}
