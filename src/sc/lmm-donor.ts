/**
 * Per-gene linear mixed models with one random intercept per donor, fitted for all genes at once from
 * per-donor sufficient statistics (REML, lme4 conventions; Wald t with Satterthwaite df as lmerTest reports).
 *
 * Model for one gene, cells i = 1..n in donors d = 1..G:  y = X beta + Z b + e,  b ~ N(0, tau I_G),
 * e ~ N(0, sigma2 I_n), gamma = tau / sigma2 (lme4: theta = sqrt(gamma)). With H = I + gamma Z Z^T, the donor
 * blocks give H_d^-1 = I - w_d 1 1^T with w_d = gamma / (1 + n_d gamma), so every quantity REML needs is a
 * function of the shared X^T X, the per-donor column sums s_d = X_d^T 1, n_d, and, per gene, of
 * X^T y, the donor sums t_d = 1^T y_d and y^T y:
 *   A(gamma) = X^T H^-1 X = X^T X - sum_d w_d s_d s_d^T            (p x p, shared by all genes)
 *   b(gamma) = X^T H^-1 y = X^T y - sum_d w_d t_d s_d
 *   R(gamma) = y^T H^-1 y - b^T A^-1 b,  y^T H^-1 y = y^T y - sum_d w_d t_d^2
 * The profiled REML deviance (constants dropped) is
 *   f(gamma) = (n - p) log R + sum_d log(1 + n_d gamma) + log det A,
 * minimised over gamma >= 0 (boundary allowed: tau = 0 is reported as singular, as lme4 does);
 * then sigma2 = R / (n - p), beta = A^-1 b, Var(beta) = sigma2 A^-1.
 *
 * Satterthwaite df for coefficient k (lmerTest's method): df = 2 V^2 / (g^T C g), V = Var(beta_k),
 * g = dV/d(varpar), C = 2 H^-1 with H the Hessian of the REML deviance in the variance parameters.
 * At an interior optimum this is invariant to the parameterisation, so it is evaluated in closed form in
 * (gamma, sigma2) with analytic derivatives; at the boundary (gamma = 0) lmerTest's (theta, sigma)
 * parameterisation makes the theta direction drop out (the deviance is even in theta) and df = n - p.
 *
 * Cost: O(K G p^2) shared plus O(K (G p + p^2)) per gene for K deviance evaluations (about 60 here).
 */
import type { Backend } from '../../kernels/backend.js';
import { f64Matrix } from '../../kernels/matrix.js';
import { backSolveInPlace, brentMin, cholInPlace, cholInverseInto, forwardSolveInPlace } from '../lmm/small-linalg.js';
import { tSurvival2 } from '../stats/distributions.js';

/** The design side shared by every gene: fixed effects X (n x p) summarised per donor. */
export interface DonorDesign {
  /** Cells. */
  readonly n: number;
  /** Fixed-effect columns (intercept included). */
  readonly p: number;
  /** Donors (each with at least one cell). */
  readonly nDonors: number;
  /** X^T X, packed p x p. */
  readonly xtx: Float64Array;
  /** Per-donor column sums of X: s[d * p + k] = sum over cells i of donor d of X[i, k]. */
  readonly donorX: Float64Array;
  /** Cells per donor. */
  readonly donorN: Float64Array;
  /** Index of the coefficient tested (the condition contrast). */
  readonly coef: number;
}

/** Per-gene sufficient statistics (structure of arrays, gene-major). */
export interface GeneSuffStats {
  readonly nGenes: number;
  /** X^T y: xy[g * p + k]. */
  readonly xy: Float64Array;
  /** Donor sums of y: ty[g * nDonors + d]. */
  readonly ty: Float64Array;
  /** y^T y. */
  readonly yy: Float64Array;
}

/** Per-gene fit status codes (see {@link LMM_STATUS}). */
export const enum LmmCode {
  Ok = 0,
  Singular = 1,
  NoVariance = 2,
  RankDeficient = 3,
}

