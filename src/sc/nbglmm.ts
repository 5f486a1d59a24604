/**
 * Negative-binomial mixed model per gene (NEBULA-like): counts c_i ~ NB(mu_i, theta) (Var = mu + mu^2 / theta),
 * log mu_i = log L_i + x_i^T beta + b_d(i), b_d ~ N(0, sigma2), L_i = library size.
 *
 * Fitting, per gene: for given (sigma2, theta), Newton (penalised IRLS with the observed information) finds the
 * joint mode (beta, b) of  l(beta, b) - sum_d b_d^2 / (2 sigma2) (beta at the joint mode, as lme4's nAGQ = 0;
 * glmmTMB maximises the Laplace likelihood over beta instead: on the fixture the two agree to < 0.01 se in beta,
 * see test/sc/nbglmm-golden.test.ts); the Laplace approximation of the marginal
 * log-likelihood is then  l(beta^, b^) - sum_d b^_d^2 / (2 sigma2) - 1/2 sum_d log(sigma2 D_d),  with
 * D_d = sum_{i in d} w_i + 1/sigma2,  w_i = mu_i theta (theta + c_i) / (theta + mu_i)^2.
 * (log sigma2, log theta) maximise it (Nelder-Mead in 2-D). Wald test of beta_coef with
 * se^2 = [(X^T W X - sum_d u_d u_d^T / D_d)^-1]_coef,coef, u_d = sum_{i in d} w_i x_i.
 * Reference distribution: with few donors a normal reference is liberal, so p comes from t with donor-level df:
 * G - (columns of X constant within donors) (between-donor designs: G - 2 for intercept + condition;
 * paired: G - 1).
 *
 * Cost per gene: O(E * K * n p) for E outer evaluations (~60) and K Newton steps each (~3, warm started).
 */
import { logGamma, tSurvival2 } from '../stats/distributions.js';
import type { SparseCounts } from '../io/mtx.js';
import type { AnalysisDesign } from './design.js';
import { nelderMead2 } from './nelder-mead.js';
import { backSolveInPlace, cholInPlace, cholInverseInto, forwardSolveInPlace } from '../lmm/small-linalg.js';

export const NB_STATUS = ['ok', 'singular', 'not_converged', 'no_variance'] as const;

export interface NbFit {
  readonly beta: Float64Array;
  readonly se: Float64Array;
  readonly df: Float64Array;
  readonly t: Float64Array;
  readonly p: Float64Array;
  /** sigma2 (donor variance on the log scale). */
  readonly varDonor: Float64Array;
  /** theta (NB size; 1/theta is the overdispersion). */
  readonly theta: Float64Array;
  readonly status: string[];
}

const SIGMA2_MIN = 1e-8;

/** Per-analysis data shared by all genes. */
interface NbShared {
  n: number;
  p: number;
  G: number;
  x: Float64Array;
  donorOf: Int32Array;
  offset: Float64Array;
  coef: number;
  df: number;
}

/**
 * The entries of genes [g0, g1) over the used cells of an analysis, gene-major: gene g0 + i has cells
 * cell[ptr[i] .. ptr[i+1]) (indices into the used cells, ascending) with counts val[...].
 */
export interface NbGeneChunk {
  readonly g0: number;
  readonly g1: number;
  readonly ptr: Int32Array;
  readonly cell: Int32Array;
  readonly val: Int32Array;
}

/** Gene-major copy of an in-memory matrix over `cells` (count-matrix columns; entry cell = position in `cells`). Cost O(nnz). */
function geneMajor(counts: SparseCounts, cells: Int32Array): NbGeneChunk {
  const nG = counts.nGenes;
  const ptr = new Int32Array(nG + 1);
  for (const j of cells) for (let k = counts.colPtr[j]!; k < counts.colPtr[j + 1]!; k++) if (counts.values[k] !== 0) ptr[counts.rowIdx[k]! + 1]!++;
  for (let g = 0; g < nG; g++) ptr[g + 1]! += ptr[g]!;
  const next = ptr.slice(0, nG);
  const cell = new Int32Array(ptr[nG]!);
  const val = new Int32Array(ptr[nG]!);
  cells.forEach((j, r) => {
    for (let k = counts.colPtr[j]!; k < counts.colPtr[j + 1]!; k++) {
      if (counts.values[k] === 0) continue;
      const dst = next[counts.rowIdx[k]!]!++;
      cell[dst] = r;
      val[dst] = counts.values[k]!;
    }
  });
  return { g0: 0, g1: nG, ptr, cell, val };
}

