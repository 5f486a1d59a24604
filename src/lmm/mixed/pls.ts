/**
 * Penalised least squares with a blocked sparse Cholesky factor, the core of lme4's profiled deviance
 * (Bates, Maechler, Bolker & Walker 2015, "Fitting Linear Mixed-Effects Models Using lme4", J. Stat. Softw.
 * 67(1), section 3) arranged as MixedModels.jl's blocked Cholesky.
 *
 * For relative covariance factor Lambda(theta) (eq. 4) the augmented system
 *   [ Lambda'Z'WZ Lambda + I   Lambda'Z'WX   Lambda'Z'Wy ]   = L L'
 *   [ X'WZ Lambda              X'WX          X'Wy        ]
 *   [ y'WZ Lambda              y'WX          y'Wy        ]
 * is factored with the columns of the random-effects term with the most levels first. Its block is
 * block-diagonal (one p1 x p1 block per level) and stays so in L (L11). The remaining columns (other
 * random-effects terms, X, y: m of them) form one dense block, updated by the sparse L21 L21' and factored
 * densely (fill-in makes it dense for crossed factors). The last diagonal element of L is r_theta, the
 * penalised residual (eq. 19); the X block is R_X' (eq. 18); log|L_theta|^2 comes from the Z diagonal.
 *
 * Precision f64. Set-up O(n (e^2 + e p1^2)) with e the nonzeros of a row outside the first term; each
 * factorisation O(l1 p1^3 + sum_j nnz_j^2 p1 + m^3/3).
 */
import type { F64Matrix } from '../../../kernels/matrix.js';
import type { ReTerm } from './design.js';
import { cpuPotrfInPlace } from '../../../kernels/cpu/potrf.js';
import { NotPositiveDefiniteError } from '../../../kernels/backend.js';
import { potrfLowerInPlace } from './dense-cholesky.js';

/** Dense blocks at least this large go to cpuPotrfInPlace (blocked, wasm SIMD products, threads); smaller ones stay local. */
const KERNEL_POTRF_MIN = 96;

/**
 * Lower Cholesky of the m x m block M in place (lower triangle read and overwritten; reusing M's storage
 * instead of a new m x m array per evaluation saves its page faults, ~5 ms at m = 1159). Returns -1 or the
 * first non-positive pivot column (a zero pivot in the last, y, column only means an exact fit).
 */
function denseCholesky(M: Float64Array, m: number): number {
  if (m >= KERNEL_POTRF_MIN) {
    try {
      cpuPotrfInPlace({ rows: m, cols: m, ld: m, data: M });
      return -1;
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
    }
  }
  return potrfLowerInPlace(M, m);
}

/** Number of theta parameters of a term with p columns: the lower triangle p(p+1)/2. */
export const thetaLength = (p: number): number => (p * (p + 1)) / 2;

/** Lower bounds of theta as lme4 sets them: 0 on the diagonal of each T_k, -Inf elsewhere. */
export function thetaLower(terms: readonly ReTerm[]): number[] {
  const lower: number[] = [];
  for (const t of terms) for (let c = 0; c < t.p; c++) for (let r = c; r < t.p; r++) lower.push(r === c ? 0 : -Infinity);
  return lower;
}

/** lme4's starting theta: identity T_k (1 on diagonals, 0 off). */
export function thetaStart(terms: readonly ReTerm[]): number[] {
  return thetaLower(terms).map((v) => (v === 0 ? 1 : 0));
}

/** T_k (p x p lower, column-major) of each term from the theta vector (lower triangle, column by column). */
export function thetaToFactors(terms: readonly ReTerm[], theta: ArrayLike<number>): Float64Array[] {
  let k = 0;
  return terms.map((t) => {
    const m = new Float64Array(t.p * t.p);
    for (let c = 0; c < t.p; c++) for (let r = c; r < t.p; r++) m[r + c * t.p] = theta[k++]!;
    return m;
  });
}

/** Values of one factorisation: the pieces of the profiled deviance (Bates et al. 2015, eqs. 34, 41). */
export interface PlsFactor {
  /** log|L_theta|^2 */
  ldL2: number;
  /** log|R_X|^2 */
  ldRX2: number;
  /** r^2_theta: penalised weighted residual sum of squares */
  pwrss: number;
}

/** Thrown when a factorisation hits a non-positive pivot (e.g. X not of full rank). */
export class PlsError extends Error {
  override name = 'PlsError';
}

