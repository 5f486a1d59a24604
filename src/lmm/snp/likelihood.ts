/**
 * GEMMA's log-likelihood (ML) and restricted log-likelihood (REML) of lambda = sigma_g^2 / sigma_e^2 and their
 * first and second derivatives, on eigen-rotated data (K = U D U', columns already multiplied by U').
 *
 * With Hi_i = 1 / (lambda d_i + 1), tr1 = sum Hi, tr2 = sum Hi^2, logdetH = sum ln(1 + lambda d_i), P/PP/PPP the
 * projection levels of projection.ts, level L = nProj (covariates, plus x with a SNP), and
 *   yPKPy = (P_yy - PP_yy) / lambda,  yPKPKPy = (P_yy + PPP_yy - 2 PP_yy) / lambda^2:
 * ML (n individuals):
 *   l(lambda)   = n/2 (ln n - ln 2pi - 1) - logdetH / 2 - n/2 ln P_yy
 *   l'(lambda)  = -(n - tr1) / (2 lambda) + n/2 yPKPy / P_yy
 *   l''(lambda) = (n + tr2 - 2 tr1) / (2 lambda^2) - n/2 (2 yPKPKPy P_yy - yPKPy^2) / P_yy^2
 * REML (df = n - nProj):
 *   lR(lambda)  = df/2 (ln df - ln 2pi - 1) - logdetH / 2 - (ln|W'H^-1 W| - ln|W'W|) / 2 - df/2 ln max(P_yy, 1e-8)
 *     with ln|W'H^-1 W| = sum_{p < nProj} ln P_p[w_p, w_p] and ln|W'W| the same with Hi = 1;
 *   trP = tr1 - sum_p PP_p[w_p,w_p] / P_p[w_p,w_p],
 *   trPP = tr2 + sum_p (PP_p[ww]^2 / P_p[ww]^2 - 2 PPP_p[ww] / P_p[ww]),
 *   lR'(lambda) = -(df - trP) / (2 lambda) + df/2 yPKPy / P_yy
 *   lR''(lambda) = (df + trPP - 2 trP) / (2 lambda^2) - df/2 (2 yPKPKPy P_yy - yPKPy^2) / P_yy^2
 * (GEMMA 0.98.5 lmm.cpp LogL_f/LogRL_f and their dev1/dev2; W includes x when a SNP is tested.)
 * All f64. One evaluation costs O(n q^2) (the weighted sums, weighted-sums-kernel.ts) plus O(n) divisions; values
 * add n logarithms.
 */
import { pairCount, pairIndex, projectLevelsInto } from './projection.js';
import { LAMBDA_GRID } from './lambda-optimiser.js';
import { LambdaSums, type ProductSpec } from './weighted-sums-kernel.js';

/** 'reml' = restricted likelihood (GEMMA 'R'), 'ml' = likelihood (GEMMA 'L'). */
export type LikelihoodKind = 'reml' | 'ml';

const LN_2PI = Math.log(2 * Math.PI);
/** GEMMA's floor for P_yy in the REML value. */
const PYY_FLOOR = 1e-8;

/**
 * Sum of ln(1 + lambda d_i) over i, multiplying 16 factors before each logarithm (16x fewer logs; each factor
 * is at most 1 + 1e5 d_max, so a product of 16 stays far inside the f64 range for d_max up to 1e12).
 * Four groups' products are formed side by side (independent multiplication chains, ~2x faster); each group's
 * product and the order of the additions are as one group at a time.
 */
export function logDetH(d: Float64Array, lambda: number): number {
  const n = d.length;
  let acc = 0;
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    let p0 = 1;
    let p1 = 1;
    let p2 = 1;
    let p3 = 1;
    for (let k = 0; k < 16; k++) {
      p0 *= Math.abs(1 + lambda * d[i + k]!);
      p1 *= Math.abs(1 + lambda * d[i + 16 + k]!);
      p2 *= Math.abs(1 + lambda * d[i + 32 + k]!);
      p3 *= Math.abs(1 + lambda * d[i + 48 + k]!);
    }
    acc += Math.log(p0);
    acc += Math.log(p1);
    acc += Math.log(p2);
    acc += Math.log(p3);
  }
  for (; i + 16 <= n; i += 16) {
    let prod = 1;
    for (let k = 0; k < 16; k++) prod *= Math.abs(1 + lambda * d[i + k]!);
    acc += Math.log(prod);
  }
  for (; i < n; i++) acc += Math.log(Math.abs(1 + lambda * d[i]!));
  return acc;
}