/** Status text written to the output for each {@link LmmCode}. */
export const LMM_STATUS = ['ok', 'singular', 'no_variance', 'rank_deficient'] as const;

export interface LmmFit {
  readonly beta: Float64Array;
  readonly se: Float64Array;
  readonly df: Float64Array;
  readonly t: Float64Array;
  readonly p: Float64Array;
  /** tau: donor variance. */
  readonly varDonor: Float64Array;
  /** sigma2: residual variance. */
  readonly varResid: Float64Array;
  readonly code: Uint8Array;
}

/** theta grid (lme4 scale, theta = sqrt(gamma)) scanned before Brent refines each gene's optimum. */
const THETA_GRID: readonly number[] = [0, ...Array.from({ length: 36 }, (_, i) => 10 ** (-3 + (5 * i) / 35))];

/**
 * The profiled deviance of every gene at every grid point, computed elsewhere (a GPU backend, f32): dev[g * K + q]
 * for the K = {@link THETA_GRID} points. Only used to pick each gene's starting bracket, which the f64 CPU
 * deviance confirms (see {@link fitDonorLmm}).
 */
export interface DevianceGrid {
  readonly dev: Float64Array;
  readonly precision: 'f32' | 'f64';
}

/** Scratch for one gene evaluation: no allocation inside the optimiser loop. */
class Workspace {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly ap: Float64Array;
  readonly app: Float64Array;
  readonly m: Float64Array;
  readonly bp: Float64Array;
  readonly bpp: Float64Array;
  readonly beta: Float64Array;
  readonly betap: Float64Array;
  readonly tmp: Float64Array;
  constructor(readonly p: number) {
    this.a = new Float64Array(p * p);
    this.b = new Float64Array(p);
    this.ap = new Float64Array(p * p);
    this.app = new Float64Array(p * p);
    this.m = new Float64Array(p * p);
    this.bp = new Float64Array(p);
    this.bpp = new Float64Array(p);
    this.beta = new Float64Array(p);
    this.betap = new Float64Array(p);
    this.tmp = new Float64Array(p);
  }
}

/** Checks shapes and values of a design and its gene statistics; throws naming the offending field. */
function validate(design: DonorDesign, stats: GeneSuffStats): void {
  const { n, p, nDonors: G } = design;
  const fail = (what: string) => {
    throw new Error(`fitDonorLmm: ${what} (n=${n}, p=${p}, donors=${G}, genes=${stats.nGenes})`);
  };
  if (!(p >= 1 && n > p && G >= 1)) fail('need n > p >= 1 and at least one donor');
  if (design.xtx.length !== p * p || design.donorX.length !== G * p || design.donorN.length !== G) fail('design arrays have wrong lengths');
  if (!(design.coef >= 0 && design.coef < p)) fail(`coef ${design.coef} outside 0..${p - 1}`);
  if (stats.xy.length !== stats.nGenes * p || stats.ty.length !== stats.nGenes * G || stats.yy.length !== stats.nGenes) {
    fail('gene statistics arrays have wrong lengths');
  }
  let total = 0;
  for (const v of design.donorN) {
    if (!(v >= 1)) fail('every donor needs at least one cell');
    total += v;
  }
  if (total !== n) fail(`donor cell counts sum to ${total}, expected n`);
}