export class BlockedPls {
  readonly n: number;
  readonly p: number;
  /** columns of the first (block-diagonal) term: levels * p1 */
  readonly q1: number;
  /** random-effects columns inside the dense block */
  readonly q2: number;
  /** dense block size q2 + p + 1 */
  readonly m: number;
  /** dense offset of each term (term 0 is the diagonal block: offset -1) */
  readonly offsets: number[];
  private readonly p1: number;
  private readonly l1: number;
  /**
   * a row's entries outside the first term are e2 random-effects columns (the other terms'), then X and y;
   * for the a-th of the former, row i's dense column is zIdx[i * e2 + a] (increasing in a), its value
   * zVal[i * e2 + a] and its flat A21 entry zPos[i * e2 + a]
   */
  private readonly e2: number;
  private readonly zIdx: Int32Array;
  private readonly zVal: Float64Array;
  private readonly zPos: Int32Array;
  /** per dense column: the scalar T_k of its term (1 for X and y), for scalar-only models */
  private readonly denseScale: Float64Array;
  private readonly a11: Float64Array;
  private readonly a21Rows: Int32Array[];
  private readonly a21Vals: Float64Array[];
  private readonly a22: Float64Array;
  /** the nonzeros of A22's lower triangle by column (a22Ptr[c] .. a22Ptr[c+1]-1): A22 is mostly sparse */
  private a22Ptr = new Int32Array(0);
  private a22Row = new Int32Array(0);
  private a22Val = new Float64Array(0);
  private readonly l11: Float64Array;
  private readonly l21Vals: Float64Array[];
  /** the dense block: M before step 5, its Cholesky factor after (storage may change at each factor) */
  private l22: Float64Array;
  private factors: Float64Array[] = [];
  /**
   * the row lists of all levels back to back (a21Rows[j] is a view of levelPtr[j] .. levelPtr[j+1]-1), and
   * the A21 and L21 values likewise (p1 per row)
   */
  private readonly rowsFlat: Int32Array;
  private readonly levelPtr: Int32Array;
  private readonly a21Flat: Float64Array;
  private readonly l21Flat: Float64Array;
  /**
   * L21 by dense row c: for t in colPtr[c] .. colPtr[c+1]-1, colEntry[t] is the flat index of an entry in row
   * c and colEnd[t] the end of that entry's level (levels ascending)
   */
  private readonly colPtr: Int32Array;
  private readonly colEntry: Int32Array;
  private readonly colEnd: Int32Array;

  /**
   * Forms the cross-products [Z X y]' W [Z X y] once (weights `w`, default 1).
   * @param terms random-effects terms, the first being the block-diagonal one (most levels)
   * @param x n x p fixed-effects design (p may be 0)
   */
  /** the fixed-effects design and the first term's values (row-major n x p1) the cross-products are formed from */
  private x: F64Matrix;
  private z1: Float64Array;

