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
 * All f64. One evaluation costs O(n q^2) (the weighted sums) plus O(n) divisions; values add n logarithms.
 */
import { pairCount, pairIndex, projectLevelsInto } from './projection.js';

/** 'reml' = restricted likelihood (GEMMA 'R'), 'ml' = likelihood (GEMMA 'L'). */
export type LikelihoodKind = 'reml' | 'ml';

const LN_2PI = Math.log(2 * Math.PI);
/** GEMMA's floor for P_yy in the REML value. */
const PYY_FLOOR = 1e-8;

/**
 * Sum of ln(1 + lambda d_i) over i, multiplying 16 factors before each logarithm (16x fewer logs; each factor
 * is at most 1 + 1e5 d_max, so a product of 16 stays far inside the f64 range for d_max up to 1e12).
 */
export function logDetH(d: Float64Array, lambda: number): number {
  const n = d.length;
  let acc = 0;
  let i = 0;
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
  tr1 = 0;
  tr2 = 0;

  /**
   * @param d eigenvalues (n), already zeroed below 1e-10 in magnitude
   * @param ab products of rotated columns, interleaved: ab[i * np + pairIndex(a, b)] = a_i b_i (n x np)
   * @param q number of columns (covariates [+ x] + y)
   * @param nProj columns projected out before y (c for the null model, c + 1 with a SNP)
   */
  constructor(
    readonly d: Float64Array,
    readonly ab: Float64Array,
    q: number,
    nProj: number,
  ) {
    this.n = d.length;
    this.q = q;
    this.np = pairCount(q);
    this.nProj = nProj;
    if (ab.length < this.n * this.np) throw new RangeError(`LambdaObjective: ab has ${ab.length} entries, expected n*np = ${this.n * this.np}`);
    if (nProj !== q - 1 && nProj !== q - 2) throw new RangeError(`LambdaObjective: nProj ${nProj} must be q-1 or q-2 (q=${q})`);
    this.iyy = pairIndex(q - 1, q - 1, q);
    const rows = nProj + 1;
    this.p = new Float64Array(rows * this.np);
    this.pp = new Float64Array(rows * this.np);
    this.ppp = new Float64Array(rows * this.np);
    this.ww = new Int32Array(nProj);
    for (let k = 0; k < nProj; k++) this.ww[k] = pairIndex(k, k, q);
    this.logDetWW = 0;
    this.refresh();
  }

  /** Recomputes the lambda-independent ln|W'W| after the caller rewrote `ab` (the next SNP). O(n np). */
  refresh(): void {
    const nProj = this.nProj;
    const ab = this.ab;
    for (let k = 0; k < this.np; k++) {
      let s = 0;
      for (let i = 0; i < this.n; i++) s += ab[i * this.np + k]!;
      this.p[k] = s;
    }
    projectLevelsInto(this.q, nProj, 1, this.p, this.pp, this.ppp);
    let ldw = 0;
    for (let k = 0; k < nProj; k++) ldw += Math.log(this.p[k * this.np + this.ww[k]!]!);
    this.logDetWW = ldw;
  }

  /** Level-0 sums with Hi^1..Hi^order at lambda, then the projection levels. O(n np order). */
  private sums(lambda: number, order: 1 | 2 | 3): void {
    if (this.np === 6) sums6(this, lambda, order);
    else sumsGeneric(this, lambda, order);
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
   * point into gridDev1 (reml at 2k, ml at 2k+1) and the values at the two ends into ends
   * ([reml(lMin), reml(lMax), ml(lMin), ml(lMax)]) given ln|H| at the ends (shared by all SNPs).
   */
  grid(lambdas: Float64Array, ldhEnds: readonly [number, number], gridDev1: Float64Array, ends: Float64Array): void {
    const last = lambdas.length - 1;
    for (let k = 0; k <= last; k++) {
      const l = lambdas[k]!;
      if (this.fast && this.fast.lambdas === lambdas) this.gridSums(k);
      else this.sums(l, 2);
      gridDev1[2 * k] = this.dev1FromSums('reml', l);
      gridDev1[2 * k + 1] = this.dev1FromSums('ml', l);
      if (k === 0 || k === last) {
        const e = k === 0 ? 0 : 1;
        ends[e] = this.valueFromSums('reml', ldhEnds[e]!);
        ends[2 + e] = this.valueFromSums('ml', ldhEnds[e]!);
      }
    }
  }

  /**
   * Declares that only the pairs `variable` change between calls (the SNP's products; the others are fixed
   * columns): grid() then reuses the fixed pairs' sums and tabulated Hi, Hi^2 at `lambdas`, touching only the
   * variable pairs (O(n |variable|) per grid point instead of O(n np) plus n divisions).
   */
  enableFastGrid(lambdas: Float64Array, variable: Int32Array): void {
    const { n, np, d, ab } = this;
    const g = lambdas.length;
    const h = new Float64Array(g * n);
    const h2 = new Float64Array(g * n);
    const fixedP = new Float64Array(g * np);
    const fixedPP = new Float64Array(g * np);
    const tr1 = new Float64Array(g);
    const tr2 = new Float64Array(g);
    const isVar = new Uint8Array(np);
    for (const k of variable) isVar[k] = 1;
    for (let k = 0; k < g; k++) {
      for (let i = 0; i < n; i++) {
        const v = 1 / (lambdas[k]! * d[i]! + 1);
        h[k * n + i] = v;
        h2[k * n + i] = v * v;
        tr1[k] += v;
        tr2[k] += v * v;
        for (let pr = 0; pr < np; pr++) {
          if (isVar[pr]) continue;
          fixedP[k * np + pr] += v * ab[i * np + pr]!;
          fixedPP[k * np + pr] += v * v * ab[i * np + pr]!;
        }
      }
    }
    this.fast = { lambdas, variable, h, h2, fixedP, fixedPP, tr1, tr2 };
  }

  private fast: {
    lambdas: Float64Array; variable: Int32Array; h: Float64Array; h2: Float64Array;
    fixedP: Float64Array; fixedPP: Float64Array; tr1: Float64Array; tr2: Float64Array;
  } | null = null;

  /** Level-0 sums at grid point k from the tables of enableFastGrid, then the projection levels. */
  private gridSums(k: number): void {
    const f = this.fast!;
    const { n, np, ab, p, pp } = this;
    p.set(f.fixedP.subarray(k * np, (k + 1) * np));
    pp.set(f.fixedPP.subarray(k * np, (k + 1) * np));
    const ho = k * n;
    const h = f.h;
    const h2 = f.h2;
    const vars = f.variable;
    if (vars.length === 3) {
      // One covariate: the SNP's three pairs in one pass.
      const k0 = vars[0]!, k1 = vars[1]!, k2 = vars[2]!;
      let a0 = 0, a1 = 0, a2 = 0, b0 = 0, b1 = 0, b2 = 0;
      for (let i = 0, base = 0; i < n; i++, base += np) {
        const w1 = h[ho + i]!;
        const w2 = h2[ho + i]!;
        const v0 = ab[base + k0]!, v1 = ab[base + k1]!, v2 = ab[base + k2]!;
        a0 += w1 * v0; a1 += w1 * v1; a2 += w1 * v2;
        b0 += w2 * v0; b1 += w2 * v1; b2 += w2 * v2;
      }
      p[k0] = a0; p[k1] = a1; p[k2] = a2;
      pp[k0] = b0; pp[k1] = b1; pp[k2] = b2;
    } else {
      for (const pr of vars) {
        let s1 = 0;
        let s2 = 0;
        for (let i = 0, at = pr; i < n; i++, at += np) {
          const v = ab[at]!;
          s1 += h[ho + i]! * v;
          s2 += h2[ho + i]! * v;
        }
        p[pr] = s1;
        pp[pr] = s2;
      }
    }
    this.tr1 = f.tr1[k]!;
    this.tr2 = f.tr2[k]!;
    projectLevelsInto(this.q, this.nProj, 2, p, pp, this.ppp);
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

/**
 * Level-0 sums for any number of pairs: p[k] = sum_i Hi ab[i,k] (and Hi^2, Hi^3 by order), traces. One loop per
 * order so the inner loop carries no branches.
 */
function sumsGeneric(o: LambdaObjective, lambda: number, order: 1 | 2 | 3): void {
  const { n, np, d, ab, p, pp, ppp } = o;
  p.fill(0, 0, np);
  pp.fill(0, 0, np);
  ppp.fill(0, 0, np);
  let t1 = 0;
  let t2 = 0;
  if (order === 1) {
    for (let i = 0, base = 0; i < n; i++, base += np) {
      const h = 1 / (lambda * d[i]! + 1);
      t1 += h;
      for (let k = 0; k < np; k++) p[k] += h * ab[base + k]!;
    }
  } else if (order === 2) {
    for (let i = 0, base = 0; i < n; i++, base += np) {
      const h = 1 / (lambda * d[i]! + 1);
      const h2 = h * h;
      t1 += h;
      t2 += h2;
      for (let k = 0; k < np; k++) {
        const v = ab[base + k]!;
        p[k] += h * v;
        pp[k] += h2 * v;
      }
    }
  } else {
    for (let i = 0, base = 0; i < n; i++, base += np) {
      const h = 1 / (lambda * d[i]! + 1);
      const h2 = h * h;
      const h3 = h2 * h;
      t1 += h;
      t2 += h2;
      for (let k = 0; k < np; k++) {
        const v = ab[base + k]!;
        p[k] += h * v;
        pp[k] += h2 * v;
        ppp[k] += h3 * v;
      }
    }
  }
  o.tr1 = t1;
  o.tr2 = t2;
}

/**
 * The same sums for six pairs (one covariate: the intercept-only scan, the common case), with the
 * accumulators in registers: about 3x faster than the generic loop in V8.
 */
function sums6(o: LambdaObjective, lambda: number, order: 1 | 2 | 3): void {
  const { n, d, ab, p, pp, ppp } = o;
  let t1 = 0, t2 = 0;
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0;
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0;
  if (order === 1) {
    for (let i = 0, base = 0; i < n; i++, base += 6) {
      const h = 1 / (lambda * d[i]! + 1);
      t1 += h;
      a0 += h * ab[base]!; a1 += h * ab[base + 1]!; a2 += h * ab[base + 2]!;
      a3 += h * ab[base + 3]!; a4 += h * ab[base + 4]!; a5 += h * ab[base + 5]!;
    }
  } else if (order === 2) {
    for (let i = 0, base = 0; i < n; i++, base += 6) {
      const h = 1 / (lambda * d[i]! + 1);
      const h2 = h * h;
      t1 += h;
      t2 += h2;
      const v0 = ab[base]!, v1 = ab[base + 1]!, v2 = ab[base + 2]!, v3 = ab[base + 3]!, v4 = ab[base + 4]!, v5 = ab[base + 5]!;
      a0 += h * v0; a1 += h * v1; a2 += h * v2; a3 += h * v3; a4 += h * v4; a5 += h * v5;
      b0 += h2 * v0; b1 += h2 * v1; b2 += h2 * v2; b3 += h2 * v3; b4 += h2 * v4; b5 += h2 * v5;
    }
  } else {
    for (let i = 0, base = 0; i < n; i++, base += 6) {
      const h = 1 / (lambda * d[i]! + 1);
      const h2 = h * h;
      const h3 = h2 * h;
      t1 += h;
      t2 += h2;
      const v0 = ab[base]!, v1 = ab[base + 1]!, v2 = ab[base + 2]!, v3 = ab[base + 3]!, v4 = ab[base + 4]!, v5 = ab[base + 5]!;
      a0 += h * v0; a1 += h * v1; a2 += h * v2; a3 += h * v3; a4 += h * v4; a5 += h * v5;
      b0 += h2 * v0; b1 += h2 * v1; b2 += h2 * v2; b3 += h2 * v3; b4 += h2 * v4; b5 += h2 * v5;
      c0 += h3 * v0; c1 += h3 * v1; c2 += h3 * v2; c3 += h3 * v3; c4 += h3 * v4; c5 += h3 * v5;
    }
  }
  p[0] = a0; p[1] = a1; p[2] = a2; p[3] = a3; p[4] = a4; p[5] = a5;
  pp[0] = b0; pp[1] = b1; pp[2] = b2; pp[3] = b3; pp[4] = b4; pp[5] = b5;
  ppp[0] = c0; ppp[1] = c1; ppp[2] = c2; ppp[3] = c3; ppp[4] = c4; ppp[5] = c5;
  o.tr1 = t1;
  o.tr2 = t2;
}