/** Columns of x constant within every donor. */
function donorLevelColumns(d: AnalysisDesign): number {
  const { p, x, donorOf } = d;
  const first = new Float64Array(d.donors.length * p).fill(Number.NaN);
  const varies = new Uint8Array(p);
  for (let r = 0; r < d.cells.length; r++) {
    for (let q = 0; q < p; q++) {
      const v = x[r * p + q]!;
      const o = donorOf[r]! * p + q;
      if (Number.isNaN(first[o]!)) first[o] = v;
      else if (first[o] !== v) varies[q] = 1;
    }
  }
  return varies.reduce((a, v) => a + (v ? 0 : 1), 0);
}

/** One gene's fitting state (buffers reused across genes). */
class GeneFitter {
  readonly c: Float64Array;
  readonly eta: Float64Array;
  /** exp(eta), refreshed by penalised(). */
  readonly mu: Float64Array;
  readonly beta: Float64Array;
  readonly b: Float64Array;
  readonly w: Float64Array;
  readonly s: Float64Array;
  readonly dDon: Float64Array;
  readonly gDon: Float64Array;
  readonly u: Float64Array;
  readonly a: Float64Array;
  readonly rhs: Float64Array;
  readonly inv: Float64Array;
  readonly col: Float64Array;
  /** Distinct non-zero count values of the gene and how many cells have each (for the log-gamma terms). */
  countValues = new Float64Array(0);
  countTimes = new Float64Array(0);
  constructor(readonly sh: NbShared) {
    const { n, p, G } = sh;
    this.c = new Float64Array(n);
    this.eta = new Float64Array(n);
    this.mu = new Float64Array(n);
    this.beta = new Float64Array(p);
    this.b = new Float64Array(G);
    this.w = new Float64Array(n);
    this.s = new Float64Array(n);
    this.dDon = new Float64Array(G);
    this.gDon = new Float64Array(G);
    this.u = new Float64Array(G * p);
    this.a = new Float64Array(p * p);
    this.rhs = new Float64Array(p);
    this.inv = new Float64Array(p * p);
    this.col = new Float64Array(p);
  }

  /** Loads gene counts and a starting point (intercept = log mean rate, rest 0). */
  load(cells: Int32Array, vals: Int32Array): void {
    const { n, offset } = this.sh;
    this.c.fill(0);
    let tot = 0;
    let lib = 0;
    for (let k = 0; k < cells.length; k++) {
      this.c[cells[k]!] = vals[k]!;
      tot += vals[k]!;
    }
    for (let i = 0; i < n; i++) lib += Math.exp(offset[i]!);
    const hist = new Map<number, number>();
    for (const v of vals) hist.set(v, (hist.get(v) ?? 0) + 1);
    this.countValues = Float64Array.from(hist.keys());
    this.countTimes = Float64Array.from(hist.values());
    this.beta.fill(0);
    this.beta[0] = Math.log(tot / lib);
    this.b.fill(0);
  }

  private linear(): void {
    const { n, p, x, donorOf, offset } = this.sh;
    for (let i = 0; i < n; i++) {
      let e = offset[i]! + this.b[donorOf[i]!]!;
      for (let q = 0; q < p; q++) e += x[i * p + q]! * this.beta[q]!;
      this.eta[i] = e;
    }
  }

  /** Penalised log-likelihood at the current (beta, b), dropping terms free of (beta, b). */
  private penalised(theta: number, sigma2: number): number {
    const { n, G } = this.sh;
    let l = 0;
    for (let i = 0; i < n; i++) {
      const mu = Math.exp(this.eta[i]!);
      this.mu[i] = mu;
      const ci = this.c[i]!;
      l += ci * this.eta[i]! - (ci + theta) * Math.log(theta + mu);
    }
    for (let d = 0; d < G; d++) l -= (this.b[d]! * this.b[d]!) / (2 * sigma2);
    return l;
  }