  constructor(
    readonly terms: readonly ReTerm[],
    x: F64Matrix,
    y: Float64Array,
    w: Float64Array | null = null,
  ) {
    const n = y.length;
    if (terms.length === 0) throw new PlsError('BlockedPls: at least one random-effects term is needed');
    if (x.rows !== n) throw new PlsError(`BlockedPls: X has ${x.rows} rows, y has ${n}`);
    this.n = n;
    this.p = x.cols;
    this.x = x;
    this.z1 = terms[0]!.z;
    const t1 = terms[0]!;
    this.p1 = t1.p;
    this.l1 = t1.levels.length;
    this.q1 = this.p1 * this.l1;
    this.offsets = [-1];
    let q2 = 0;
    for (let k = 1; k < terms.length; k++) {
      this.offsets.push(q2);
      q2 += terms[k]!.p * terms[k]!.levels.length;
    }
    this.q2 = q2;
    const m = q2 + this.p + 1;
    this.m = m;
    const p1 = this.p1;

    // row i's random-effects entries outside the first term, term by term (dense columns increasing)
    const e2 = terms.slice(1).reduce((s, t) => s + t.p, 0);
    this.e2 = e2;
    const zIdx = new Int32Array(n * e2);
    const zVal = new Float64Array(n * e2);
    for (let k = 1, a0 = 0; k < terms.length; a0 += terms[k]!.p, k++) {
      const { codes, p: pk, z } = terms[k]!;
      const off = this.offsets[k]!;
      for (let i = 0; i < n; i++) {
        for (let r = 0; r < pk; r++) {
          zIdx[i * e2 + a0 + r] = off + codes[i]! * pk + r;
          zVal[i * e2 + a0 + r] = z[i * pk + r]!;
        }
      }
    }
    // pattern of A21, the row lists of all levels back to back (levelPtr[j] .. levelPtr[j+1]-1): the sorted
    // distinct random-effects columns a level's observations touch, then the p + 1 columns of X and y
    // (every level has an observation); zPos records where each entry lands
    const zPos = new Int32Array(n * e2);
    const { ptr, rows } = groupRows(t1.codes, this.l1);
    const mark = new Int32Array(q2).fill(-1);
    const where = new Int32Array(q2);
    const rowStore = new Int32Array(n * e2 + this.l1 * (this.p + 1));
    const levelPtr = new Int32Array(this.l1 + 1);
    let end = 0;
    for (let j = 0; j < this.l1; j++) {
      const start = end;
      for (let t = ptr[j]!; t < ptr[j + 1]!; t++) {
        for (let a = rows[t]! * e2, aEnd = a + e2; a < aEnd; a++) {
          const ia = zIdx[a]!;
          if (mark[ia] !== j) {
            mark[ia] = j;
            rowStore[end++] = ia;
          }
        }
      }
      rowStore.subarray(start, end).sort();
      for (let q = start; q < end; q++) where[rowStore[q]!] = q;
      for (let t = ptr[j]!; t < ptr[j + 1]!; t++) {
        for (let a = rows[t]! * e2, aEnd = a + e2; a < aEnd; a++) zPos[a] = where[zIdx[a]!]!;
      }
      for (let c = q2; c < m; c++) rowStore[end++] = c;
      levelPtr[j + 1] = end;
    }
    this.zIdx = zIdx;
    this.zVal = zVal;
    this.zPos = zPos;
    const rowsFlat = rowStore.slice(0, levelPtr[this.l1]!);
    this.a21Rows = Array.from({ length: this.l1 }, (_, j) => rowsFlat.subarray(levelPtr[j]!, levelPtr[j + 1]!));
    this.rowsFlat = rowsFlat;
    this.levelPtr = levelPtr;
    this.l21Flat = new Float64Array(rowsFlat.length * p1);
    this.l21Vals = this.a21Rows.map((_, j) => this.l21Flat.subarray(levelPtr[j]! * p1, levelPtr[j + 1]! * p1));
    // the same pattern by dense row (levels ascending), for the column-by-column update
    this.colPtr = new Int32Array(m + 1);
    for (const r of rowsFlat) this.colPtr[r + 1]!++;
    for (let c = 0; c < m; c++) this.colPtr[c + 1]! += this.colPtr[c]!;
    this.colEntry = new Int32Array(rowsFlat.length);
    this.colEnd = new Int32Array(rowsFlat.length);
    const next = this.colPtr.slice(0, m);
    for (let j = 0; j < this.l1; j++) {
      for (let q = levelPtr[j]!; q < levelPtr[j + 1]!; q++) {
        const t = next[rowsFlat[q]!]!++;
        this.colEntry[t] = q;
        this.colEnd[t] = levelPtr[j + 1]!;
      }
    }
    this.a22 = new Float64Array(m * m);
    this.a11 = new Float64Array(this.l1 * p1 * p1);
    this.a21Flat = new Float64Array(rowsFlat.length * p1);
    this.a21Vals = this.a21Rows.map((_, j) => this.a21Flat.subarray(levelPtr[j]! * p1, levelPtr[j + 1]! * p1));
    this.l11 = new Float64Array(this.a11.length);
    this.l22 = new Float64Array(m * m);
    this.denseScale = new Float64Array(m).fill(1);
    this.setValues(y, w);
  }

