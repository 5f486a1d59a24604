/**
 * Per-gene linear mixed models with two crossed random intercepts - donor and a second grouping factor such as
 * processing batch - fitted for all genes from sufficient statistics (REML, lme4's parameterisation;
 * Satterthwaite t as lmerTest reports it).
 *
 * Model for one gene: y = X beta + Z1 b1 + Z2 b2 + e, b1 ~ N(0, sigma2 t1^2 I_D), b2 ~ N(0, sigma2 t2^2 I_B),
 * e ~ N(0, sigma2 I_n); theta = (t1, t2) as lme4's relative covariance factor Lambda = diag(t1 I_D, t2 I_B).
 * With M = Lambda' Z' Z Lambda + I ((D + B) x (D + B)) and H = I + Z Lambda Lambda' Z',
 *   H^-1 = I - Z Lambda M^-1 Lambda' Z',   log det H = log det M      (Woodbury, Sylvester),
 * so REML needs, besides X'X, only per-donor and per-level column sums of X (Z'X), the cell counts of the
 * donor x level table N (Z'Z), and per gene X'y, the donor sums t = Z1'y, the level sums u = Z2'y and y'y:
 *   A = X'X - Q' M^-1 Q,  b = X'y - Q' M^-1 v,  R = y'y - v' M^-1 v - b' A^-1 b,   Q = Lambda'Z'X, v = Lambda'Z'y,
 *   profiled REML deviance f(theta) = log det M + log det A + (n - p) log R,   sigma2 = R / (n - p).
 * M's donor block is diagonal (a_d = 1 + t1^2 n_d), so M is factored through the B x B Schur complement
 *   S = I + t2^2 diag(n_b) - t1^2 t2^2 N' diag(1/a) N,   log det M = sum_d log a_d + log det S.
 * theta is found per gene: a shared grid (each point factored once for all genes), then damped Newton with
 * finite-difference derivatives (Nelder-Mead where the Hessian is not positive definite) on (|t1|, |t2|) (the
 * deviance is even in each t); a component whose removal does not raise the deviance by
 * 1e-10 is set to 0 (a singular fit, as lme4 reports it). Satterthwaite df for coefficient k:
 * df = V^2 / (g' H^+ g), V = sigma2 [A^-1]_kk, g = dV/d(t1, t2, sigma), H the Hessian of the REML deviance
 * -2 log L(t1, t2, sigma) (both by central differences, as lmerTest takes them numerically), H^+ over
 * eigenvalues > 1e-8 max |eigenvalue|.
 *
 * Precision f64. Cost per deviance evaluation O(D k^2 + B^3 + p (D + B^2)) shared (k levels per donor) plus
 * O(D + nnz(N) + B^2 + p (D + B)) per gene; about 60 evaluations per gene (30 for theta, 25 for the df).
 */
import { backSolveInPlace, cholInPlace, cholInverseInto, forwardSolveInPlace } from '../lmm/small-linalg.js';
import { tSurvival2 } from '../stats/distributions.js';
import type { GeneSuffStats, LmmFit } from './lmm-donor.js';
import { LmmCode } from './lmm-donor.js';
import { nelderMead2 } from './nelder-mead.js';

/** The design side shared by every gene: X and the two grouping factors, summarised. */
export interface CrossedDesign {
  readonly n: number;
  readonly p: number;
  readonly coef: number;
  readonly nDonors: number;
  /** Levels of the second factor. */
  readonly nLevels: number;
  /** X'X, packed p x p. */
  readonly xtx: Float64Array;
  /** Per-donor column sums of X (D x p) and per-level (B x p). */
  readonly donorX: Float64Array;
  readonly levelX: Float64Array;
  readonly donorN: Float64Array;
  readonly levelN: Float64Array;
  /** The donor x level table N in compressed rows: donor d has levels crossLevel[crossPtr[d]..] with cells crossN[...]. */
  readonly crossPtr: Int32Array;
  readonly crossLevel: Int32Array;
  readonly crossN: Float64Array;
}

