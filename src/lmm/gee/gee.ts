/**
 * Generalized estimating equations (Liang & Zeger 1986, Biometrika 73:13-22) fitted as geepack's geeglm
 * (Halekoh, Hojsgaard & Yan 2006, J. Stat. Softw. 15(2); Yan & Fine 2004, Stat. Med. 23:859-874).
 *
 * Model: E[y_ij] = mu_ij = g^{-1}(x_ij' beta + offset_ij), Var[y_ij] = phi V(mu_ij) / w_ij, and within cluster i a
 * working correlation R_i(alpha) (src/lmm/gee/working-correlation.ts). With PR_ij = (y_ij - mu_ij) / sqrt(V(mu_ij))
 * (Pearson residuals) and D_ij = (dmu/deta)_ij x_ij / sqrt(V(mu_ij)), the three estimating equations are
 *   U1(beta)  = sum_i D_i' W_i^{1/2} (phi R_i)^{-1} W_i^{1/2} PR_i                       = 0   (mean)
 *   U2(phi)   = sum_ij w_ij / (2 phi) (PR_ij^2 - phi)                                   = 0   (scale)
 *   U3(alpha) = sum_i sum_{j<k} w_ij w_ik E_ijk (PR_ij PR_ik / phi - rho_jk(alpha))   = 0   (correlation)
 * with E = d rho / d alpha. As geepack's gee_est, each iteration takes one Fisher-scoring step in beta
 * (step halved while a mean leaves the family's range), then phi = sum w PR^2 / sum w (U2 = 0 exactly; n, not
 * n - p, in the denominator), then one Gauss-Newton step in alpha (exact for exchangeable:
 * alpha = sum w w PR PR / (phi sum w w) over pairs); it starts from the glm fit, alpha = 0 and
 * phi = mean(PR^2), and stops when no parameter moves by more than `tolerance`.
 *
 * Variances (geepack's gee_var): H = sum_i dU_i/d(beta, phi, alpha) is block lower triangular,
 *   H = [A 0 0; B C 0; D E F],  A = sum_i D_i' W^{1/2} (phi R_i)^{-1} W^{1/2} D_i,
 * and with L = sum_i U_i U_i' (per-cluster contributions) the sandwich cov(theta) = H^{-1} L H^{-T}: for beta
 * A^{-1} L11 A^{-1} (robust, "san.se"), the naive (model-based) one A^{-1}; for phi and alpha the
 * corresponding rows of H^{-1} L H^{-T}. B, D and E follow geepack's HiandGi term by term (getS_Beta, getZ_Beta,
 * getZ_Gamma), so the scale and correlation standard errors are geepack's.
 *
 * Cost per iteration O(n p^2) (plus O(sum_i n_i^2) for ar1's pairs); memory O(n p).
 */
import { NumericError } from '../../errors.js';
import { chi2Survival } from '../../stats/distributions.js';
import { fixedDesign } from '../mixed/fixed-design.js';
import { DataError, type ContrastDefaults, type DataInput, type FrameColumn } from '../mixed/model-frame.js';
import { backSolveInPlace, cholInPlace, cholInverseInto, forwardSolveInPlace } from '../small-linalg.js';
import { MEAN_FUNCTIONS, type GeeFamily, type MeanFunctions } from './family.js';
import { buildClusters, checkAlpha, pairCorrelations, whitenClusterInPlace, type Clusters, type CorStr } from './working-correlation.js';

export interface GeeOptions {
  /** default 'gaussian' */
  family?: GeeFamily;
  /** the column identifying clusters (required) */
  id: string;
  /** working correlation, default 'independence' */
  corstr?: CorStr;
  /** the column ordering the observations within a cluster (ar1 distances); default: the rows' order */
  waves?: string | null;
  contrasts?: ContrastDefaults;
  /** stop when no parameter changes by more than this (geepack's epsilon); default 1e-8 */
  tolerance?: number;
  /** default 100 */
  maxIter?: number;
}

/** One coefficient: estimate, robust and naive standard errors, Wald chi-square (1 df) and its p-value. */
export interface GeeCoefficient {
  term: string;
  estimate: number;
  se: number;
  seNaive: number;
  wald: number;
  p: number;
}