/**
 * The likelihood of one model (one SNP, or the null model) as a function of lambda: holds the products of the
 * rotated columns and scratch space; every method is allocation-free.
 */
export class LambdaObjective {
  readonly n: number;
  readonly q: number;
  readonly np: number;
  readonly nProj: number;
  /** Column index of y (the last column). */
  private readonly iyy: number;
  /** ln|W'W| of the projected columns (the Hi = 1 recursion), lambda-independent. */
  logDetWW: number;
  /** Projection tables (level-major, see projection.ts); row 0 = level-0 sums of the last evaluation. */
  readonly p: Float64Array;
  readonly pp: Float64Array;
  readonly ppp: Float64Array;
  /** Diagonal pivots' pair indices, one per projected column. */
  private readonly ww: Int32Array;
  /** sum Hi and sum Hi^2 of the last evaluation (tr2 only after an order-3 one: second derivatives; else NaN). */
  tr1 = 0;
  tr2 = NaN;

  /**
   * The products of rotated columns, interleaved: ab[i * np + pairIndex(a, b)] = a_i b_i (n x np); a copy of the
   * constructor's argument held by the sums kernel. Write the next SNP's products here, then call refresh() (or
   * productsChanged() when ln|W'W| is not needed); or, with options.products, write x and call formProducts().
   */
  readonly ab: Float64Array;
  /** The SNP column x that formProducts reads (with `options.products`; empty otherwise). */
  readonly x: Float64Array;
  private readonly kernel: LambdaSums;
  /** P0, PP0, PPP0 of the kernel's results (views, so that copying them allocates nothing). */
  private readonly outViews: [Float64Array, Float64Array, Float64Array];
  /** Pair indices of the ProductSpec entries, and the plain (Hi = 1) sums of every pair at construction. */
  private readonly productPairs: Int32Array;
  private readonly plainSums: Float64Array;

  /**
   * @param d eigenvalues (n), already zeroed below 1e-10 in magnitude
   * @param ab products of rotated columns, interleaved: ab[i * np + pairIndex(a, b)] = a_i b_i (n x np), copied
   * @param q number of columns (covariates [+ x] + y)
   * @param nProj columns projected out before y (c for the null model, c + 1 with a SNP)
   * @param options.tabulate lambdas tabulated after LAMBDA_GRID (table index LAMBDA_GRID.length + k), for
   *   projectTabulated; options.products: how formProducts writes a SNP's pairs into `ab` from `x`
   */
  constructor(
    readonly d: Float64Array,
    ab: Float64Array,
    q: number,
    nProj: number,
    options: { tabulate?: readonly number[]; products?: ProductSpec } = {},
  ) {
    this.n = d.length;
    this.q = q;
    this.np = pairCount(q);
    this.nProj = nProj;
    if (ab.length < this.n * this.np) throw new RangeError(`LambdaObjective: ab has ${ab.length} entries, expected n*np = ${this.n * this.np}`);
    if (nProj !== q - 1 && nProj !== q - 2) throw new RangeError(`LambdaObjective: nProj ${nProj} must be q-1 or q-2 (q=${q})`);
    const tabulate = options.tabulate ?? [];
    this.tableLambdas = Float64Array.from([...LAMBDA_GRID, ...tabulate]);
    this.kernel = new LambdaSums(this.n, this.np, d, ab, this.tableLambdas, options.products);
    this.ab = this.kernel.ab;
    this.x = this.kernel.x;
    const lanes = this.kernel.lanes;
    const out = this.kernel.out;
    this.outViews = [out.subarray(0, this.np), out.subarray(2 * lanes, 2 * lanes + this.np), out.subarray(4 * lanes, 4 * lanes + this.np)];
    this.productPairs = Int32Array.from(options.products?.pairs ?? [], (e) => e.pair);
    this.iyy = pairIndex(q - 1, q - 1, q);
    const rows = nProj + 1;
    this.p = new Float64Array(rows * this.np);
    this.pp = new Float64Array(rows * this.np);
    this.ppp = new Float64Array(rows * this.np);
    this.ww = new Int32Array(nProj);
    for (let k = 0; k < nProj; k++) this.ww[k] = pairIndex(k, k, q);
    this.logDetWW = 0;
    this.refresh();
    this.plainSums = this.p.slice(0, this.np);
  }

