/**
 * Batched symmetric Lanczos: one independent Krylov sequence per starting vector v_b, all advanced together so
 * that each step costs one batched operator product (src/lmm/biobank/operator.ts). After k steps column b
 * holds T_k = tridiag(beta, alpha, beta) with v_b' f(A) v_b ~= |v_b|^2 e1' f(T_k) e1 (Gauss quadrature, exact
 * for polynomials of degree < 2k), for every f at once: the basis of the shifted solves and stochastic
 * log-determinants of src/lmm/biobank/slq-reml.ts (Golub and Meurant 1997; Ubaru, Chen and Saad 2017).
 * No reorthogonalisation: the quadrature stays accurate in finite precision (Knizhnerman 1996), converging a
 * little later. Memory 3 n B f64 (plus k n per column whose basis is kept); cost per step one product plus
 * O(n B).
 */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import type { BatchedOperator } from './operator.js';

export class BatchedLanczos {
  readonly n: number;
  readonly b: number;
  /** Diagonal of T per column. */
  readonly alpha: number[][];
  /** Off-diagonal of T per column (beta[b][i] = T[i, i+1]; one more than needed after a step). */
  readonly beta: number[][];
  /** |v_b|^2 of each starting vector. */
  readonly norm2: Float64Array;
  /** Columns still advancing (false once frozen by the caller or when the Krylov space is exhausted). */
  readonly active: boolean[];
  /** Exhausted: beta fell to rounding level (T is exact; further steps would add noise). */
  readonly exhausted: boolean[];
  /** The Lanczos vectors q_1..q_k of columns asked to keep them. */
  readonly basis: (Float64Array[] | undefined)[];
  private q: Float64Array;
  private qPrev: Float64Array;

  /** @param start n x B starting vectors (a zero column is exhausted at once); @param keep columns whose basis is stored */
  constructor(start: F64Matrix, keep: readonly boolean[] = []) {
    const n = start.rows;
    this.n = n;
    this.b = start.cols;
    this.alpha = Array.from({ length: this.b }, () => []);
    this.beta = Array.from({ length: this.b }, () => []);
    this.norm2 = new Float64Array(this.b);
    this.active = new Array<boolean>(this.b).fill(true);
    this.exhausted = new Array<boolean>(this.b).fill(false);
    this.q = new Float64Array(n * this.b);
    this.qPrev = new Float64Array(n * this.b);
    this.basis = Array.from({ length: this.b }, (_, j) => (keep[j] ? [] : undefined));
    for (let j = 0; j < this.b; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += start.data[i + j * start.ld]! ** 2;
      this.norm2[j] = s;
      if (!(s > 0) || !Number.isFinite(s)) {
        this.active[j] = false;
        this.exhausted[j] = true;
        continue;
      }
      const r = 1 / Math.sqrt(s);
      for (let i = 0; i < n; i++) this.q[i + j * n] = start.data[i + j * start.ld]! * r;
      this.basis[j]?.push(this.q.slice(j * n, (j + 1) * n));
    }
  }

  /** Steps taken by column j (the order of its T). */
  steps(j: number): number {
    return this.alpha[j]!.length;
  }

  /** Advances every active column by one step (one batched product over the active columns). */
  async step(apply: BatchedOperator): Promise<void> {
    const cols = this.active.flatMap((a, j) => (a ? [j] : []));
    if (cols.length === 0) return;
    const n = this.n;
    const v = f64Matrix(n, cols.length);
    cols.forEach((j, k) => v.data.set(this.q.subarray(j * n, (j + 1) * n), k * n));
    const w = await apply(v, cols);
    cols.forEach((j, k) => {
      const q = this.q;
      const qp = this.qPrev;
      const o = j * n;
      const wo = k * w.ld;
      // Step: alpha = q' A q; w = A q - alpha q - beta_prev q_prev; beta = |w|.
      let a = 0;
      for (let i = 0; i < n; i++) a += q[o + i]! * w.data[wo + i]!;
      const bPrev = this.alpha[j]!.length > 0 ? this.beta[j]![this.alpha[j]!.length - 1]! : 0;
      let bb = 0;
      for (let i = 0; i < n; i++) {
        const x = w.data[wo + i]! - a * q[o + i]! - bPrev * qp[o + i]!;
        w.data[wo + i] = x;
        bb += x * x;
      }
      this.alpha[j]!.push(a);
      const beta = Math.sqrt(bb);
      this.beta[j]!.push(beta);
      if (!(beta > 1e-12 * (Math.abs(a) + bPrev)) || !Number.isFinite(beta)) {
        this.active[j] = false;
        this.exhausted[j] = true;
        return;
      }
      // Step: q_prev <- q, q <- w / beta.
      qp.set(q.subarray(o, o + n), o);
      const r = 1 / beta;
      for (let i = 0; i < n; i++) q[o + i] = w.data[wo + i]! * r;
      this.basis[j]?.push(q.slice(o, o + n));
    });
  }

  /**
   * x = |v_j| Q_k y for a kept basis, with y the coefficients of e1 in the basis (length <= k): for example
   * y = (T_k + delta I)^-1 e1 gives the Lanczos approximation of (A + delta I)^-1 v_j. O(n k).
   */
  combine(j: number, y: ArrayLike<number>): Float64Array {
    const basis = this.basis[j];
    if (!basis) throw new RangeError(`BatchedLanczos.combine: column ${j} keeps no basis`);
    const x = new Float64Array(this.n);
    const s = Math.sqrt(this.norm2[j]!);
    for (let k = 0; k < y.length && k < basis.length; k++) {
      const c = s * y[k]!;
      const q = basis[k]!;
      for (let i = 0; i < this.n; i++) x[i]! += c * q[i]!;
    }
    return x;
  }
}