  /**
   * (Re-)forms the cross-products A = [Z X y]' W [Z X y] for response y and weights w (default 1), keeping
   * the sparsity pattern: the PIRLS step of a GLMM calls this once per iteration. Row by row, A22 gets the
   * lower triangle of w_i r_i r_i' (r_i: the row's e entries outside the first term, dense columns
   * increasing), A21 w_i r_i z1_i' and A11 w_i z1_i z1_i'; the upper triangle of A22 is mirrored only when a
   * term is vector-valued (the scalar path reads the lower one). O(n e (e / 2 + p1) + m^2).
   */
  setValues(y: Float64Array, w: Float64Array | null = null): void {
    const { n, m, p, p1, q2, e2, terms, x, zIdx, zVal, zPos, levelPtr, a22, a11, a21Flat } = this;
    if (y.length !== n || (w && w.length !== n)) throw new PlsError(`BlockedPls.setValues: expected ${n} values`);
    const c1 = terms[0]!.codes;
    const z1 = this.z1;
    a22.fill(0);
    a11.fill(0);
    a21Flat.fill(0);
    const e = e2 + p + 1;
    const idx = new Int32Array(e);
    const val = new Float64Array(e);
    const pos = new Int32Array(e);
    for (let j = 0; j <= p; j++) idx[e2 + j] = q2 + j;
    const xd = x.data;
    const ld = x.ld;
    for (let i = 0; i < n; i++) {
      const wi = w ? w[i]! : 1;
      const lev = c1[i]!;
      for (let a = 0; a < e2; a++) {
        idx[a] = zIdx[i * e2 + a]!;
        val[a] = zVal[i * e2 + a]!;
        pos[a] = zPos[i * e2 + a]!;
      }
      const fixed = levelPtr[lev + 1]! - (p + 1);
      for (let j = 0; j < p; j++) {
        val[e2 + j] = xd[i + j * ld]!;
        pos[e2 + j] = fixed + j;
      }
      val[e - 1] = y[i]!;
      pos[e - 1] = fixed + p;
      for (let a = 0; a < e; a++) {
        const va = wi * val[a]!;
        const ia = idx[a]!;
        for (let b = 0; b <= a; b++) a22[ia + idx[b]! * m]! += va * val[b]!;
        const q = pos[a]! * p1;
        for (let c = 0; c < p1; c++) a21Flat[q + c]! += va * z1[i * p1 + c]!;
      }
      const blk = lev * p1 * p1;
      for (let c = 0; c < p1; c++) for (let r = 0; r < p1; r++) a11[blk + r + c * p1]! += wi * z1[i * p1 + r]! * z1[i * p1 + c]!;
    }
    if (terms.some((t) => t.p > 1)) for (let c = 0; c < m; c++) for (let r = c + 1; r < m; r++) a22[c + r * m] = a22[r + c * m]!;
    // A22's lower-triangle nonzeros by column
    let nnz = 0;
    for (let c = 0; c < m; c++) for (let r = c; r < m; r++) if (a22[r + c * m] !== 0) nnz++;
    this.a22Ptr = new Int32Array(m + 1);
    this.a22Row = new Int32Array(nnz);
    this.a22Val = new Float64Array(nnz);
    let k = 0;
    for (let c = 0; c < m; c++) {
      for (let r = c; r < m; r++) {
        const v = a22[r + c * m]!;
        if (v !== 0) {
          this.a22Row[k] = r;
          this.a22Val[k++] = v;
        }
      }
      this.a22Ptr[c + 1] = k;
    }
  }

  /**
   * Replaces the values of X, of each term's Z (row-major n x p_k, as ReTerm.z) and of y, keeping every term's
   * level codes and so the sparsity pattern, and re-forms the cross-products (setValues). Rows transformed
   * within the levels of every term (a residual whitening within groups nested in all grouping factors) keep
   * the pattern. The arrays are read by later calls: the caller must not change them until the next call.
   * O(n e (e / 2 + p1)) as setValues.
   */
  setDesignValues(x: F64Matrix, z: readonly Float64Array[], y: Float64Array): void {
    const { n, e2, terms } = this;
    if (x.rows !== n || x.cols !== this.p || z.length !== terms.length) throw new PlsError('BlockedPls.setDesignValues: shapes differ from the constructed design');
    this.x = x;
    this.z1 = z[0]!;
    for (let k = 1, a0 = 0; k < terms.length; a0 += terms[k]!.p, k++) {
      const pk = terms[k]!.p;
      const zk = z[k]!;
      for (let i = 0; i < n; i++) for (let r = 0; r < pk; r++) this.zVal[i * e2 + a0 + r] = zk[i * pk + r]!;
    }
    this.setValues(y);
  }