/** A(gamma) = X^T X - sum_d w_d s_d s_d^T into `a` (packed p x p). Cost G p^2. */
function fillA(design: DonorDesign, gamma: number, a: Float64Array): void {
  const { p, nDonors: G, donorX, donorN } = design;
  a.set(design.xtx);
  if (gamma === 0) return;
  for (let d = 0; d < G; d++) {
    const w = gamma / (1 + donorN[d]! * gamma);
    const o = d * p;
    for (let i = 0; i < p; i++) {
      const si = w * donorX[o + i]!;
      for (let j = 0; j <= i; j++) a[i * p + j]! -= si * donorX[o + j]!;
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) a[j * p + i] = a[i * p + j]!;
}

/** sum_d log(1 + n_d gamma) = log det H. */
function logDetH(design: DonorDesign, gamma: number): number {
  let s = 0;
  for (let d = 0; d < design.nDonors; d++) s += Math.log1p(design.donorN[d]! * gamma);
  return s;
}

/**
 * R(gamma) for gene g given the Cholesky factor of A(gamma) in ws.a; leaves L^-1 b in ws.b.
 * Cost G p + p^2.
 */
function residual(design: DonorDesign, stats: GeneSuffStats, g: number, gamma: number, ws: Workspace): number {
  const { p, nDonors: G, donorX, donorN } = design;
  const b = ws.b;
  for (let k = 0; k < p; k++) b[k] = stats.xy[g * p + k]!;
  let c = stats.yy[g]!;
  if (gamma !== 0) {
    for (let d = 0; d < G; d++) {
      const td = stats.ty[g * G + d]!;
      const wt = (gamma / (1 + donorN[d]! * gamma)) * td;
      c -= wt * td;
      for (let k = 0; k < p; k++) b[k]! -= wt * donorX[d * p + k]!;
    }
  }
  return c - forwardSolveInPlace(ws.a, p, b);
}

/**
 * The grid deviances of every gene through a kernel backend, as two matrix products for all genes and grid
 * points at once (w_dq = gamma_q / (1 + n_d gamma_q), T the genes x donors sums):
 *   C = (T o T) W        (genes x K):      C[g, q] = sum_d w_dq t_gd^2
 *   P = T S_w            (genes x K p):    P[g, q p + j] = sum_d w_dq t_gd s_dj
 * then per gene and point on the CPU: R = (y'y - C) - |L_q^-1 (X'y - P)|^2, dev = (n-p) log R + log det H_q +
 * log det A_q. Precision: the backend's (f32 on GPUs). Cost 2 genes D K (p + 1) flops in the products.
 */
export async function devianceGridOnBackend(backend: Backend, design: DonorDesign, stats: GeneSuffStats): Promise<DevianceGrid> {
  validate(design, stats);
  const { n, p, nDonors: G, donorN, donorX } = design;
  const nG = stats.nGenes;
  const K = THETA_GRID.length;
  const tt = f64Matrix(G, nG, stats.ty, G); // (d, g) = t_gd: T^T
  const tt2 = f64Matrix(G, nG, Float64Array.from(stats.ty, (v) => v * v), G);
  const w = f64Matrix(G, K);
  const sw = f64Matrix(G, K * p);
  for (let q = 0; q < K; q++) {
    const gamma = THETA_GRID[q]! ** 2;
    for (let d = 0; d < G; d++) {
      const wd = gamma / (1 + donorN[d]! * gamma);
      w.data[d + q * G] = wd;
      for (let j = 0; j < p; j++) sw.data[d + (q * p + j) * G] = wd * donorX[d * p + j]!;
    }
  }
  const c = await backend.gemm(tt2, w, { transA: true });
  const pm = await backend.gemm(tt, sw, { transA: true });
  const dev = new Float64Array(nG * K);
  const ws = new Workspace(p);
  for (let q = 0; q < K; q++) {
    const gamma = THETA_GRID[q]! ** 2;
    fillA(design, gamma, ws.a);
    const logDetA = cholInPlace(ws.a, p);
    const ldh = logDetH(design, gamma);
    for (let g = 0; g < nG; g++) {
      for (let j = 0; j < p; j++) ws.b[j] = stats.xy[g * p + j]! - pm.data[g + (q * p + j) * pm.ld]!;
      const r = stats.yy[g]! - c.data[g + q * c.ld]! - forwardSolveInPlace(ws.a, p, ws.b);
      dev[g * K + q] = (n - p) * Math.log(r) + ldh + logDetA;
    }
  }
  return { dev, precision: backend.precision };
}

/**
 * Fits y ~ X + (1 | donor) by REML for every gene and tests coefficient `design.coef`.
 * Precision f64 throughout. See the module comment for the formulas and cost. With `grid` (grid deviances from
 * {@link devianceGridOnBackend}), the grid is not evaluated here; an f32 grid only proposes each gene's best
 * point, which then moves to a neighbour while the f64 deviance there is lower, so the bracket Brent refines is
 * an f64 local minimum of the grid. With `fitGene`, genes with fitGene[g] = 0 are skipped (NaN results, code
 * Ok: the caller's filter gives them their status).
 */
export function fitDonorLmm(design: DonorDesign, stats: GeneSuffStats, grid?: DevianceGrid, fitGene?: Uint8Array): LmmFit {
  validate(design, stats);
  const { n, p } = design;
  const nG = stats.nGenes;
  const out: LmmFit = {
    beta: new Float64Array(nG).fill(Number.NaN),
    se: new Float64Array(nG).fill(Number.NaN),
    df: new Float64Array(nG).fill(Number.NaN),
    t: new Float64Array(nG).fill(Number.NaN),
    p: new Float64Array(nG).fill(Number.NaN),
    varDonor: new Float64Array(nG).fill(Number.NaN),
    varResid: new Float64Array(nG).fill(Number.NaN),
    code: new Uint8Array(nG),
  };
  const ws = new Workspace(p);

  // Step 1: design rank at gamma = 0 (X^T X positive definite), shared by all genes.
  fillA(design, 0, ws.a);
  if (Number.isNaN(cholInPlace(ws.a, p))) {
    out.code.fill(LmmCode.RankDeficient);
    return out;
  }

  // Step 2: profiled deviance on the theta grid, A(gamma) factored once per grid point for all genes (only
  // gamma = 0 when the grid comes from elsewhere: the no-variance check and the boundary test stay f64).
  const K = THETA_GRID.length;
  const devGrid = grid ? Float64Array.from(grid.dev) : new Float64Array(nG * K);
  if (devGrid.length !== nG * K) throw new Error(`fitDonorLmm: grid has ${devGrid.length} values, expected ${nG * K}`);
  const rss0 = new Float64Array(nG);
  for (let q = 0; q < (grid ? 1 : K); q++) {
    const gamma = THETA_GRID[q]! ** 2;
    fillA(design, gamma, ws.a);
    const logDetA = cholInPlace(ws.a, p);
    const ldh = logDetH(design, gamma);
    for (let g = 0; g < nG; g++) {
      const r = residual(design, stats, g, gamma, ws);
      if (q === 0) rss0[g] = r;
      devGrid[g * K + q] = (n - p) * Math.log(r) + ldh + logDetA;
    }
  }

  // Step 3: per gene, Brent on theta around the best grid point, then estimates and Satterthwaite df.
  for (let g = 0; g < nG; g++) {
    if (fitGene && !fitGene[g]) continue;
    if (!(rss0[g]! > 1e-12 * Math.max(stats.yy[g]!, 1e-300))) {
      out.code[g] = LmmCode.NoVariance;
      continue;
    }
    const dev = (theta: number): number => {
      const gamma = theta * theta;
      fillA(design, gamma, ws.a);
      const logDetA = cholInPlace(ws.a, p);
      const r = residual(design, stats, g, gamma, ws);
      const f = (n - p) * Math.log(r) + logDetH(design, gamma) + logDetA;
      return Number.isFinite(f) ? f : Number.POSITIVE_INFINITY;
    };
    let best = 0;
    for (let q = 1; q < K; q++) if (devGrid[g * K + q]! < devGrid[g * K + best]!) best = q;
    if (grid && grid.precision !== 'f64') best = confirmBest(best, K, (q) => (q === 0 ? devGrid[g * K]! : dev(THETA_GRID[q]!)));
    const lo = THETA_GRID[Math.max(0, best - 1)]!;
    const hi = THETA_GRID[Math.min(K - 1, best + 1)]!;
    let theta = brentMin(dev, lo, hi, 1e-10 * Math.max(hi, 1e-3));
    if (!(dev(theta) < devGrid[g * K]! - 1e-10) || theta < 1e-7) theta = 0;
    finishGene(design, stats, g, theta * theta, ws, out);
  }
  return out;
}

/** Moves `best` to a neighbouring grid point while the (f64) deviance there is lower. Cost O(moves) evaluations. */
function confirmBest(best: number, K: number, dev: (q: number) => number): number {
  let cur = dev(best);
  for (;;) {
    const left = best > 0 ? dev(best - 1) : Infinity;
    const right = best < K - 1 ? dev(best + 1) : Infinity;
    if (left < cur && left <= right) {
      best--;
      cur = left;
    } else if (right < cur) {
      best++;
      cur = right;
    } else return best;
  }
}

/** Estimates, Wald t and Satterthwaite df for gene g at its REML optimum gamma. Cost O(G p^2 + p^3). */
function finishGene(design: DonorDesign, stats: GeneSuffStats, g: number, gamma: number, ws: Workspace, out: LmmFit): void {
  const { n, p, coef } = design;
  fillA(design, gamma, ws.a);
  cholInPlace(ws.a, p);
  const r = residual(design, stats, g, gamma, ws);
  const sigma2 = r / (n - p);
  // beta = A^-1 b (ws.b holds L^-1 b), M = A^-1.
  ws.beta.set(ws.b);
  backSolveInPlace(ws.a, p, ws.beta);
  cholInverseInto(ws.a, p, ws.m, ws.tmp);
  const m = ws.m;
  const v = sigma2 * m[coef * p + coef]!;
  const beta = ws.beta[coef]!;
  const df = gamma === 0 ? n - p : satterthwaiteDf(design, stats, g, gamma, sigma2, r, ws, v);
  const t = beta / Math.sqrt(v);
  out.beta[g] = beta;
  out.se[g] = Math.sqrt(v);
  out.df[g] = df;
  out.t[g] = t;
  out.p[g] = tSurvival2(t, df);
  out.varDonor[g] = gamma * sigma2;
  out.varResid[g] = sigma2;
  out.code[g] = gamma === 0 ? LmmCode.Singular : LmmCode.Ok;
}

/**
 * Satterthwaite df for beta_coef at an interior REML optimum, in the (gamma, s = sigma2) parameterisation of
 * the deviance D(gamma, s) = (n-p) log s + L(gamma) + R(gamma)/s, L = log det H + log det A:
 *   D_ss = -(n-p)/s^2 + 2R/s^3,  D_gs = -R'/s^2,  D_gg = L'' + R''/s,
 * with w_d' = 1/(1+n_d gamma)^2, w_d'' = -2 n_d/(1+n_d gamma)^3, A' = -sum w_d' s_d s_d^T (A'' likewise),
 *   L'' = -sum n_d^2/(1+n_d gamma)^2 + tr(M A'') - tr(M A' M A'),
 *   R'' = c'' - 2 b''^T beta - 2 b'^T beta' + 2 beta'^T A' beta + beta^T A'' beta,  beta' = M (b' - A' beta).
 * V = s M_kk has gradient (s sum_d w_d' (M s_d)_k^2, M_kk). df = V^2 / (g^T H^+ g), H^+ the pseudo-inverse
 * over positive eigenvalues (as lmerTest). Expects ws.a = chol A, ws.m = M, ws.beta = beta.
 */
function satterthwaiteDf(
  design: DonorDesign,
  stats: GeneSuffStats,
  g: number,
  gamma: number,
  s: number,
  r: number,
  ws: Workspace,
  v: number,
): number {
  const { n, p, nDonors: G, donorX, donorN, coef } = design;
  const { ap, app, m, bp, bpp, beta, betap, tmp } = ws;
  ap.fill(0);
  app.fill(0);
  bp.fill(0);
  bpp.fill(0);
  let cp = 0;
  let cpp = 0;
  let ldhpp = 0;
  let dMkk = 0;
  for (let d = 0; d < G; d++) {
    const nd = donorN[d]!;
    const den = 1 + nd * gamma;
    const w1 = 1 / (den * den);
    const w2 = (-2 * nd) / (den * den * den);
    ldhpp -= (nd * nd) / (den * den);
    const td = stats.ty[g * G + d]!;
    cp -= w1 * td * td;
    cpp -= w2 * td * td;
    const o = d * p;
    let msk = 0;
    for (let i = 0; i < p; i++) {
      const si = donorX[o + i]!;
      bp[i]! -= w1 * td * si;
      bpp[i]! -= w2 * td * si;
      for (let j = 0; j < p; j++) {
        ap[i * p + j]! -= w1 * si * donorX[o + j]!;
        app[i * p + j]! -= w2 * si * donorX[o + j]!;
      }
      msk += m[coef * p + i]! * si;
    }
    dMkk += w1 * msk * msk;
  }
  // tr(M A''), tr(M A' M A') via B = M A'.
  let trMApp = 0;
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) trMApp += m[i * p + j]! * app[j * p + i]!;
  let trBB = 0;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let bij = 0;
      let bji = 0;
      for (let k = 0; k < p; k++) {
        bij += m[i * p + k]! * ap[k * p + j]!;
        bji += m[j * p + k]! * ap[k * p + i]!;
      }
      trBB += bij * bji;
    }
  }
  const lpp = ldhpp + trMApp - trBB;
  // A' beta, beta' = M (b' - A' beta).
  for (let i = 0; i < p; i++) {
    let s2 = 0;
    for (let j = 0; j < p; j++) s2 += ap[i * p + j]! * beta[j]!;
    tmp[i] = bp[i]! - s2;
  }
  for (let i = 0; i < p; i++) {
    let s2 = 0;
    for (let j = 0; j < p; j++) s2 += m[i * p + j]! * tmp[j]!;
    betap[i] = s2;
  }
  let rp = cp;
  let rpp = cpp;
  for (let i = 0; i < p; i++) {
    rp -= 2 * bp[i]! * beta[i]!;
    rpp -= 2 * bpp[i]! * beta[i]! + 2 * bp[i]! * betap[i]!;
    let apb = 0;
    let appb = 0;
    for (let j = 0; j < p; j++) {
      apb += ap[i * p + j]! * beta[j]!;
      appb += app[i * p + j]! * beta[j]!;
    }
    rp += beta[i]! * apb;
    rpp += 2 * betap[i]! * apb + beta[i]! * appb;
  }
  const hgg = lpp + rpp / s;
  const hgs = -rp / (s * s);
  const hss = -(n - p) / (s * s) + (2 * r) / (s * s * s);
  const grad0 = s * dMkk;
  const grad1 = m[coef * p + coef]!;
  return (v * v) / pseudoInverseQuadratic(hgg, hgs, hss, grad0, grad1);
}