/** Per-gene statistics: those of the donor model plus the level sums of y. */
export interface CrossedStats extends GeneSuffStats {
  /** Level sums of y: uy[g * nLevels + b]. */
  readonly uy: Float64Array;
}

/** A crossed fit: the donor fit's columns plus the second factor's variance. */
export interface CrossedFit extends LmmFit {
  readonly varSecond: Float64Array;
}

/** Summarises a cell-level design (row-major x, n x p) with two factors for {@link fitCrossedLmm}. Cost O(n p^2). */
export function crossedDesign(x: Float64Array, p: number, coef: number, donorOf: Int32Array, nDonors: number, levelOf: Int32Array, nLevels: number): CrossedDesign {
  const n = donorOf.length;
  const xtx = new Float64Array(p * p);
  const donorX = new Float64Array(nDonors * p);
  const levelX = new Float64Array(nLevels * p);
  const donorN = new Float64Array(nDonors);
  const levelN = new Float64Array(nLevels);
  const table = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    const d = donorOf[r]!;
    const b = levelOf[r]!;
    donorN[d]!++;
    levelN[b]!++;
    table.set(d * nLevels + b, (table.get(d * nLevels + b) ?? 0) + 1);
    for (let i = 0; i < p; i++) {
      const xi = x[r * p + i]!;
      donorX[d * p + i]! += xi;
      levelX[b * p + i]! += xi;
      for (let j = 0; j < p; j++) xtx[i * p + j]! += xi * x[r * p + j]!;
    }
  }
  const keys = [...table.keys()].sort((a, b) => a - b);
  const crossPtr = new Int32Array(nDonors + 1);
  for (const k of keys) crossPtr[Math.floor(k / nLevels) + 1]!++;
  for (let d = 0; d < nDonors; d++) crossPtr[d + 1]! += crossPtr[d]!;
  return {
    n,
    p,
    coef,
    nDonors,
    nLevels,
    xtx,
    donorX,
    levelX,
    donorN,
    levelN,
    crossPtr,
    crossLevel: Int32Array.from(keys, (k) => k % nLevels),
    crossN: Float64Array.from(keys, (k) => table.get(k)!),
  };
}

/** The theta-dependent part shared by all genes, and scratch for one gene. */
class Workspace {
  readonly a: Float64Array;
  readonly s: Float64Array;
  readonly w1: Float64Array;
  readonly w2: Float64Array;
  readonly amat: Float64Array;
  readonly r: Float64Array;
  readonly bv: Float64Array;
  readonly inv: Float64Array;
  readonly col: Float64Array;
  logDetM = 0;
  logDetA = 0;
  ok = false;
  t1 = Number.NaN;
  t2 = Number.NaN;

  constructor(readonly dz: CrossedDesign) {
    const { nDonors: D, nLevels: B, p } = dz;
    this.a = new Float64Array(D);
    this.s = new Float64Array(B * B);
    this.w1 = new Float64Array(D * p);
    this.w2 = new Float64Array(B * p);
    this.amat = new Float64Array(p * p);
    this.r = new Float64Array(B);
    this.bv = new Float64Array(p);
    this.inv = new Float64Array(p * p);
    this.col = new Float64Array(Math.max(p, B));
  }