export interface GeeFit {
  method: 'gee';
  family: GeeFamily;
  link: MeanFunctions['link'];
  corstr: CorStr;
  formula: string;
  id: string;
  waves: string | null;
  nobs: number;
  clusters: number;
  maxClusterSize: number;
  coefficients: GeeCoefficient[];
  /** robust (sandwich) covariance of beta, p x p row-major */
  vcov: Float64Array;
  /** naive (model-based) covariance of beta, p x p row-major */
  vcovNaive: Float64Array;
  /** scale phi and its sandwich standard error */
  phi: number;
  phiSe: number;
  /** working correlation parameter and its sandwich standard error (null for independence) */
  alpha: number | null;
  alphaSe: number | null;
  iterations: number;
  converged: boolean;
  messages: string[];
}

/** The data in cluster order: X row-major (n x p), y, prior weights, offset, wave index. */
interface Problem {
  n: number;
  p: number;
  x: Float64Array;
  y: Float64Array;
  wt: Float64Array;
  offset: Float64Array;
  clusters: Clusters;
  fam: MeanFunctions;
  corstr: CorStr;
}

/** Per-row quantities at beta: PR, mu and the factor of x in D (dmu/deta / sqrt V). */
interface RowTerms {
  mu: Float64Array;
  pr: Float64Array;
  dScale: Float64Array;
}

function rowTerms(pb: Problem, beta: Float64Array, out: RowTerms): boolean {
  const { n, p, x, offset, y, fam } = pb;
  for (let i = 0; i < n; i++) {
    let eta = offset[i]!;
    for (let j = 0; j < p; j++) eta += x[i * p + j]! * beta[j]!;
    const mu = fam.linkinv(eta);
    if (!fam.valid(mu)) return false;
    const sv = Math.sqrt(fam.variance(mu));
    out.mu[i] = mu;
    out.pr[i] = (y[i]! - mu) / sv;
    out.dScale[i] = fam.muEta(mu) / sv;
  }
  return true;
}

/** Solves the p x p system H d = g in place of g (H packed row-major, overwritten by its factor). */
function solveSpd(h: Float64Array, g: Float64Array, p: number, what: string): void {
  if (Number.isNaN(cholInPlace(h, p))) throw new NumericError(`${what}: the ${p} x ${p} information matrix is not positive definite (collinear covariates, or a cluster structure the working correlation cannot fit)`);
  forwardSolveInPlace(h, p, g);
  backSolveInPlace(h, p, g);
}

/**
 * Whitened design and residual: rows of `work` (stride p + 1) become W_i (sqrt(w) D | sqrt(w) PR) for each
 * cluster. Cost O(n p).
 */
function whitened(pb: Problem, t: RowTerms, alpha: number, work: Float64Array): void {
  const { n, p, x, wt, clusters, corstr } = pb;
  const k = p + 1;
  for (let q = 0; q < n; q++) {
    const sw = Math.sqrt(wt[q]!);
    const a = sw * t.dScale[q]!;
    for (let j = 0; j < p; j++) work[q * k + j] = a * x[q * p + j]!;
    work[q * k + p] = sw * t.pr[q]!;
  }
  const { start, time } = clusters;
  for (let c = 0; c + 1 < start.length; c++) whitenClusterInPlace(work, k, start[c]!, start[c + 1]!, corstr, alpha, time);
}

