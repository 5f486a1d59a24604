/**
 * Generalised linear mixed models (binomial logit, Poisson log) by the Laplace approximation, as glmer
 * with nAGQ = 1 (Bates et al. 2015; lme4's "Computational methods" vignette, section 5).
 *
 * Penalised iteratively re-weighted least squares (PIRLS) finds the conditional modes u~ for given theta,
 * beta by repeatedly solving the weighted PLS problem with working weights w = (dmu/deta)^2 / V(mu) and
 * working response z = Z Lambda u + (y - mu) / (dmu/deta), halving steps that do not lower the penalised
 * deviance. The Laplace approximation to the deviance is
 *   -2 log L(theta, beta) ~= -2 sum_i log p(y_i | mu_i) + ||u~||^2 + log|L_theta|^2,
 * with L_theta L_theta' = Lambda' Z' W Z Lambda + I at u~. As glmer: stage 1 optimises theta with beta
 * updated inside PIRLS, stage 2 optimises (theta, beta) jointly from there. vcov(beta) is the beta block of
 * (H / 2)^{-1}, H the finite-difference Hessian of the stage-2 deviance (glmer's use.hessian = TRUE).
 */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { logGamma } from '../../stats/distributions.js';
import type { ReTerm } from './design.js';
import type { ModelFrame } from './model-frame.js';
import { hessian, invertSymmetric } from './numeric-derivatives.js';
import { minimizeModelBased } from './optimizer.js';
import { BlockedPls, lambdaTimes, PlsError, thetaLower, thetaStart, thetaToFactors } from './pls.js';

export type GlmmFamily = 'binomial' | 'poisson';

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
}

interface FamilyOps {
  /** mu, dmu/deta, variance of y_i given mu (per unit prior weight) */
  link(eta: number): { mu: number; dmu: number; v: number };
  /** log p(y_i | mu_i) without the normalising constant, with prior weight / trials wt */
  logKernel(y: number, mu: number, wt: number): number;
  /** the normalising constant of log p(y_i | mu_i) */
  logConstant(y: number, wt: number): number;
}

const lchoose = (n: number, k: number): number => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

const FAMILIES: Record<GlmmFamily, FamilyOps> = {
  binomial: {
    link(eta) {
      const e = Math.exp(-Math.abs(eta));
      const mu0 = eta >= 0 ? 1 / (1 + e) : e / (1 + e);
      const mu = Math.min(1 - 2.22e-16, Math.max(2.22e-16, mu0));
      return { mu, dmu: Math.max(mu * (1 - mu), 2.22e-16), v: mu * (1 - mu) };
    },
    logKernel(y, mu, wt) {
      const k = Math.round(y * wt);
      return k * Math.log(mu) + (wt - k) * Math.log(1 - mu);
    },
    logConstant: (y, wt) => lchoose(wt, Math.round(y * wt)),
  },
  poisson: {
    link(eta) {
      const mu = Math.max(Math.exp(eta), 2.22e-16);
      return { mu, dmu: mu, v: mu };
    },
    logKernel: (y, mu) => y * Math.log(mu) - mu,
    logConstant: (y) => -logGamma(y + 1),
  },
};

/** Shared state of the PIRLS loops for one model. */
class Pirls {
  private readonly fam: FamilyOps;
  private readonly n: number;
  private readonly wt: Float64Array;
  /** -2 sum_i of the log-density constants */
  private readonly devConstant: number;
  /** PLS systems for stage 1 (u and beta) and stage 2 (u alone), re-weighted each PIRLS step */
  private readonly plsUB: BlockedPls;
  private readonly plsU: BlockedPls;
  /** warm start of u between calls */
  u: Float64Array;
  evals = 0;

  constructor(
    private readonly terms: ReTerm[],
    private readonly x: F64Matrix,
    private readonly frame: ModelFrame,
    family: GlmmFamily,
  ) {
    this.fam = FAMILIES[family];
    this.n = frame.n;
    this.wt = frame.trials ?? new Float64Array(this.n).fill(1);
    let c = 0;
    for (let i = 0; i < this.n; i++) c -= 2 * this.fam.logConstant(frame.y[i]!, this.wt[i]!);
    this.devConstant = c;
    this.plsUB = new BlockedPls(terms, x, new Float64Array(this.n));
    this.plsU = new BlockedPls(terms, f64Matrix(this.n, 0), new Float64Array(this.n));
    this.u = new Float64Array(terms.reduce((s, t) => s + t.levels.length * t.p, 0));
  }

  /** eta = offset + X beta + Z Lambda u */
  private eta(beta: Float64Array, b: Float64Array): Float64Array {
    const { n, x } = this;
    const eta = new Float64Array(n);
    if (this.frame.offset) eta.set(this.frame.offset);
    for (let j = 0; j < x.cols; j++) for (let i = 0; i < n; i++) eta[i]! += x.data[i + j * x.ld]! * beta[j]!;
    let off = 0;
    for (const t of this.terms) {
      for (let i = 0; i < n; i++) {
        const base = off + t.codes[i]! * t.p;
        for (let r = 0; r < t.p; r++) eta[i]! += t.z[i * t.p + r]! * b[base + r]!;
      }
      off += t.levels.length * t.p;
    }
    return eta;
  }