/**
 * x^T H^+ x for a symmetric 2 x 2 H = [[a, b], [b, c]], H^+ over eigenvalues > 1e-8 * max |eigenvalue|
 * (lmerTest's rule). Cost O(1).
 */
function pseudoInverseQuadratic(a: number, b: number, c: number, x0: number, x1: number): number {
  const mean = 0.5 * (a + c);
  const rad = Math.hypot(0.5 * (a - c), b);
  const l1 = mean + rad;
  const l2 = mean - rad;
  // Eigenvector for l1: (b, l1 - a) or (l1 - c, b), whichever is better conditioned.
  let u0 = b;
  let u1 = l1 - a;
  if (Math.hypot(u0, u1) < Math.hypot(l1 - c, b)) {
    u0 = l1 - c;
    u1 = b;
  }
  const nu = Math.hypot(u0, u1);
  if (nu === 0) {
    u0 = 1;
    u1 = 0;
  } else {
    u0 /= nu;
    u1 /= nu;
  }
  const tol = 1e-8 * Math.max(Math.abs(l1), Math.abs(l2));
  const p1 = u0 * x0 + u1 * x1;
  const p2 = -u1 * x0 + u0 * x1;
  let q = 0;
  if (l1 > tol) q += (p1 * p1) / l1;
  if (l2 > tol) q += (p2 * p2) / l2;
  return q;
}