  /**
   * Factors M(theta) and A(theta) (shared by all genes): a, chol S, W = M^-1 Q, chol A. Sets ok = false when A
   * is not positive definite.
   */
  prepare(t1: number, t2: number): void {
    if (t1 === this.t1 && t2 === this.t2) return;
    const { nDonors: D, nLevels: B, p, donorN, levelN, crossPtr, crossLevel, crossN, donorX, levelX } = this.dz;
    this.t1 = t1;
    this.t2 = t2;
    const c = t1 * t2;
    const { a, s, w1, w2, r } = this;
    // Step 1: a_d and S = I + t2^2 diag(n_b) - c^2 sum_d N_d N_d' / a_d.
    s.fill(0);
    let logDet = 0;
    for (let d = 0; d < D; d++) {
      a[d] = 1 + t1 * t1 * donorN[d]!;
      logDet += Math.log(a[d]!);
      const f = (c * c) / a[d]!;
      for (let i = crossPtr[d]!; i < crossPtr[d + 1]!; i++) {
        for (let j = crossPtr[d]!; j <= i; j++) s[crossLevel[i]! * B + crossLevel[j]!]! -= f * crossN[i]! * crossN[j]!;
      }
    }
    // (levels of a donor are listed ascending, so the loop above filled the lower triangle, all cholInPlace reads)
    for (let b = 0; b < B; b++) s[b * B + b]! += 1 + t2 * t2 * levelN[b]!;
    const ld = cholInPlace(s, B);
    if (Number.isNaN(ld)) {
      this.ok = false;
      return;
    }
    this.logDetM = logDet + ld;
    // Step 2: W = M^-1 Q for Q = (t1 donorX, t2 levelX), column by column, by block elimination.
    for (let k = 0; k < p; k++) {
      for (let b = 0; b < B; b++) r[b] = t2 * levelX[b * p + k]!;
      for (let d = 0; d < D; d++) {
        const q1 = (t1 * donorX[d * p + k]!) / a[d]!;
        for (let i = crossPtr[d]!; i < crossPtr[d + 1]!; i++) r[crossLevel[i]!]! -= c * crossN[i]! * q1;
      }
      forwardSolveInPlace(s, B, r);
      backSolveInPlace(s, B, r);
      for (let b = 0; b < B; b++) w2[b * p + k] = r[b]!;
      for (let d = 0; d < D; d++) {
        let q = t1 * donorX[d * p + k]!;
        for (let i = crossPtr[d]!; i < crossPtr[d + 1]!; i++) q -= c * crossN[i]! * r[crossLevel[i]!]!;
        w1[d * p + k] = q / a[d]!;
      }
    }
    // Step 3: A = X'X - Q' W.
    const amat = this.amat;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        let q = 0;
        for (let d = 0; d < D; d++) q += t1 * donorX[d * p + i]! * w1[d * p + j]!;
        for (let b = 0; b < B; b++) q += t2 * levelX[b * p + i]! * w2[b * p + j]!;
        amat[i * p + j] = this.dz.xtx[i * p + j]! - q;
      }
    }
    for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) amat[i * p + j] = amat[j * p + i] = 0.5 * (amat[i * p + j]! + amat[j * p + i]!);
    this.logDetA = cholInPlace(amat, p);
    this.ok = !Number.isNaN(this.logDetA);
  }

  /** R(theta) for gene g (after prepare); leaves b (= X'H^-1 y) in bv. Cost O(D + nnz(N) + B^2 + p (D + B)). */
  residual(st: CrossedStats, g: number): number {
    const { nDonors: D, nLevels: B, p, crossPtr, crossLevel, crossN } = this.dz;
    const { a, r, w1, w2, bv, s, t1, t2 } = this;
    const c = t1 * t2;
    let quad = 0;
    for (let b = 0; b < B; b++) r[b] = t2 * st.uy[g * B + b]!;
    for (let k = 0; k < p; k++) bv[k] = st.xy[g * p + k]!;
    for (let d = 0; d < D; d++) {
      const v1 = t1 * st.ty[g * D + d]!;
      quad += (v1 * v1) / a[d]!;
      const q1 = v1 / a[d]!;
      for (let i = crossPtr[d]!; i < crossPtr[d + 1]!; i++) r[crossLevel[i]!]! -= c * crossN[i]! * q1;
      for (let k = 0; k < p; k++) bv[k]! -= w1[d * p + k]! * v1;
    }
    for (let b = 0; b < B; b++) {
      const v2 = t2 * st.uy[g * B + b]!;
      for (let k = 0; k < p; k++) bv[k]! -= w2[b * p + k]! * v2;
    }
    quad += forwardSolveInPlace(s, B, r);
    return st.yy[g]! - quad - forwardSolveInPlace(this.amat, p, bv);
  }
}