  /**
   * Newton to the joint mode for (theta, sigma2); returns the Laplace log-likelihood (NaN if it failed).
   * Leaves w, dDon, u and the Schur complement factor in `a` at the mode.
   */
  laplace(theta: number, sigma2: number): number {
    const { n, p, G, x, donorOf } = this.sh;
    this.linear();
    let cur = this.penalised(theta, sigma2);
    for (let it = 0; it < 50; it++) {
      // Step 1: scores and weights, per-donor reductions.
      this.dDon.fill(1 / sigma2);
      this.gDon.fill(0);
      this.u.fill(0);
      this.a.fill(0);
      this.rhs.fill(0);
      for (let d = 0; d < G; d++) this.gDon[d] = -this.b[d]! / sigma2;
      for (let i = 0; i < n; i++) {
        const mu = this.mu[i]!;
        const ci = this.c[i]!;
        const den = theta + mu;
        const s = (theta * (ci - mu)) / den;
        const w = (mu * theta * (theta + ci)) / (den * den);
        const d = donorOf[i]!;
        this.dDon[d]! += w;
        this.gDon[d]! += s;
        for (let q = 0; q < p; q++) {
          const xq = x[i * p + q]!;
          this.rhs[q]! += xq * s;
          this.u[d * p + q]! += w * xq;
          for (let r = 0; r <= q; r++) this.a[q * p + r]! += w * xq * x[i * p + r]!;
        }
      }
      // Step 2: Schur complement over the donor effects, solve for the beta step, back out the b step.
      for (let d = 0; d < G; d++) {
        const inv = 1 / this.dDon[d]!;
        for (let q = 0; q < p; q++) {
          this.rhs[q]! -= this.u[d * p + q]! * this.gDon[d]! * inv;
          for (let r = 0; r <= q; r++) this.a[q * p + r]! -= this.u[d * p + q]! * this.u[d * p + r]! * inv;
        }
      }
      for (let q = 0; q < p; q++) for (let r = 0; r < q; r++) this.a[r * p + q] = this.a[q * p + r]!;
      if (Number.isNaN(cholInPlace(this.a, p))) return Number.NaN;
      const step = this.col;
      step.set(this.rhs);
      forwardSolveInPlace(this.a, p, step);
      backSolveInPlace(this.a, p, step);
      const db = new Float64Array(G);
      let size = 0;
      for (let q = 0; q < p; q++) size = Math.max(size, Math.abs(step[q]!));
      for (let d = 0; d < G; d++) {
        let s = this.gDon[d]!;
        for (let q = 0; q < p; q++) s -= this.u[d * p + q]! * step[q]!;
        db[d] = s / this.dDon[d]!;
        size = Math.max(size, Math.abs(db[d]!));
      }
      if (size < 1e-8) break;
      // Step 3: step halving until the penalised likelihood does not decrease.
      const beta0 = Float64Array.from(this.beta);
      const b0 = Float64Array.from(this.b);
      let f = 1;
      let next = Number.NaN;
      for (let h = 0; h < 30; h++, f /= 2) {
        for (let q = 0; q < p; q++) this.beta[q] = beta0[q]! + f * step[q]!;
        for (let d = 0; d < G; d++) this.b[d] = b0[d]! + f * db[d]!;
        this.linear();
        next = this.penalised(theta, sigma2);
        if (next >= cur - 1e-12 * Math.abs(cur)) break;
      }
      if (!(next >= cur - 1e-12 * Math.abs(cur))) {
        this.beta.set(beta0);
        this.b.set(b0);
        this.linear();
        this.penalised(theta, sigma2); // refreshes mu at the restored point
        break;
      }
      cur = next;
    }
    // Laplace marginal: add the theta-dependent constants dropped above and the log-determinants.
    let l = cur + n * theta * Math.log(theta);
    const lgTheta = logGamma(theta);
    for (let k = 0; k < this.countValues.length; k++) l += this.countTimes[k]! * (logGamma(this.countValues[k]! + theta) - lgTheta);
    let wsum = 0;
    this.dDon.fill(1 / sigma2);
    for (let i = 0; i < n; i++) {
      const mu = this.mu[i]!;
      const den = theta + mu;
      const w = (mu * theta * (theta + this.c[i]!)) / (den * den);
      this.dDon[donorOf[i]!]! += w;
      wsum += w;
    }
    for (let d = 0; d < G; d++) l -= 0.5 * Math.log(sigma2 * this.dDon[d]!);
    return Number.isFinite(l) && wsum > 0 ? l : Number.NaN;
  }

  /** [(Schur complement)^-1]_coef,coef at the current mode (after laplace()). */
  coefVariance(theta: number, sigma2: number): number {
    this.laplace(theta, sigma2); // refresh weights and the factor at the optimum
    const { p, coef } = this.sh;
    cholInverseInto(this.a, p, this.inv, this.col);
    return this.inv[coef * p + coef]!;
  }
}