  /**
   * Factors the augmented system at theta (step comments follow the blocked Cholesky).
   * Throws PlsError if a pivot is not positive.
   */
  factor(theta: ArrayLike<number>): PlsFactor {
    const { m, l1, q2, terms } = this;
    const T = thetaToFactors(terms, theta);
    this.factors = T;
    let ldL2 = 0;
    const scalar = terms.every((t) => t.p === 1);
    if (scalar) {
      // Lambda2: one scale per dense column (1 for X and y)
      const { levelPtr, rowsFlat, a21Flat, l21Flat, denseScale } = this;
      for (let k = 1; k < terms.length; k++) denseScale.fill(T[k]![0]!, this.offsets[k]!, this.offsets[k]! + terms[k]!.levels.length);
      // steps 1-2 for scalar terms: L11_j = sqrt(t1^2 a11_j + 1), L21_j = s a21_j t1 / L11_j entrywise
      const t1 = T[0]![0]!;
      for (let j = 0; j < l1; j++) {
        const d = t1 * t1 * this.a11[j]! + 1;
        const l = Math.sqrt(d);
        this.l11[j] = l;
        ldL2 += Math.log(d);
        const f = t1 / l;
        for (let q = levelPtr[j]!; q < levelPtr[j + 1]!; q++) l21Flat[q] = a21Flat[q]! * denseScale[rowsFlat[q]!]! * f;
      }
    } else ldL2 = this.factorLevels(T);
    // steps 3-4: M = Lambda2' A22 Lambda2 - sum_j L21_j L21_j' (lower triangle), then + diag(I_q2, 0)
    const M = this.l22;
    this.formSchurComplement(T, scalar);
    for (let d = 0; d < q2; d++) M[d + d * m]! += 1;
    // step 5: dense Cholesky of the fill-in block (the kernel layer's blocked wasm potrf when it is large)
    const bad = denseCholesky(M, m);
    if (bad >= 0 && bad < m - 1) throw new PlsError(`non-positive pivot at dense column ${bad}${bad >= q2 ? ' (fixed effects not of full rank)' : ''}`);
    let ldRX2 = 0;
    for (let d = 0; d < q2; d++) ldL2 += 2 * Math.log(M[d + d * m]!);
    for (let d = q2; d < m - 1; d++) ldRX2 += 2 * Math.log(M[d + d * m]!);
    const r = bad === m - 1 ? 0 : M[m * m - 1]!;
    return { ldL2, ldRX2, pwrss: r * r };
  }

  /** Applies Lambda2' to the rows of a sparse L21 block (rows of one level of a term are contiguous). */
  private transformRows(rows: Int32Array, v: Float64Array, T: Float64Array[]): void {
    const { p1, q2, terms } = this;
    let a = 0;
    while (a < rows.length && rows[a]! < q2) {
      const k = termOfDense(this.offsets, rows[a]!);
      const t = terms[k]!;
      const Tk = T[k]!;
      const pk = t.p;
      if (pk === 1) {
        const s = Tk[0]!;
        for (let c = 0; c < p1; c++) v[a * p1 + c]! *= s;
        a++;
        continue;
      }
      // rows a..a+pk-1 hold one level's block: v_B <- Tk' v_B
      for (let c = 0; c < p1; c++) {
        for (let r = 0; r < pk; r++) {
          let s = 0;
          for (let i = r; i < pk; i++) s += Tk[i + r * pk]! * v[(a + i) * p1 + c]!;
          v[(a + r) * p1 + c] = s;
        }
      }
      a += pk;
    }
  }

  /**
   * Steps 1-2 for any terms: L11_j = chol(T1' A11_j T1 + I) per level and L21_j = Lambda2' A21_j T1 L11_j^{-T}
   * (kept: solve and condVarBlocks use it). Returns sum_j log|L11_j|^2. O(l1 p1^3 + sum_j nnz_j p1^2).
   */
  private factorLevels(T: Float64Array[]): number {
    const { p1, l1 } = this;
    const T1 = T[0]!;
    let ldL2 = 0;
    const tmp = new Float64Array(p1 * p1);
    for (let j = 0; j < l1; j++) {
      const off = j * p1 * p1;
      congruence(this.a11, off, T1, p1, tmp);
      for (let r = 0; r < p1; r++) tmp[r + r * p1]! += 1;
      if (potrfLowerInPlace(tmp, p1) >= 0) throw new PlsError('non-positive pivot in the diagonal block');
      for (let c = 0; c < p1; c++) for (let r = 0; r < p1; r++) this.l11[off + r + c * p1] = r >= c ? tmp[r + c * p1]! : 0;
      for (let r = 0; r < p1; r++) ldL2 += 2 * Math.log(tmp[r + r * p1]!);
    }
    for (let j = 0; j < l1; j++) {
      const rows = this.a21Rows[j]!;
      const v = this.l21Vals[j]!;
      v.set(this.a21Vals[j]!);
      this.transformRows(rows, v, T);
      rightMultiplyLower(v, rows.length, p1, T1);
      rightSolveLowerT(v, rows.length, p1, this.l11, j * p1 * p1);
    }
    return ldL2;
  }