/** One Fisher-scoring step of beta at fixed alpha (geepack's update_beta); returns max |step|. */
function betaStep(pb: Problem, beta: Float64Array, alpha: number, t: RowTerms, work: Float64Array): number {
  const { n, p } = pb;
  const k = p + 1;
  whitened(pb, t, alpha, work);
  const h = new Float64Array(p * p);
  const g = new Float64Array(p);
  for (let q = 0; q < n; q++) {
    const o = q * k;
    const r = work[o + p]!;
    for (let a = 0; a < p; a++) {
      const da = work[o + a]!;
      g[a]! += da * r;
      for (let b = 0; b <= a; b++) h[a * p + b]! += da * work[o + b]!;
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) h[b * p + a] = h[a * p + b]!;
  solveSpd(h, g, p, 'gee');
  const next = new Float64Array(p);
  for (let halvings = 0; ; halvings++) {
    for (let j = 0; j < p; j++) next[j] = beta[j]! + g[j]!;
    if (rowTerms(pb, next, t)) break;
    if (halvings === 60) throw new NumericError('gee: no step of the mean parameters keeps every fitted mean inside the family\'s range');
    for (let j = 0; j < p; j++) g[j]! *= 0.5;
  }
  beta.set(next);
  let del = 0;
  for (let j = 0; j < p; j++) del = Math.max(del, Math.abs(g[j]!));
  return del;
}

/** phi = sum w PR^2 / sum w (geepack's update_gamma with an intercept-only identity scale model). */
function scaleEstimate(pb: Problem, t: RowTerms): number {
  let s = 0;
  let sw = 0;
  for (let q = 0; q < pb.n; q++) {
    s += pb.wt[q]! * t.pr[q]! ** 2;
    sw += pb.wt[q]!;
  }
  return s / sw;
}

/** One Gauss-Newton step of alpha (geepack's update_alpha): sum ww E (z - rho) / sum ww E^2 over pairs. */
function alphaStep(pb: Problem, t: RowTerms, phi: number, alpha: number): number {
  const { clusters, wt, corstr } = pb;
  const { start, time } = clusters;
  let h = 0;
  let g = 0;
  const pc = pairCorrelations(corstr, alpha, clusters.maxDistance);
  for (let c = 0; c + 1 < start.length; c++) {
    const s = start[c]!;
    const e = start[c + 1]!;
    if (e - s < 2) continue;
    if (corstr === 'exchangeable') {
      // sums over pairs j < k in O(n_i): ((sum a)^2 - sum a^2) / 2
      let sw = 0, sw2 = 0, swr = 0, swr2 = 0;
      for (let q = s; q < e; q++) {
        const w = wt[q]!;
        const r = t.pr[q]!;
        sw += w;
        sw2 += w * w;
        swr += w * r;
        swr2 += w * w * r * r;
      }
      const ww = (sw * sw - sw2) / 2;
      h += ww;
      g += (swr * swr - swr2) / 2 / phi - ww * alpha;
      continue;
    }
    for (let a = s; a < e; a++) {
      const wa = wt[a]!;
      const za = t.pr[a]! / phi;
      for (let b = a + 1; b < e; b++) {
        const dist = Math.abs(time[b]! - time[a]!);
        const d = pc.e[dist]!;
        const ww = wa * wt[b]!;
        h += ww * d * d;
        g += ww * d * (za * t.pr[b]! - pc.rho[dist]!);
      }
    }
  }
  return h > 0 ? g / h : 0;
}

/** glm's IRLS fit (the start of geeglm): Fisher scoring from eta = g(mustart) to max |step| <= 1e-10 (1 + |beta|). */
function glmStart(pb: Problem): Float64Array {
  const { n, p, x, y, wt, offset, fam } = pb;
  const eta = new Float64Array(n);
  for (let i = 0; i < n; i++) eta[i] = fam.linkfun(fam.muStart(y[i]!, wt[i]!));
  const beta = new Float64Array(p);
  for (let iter = 0; iter < 100; iter++) {
    const h = new Float64Array(p * p);
    const g = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      const mu = fam.linkinv(eta[i]!);
      const me = fam.muEta(mu);
      const w = (wt[i]! * me * me) / fam.variance(mu);
      const z = eta[i]! - offset[i]! + (y[i]! - mu) / me;
      for (let a = 0; a < p; a++) {
        const xa = w * x[i * p + a]!;
        g[a]! += xa * z;
        for (let b = 0; b <= a; b++) h[a * p + b]! += xa * x[i * p + b]!;
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) h[b * p + a] = h[a * p + b]!;
    solveSpd(h, g, p, 'gee: starting glm fit');
    let del = 0;
    let size = 0;
    for (let j = 0; j < p; j++) {
      del = Math.max(del, Math.abs(g[j]! - beta[j]!));
      size = Math.max(size, Math.abs(g[j]!));
    }
    beta.set(g);
    for (let i = 0; i < n; i++) {
      let e = offset[i]!;
      for (let j = 0; j < p; j++) e += x[i * p + j]! * beta[j]!;
      eta[i] = e;
    }
    if (del <= 1e-10 * (1 + size)) break;
  }
  return beta;
}

/**
 * The sandwich covariances at the estimate (geepack's gee_var / HiandGi, see the module comment). Returns
 * vcov(beta) robust and naive (p x p row-major), var(phi), var(alpha). Cost O(n p^2 + sum_i n_i^2 p) (exchangeable:
 * O(n p^2)).
 */
function sandwich(pb: Problem, beta: Float64Array, phi: number, alpha: number): { vbeta: Float64Array; naive: Float64Array; vphi: number; valpha: number } {
  const { n, p, wt, clusters, corstr, fam } = pb;
  const k = p + 1;
  const t: RowTerms = { mu: new Float64Array(n), pr: new Float64Array(n), dScale: new Float64Array(n) };
  rowTerms(pb, beta, t);
  const work = new Float64Array(n * k);
  whitened(pb, t, alpha, work);
  const hasAlpha = corstr !== 'independence';
  const A = new Float64Array(p * p);
  const B = new Float64Array(p); // d U2 / d beta (1 x p)
  const Dh = new Float64Array(p); // d U3 / d beta (1 x p)
  let C = 0, E = 0, F = 0;
  const L11 = new Float64Array(p * p);
  const L12 = new Float64Array(p);
  const L13 = new Float64Array(p);
  let L22 = 0, L23 = 0, L33 = 0;
  const u1 = new Float64Array(p);
  const dRow = new Float64Array(p);
  const { start, time } = clusters;
  const x = pb.x;
  const pc = pairCorrelations(corstr, alpha, clusters.maxDistance);
  // D_j = dScale_j x_j; gv_j = V'(mu_j) / sqrt(V(mu_j))
  const gv = (q: number) => fam.varianceMu(t.mu[q]!) / Math.sqrt(fam.variance(t.mu[q]!));
  for (let c = 0; c + 1 < start.length; c++) {
    const s = start[c]!;
    const e = start[c + 1]!;
    u1.fill(0);
    let u2 = 0;
    for (let q = s; q < e; q++) {
      const o = q * k;
      const r = work[o + p]! / phi;
      for (let a = 0; a < p; a++) {
        const da = work[o + a]!;
        u1[a]! += da * r;
        for (let b = 0; b <= a; b++) A[a * p + b]! += (da * work[o + b]!) / phi;
      }
      // scale: C, B (S_Beta = (-2 PR / sqrt V - PR^2 V' / V) D), U2
      const w2 = wt[q]! / (2 * phi);
      const pr = t.pr[q]!;
      const sv = Math.sqrt(fam.variance(t.mu[q]!));
      C += w2;
      const f = (-2 * pr) / sv - (pr * pr * fam.varianceMu(t.mu[q]!)) / (sv * sv);
      for (let a = 0; a < p; a++) B[a]! -= w2 * f * t.dScale[q]! * x[q * p + a]!;
      u2 += w2 * (pr * pr - phi);
    }
    let u3 = 0;
    if (hasAlpha && e - s > 1) {
      // pairs j < k: F += ww E^2; U3 += ww E (z - rho); Dh -= ww E Z_Beta / phi;
      // E_hess += ww E z / phi with z = PR_j PR_k / phi; Z_Beta = -PR_j D_j - PR_k D_k - PR_j PR_k (gv_j D_j + gv_k D_k) / 2
      dRow.fill(0);
      if (corstr === 'exchangeable') {
        let sw = 0, sw2 = 0, swr = 0, swr2 = 0;
        for (let q = s; q < e; q++) {
          sw += wt[q]!;
          sw2 += wt[q]! ** 2;
          swr += wt[q]! * t.pr[q]!;
          swr2 += (wt[q]! * t.pr[q]!) ** 2;
        }
        const ww = (sw * sw - sw2) / 2;
        const wwz = (swr * swr - swr2) / 2 / phi;
        F += ww;
        u3 = wwz - ww * alpha;
        E += wwz / phi;
        // sum over pairs of ww Z_Beta, each pair's D_j terms gathered at j: w_j D_j [PR_j (W - w_j) + gv_j PR_j (S - w_j PR_j) / 2]
        for (let q = s; q < e; q++) {
          const pr = t.pr[q]!;
          const coef = wt[q]! * (pr * (sw - wt[q]!) + (gv(q) * pr * (swr - wt[q]! * pr)) / 2) * t.dScale[q]!;
          for (let a = 0; a < p; a++) dRow[a]! -= coef * x[q * p + a]!;
        }
      } else {
        for (let i = s; i < e; i++) {
          for (let j = i + 1; j < e; j++) {
            const dist = Math.abs(time[j]! - time[i]!);
            const rho = pc.rho[dist]!;
            const d = pc.e[dist]!;
            const ww = wt[i]! * wt[j]!;
            const z = (t.pr[i]! * t.pr[j]!) / phi;
            F += ww * d * d;
            u3 += ww * d * (z - rho);
            E += (ww * d * z) / phi;
            const ci = (t.pr[i]! + (t.pr[i]! * t.pr[j]! * gv(i)) / 2) * t.dScale[i]!;
            const cj = (t.pr[j]! + (t.pr[i]! * t.pr[j]! * gv(j)) / 2) * t.dScale[j]!;
            for (let a = 0; a < p; a++) dRow[a]! -= ww * d * (ci * x[i * p + a]! + cj * x[j * p + a]!);
          }
        }
      }
      // Dh = -sum ww E Z_Beta / phi; dRow holds sum ww E Z_Beta
      for (let a = 0; a < p; a++) Dh[a]! -= dRow[a]! / phi;
    }
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) L11[a * p + b]! += u1[a]! * u1[b]!;
      L12[a]! += u1[a]! * u2;
      L13[a]! += u1[a]! * u3;
    }
    L22 += u2 * u2;
    L23 += u2 * u3;
    L33 += u3 * u3;
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) A[b * p + a] = A[a * p + b]!;
  // block inverse of H = [A 0 0; B C 0; D E F]
  const ai = new Float64Array(p * p);
  const fac = Float64Array.from(A);
  if (Number.isNaN(cholInPlace(fac, p))) throw new NumericError('gee: the information matrix of the mean parameters is not positive definite');
  cholInverseInto(fac, p, ai, new Float64Array(p));
  const mulRow = (v: Float64Array, m: Float64Array) => {
    const out = new Float64Array(p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) out[b]! += v[a]! * m[a * p + b]!;
    return out;
  };
  const dot = (u: Float64Array, v: Float64Array) => u.reduce((acc, ui, a) => acc + ui * v[a]!, 0);
  const ci = 1 / C;
  const bi = mulRow(B, ai).map((v) => -ci * v); // -C^{-1} B A^{-1}
  const fi = hasAlpha ? 1 / F : 0;
  const ei = -fi * E * ci;
  const biA = mulRow(Dh, ai);
  const di = biA.map((v, a) => -fi * (v + E * bi[a]!)); // -F^{-1} (D A^{-1} + E B~)
  // vbeta = A^{-1} L11 A^{-1}
  const tmp = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
    let s = 0;
    for (let m = 0; m < p; m++) s += ai[a * p + m]! * L11[m * p + b]!;
    tmp[a * p + b] = s;
  }
  const vbeta = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
    let s = 0;
    for (let m = 0; m < p; m++) s += tmp[a * p + m]! * ai[m * p + b]!;
    vbeta[a * p + b] = s;
  }
  // quadratic form of the row (v, c2, c3) of H^{-1} with L
  const quad = (v: Float64Array, c2: number, c3: number) => dot(mulRow(v, L11), v) + 2 * c2 * dot(v, L12) + 2 * c3 * dot(v, L13) + c2 * c2 * L22 + 2 * c2 * c3 * L23 + c3 * c3 * L33;
  const vphi = quad(bi, ci, 0);
  const valpha = hasAlpha ? quad(di, ei, fi) : Number.NaN;
  return { vbeta, naive: ai, vphi, valpha };
}