/**
 * The NB mixed model of one analysis, fitted gene chunk by gene chunk (so the counts never need to be in memory
 * all at once): construct, pass every {@link NbGeneChunk} of the kept genes to {@link fitChunk}, read `fit`.
 * Needs non-negative integer counts (checked by the caller). See the module comment for the method.
 * Memory: O(cells p) shared plus the chunk.
 */
export class NbGlmmRun {
  readonly fit: NbFit;
  /** Count-matrix column of each used cell (analysed cells with a positive library size), in design order. */
  readonly usedCells: Int32Array;
  private readonly sh: NbShared;
  private readonly fitter: GeneFitter;

  constructor(
    nGenes: number,
    lib: Float64Array,
    design: AnalysisDesign,
    readonly keep: Uint8Array,
  ) {
    const nan = () => new Float64Array(nGenes).fill(Number.NaN);
    this.fit = { beta: nan(), se: nan(), df: nan(), t: nan(), p: nan(), varDonor: nan(), theta: nan(), status: new Array<string>(nGenes).fill('ok') };
    // Cells with an empty library carry no information.
    const rows = [...design.cells.keys()].filter((r) => lib[design.cells[r]!]! > 0);
    const n = rows.length;
    const p = design.p;
    this.sh = {
      n,
      p,
      G: design.donors.length,
      x: Float64Array.from({ length: n * p }, (_, k) => design.x[rows[Math.floor(k / p)]! * p + (k % p)]!),
      donorOf: Int32Array.from(rows, (r) => design.donorOf[r]!),
      offset: Float64Array.from(rows, (r) => Math.log(lib[design.cells[r]!]!)),
      coef: design.coef,
      df: Math.max(1, design.donors.length - donorLevelColumns(design)),
    };
    this.usedCells = Int32Array.from(rows, (r) => design.cells[r]!);
    this.fitter = new GeneFitter(this.sh);
  }

  /** Fits the kept genes of one chunk. Cost per gene: see the module comment. */
  fitChunk(chunk: NbGeneChunk, onGene?: () => void): void {
    const { sh, fitter } = this;
    const out = this.fit;
    for (let g = chunk.g0; g < chunk.g1; g++) {
      if (!this.keep[g]) continue;
      onGene?.();
      const lo = chunk.ptr[g - chunk.g0]!;
      const hi = chunk.ptr[g - chunk.g0 + 1]!;
      if (hi === lo) {
        out.status[g] = 'no_variance';
        continue;
      }
      fitter.load(chunk.cell.subarray(lo, hi), chunk.val.subarray(lo, hi));
      const objective = (ls: number, lt: number) => fitter.laplace(Math.exp(lt), Math.max(Math.exp(ls), SIGMA2_MIN));
      // Maximise the Laplace likelihood: minimise its negative.
      const [ls, lt, negBest] = nelderMead2((u, v) => -objective(u, v), Math.log(0.05), Math.log(2), 1, 1e-6, 1e-2, 200);
      const best = -negBest;
      if (!Number.isFinite(best)) {
        out.status[g] = 'not_converged';
        continue;
      }
      const sigma2 = Math.max(Math.exp(ls), SIGMA2_MIN);
      const theta = Math.exp(lt);
      const v = fitter.coefVariance(theta, sigma2);
      const beta = fitter.beta[sh.coef]!;
      const se = Math.sqrt(v);
      out.beta[g] = beta;
      out.se[g] = se;
      out.df[g] = sh.df;
      out.t[g] = beta / se;
      out.p[g] = tSurvival2(beta / se, sh.df);
      out.varDonor[g] = sigma2;
      out.theta[g] = theta;
      out.status[g] = sigma2 < 1e-6 ? 'singular' : 'ok';
    }
  }
}

/**
 * Fits the NB mixed model for every gene with keep[g] = 1 of an in-memory matrix (others NaN with status left
 * to the caller). Needs non-negative integer counts (checked by the caller).
 */
export function fitNbGlmm(counts: SparseCounts, lib: Float64Array, design: AnalysisDesign, keep: Uint8Array, onGene?: () => void): NbFit {
  const run = new NbGlmmRun(counts.nGenes, lib, design, keep);
  run.fitChunk(geneMajor(counts, run.usedCells), onGene);
  return run.fit;
}
