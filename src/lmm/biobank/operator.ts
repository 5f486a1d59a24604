/**
 * The contract between the matrix-free solvers of src/lmm/biobank and whoever computes the products: a
 * symmetric positive semi-definite operator applied to several vectors at once (one pass over the data
 * serves every column). Column `cols[q]` of the caller's batch is column q of `v`, so an operator may differ
 * per column (leave-one-chromosome-out kinships).
 */
import type { F64Matrix } from '../../../kernels/matrix.js';

/** Returns A_{cols[q]} v_q for every column q of v (n x cols.length); must not modify v. */
export type BatchedOperator = (v: F64Matrix, cols: readonly number[]) => Promise<F64Matrix>;

/** x' y over the n entries of two columns. */
export function dotCols(x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[xo + i]! * y[yo + i]!;
  return s;
}
