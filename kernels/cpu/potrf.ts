/**
 * Cholesky factorisation on the cpu, f64: A = L L^T for symmetric positive-definite A (lower triangle read).
 * Blocked right-looking algorithm (as LAPACK dpotrf): factor a diagonal block, solve the panel below it,
 * update the trailing matrix with one rank-nb product through the shared product core. Cost n^3/3 flops.
 */
import { NotPositiveDefiniteError } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSquare } from '../validate.js';
import { gemmStrided } from './gemm-core.js';

/** Panel width: small, since the diagonal block and panel solves run as plain loops (the update does not). */
const BLOCK = 32;

/**
 * Returns L (n x n, lower, upper triangle zero). Throws NotPositiveDefiniteError naming the 0-based column
 * whose pivot was <= 0, and KernelError for non-square or non-finite input.
 */
export function cpuPotrf(a: F64Matrix): F64Matrix {
  const n = checkSquare('potrf', 'cpu', a);
  const l = f64Matrix(n, n);
  const d = l.data;
  const ld = Math.max(1, n);
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) d[i + j * ld] = a.data[i + j * a.ld]!;
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(n, j0 + BLOCK);
    // Step 1: unblocked right-looking Cholesky of the diagonal block L11.
    for (let j = j0; j < j1; j++) {
      const pivot = d[j + j * ld]!;
      if (!(pivot > 0)) throw new NotPositiveDefiniteError('cpu', `A ${shapeOf(a)}`, j, pivot);
      const ljj = Math.sqrt(pivot);
      const cj = j * ld;
      d[cj + j] = ljj;
      const inv = 1 / ljj;
      for (let i = j + 1; i < j1; i++) d[cj + i] *= inv;
      for (let jj = j + 1; jj < j1; jj++) {
        const f = d[cj + jj]!;
        const cjj = jj * ld;
        for (let i = jj; i < j1; i++) d[cjj + i] -= f * d[cj + i]!;
      }
    }
    if (j1 === n) break;
    // Step 2: panel L21 = A21 L11^-T, column by column.
    for (let j = j0; j < j1; j++) {
      const cj = j * ld;
      for (let p = j0; p < j; p++) {
        const f = d[j + p * ld]!;
        const cp = p * ld;
        for (let i = j1; i < n; i++) d[cj + i] -= f * d[cp + i]!;
      }
      const inv = 1 / d[cj + j]!;
      for (let i = j1; i < n; i++) d[cj + i] *= inv;
    }
    // Step 3: trailing update A22 -= L21 L21^T (lower triangle only).
    const m = n - j1;
    gemmStrided(m, m, j1 - j0, -1, d, j1 + j0 * ld, ld, false, d, j1 + j0 * ld, ld, true, d, j1 + j1 * ld, ld, true);
  }
  return l;
}