  /** LAMBDA_GRID then options.tabulate. */
  private readonly tableLambdas: Float64Array;

  /**
   * The lambda and order of the evaluation the level tables hold (NaN: none reusable). An evaluation at the same
   * lambda and an order not above it is then free (GEMMA's value at the last Newton iterate, the Wald projection
   * at l_remle), and order 3 after order 2 at the same lambda (Newton's first step at Brent's root) adds only the
   * Hi^3 sums: the tables are bit-identical to a fresh evaluation either way.
   */
  private lastLambda = NaN;
  private lastOrder = 0;

  /** Declares that `ab` was rewritten: forgets the reusable evaluation and the variable pairs' tables. */
  productsChanged(): void {
    this.lastLambda = NaN;
    this.tabulated = false;
  }

  /** Recomputes the lambda-independent ln|W'W| after the caller rewrote `ab` (the next SNP). O(n np). */
  refresh(): void {
    this.productsChanged();
    // Hi = 1 / (0 d_i + 1) = 1 exactly: the plain column sums.
    this.kernel.run(0, 1);
    this.p.set(this.kernel.out.subarray(0, this.np));
    this.logDetWWFromPlainSums();
  }

  /**
   * The next SNP: forms its products from `x` into `ab` (options.products) and ln|W'W| from their plain sums
   * and the fixed pairs' sums kept from construction; the same result as writing `ab` and refresh(), in
   * O(n |products|) instead of O(n np).
   */
  formProducts(): void {
    this.productsChanged();
    this.kernel.runProducts();
    this.p.set(this.plainSums);
    const sums = this.kernel.productSums;
    for (let k = 0; k < sums.length; k++) this.p[this.productPairs[k]!] = sums[k]!;
    this.logDetWWFromPlainSums();
  }

  /** ln|W'W| from row 0 of p holding the plain sums. */
  private logDetWWFromPlainSums(): void {
    const nProj = this.nProj;
    projectLevelsInto(this.q, nProj, 1, this.p, this.pp, this.ppp);
    let ldw = 0;
    for (let k = 0; k < nProj; k++) ldw += Math.log(this.p[k * this.np + this.ww[k]!]!);
    this.logDetWW = ldw;
  }

  /** Level-0 sums with Hi^1..Hi^order at lambda (or at LAMBDA_GRID[gridIndex]), then the projection levels. O(n np order). */
  private sums(lambda: number, order: 1 | 2 | 3, gridIndex = -1): void {
    const { np, kernel } = this;
    const out = kernel.out;
    const lanes = kernel.lanes;
    const same = gridIndex < 0 && lambda === this.lastLambda;
    if (same && order <= this.lastOrder) return;
    if (gridIndex >= 0) kernel.runTabulated(gridIndex, order);
    else if (same && order === 3 && this.lastOrder === 2) kernel.runThirdOrder(lambda);
    else kernel.run(lambda, order);
    this.lastLambda = gridIndex < 0 ? lambda : NaN;
    this.lastOrder = order;
    const [outP, outPP, outPPP] = this.outViews;
    this.p.set(outP);
    if (order >= 2) this.pp.set(outPP);
    else this.pp.fill(0, 0, np);
    if (order >= 3) this.ppp.set(outPPP);
    else this.ppp.fill(0, 0, np);
    this.tr1 = out[6 * lanes]!;
    this.tr2 = order >= 3 ? out[6 * lanes + 1]! : NaN;
    projectLevelsInto(this.q, this.nProj, order, this.p, this.pp, this.ppp);
  }

  /** P at level `level` for the pair (a, b) after the last evaluation. */
  pAt(level: number, a: number, b: number): number {
    return this.p[level * this.np + pairIndex(a, b, this.q)]!;
  }

  /** Evaluates the Hi-weighted projection levels only (for the Wald and score statistics). */
  project(lambda: number): void {
    this.sums(lambda, 1);
  }

  /** Log-likelihood value l(lambda) or lR(lambda). */
  value(kind: LikelihoodKind, lambda: number): number {
    this.sums(lambda, 1);
    return this.valueFromSums(kind, logDetH(this.d, lambda));
  }