  /** -2 sum log p(y | mu) and the working weights/response at eta (response z - fixed part if fixedPart). */
  private state(eta: Float64Array, fixed: Float64Array) {
    const { n, fam, wt } = this;
    const y = this.frame.y;
    const w = new Float64Array(n);
    const z = new Float64Array(n);
    let dev = this.devConstant;
    for (let i = 0; i < n; i++) {
      const { mu, dmu, v } = fam.link(eta[i]!);
      dev -= 2 * fam.logKernel(y[i]!, mu, wt[i]!);
      w[i] = (wt[i]! * dmu * dmu) / v;
      z[i] = eta[i]! - fixed[i]! + (y[i]! - mu) / dmu;
    }
    return { dev, w, z };
  }

  /**
   * PIRLS at theta. With `beta` given, only u is updated (stage 2); with beta null, beta is updated with u
   * (stage 1, the nAGQ = 0 objective). Returns the Laplace deviance and the factor at convergence.
   */
  run(theta: number[], betaIn: Float64Array | null): { dev: number; beta: Float64Array; pls: BlockedPls; u: Float64Array } {
    this.evals++;
    const { n, x } = this;
    const p = x.cols;
    let beta: Float64Array = betaIn ?? new Float64Array(p);
    let u: Float64Array = Float64Array.from(this.u);
    const pls = betaIn ? this.plsU : this.plsUB;
    const T = thetaToFactors(this.terms, theta);
    const lambda = (uu: Float64Array) => lambdaTimes(this.terms, T, uu);
    const fixedOf = (bb: Float64Array) => this.eta(bb, new Float64Array(u.length));
    const penalised = (uu: Float64Array, bb: Float64Array) => {
      const eta = this.eta(bb, lambda(uu));
      let s = 0;
      for (const v of uu) s += v * v;
      return { eta, pdev: this.state(eta, fixedOf(bb)).dev + s };
    };
    let cur = penalised(u, beta);
    for (let it = 0; it < 60; it++) {
      const fixedPart = betaIn ? fixedOf(beta) : this.frame.offset ?? new Float64Array(n);
      const { w, z } = this.state(cur.eta, fixedPart);
      pls.setValues(z, w);
      pls.factor(theta);
      const sol = pls.solve();
      const u0 = u;
      const b0 = beta;
      let step = 1;
      let next = penalised(sol.u, betaIn ? beta : sol.beta);
      let nu = sol.u;
      let nb = betaIn ? beta : sol.beta;
      while (next.pdev > cur.pdev + 1e-10 * Math.abs(cur.pdev) && step > 1e-4) {
        step /= 2;
        nu = u0.map((v, i) => v + step * (sol.u[i]! - v));
        nb = betaIn ? beta : b0.map((v, i) => v + step * (sol.beta[i]! - v));
        next = penalised(nu, nb);
      }
      const change = cur.pdev - next.pdev;
      u = nu;
      beta = nb;
      cur = next;
      if (Math.abs(change) < 1e-11 * (1 + Math.abs(cur.pdev))) break;
    }
    // factor at the converged weights for log|L|^2
    const { w, z, dev } = this.state(cur.eta, betaIn ? fixedOf(beta) : this.frame.offset ?? new Float64Array(n));
    pls.setValues(z, w);
    const f = pls.factor(theta);
    let uu = 0;
    for (const v of u) uu += v * v;
    this.u = u;
    return { dev: dev + uu + f.ldL2, beta, pls, u };
  }
}

/** Fits a binomial or Poisson GLMM by Laplace (two-stage optimisation as glmer). */
export function estimateGlmm(terms: ReTerm[], x: F64Matrix, frame: ModelFrame, family: GlmmFamily): GlmmEstimate {
  const pirls = new Pirls(terms, x, frame, family);
  const lower = thetaLower(terms);
  const nt = lower.length;
  const safe = (g: () => number) => {
    try {
      return g();
    } catch (e) {
      if (e instanceof PlsError) return Infinity;
      throw e;
    }
  };
  // stage 1: theta only, beta inside PIRLS
  const s1 = minimizeModelBased((th) => safe(() => pirls.run(th, null).dev), thetaStart(terms), { lower, rhoEnd: 1e-5 });
  const beta1 = pirls.run(s1.x, null).beta;
  // stage 2: (theta, beta) jointly, u alone in PIRLS
  const stage2 = (v: number[]) => safe(() => pirls.run(v.slice(0, nt), Float64Array.from(v.slice(nt))).dev);
  const start = s1.x.concat(Array.from(beta1));
  const s2 = minimizeModelBased(stage2, start, { lower: lower.concat(Array.from(beta1, () => -Infinity)), rhoBeg: 0.05, rhoEnd: 1e-6 });
  const theta = s2.x.slice(0, nt).map((v, i) => (lower[i] === 0 && v < 1e-10 ? 0 : v));
  const beta = Float64Array.from(s2.x.slice(nt));
  // vcov(beta) from the Hessian of the stage-2 deviance
  const H = hessian(stage2, theta.concat(Array.from(beta)));
  const d = nt + beta.length;
  const Vfull = invertSymmetric(H.map((v) => v / 2), d);
  const p = beta.length;
  const vcov = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let c = 0; c < p; c++) vcov[a + c * p] = Vfull[nt + a + (nt + c) * d]!;
  const fin = pirls.run(theta, beta);
  return {
    pls: fin.pls, theta, beta, u: fin.u, b: fin.pls.lambdaTimes(fin.u), logLik: -fin.dev / 2, vcov,
    evals: s1.evals + s2.evals, converged: s1.converged && s2.converged,
  };
}