/** theta grid per component (lme4 scale) for the starting point, shared by all genes. */
const GRID: readonly number[] = [0, 0.01, 0.03, 0.07, 0.15, 0.3, 0.6, 1.2, 2.5, 5];

/** Profiled REML deviance of gene g at theta (prepares the workspace). */
function profiled(ws: Workspace, st: CrossedStats, g: number, t1: number, t2: number): number {
  ws.prepare(Math.abs(t1), Math.abs(t2));
  if (!ws.ok) return Infinity;
  const r = ws.residual(st, g);
  const f = ws.logDetM + ws.logDetA + (ws.dz.n - ws.dz.p) * Math.log(r);
  return r > 0 && Number.isFinite(f) ? f : Infinity;
}

/**
 * Fits y ~ X + (1 | donor) + (1 | level) by REML for every gene and tests coefficient `dz.coef` (see the module
 * comment). Precision f64. With `fitGene`, genes with fitGene[g] = 0 are skipped (NaN results).
 */
export function fitCrossedLmm(dz: CrossedDesign, st: CrossedStats, fitGene?: Uint8Array): CrossedFit {
  const { n, p, nDonors: D, nLevels: B } = dz;
  const nG = st.nGenes;
  if (!(n > p && p >= 1 && D >= 1 && B >= 1)) throw new Error(`fitCrossedLmm: need n > p >= 1 (n=${n}, p=${p})`);
  if (st.xy.length !== nG * p || st.ty.length !== nG * D || st.uy.length !== nG * B || st.yy.length !== nG) throw new Error('fitCrossedLmm: statistics arrays have wrong lengths');
  const nan = () => new Float64Array(nG).fill(Number.NaN);
  const out: CrossedFit = { beta: nan(), se: nan(), df: nan(), t: nan(), p: nan(), varDonor: nan(), varResid: nan(), varSecond: nan(), code: new Uint8Array(nG) };
  const ws = new Workspace(dz);
  ws.prepare(0, 0);
  if (!ws.ok) {
    out.code.fill(LmmCode.RankDeficient);
    return out;
  }
  // Step 1: the grid, each point factored once for all genes.
  const K = GRID.length;
  const dev = new Float64Array(nG * K * K);
  const rss0 = new Float64Array(nG);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      ws.prepare(GRID[i]!, GRID[j]!);
      for (let g = 0; g < nG; g++) {
        if (!ws.ok) {
          dev[(g * K + i) * K + j] = Infinity;
          continue;
        }
        const r = ws.residual(st, g);
        if (i === 0 && j === 0) rss0[g] = r;
        dev[(g * K + i) * K + j] = r > 0 ? ws.logDetM + ws.logDetA + (n - p) * Math.log(r) : Infinity;
      }
    }
  }
  // Step 2: per gene, Nelder-Mead from the best grid point, boundary checks, estimates and df.
  for (let g = 0; g < nG; g++) {
    if (fitGene && !fitGene[g]) continue;
    if (!(rss0[g]! > 1e-12 * Math.max(st.yy[g]!, 1e-300))) {
      out.code[g] = LmmCode.NoVariance;
      continue;
    }
    let best = 0;
    for (let q = 1; q < K * K; q++) if (dev[g * K * K + q]! < dev[g * K * K + best]!) best = q;
    const s1 = GRID[Math.floor(best / K)]!;
    const s2 = GRID[best % K]!;
    const f = (u: number, v: number) => profiled(ws, st, g, u, v);
    let [t1, t2, fBest] = newton2(f, s1, s2) ?? nelderMead2(f, s1, s2, Math.max(0.005, 0.25 * Math.max(s1, s2)), 1e-10, 1e-5, 400);
    t1 = Math.abs(t1);
    t2 = Math.abs(t2);
    // A component at the boundary: drop it when that does not raise the deviance.
    if (profiled(ws, st, g, 0, t2) <= fBest + 1e-10) {
      t1 = 0;
      fBest = Math.min(fBest, profiled(ws, st, g, 0, t2));
    }
    if (profiled(ws, st, g, t1, 0) <= fBest + 1e-10) t2 = 0;
    finishGene(ws, st, g, t1, t2, out);
  }
  return out;
}