  /**
   * The likelihood work of GEMMA's grid for both kinds from one pass per grid point: dev1 at every LAMBDA_GRID
   * point k into remlDev1[k] and mlDev1[k], and the values at the two ends into ends
   * ([reml(lMin), reml(lMax), ml(lMin), ml(lMax)]) given ln|H| at the ends (shared by all SNPs).
   * Hi at the grid is tabulated once per model, so a grid point costs no divisions.
   */
  grid(ldhEnds: readonly [number, number], remlDev1: Float64Array, mlDev1: Float64Array, ends: Float64Array): void {
    const last = LAMBDA_GRID.length - 1;
    if (this.fast && !this.tabulated) this.tabulateVariablePairs();
    for (let k = 0; k <= last; k++) {
      const l = LAMBDA_GRID[k]!;
      if (this.fast) this.fastGridSums(k, 2);
      else this.sums(l, 2, k);
      remlDev1[k] = this.dev1FromSums('reml', l);
      mlDev1[k] = this.dev1FromSums('ml', l);
      if (k === 0 || k === last) {
        const e = k === 0 ? 0 : 1;
        ends[e] = this.valueFromSums('reml', ldhEnds[e]!);
        ends[2 + e] = this.valueFromSums('ml', ldhEnds[e]!);
      }
    }
  }

  /**
   * Declares that only the pairs `variable` change between calls (the SNP's products; the others are fixed
   * columns, already in `ab`): grid() and projectTabulated() then keep the fixed pairs' sums and the traces at
   * the tabulated lambdas (LAMBDA_GRID, options.tabulate) from now and recompute only the variable pairs, all
   * tabulated lambdas in one pass per pair (O(n |variable| grid) instead of O(n np grid); bit-identical).
   */
  enableFastGrid(variable: Int32Array): void {
    const { np } = this;
    this.productsChanged();
    const g = this.tableLambdas.length;
    const lanes = this.kernel.lanes;
    const out = this.kernel.out;
    const p = new Float64Array(g * np);
    const pp = new Float64Array(g * np);
    const tr1 = new Float64Array(g);
    for (let k = 0; k < g; k++) {
      this.kernel.runTabulated(k, 2);
      p.set(out.subarray(0, np), k * np);
      pp.set(out.subarray(2 * lanes, 2 * lanes + np), k * np);
      tr1[k] = out[6 * lanes]!;
    }
    for (const pr of variable) {
      if (!(Number.isInteger(pr) && pr >= 0 && pr < np)) throw new RangeError(`enableFastGrid: pair ${pr} outside 0..${np - 1}`);
    }
    const rows = (t: Float64Array): Float64Array[] => Array.from({ length: g }, (_, k) => t.subarray(k * np, (k + 1) * np));
    this.fast = { variable: Int32Array.from(variable), p, pp, tr1, pRows: rows(p), ppRows: rows(pp) };
  }

  /** Level-0 sums at every tabulated lambda (g x np tables, and their rows as views) and tr1 (g). */
  private fast: { variable: Int32Array; p: Float64Array; pp: Float64Array; tr1: Float64Array; pRows: Float64Array[]; ppRows: Float64Array[] } | null = null;
  /** Whether the fast tables hold the current products' variable pairs. */
  private tabulated = false;

  /**
   * The variable pairs' level-0 sums at every tabulated lambda into the fast tables (after enableFastGrid, once
   * per SNP; grid() and projectTabulated() call it when needed). O(n |variable| tabulated lambdas).
   */
  tabulateVariablePairs(): void {
    const f = this.fast;
    if (!f) throw new RangeError('tabulateVariablePairs: call enableFastGrid first');
    const { np, kernel } = this;
    const g = this.tableLambdas.length;
    const gp = kernel.gp;
    const go = kernel.gridOut;
    for (const pr of f.variable) {
      kernel.runGridPair(pr);
      for (let k = 0; k < g; k++) {
        f.p[k * np + pr] = go[k]!;
        f.pp[k * np + pr] = go[gp + k]!;
      }
    }
    this.tabulated = true;
  }