/** A factor column of the frame, or a DataError naming the option's column. */
function factorOf(columns: Map<string, FrameColumn>, name: string, role: string): { levels: string[]; codes: Int32Array } {
  const col = columns.get(`group:${name}`);
  if (!col || col.kind !== 'factor') throw new DataError(`${role} column '${name}' not found`);
  return col;
}

/** Whether the data have a column of that name (named-column input or a table's header). */
function hasColumn(data: DataInput, name: string): boolean {
  return 'header' in data && Array.isArray((data as { header?: unknown }).header) ? (data.header as readonly string[]).includes(name) : name in data;
}

/**
 * Fits a GEE as geeglm(formula, family, data, id, waves, corstr) (see the module comment). Rows with a missing
 * value in a used column (formula, id, waves) are dropped with a message; clusters need not be contiguous.
 * Throws FormulaError / DataError on bad input, NumericError when the equations have no usable solution.
 */
export function fitGee(data: DataInput, formula: string, options: GeeOptions): GeeFit {
  const family = options.family ?? 'gaussian';
  const corstr = options.corstr ?? 'independence';
  const tolerance = options.tolerance ?? 1e-8;
  const maxIter = options.maxIter ?? 100;
  if (!MEAN_FUNCTIONS[family]) throw new RangeError(`fitGee: family ${family}: expected gaussian, binomial or poisson`);
  if (!['independence', 'exchangeable', 'ar1'].includes(corstr)) throw new RangeError(`fitGee: corstr ${corstr}: expected independence, exchangeable or ar1`);
  if (!(tolerance > 0)) throw new RangeError(`fitGee: tolerance ${tolerance}: expected > 0`);
  if (!options.id) throw new RangeError('fitGee: options.id (the cluster column) is required');
  for (const [name, role] of [[options.id, 'id'], [options.waves, 'waves']] as const) {
    if (name && !hasColumn(data, name)) throw new DataError(`${role} column '${name}' not found`);
  }
  const factors = [options.id, ...(options.waves ? [options.waves] : [])];
  const design = fixedDesign(data, formula, { contrasts: options.contrasts, factorResponse: family === 'binomial', extra: { factors } });
  const { frame } = design;
  const n = frame.n;
  const p = design.names.length;
  const ids = factorOf(frame.columns, options.id, 'id');
  const waves = options.waves ? factorOf(frame.columns, options.waves, 'waves') : null;
  const clusters = buildClusters(ids.codes, ids.levels, waves?.codes ?? null, waves?.levels ?? null);
  // the problem in cluster order
  const x = new Float64Array(n * p);
  const y = new Float64Array(n);
  const wt = new Float64Array(n);
  const offset = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    const i = clusters.order[q]!;
    for (let j = 0; j < p; j++) x[q * p + j] = design.x.data[i + j * design.x.ld]!;
    y[q] = frame.y[i]!;
    wt[q] = frame.trials ? frame.trials[i]! : 1;
    offset[q] = frame.offset ? frame.offset[i]! : 0;
  }
  const fam = MEAN_FUNCTIONS[family];
  for (let q = 0; q < n; q++) {
    const v = y[q]!;
    if (family === 'binomial' && !(v >= 0 && v <= 1)) throw new DataError(`binomial response must lie in [0, 1] (or be cbind(successes, failures)); found ${v}`);
    if (family === 'poisson' && !(v >= 0)) throw new DataError(`poisson response must be >= 0; found ${v}`);
  }
  const pb: Problem = { n, p, x, y, wt, offset, clusters, fam, corstr };
  const beta = glmStart(pb);
  const t: RowTerms = { mu: new Float64Array(n), pr: new Float64Array(n), dScale: new Float64Array(n) };
  if (!rowTerms(pb, beta, t)) throw new NumericError('gee: the starting glm fit has fitted means outside the family\'s range');
  let phi = 0;
  for (let q = 0; q < n; q++) phi += t.pr[q]! ** 2;
  phi /= n;
  let alpha = 0;
  const work = new Float64Array(n * (p + 1));
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    iterations++;
    const dBeta = betaStep(pb, beta, alpha, t, work);
    const phiNew = scaleEstimate(pb, t);
    const dPhi = Math.abs(phiNew - phi);
    phi = phiNew;
    let dAlpha = 0;
    if (corstr !== 'independence') {
      const step = alphaStep(pb, t, phi, alpha);
      alpha += step;
      dAlpha = Math.abs(step);
      checkAlpha(corstr, alpha, clusters.maxSize);
    }
    if (Math.max(dBeta, dPhi, dAlpha) <= tolerance) {
      converged = true;
      break;
    }
  }
  if (!Number.isFinite(phi) || !(phi > 0)) throw new NumericError(`gee: the scale estimate is ${phi} (a perfect fit?)`);
  const v = sandwich(pb, beta, phi, alpha);
  const coefficients = design.names.map((term, j) => {
    const se = Math.sqrt(v.vbeta[j * p + j]!);
    const wald = (beta[j]! / se) ** 2;
    return { term, estimate: beta[j]!, se, seNaive: Math.sqrt(v.naive[j * p + j]!), wald, p: chi2Survival(wald, 1) };
  });
  const messages = design.messages.slice();
  if (!converged) messages.push(`gee: no convergence in ${maxIter} iterations (largest change above ${tolerance})`);
  return {
    method: 'gee', family, link: fam.link, corstr, formula: design.parsed.text, id: options.id, waves: options.waves ?? null,
    nobs: n, clusters: clusters.labels.length, maxClusterSize: clusters.maxSize, coefficients, vcov: v.vbeta, vcovNaive: v.naive,
    phi, phiSe: Math.sqrt(v.vphi), alpha: corstr === 'independence' ? null : alpha, alphaSe: corstr === 'independence' ? null : Math.sqrt(v.valpha),
    iterations, converged, messages,
  };
}
