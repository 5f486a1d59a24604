/**
 * Triangular solves on the cpu, f64: op(T) X = alpha B (left) or X op(T) = alpha B (right), and the
 * Cholesky solve potrs. Cost n^2 r flops for r right-hand sides: blocked substitution with inverted
 * diagonal blocks, every block step a product through the shared core.
 */
import type { TrsmOptions } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { checkTrsm } from '../validate.js';
import { gemmStrided, kernelWorkspace } from './gemm-core.js';

/**
 * Inverse of the nb x nb triangular M at mat[mOff] (leading dimension ldm; lower or upper, unit diagonal
 * taken as ones) into `inv` (packed nb x nb, the other triangle zero): column j solves M x = e_j by
 * substitution. Cost nb^3/3 flops.
 */
export function invertTriangle(nb: number, mat: Float64Array, mOff: number, ldm: number, lower: boolean, unit: boolean, inv: Float64Array): void {
  inv.fill(0, 0, nb * nb);
  const diag = (i: number): number => (unit ? 1 : mat[mOff + i + i * ldm]!);
  for (let j = 0; j < nb; j++) {
    const cj = j * nb;
    inv[cj + j] = 1 / diag(j);
    if (lower) {
      for (let i = j + 1; i < nb; i++) {
        let s = 0;
        for (let p = j; p < i; p++) s += mat[mOff + i + p * ldm]! * inv[cj + p]!;
        inv[cj + i] = -s / diag(i);
      }
    } else {
      for (let i = j - 1; i >= 0; i--) {
        let s = 0;
        for (let p = i + 1; p <= j; p++) s += mat[mOff + i + p * ldm]! * inv[cj + p]!;
        inv[cj + i] = -s / diag(i);
      }
    }
  }
}

/** Rows per diagonal block of the blocked solve. */
const NB = 64;

/**
 * Solves M X = X0 in place for packed n x n triangular M, X packed n x r (ld n), both in the product
 * kernel's memory. Blocked (LAPACK style, in the order the triangle dictates): X_b = M_bb^-1 X_b for a
 * diagonal block (its inverse from {@link invertTriangle}, applied as a product from a copy of X_b at
 * `tmp`), then the block's contribution subtracted from the remaining rows, both as products in the
 * shared core, so all but the n NB^2 / 3 flops of the inverses run in the product kernel.
 */
function solveLeftInPlace(mat: Float64Array, n: number, lower: boolean, unit: boolean, x: Float64Array, r: number, tmp: Float64Array, inv: Float64Array): void {
  const diagonalBlock = (j0: number, j1: number): void => {
    const nb = j1 - j0;
    invertTriangle(nb, mat, j0 + j0 * n, n, lower, unit, inv);
    for (let c = 0; c < r; c++) {
      tmp.set(x.subarray(j0 + c * n, j1 + c * n), c * nb);
      x.fill(0, j0 + c * n, j1 + c * n);
    }
    gemmStrided(nb, r, nb, 1, inv, 0, nb, false, tmp, 0, nb, false, x, j0, n);
  };
  if (lower) {
    for (let j0 = 0; j0 < n; j0 += NB) {
      const j1 = Math.min(n, j0 + NB);
      diagonalBlock(j0, j1);
      if (j1 < n) gemmStrided(n - j1, r, j1 - j0, -1, mat, j1 + j0 * n, n, false, x, j0, n, false, x, j1, n);
    }
  } else {
    for (let j1 = n; j1 > 0; j1 -= NB) {
      const j0 = Math.max(0, j1 - NB);
      diagonalBlock(j0, j1);
      if (j0 > 0) gemmStrided(j0, r, j1 - j0, -1, mat, j0 * n, n, false, x, j0, n, false, x, 0, n);
    }
  }
}

/**
 * Writes op(T) (or op(T)^T when `transpose`) restricted to its triangle into the packed n x n `mat`; returns
 * whether it is lower. Only the stored triangle of T is read, only that triangle of `mat` written.
 */
function effectiveTriangle(t: F64Matrix, lower: boolean, trans: boolean, mat: Float64Array): boolean {
  const n = t.rows;
  for (let j = 0; j < n; j++) {
    const i0 = lower ? j : 0;
    const i1 = lower ? n : j + 1;
    for (let i = i0; i < i1; i++) {
      const v = t.data[i + j * t.ld]!;
      if (trans) mat[j + i * n] = v;
      else mat[i + j * n] = v;
    }
  }
  return lower !== trans;
}

/** Fresh X solving the system described by `opts` (defaults: left, lower, no transpose, alpha 1). */
export function cpuTrsm(t: F64Matrix, b: F64Matrix, opts: TrsmOptions = {}): F64Matrix {
  checkTrsm('cpu', t, b, opts);
  return trsmUnchecked(t, b, opts);
}

function trsmUnchecked(t: F64Matrix, b: F64Matrix, opts: TrsmOptions): F64Matrix {
  const n = t.rows;
  const alpha = opts.alpha ?? 1;
  const lower = opts.lower ?? true;
  const trans = opts.trans ?? false;
  const unit = opts.unitDiagonal ?? false;
  const out = f64Matrix(b.rows, b.cols);
  const right = opts.side === 'right';
  // X op(T) = alpha B  <=>  op(T)^T X^T = alpha B^T: the right side solves on the transposed right-hand side.
  const r = right ? b.rows : b.cols;
  if (n === 0 || r === 0) return out;
  // Triangle, right-hand sides and the block solves' scratch in the product kernel's memory (products there
  // update in place).
  const w = kernelWorkspace(n * n + n * r + NB * r + NB * NB);
  const mat = w.subarray(0, n * n), x = w.subarray(n * n, n * n + n * r);
  const tmp = w.subarray(n * n + n * r, n * n + n * r + NB * r), inv = w.subarray(n * n + n * r + NB * r);
  for (let j = 0; j < b.cols; j++) {
    for (let i = 0; i < b.rows; i++) x[right ? j + i * n : i + j * n] = alpha * b.data[i + j * b.ld]!;
  }
  const effLower = effectiveTriangle(t, lower, right ? !trans : trans, mat);
  solveLeftInPlace(mat, n, effLower, unit, x, r, tmp, inv);
  for (let j = 0; j < b.cols; j++) {
    for (let i = 0; i < b.rows; i++) out.data[i + j * out.ld] = x[right ? j + i * n : i + j * n]!;
  }
  return out;
}

/** Solves (L L^T) X = B given the lower Cholesky factor L from potrf: two triangular solves, 2 n^2 r flops. */
export function cpuPotrs(l: F64Matrix, b: F64Matrix): F64Matrix {
  checkTrsm('cpu', l, b, {}, 'potrs');
  const y = trsmUnchecked(l, b, {});
  return trsmUnchecked(l, y, { trans: true });
}