/**
 * Damped Newton from (u, v) with the gradient and Hessian of f by finite differences (6 evaluations per step),
 * each step halved until f decreases; stops when a step moves theta by < 1e-7 (relative to max(1, |theta|)).
 * Returns null when the Hessian is not positive definite on the way or after 30 steps (the caller falls back to
 * Nelder-Mead). Cost about 8 evaluations per step, usually 3-5 steps from a grid point.
 */
function newton2(f: (u: number, v: number) => number, u0: number, v0: number): [number, number, number] | null {
  let u = u0;
  let v = v0;
  let f0 = f(u, v);
  if (!Number.isFinite(f0)) return null;
  for (let it = 0; it < 30; it++) {
    const hu = 1e-4 * Math.max(Math.abs(u), 1e-2);
    const hv = 1e-4 * Math.max(Math.abs(v), 1e-2);
    const fup = f(u + hu, v);
    const fum = f(u - hu, v);
    const fvp = f(u, v + hv);
    const fvm = f(u, v - hv);
    const fpp = f(u + hu, v + hv);
    const gu = (fup - fum) / (2 * hu);
    const gv = (fvp - fvm) / (2 * hv);
    const huu = (fup - 2 * f0 + fum) / (hu * hu);
    const hvv = (fvp - 2 * f0 + fvm) / (hv * hv);
    const huv = (fpp - fup - fvp + f0) / (hu * hv);
    const det = huu * hvv - huv * huv;
    if (!(huu > 0 && det > 0) || !Number.isFinite(gu + gv)) return null;
    let du = -(hvv * gu - huv * gv) / det;
    let dv = -(huu * gv - huv * gu) / det;
    let fn = f(u + du, v + dv);
    for (let h = 0; h < 20 && !(fn <= f0); h++) {
      du /= 2;
      dv /= 2;
      fn = f(u + du, v + dv);
    }
    if (!(fn <= f0)) return [u, v, f0];
    u += du;
    v += dv;
    f0 = fn;
    if (Math.hypot(du, dv) < 1e-7 * Math.max(1, Math.hypot(u, v))) return [u, v, f0];
  }
  return null;
}

/** Estimates, Wald t and Satterthwaite df of gene g at theta = (t1, t2). */
function finishGene(ws: Workspace, st: CrossedStats, g: number, t1: number, t2: number, out: CrossedFit): void {
  const { n, p, coef } = ws.dz;
  ws.prepare(t1, t2);
  const r = ws.residual(st, g);
  const sigma2 = r / (n - p);
  const beta = Float64Array.from(ws.bv);
  backSolveInPlace(ws.amat, p, beta);
  cholInverseInto(ws.amat, p, ws.inv, ws.col);
  const v = sigma2 * ws.inv[coef * p + coef]!;
  const df = satterthwaite(ws, st, g, t1, t2, Math.sqrt(sigma2), v);
  const t = beta[coef]! / Math.sqrt(v);
  out.beta[g] = beta[coef]!;
  out.se[g] = Math.sqrt(v);
  out.df[g] = df;
  out.t[g] = t;
  out.p[g] = tSurvival2(t, df);
  out.varDonor[g] = t1 * t1 * sigma2;
  out.varSecond[g] = t2 * t2 * sigma2;
  out.varResid[g] = sigma2;
  out.code[g] = t1 === 0 || t2 === 0 ? LmmCode.Singular : LmmCode.Ok;
}

