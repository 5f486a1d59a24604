/**
 * Triangular solves on the cpu, f64: op(T) X = alpha B (left) or X op(T) = alpha B (right), and the
 * Cholesky solve potrs. Cost n^2 r flops for r right-hand sides: blocked substitution, the off-diagonal
 * blocks' updates running through the shared product core.
 */
import type { TrsmOptions } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { checkTrsm } from '../validate.js';
import { gemmStrided } from './gemm-core.js';

/**
 * Solves M X = X0 in place for an nb x nb triangular block M (lower or upper) at mat[mOff], leading
 * dimension ldm, and X (nb x r) at x[xOff], leading dimension ldx. Column-oriented substitution:
 * X[:, c] -= x_j M[:, j] for each solved x_j.
 */
function solveBlock(mat: Float64Array, mOff: number, ldm: number, nb: number, lower: boolean, unit: boolean, x: Float64Array, xOff: number, ldx: number, r: number): void {
  for (let c = 0; c < r; c++) {
    const xc = xOff + c * ldx;
    if (lower) {
      for (let j = 0; j < nb; j++) {
        const mj = mOff + j * ldm;
        const xj = unit ? x[xc + j]! : x[xc + j]! / mat[mj + j]!;
        x[xc + j] = xj;
        if (xj === 0) continue;
        for (let i = j + 1; i < nb; i++) x[xc + i] -= xj * mat[mj + i]!;
      }
    } else {
      for (let j = nb - 1; j >= 0; j--) {
        const mj = mOff + j * ldm;
        const xj = unit ? x[xc + j]! : x[xc + j]! / mat[mj + j]!;
        x[xc + j] = xj;
        if (xj === 0) continue;
        for (let i = 0; i < j; i++) x[xc + i] -= xj * mat[mj + i]!;
      }
    }
  }
}

/** Rows per diagonal block of the blocked solve. */
const NB = 64;

/**
 * Solves M X = X0 in place for packed n x n triangular M, X packed n x r (ld n). Blocked (LAPACK style):
 * solve a diagonal block, then subtract its contribution from the remaining rows with one product
 * through the shared core, so almost all n^2 r flops run in the product kernel.
 */
function solveLeftInPlace(mat: Float64Array, n: number, lower: boolean, unit: boolean, x: Float64Array, r: number): void {
  if (lower) {
    for (let j0 = 0; j0 < n; j0 += NB) {
      const j1 = Math.min(n, j0 + NB);
      solveBlock(mat, j0 + j0 * n, n, j1 - j0, true, unit, x, j0, n, r);
      if (j1 < n) gemmStrided(n - j1, r, j1 - j0, -1, mat, j1 + j0 * n, n, false, x, j0, n, false, x, j1, n);
    }
  } else {
    for (let j1 = n; j1 > 0; j1 -= NB) {
      const j0 = Math.max(0, j1 - NB);
      solveBlock(mat, j0 + j0 * n, n, j1 - j0, false, unit, x, j0, n, r);
      if (j0 > 0) gemmStrided(j0, r, j1 - j0, -1, mat, j0 * n, n, false, x, j0, n, false, x, 0, n);
    }
  }
}

/**
 * Packed copy of op(T) (or op(T)^T when `transpose`) restricted to its triangle; returns whether it is lower.
 * Only the stored triangle of T is read.
 */
function effectiveTriangle(t: F64Matrix, lower: boolean, trans: boolean): { mat: Float64Array; lower: boolean } {
  const n = t.rows;
  const mat = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const i0 = lower ? j : 0;
    const i1 = lower ? n : j + 1;
    for (let i = i0; i < i1; i++) {
      const v = t.data[i + j * t.ld]!;
      if (trans) mat[j + i * n] = v;
      else mat[i + j * n] = v;
    }
  }
  return { mat, lower: lower !== trans };
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
  if (opts.side === 'right') {
    // X op(T) = alpha B  <=>  op(T)^T X^T = alpha B^T: solve on the transposed right-hand side.
    const r = b.rows;
    const xt = new Float64Array(n * r);
    for (let j = 0; j < n; j++) for (let i = 0; i < r; i++) xt[j + i * n] = alpha * b.data[i + j * b.ld]!;
    const eff = effectiveTriangle(t, lower, !trans);
    solveLeftInPlace(eff.mat, n, eff.lower, unit, xt, r);
    for (let j = 0; j < n; j++) for (let i = 0; i < r; i++) out.data[i + j * out.ld] = xt[j + i * n]!;
    return out;
  }
  const r = b.cols;
  for (let j = 0; j < r; j++) for (let i = 0; i < n; i++) out.data[i + j * out.ld] = alpha * b.data[i + j * b.ld]!;
  const eff = effectiveTriangle(t, lower, trans);
  if (n > 0) solveLeftInPlace(eff.mat, n, eff.lower, unit, out.data, r);
  return out;
}

/** Solves (L L^T) X = B given the lower Cholesky factor L from potrf: two triangular solves, 2 n^2 r flops. */
export function cpuPotrs(l: F64Matrix, b: F64Matrix): F64Matrix {
  checkTrsm('cpu', l, b, {}, 'potrs');
  const y = trsmUnchecked(l, b, {});
  return trsmUnchecked(l, y, { trans: true });
}