  /**
   * Steps 3-4: M = Lambda2' A22 Lambda2 - sum_j L21_j L21_j' on the lower triangle, column by column
   * (left-looking): column c receives, from each level j with an entry in row c of L21, the products of that
   * entry with the level's entries in rows >= c. With scalar terms column c of Lambda2' A22 Lambda2 is formed
   * just before from A22's nonzeros (M_rc = s_r s_c A_rc), so each column is written and updated while it is
   * in cache; with
   * vector-valued terms the whole block is transformed first. O(m^2 + sum_j nnz_j^2 p1 / 2).
   */
  private formSchurComplement(T: Float64Array[], scalar: boolean): void {
    const { m, p1, terms, colPtr, colEntry, colEnd, rowsFlat, a22Ptr, a22Row, a22Val } = this;
    const M = this.l22;
    const A = this.a22;
    const v = this.l21Flat;
    const sc = this.denseScale;
    if (!scalar) {
      M.set(A);
      for (let k = 1; k < terms.length; k++) scaleDenseBlocks(M, m, this.offsets[k]!, terms[k]!, T[k]!);
    }
    for (let c = 0; c < m; c++) {
      const cm = c * m;
      if (scalar) {
        const scc = sc[c]!;
        M.fill(0, cm + c, cm + m);
        for (let k = a22Ptr[c]!; k < a22Ptr[c + 1]!; k++) {
          const r = a22Row[k]!;
          M[r + cm] = a22Val[k]! * sc[r]! * scc;
        }
      }
      for (let t = colPtr[c]!; t < colPtr[c + 1]!; t++) {
        const b = colEntry[t]!;
        const end = colEnd[t]!;
        if (p1 === 1) {
          const vb = v[b]!;
          let a = b;
          // four entries per pass (distinct rows of one level: independent updates)
          for (; a + 3 < end; a += 4) {
            const r0 = rowsFlat[a]! + cm;
            const r1 = rowsFlat[a + 1]! + cm;
            const r2 = rowsFlat[a + 2]! + cm;
            const r3 = rowsFlat[a + 3]! + cm;
            const x0 = v[a]! * vb;
            const x1 = v[a + 1]! * vb;
            const x2 = v[a + 2]! * vb;
            const x3 = v[a + 3]! * vb;
            M[r0]! -= x0;
            M[r1]! -= x1;
            M[r2]! -= x2;
            M[r3]! -= x3;
          }
          for (; a < end; a++) M[rowsFlat[a]! + cm]! -= v[a]! * vb;
          continue;
        }
        for (let a = b; a < end; a++) {
          let s = 0;
          for (let i = 0; i < p1; i++) s += v[a * p1 + i]! * v[b * p1 + i]!;
          M[rowsFlat[a]! + cm]! -= s;
        }
      }
    }
  }

  /** The current T_k factors (after {@link factor}). */
  get lambdaFactors(): Float64Array[] {
    return this.factors;
  }

  /**
   * Solves L' [u; beta] = l for the spherical random effects u (length q1 + q2, first term first) and beta
   * (Bates et al. 2015 eqs. 17-18: conditional modes and the conditional estimate of beta).
   */
  solve(): { u: Float64Array; beta: Float64Array } {
    const { m, p1, l1, q1 } = this;
    const M = this.l22;
    const k = m - 1;
    const x = new Float64Array(k);
    for (let i = 0; i < k; i++) x[i] = M[k + i * m]!;
    // step 1: back-substitution with the dense block: L22' x = l
    for (let i = k - 1; i >= 0; i--) {
      let s = x[i]!;
      for (let r = i + 1; r < k; r++) s -= M[r + i * m]! * x[r]!;
      x[i] = s / M[i + i * m]!;
    }
    // step 2: per level, L11_j' u_j = l_j - L21_j' x
    const u1 = new Float64Array(q1);
    const rhs = new Float64Array(p1);
    for (let j = 0; j < l1; j++) {
      const rows = this.a21Rows[j]!;
      const v = this.l21Vals[j]!;
      rhs.fill(0);
      for (let a = 0; a < rows.length; a++) {
        const r = rows[a]!;
        const coef = r === k ? -1 : x[r]!;
        for (let c = 0; c < p1; c++) rhs[c]! -= v[a * p1 + c]! * coef;
      }
      const off = j * p1 * p1;
      for (let i = p1 - 1; i >= 0; i--) {
        let s = rhs[i]!;
        for (let r = i + 1; r < p1; r++) s -= this.l11[off + r + i * p1]! * u1[j * p1 + r]!;
        u1[j * p1 + i] = s / this.l11[off + i + i * p1]!;
      }
    }
    const u = new Float64Array(q1 + this.q2);
    u.set(u1);
    u.set(x.subarray(0, this.q2), q1);
    return { u, beta: x.slice(this.q2, this.q2 + this.p) };
  }