/** -2 REML log-likelihood (up to a constant) at (t1, t2, sigma), and V = sigma^2 [A^-1]_kk there. */
function devAndVar(ws: Workspace, st: CrossedStats, g: number, t1: number, t2: number, sigma: number): [number, number] {
  const { n, p, coef } = ws.dz;
  ws.prepare(Math.abs(t1), Math.abs(t2));
  const r = ws.residual(st, g);
  const s2 = sigma * sigma;
  cholInverseInto(ws.amat, p, ws.inv, ws.col);
  return [ws.logDetM + ws.logDetA + (n - p) * Math.log(s2) + r / s2, s2 * ws.inv[coef * p + coef]!];
}

/** Satterthwaite df by central differences in (t1, t2, sigma) (see the module comment). */
function satterthwaite(ws: Workspace, st: CrossedStats, g: number, t1: number, t2: number, sigma: number, v: number): number {
  const x = [t1, t2, sigma];
  const h = [1e-4 * Math.max(t1, 1e-2), 1e-4 * Math.max(t2, 1e-2), 1e-4 * sigma];
  const at = (dx: number[]) => devAndVar(ws, st, g, x[0]! + dx[0]!, x[1]! + dx[1]!, x[2]! + dx[2]!);
  const [f0] = at([0, 0, 0]);
  const grad = [0, 0, 0];
  const hess = new Float64Array(9);
  const e = (i: number, s: number) => [0, 1, 2].map((k) => (k === i ? s * h[i]! : 0));
  for (let i = 0; i < 3; i++) {
    const [fp, vp] = at(e(i, 1));
    const [fm, vm] = at(e(i, -1));
    grad[i] = (vp - vm) / (2 * h[i]!);
    hess[i * 3 + i] = (fp - 2 * f0 + fm) / (h[i]! * h[i]!);
    for (let j = 0; j < i; j++) {
      const d = (si: number, sj: number) => at([0, 1, 2].map((k) => (k === i ? si * h[i]! : k === j ? sj * h[j]! : 0)))[0];
      const hij = (d(1, 1) - d(1, -1) - d(-1, 1) + d(-1, -1)) / (4 * h[i]! * h[j]!);
      hess[i * 3 + j] = hij;
      hess[j * 3 + i] = hij;
    }
  }
  return (v * v) / pseudoInverseQuadratic3(hess, grad);
}

/**
 * x' H^+ x for a symmetric 3 x 3 H (Jacobi eigendecomposition), H^+ over eigenvalues > 1e-8 max |eigenvalue|
 * (lmerTest's rule). Cost O(1).
 */
export function pseudoInverseQuadratic3(hIn: Float64Array, x: readonly number[]): number {
  const a = Float64Array.from(hIn);
  const vec = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[1]! ** 2 + a[2]! ** 2 + a[5]! ** 2;
    if (off < 1e-30 * (a[0]! ** 2 + a[4]! ** 2 + a[8]! ** 2) || off === 0) break;
    for (const [pi, qi] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const apq = a[pi * 3 + qi]!;
      if (apq === 0) continue;
      const tau = (a[qi * 3 + qi]! - a[pi * 3 + pi]!) / (2 * apq);
      const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
      const c = 1 / Math.sqrt(1 + t * t);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k * 3 + pi]!;
        const akq = a[k * 3 + qi]!;
        a[k * 3 + pi] = c * akp - s * akq;
        a[k * 3 + qi] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[pi * 3 + k]!;
        const aqk = a[qi * 3 + k]!;
        a[pi * 3 + k] = c * apk - s * aqk;
        a[qi * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = vec[k * 3 + pi]!;
        const vkq = vec[k * 3 + qi]!;
        vec[k * 3 + pi] = c * vkp - s * vkq;
        vec[k * 3 + qi] = s * vkp + c * vkq;
      }
    }
  }
  const lambda = [a[0]!, a[4]!, a[8]!];
  const tol = 1e-8 * Math.max(...lambda.map(Math.abs));
  let q = 0;
  for (let k = 0; k < 3; k++) {
    if (!(lambda[k]! > tol)) continue;
    const proj = vec[k]! * x[0]! + vec[3 + k]! * x[1]! + vec[6 + k]! * x[2]!;
    q += (proj * proj) / lambda[k]!;
  }
  return q;
}