  /**
   * Evaluates the Hi-weighted projection levels at tabulated lambda k (LAMBDA_GRID.length + j for
   * options.tabulate[j]) from the fast tables: the same levels as project(lambda). O(np^2) after the tables.
   */
  projectTabulated(k: number): void {
    if (!this.fast) throw new RangeError('projectTabulated: call enableFastGrid first');
    if (!(Number.isInteger(k) && k >= 0 && k < this.tableLambdas.length)) throw new RangeError(`projectTabulated: table index ${k} outside 0..${this.tableLambdas.length - 1}`);
    if (!this.tabulated) this.tabulateVariablePairs();
    this.fastGridSums(k, 1);
  }

  /** Level-0 sums (P, and PP for order 2) at table index k from the fast tables, then the projection levels. */
  private fastGridSums(k: number, order: 1 | 2): void {
    const f = this.fast!;
    this.lastLambda = NaN;
    this.p.set(f.pRows[k]!);
    if (order === 2) this.pp.set(f.ppRows[k]!);
    this.tr1 = f.tr1[k]!;
    this.tr2 = NaN;
    projectLevelsInto(this.q, this.nProj, order, this.p, this.pp, this.ppp);
  }

  private valueFromSums(kind: LikelihoodKind, ldh: number): number {
    const n = this.n;
    const pyy = this.p[this.nProj * this.np + this.iyy]!;
    if (kind === 'ml') {
      return 0.5 * n * (Math.log(n) - LN_2PI - 1) - 0.5 * ldh - 0.5 * n * Math.log(pyy);
    }
    const df = n - this.nProj;
    let ldhiw = 0;
    for (let k = 0; k < this.nProj; k++) ldhiw += Math.log(this.p[k * this.np + this.ww[k]!]!);
    ldhiw -= this.logDetWW;
    return 0.5 * df * (Math.log(df) - LN_2PI - 1) - 0.5 * ldh - 0.5 * ldhiw - 0.5 * df * Math.log(Math.max(pyy, PYY_FLOOR));
  }

  /** First derivative at lambda. */
  dev1(kind: LikelihoodKind, lambda: number): number {
    this.sums(lambda, 2);
    return this.dev1FromSums(kind, lambda);
  }

  private dev1FromSums(kind: LikelihoodKind, lambda: number): number {
    const { np, p, pp } = this;
    const at = this.nProj * np + this.iyy;
    const pyy = p[at]!;
    const yPKPy = (pyy - pp[at]!) / lambda;
    if (kind === 'ml') {
      const n = this.n;
      return -0.5 * ((n - this.tr1) / lambda) + (0.5 * n * yPKPy) / pyy;
    }
    const df = this.n - this.nProj;
    let trP = this.tr1;
    for (let k = 0; k < this.nProj; k++) {
      const i = k * np + this.ww[k]!;
      trP -= pp[i]! / p[i]!;
    }
    return -0.5 * ((df - trP) / lambda) + (0.5 * df * yPKPy) / pyy;
  }

  /** First and second derivatives at lambda, written to out[0], out[1]. */
  dev12(kind: LikelihoodKind, lambda: number, out: Float64Array): void {
    this.sums(lambda, 3);
    const { np, p, pp, ppp } = this;
    const at = this.nProj * np + this.iyy;
    const pyy = p[at]!;
    const ppyy = pp[at]!;
    const yPKPy = (pyy - ppyy) / lambda;
    const yPKPKPy = (pyy + ppp[at]! - 2 * ppyy) / (lambda * lambda);
    const curv = (2 * yPKPKPy * pyy - yPKPy * yPKPy) / (pyy * pyy);
    if (kind === 'ml') {
      const n = this.n;
      out[0] = -0.5 * ((n - this.tr1) / lambda) + (0.5 * n * yPKPy) / pyy;
      out[1] = (0.5 * (n + this.tr2 - 2 * this.tr1)) / (lambda * lambda) - 0.5 * n * curv;
      return;
    }
    const df = this.n - this.nProj;
    let trP = this.tr1;
    let trPP = this.tr2;
    for (let k = 0; k < this.nProj; k++) {
      const i = k * np + this.ww[k]!;
      const r = pp[i]! / p[i]!;
      trP -= r;
      trPP += r * r - (2 * ppp[i]!) / p[i]!;
    }
    out[0] = -0.5 * ((df - trP) / lambda) + (0.5 * df * yPKPy) / pyy;
    out[1] = (0.5 * (df + trPP - 2 * trP)) / (lambda * lambda) - 0.5 * df * curv;
  }
}