  /** b = Lambda u at the last factored theta. */
  lambdaTimes(u: Float64Array): Float64Array {
    return lambdaTimes(this.terms, this.factors, u);
  }

  /** (R_X' R_X)^{-1}: the unscaled covariance of beta (vcov = sigma^2 times this). O(p^3). */
  unscaledVcov(): Float64Array {
    const { p, q2, m } = this;
    const Linv = new Float64Array(p * p);
    for (let c = 0; c < p; c++) {
      for (let r = c; r < p; r++) {
        let s = r === c ? 1 : 0;
        for (let i = c; i < r; i++) s -= this.l22[q2 + r + (q2 + i) * m]! * Linv[i + c * p]!;
        Linv[r + c * p] = s / this.l22[q2 + r + (q2 + r) * m]!;
      }
    }
    const v = new Float64Array(p * p);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        let s = 0;
        for (let i = Math.max(a, b); i < p; i++) s += Linv[i + a * p]! * Linv[i + b * p]!;
        v[a + b * p] = s;
      }
    }
    return v;
  }

  /**
   * Diagonal blocks of (L_theta L_theta')^{-1} per term and level (p x p each, column-major), the
   * conditional covariance of u given beta up to sigma^2 (lme4's condVar). Cost O(q2^3/3 + sum_j nnz_j q2).
   */
  condVarBlocks(): Float64Array[][] {
    const { m, p1, l1, q2, terms } = this;
    // inverse of the q2 x q2 random-effects part of the dense factor (lower triangular)
    const Li = new Float64Array(q2 * q2);
    for (let c = 0; c < q2; c++) {
      Li[c + c * q2] = 1 / this.l22[c + c * m]!;
      for (let r = c + 1; r < q2; r++) {
        let s = 0;
        for (let i = c; i < r; i++) s -= this.l22[r + i * m]! * Li[i + c * q2]!;
        Li[r + c * q2] = s / this.l22[r + r * m]!;
      }
    }
    const out: Float64Array[][] = terms.map(() => []);
    const x1 = new Float64Array(p1 * p1);
    const w = new Float64Array(q2 * p1);
    for (let j = 0; j < l1; j++) {
      // x1 = L11_j^{-1}; the column block of L^{-1} below it is -L22^{-1} L21_j x1
      const off = j * p1 * p1;
      x1.fill(0);
      for (let c = 0; c < p1; c++) {
        for (let r = c; r < p1; r++) {
          let s = r === c ? 1 : 0;
          for (let i = c; i < r; i++) s -= this.l11[off + r + i * p1]! * x1[i + c * p1]!;
          x1[r + c * p1] = s / this.l11[off + r + r * p1]!;
        }
      }
      w.fill(0);
      const rows = this.a21Rows[j]!;
      const v = this.l21Vals[j]!;
      for (let a = 0; a < rows.length && rows[a]! < q2; a++) {
        const r = rows[a]!;
        for (let c = 0; c < p1; c++) {
          let s = 0;
          for (let i = 0; i < p1; i++) s += v[a * p1 + i]! * x1[i + c * p1]!;
          // w[:, c] += Li[:, r] * s (only rows >= r are nonzero)
          for (let t = r; t < q2; t++) w[t + c * q2]! += Li[t + r * q2]! * s;
        }
      }
      const blk = new Float64Array(p1 * p1);
      for (let a = 0; a < p1; a++) {
        for (let b = 0; b < p1; b++) {
          let s = 0;
          for (let i = 0; i < p1; i++) s += x1[i + a * p1]! * x1[i + b * p1]!;
          for (let t = 0; t < q2; t++) s += w[t + a * q2]! * w[t + b * q2]!;
          blk[a + b * p1] = s;
        }
      }
      out[0]!.push(blk);
    }
    for (let k = 1; k < terms.length; k++) {
      const t = terms[k]!;
      for (let l = 0; l < t.levels.length; l++) {
        const base = this.offsets[k]! + l * t.p;
        const blk = new Float64Array(t.p * t.p);
        for (let a = 0; a < t.p; a++) {
          for (let b = 0; b < t.p; b++) {
            let s = 0;
            for (let i = base + Math.max(a, b); i < q2; i++) s += Li[i + (base + a) * q2]! * Li[i + (base + b) * q2]!;
            blk[a + b * t.p] = s;
          }
        }
        out[k]!.push(blk);
      }
    }
    return out;
  }
}

