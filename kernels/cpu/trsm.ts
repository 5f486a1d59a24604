/**
 * Triangular solves on the cpu, f64: op(T) X = alpha B (left) or X op(T) = alpha B (right), and the
 * Cholesky solve potrs. Cost n^2 r flops for r right-hand sides; substitution runs down contiguous columns.
 */
import type { TrsmOptions } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { checkTrsm } from '../validate.js';

/**
 * Solves M X = X0 in place for packed n x n triangular M (lower or upper), X packed n x r (ld n).
 * Column-oriented substitution: X[:, c] -= x_j M[:, j] for each solved x_j.
 */
function solveLeftInPlace(mat: Float64Array, n: number, lower: boolean, unit: boolean, x: Float64Array, r: number): void {
  for (let c = 0; c < r; c++) {
    const xc = c * n;
    if (lower) {
      for (let j = 0; j < n; j++) {
        const mj = j * n;
        const xj = unit ? x[xc + j]! : x[xc + j]! / mat[mj + j]!;
        x[xc + j] = xj;
        if (xj === 0) continue;
        for (let i = j + 1; i < n; i++) x[xc + i] -= xj * mat[mj + i]!;
      }
    } else {
      for (let j = n - 1; j >= 0; j--) {
        const mj = j * n;
        const xj = unit ? x[xc + j]! : x[xc + j]! / mat[mj + j]!;
        x[xc + j] = xj;
        if (xj === 0) continue;
        for (let i = 0; i < j; i++) x[xc + i] -= xj * mat[mj + i]!;
      }
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