/** b = Lambda u for factors T_k (thetaToFactors), u laid out term by term, level by level. O(q p). */
export function lambdaTimes(terms: readonly ReTerm[], T: Float64Array[], u: Float64Array): Float64Array {
  const b = new Float64Array(u.length);
  let off = 0;
  terms.forEach((t, k) => {
    const Tk = T[k]!;
    for (let l = 0; l < t.levels.length; l++) {
      for (let r = 0; r < t.p; r++) {
        let s = 0;
        for (let c = 0; c <= r; c++) s += Tk[r + c * t.p]! * u[off + l * t.p + c]!;
        b[off + l * t.p + r] = s;
      }
    }
    off += t.levels.length * t.p;
  });
  return b;
}

/** Row indices grouped by level (counting sort): level j's rows, ascending, are rows[ptr[j]] .. rows[ptr[j+1]-1]. O(n). */
function groupRows(codes: Int32Array, levels: number): { ptr: Int32Array; rows: Int32Array } {
  const ptr = new Int32Array(levels + 1);
  for (let i = 0; i < codes.length; i++) ptr[codes[i]! + 1]!++;
  for (let j = 0; j < levels; j++) ptr[j + 1]! += ptr[j]!;
  const next = ptr.slice(0, levels);
  const rows = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) rows[next[codes[i]!]!++] = i;
  return { ptr, rows };
}

function termOfDense(offsets: number[], d: number): number {
  let k = 1;
  while (k + 1 < offsets.length && offsets[k + 1]! <= d) k++;
  return k;
}

/** out = T' A_blk T for a p x p block of `a` at `off` (T lower). O(p^3). */
function congruence(a: Float64Array, off: number, T: Float64Array, p: number, out: Float64Array): void {
  if (p === 1) {
    out[0] = T[0]! * T[0]! * a[off]!;
    return;
  }
  const at = new Float64Array(p * p);
  for (let c = 0; c < p; c++) for (let r = 0; r < p; r++) {
    let s = 0;
    for (let i = c; i < p; i++) s += a[off + r + i * p]! * T[i + c * p]!;
    at[r + c * p] = s;
  }
  for (let c = 0; c < p; c++) for (let r = 0; r < p; r++) {
    let s = 0;
    for (let i = r; i < p; i++) s += T[i + r * p]! * at[i + c * p]!;
    out[r + c * p] = s;
  }
}

/** M[B,:] = T' M[B,:] and M[:,B] = M[:,B] T for every level block B of a term in the dense block. */
function scaleDenseBlocks(M: Float64Array, m: number, off: number, t: ReTerm, T: Float64Array): void {
  const p = t.p;
  const nb = t.levels.length;
  if (p === 1) {
    const s = T[0]!;
    for (let c = 0; c < m; c++) for (let r = off; r < off + nb; r++) M[r + c * m]! *= s;
    for (let c = off; c < off + nb; c++) for (let r = 0; r < m; r++) M[r + c * m]! *= s;
    return;
  }
  const tmp = new Float64Array(p);
  for (let l = 0; l < nb; l++) {
    const b = off + l * p;
    for (let c = 0; c < m; c++) {
      for (let r = 0; r < p; r++) {
        let s = 0;
        for (let i = r; i < p; i++) s += T[i + r * p]! * M[b + i + c * m]!;
        tmp[r] = s;
      }
      for (let r = 0; r < p; r++) M[b + r + c * m] = tmp[r]!;
    }
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < p; c++) {
        let s = 0;
        for (let i = c; i < p; i++) s += M[r + (b + i) * m]! * T[i + c * p]!;
        tmp[c] = s;
      }
      for (let c = 0; c < p; c++) M[r + (b + c) * m] = tmp[c]!;
    }
  }
}

/** V (nnz x p, row-major) <- V T for lower T. */
function rightMultiplyLower(v: Float64Array, nnz: number, p: number, T: Float64Array): void {
  for (let a = 0; a < nnz; a++) {
    for (let c = 0; c < p; c++) {
      let s = 0;
      for (let i = c; i < p; i++) s += v[a * p + i]! * T[i + c * p]!;
      v[a * p + c] = s;
    }
  }
}

/** V <- V L^{-T} (each row solved against L, lower p x p at `off`). */
function rightSolveLowerT(v: Float64Array, nnz: number, p: number, L: Float64Array, off: number): void {
  for (let a = 0; a < nnz; a++) {
    for (let c = 0; c < p; c++) {
      let s = v[a * p + c]!;
      for (let i = 0; i < c; i++) s -= L[off + c + i * p]! * v[a * p + i]!;
      v[a * p + c] = s / L[off + c + c * p]!;
    }
  }
}
