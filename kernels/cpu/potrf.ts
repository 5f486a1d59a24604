/**
 * Cholesky factorisation on the cpu, f64: A = L L^T for symmetric positive-definite A (lower triangle read).
 * Recursive (as LAPACK dpotrf2, Gustavson's recursive Cholesky): with A split at n1 columns,
 *   L11 = chol(A11),  L21 = A21 L11^-T,  A22 -= L21 L21^T,  L22 = chol(A22),
 * the panel solve itself recursive the same way down to SOLVE_LEAF columns, where it inverts the diagonal
 * triangle and multiplies. So apart from the plain-loop factor leaves (n LEAF^2 / 3 flops) and the leaves'
 * inverses (about n SOLVE_LEAF^2 / 3 per level of the recursion), every flop runs in the shared product
 * core's micro-kernel, on a matrix held in the kernel's own memory (updated in place, no panel copies).
 * Cost n^3/3 flops (n^3/6 in the trailing updates, n^3/6 in the panel solves), plus at most m n SOLVE_LEAF/2
 * in the solve leaves' full-square products.
 */
import { NotPositiveDefiniteError } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSquare } from '../validate.js';
import { gemmStrided, kernelWorkspace } from './gemm-core.js';
import { invertTriangle } from './trsm.js';

/** Widths at or below which the factor runs as plain loops. */
const LEAF = 32;
/** Widths at or below which the panel solve inverts its triangle (plain loops) and multiplies. */
const SOLVE_LEAF = 64;

/** Split point of a recursive step: about half, a multiple of 8 so the products' tiles stay whole. */
function split(n: number): number {
  return ((n >> 1) + 7) & ~7;
}

/** Scratch of the solve's leaves: a leaf's inverse and a copy of its block of B (grown on demand). */
let leafInv = new Float64Array(SOLVE_LEAF * SOLVE_LEAF);
let leafB = new Float64Array(0);

/**
 * B := B L^-T in place: B m x n at b[bOff] (leading dimension ldb), L n x n lower triangular at l[lOff]
 * (ldl). Recursive over L's columns: X1 = B1 L11^-T, B2 -= X1 L21^T, X2 = B2 L22^-T; a leaf
 * (n <= SOLVE_LEAF) inverts its L11 and multiplies, X = B L11inv^T, so the leaf's m n^2 flops also run in
 * the product core. Cost m n^2 flops (plus the leaves' products over the zero triangle of L11inv^T).
 */
function solveRightLowerTrans(m: number, n: number, l: Float64Array, lOff: number, ldl: number, b: Float64Array, bOff: number, ldb: number): void {
  if (n <= SOLVE_LEAF) {
    invertTriangle(n, l, lOff, ldl, true, false, leafInv);
    if (leafB.length < m * n) leafB = new Float64Array(m * n);
    for (let j = 0; j < n; j++) {
      const bj = bOff + j * ldb;
      leafB.set(b.subarray(bj, bj + m), j * m);
      b.fill(0, bj, bj + m);
    }
    gemmStrided(m, n, n, 1, leafB, 0, m, false, leafInv, 0, n, true, b, bOff, ldb);
    return;
  }
  const n1 = split(n), n2 = n - n1;
  solveRightLowerTrans(m, n1, l, lOff, ldl, b, bOff, ldb);
  gemmStrided(m, n2, n1, -1, b, bOff, ldb, false, l, lOff + n1, ldl, true, b, bOff + n1 * ldb, ldb);
  solveRightLowerTrans(m, n2, l, lOff + n1 + n1 * ldl, ldl, b, bOff + n1 * ldb, ldb);
}

/**
 * Factors the n x n lower triangle at d[off] (leading dimension ld) in place; `col0` is its first column in
 * the whole matrix (named by the error), `what` the operand description for it.
 */
function factor(d: Float64Array, off: number, ld: number, n: number, col0: number, what: string): void {
  if (n <= LEAF) {
    // Unblocked right-looking: scale column j by 1/sqrt(pivot), subtract its outer product from the rest.
    for (let j = 0; j < n; j++) {
      const cj = off + j * ld;
      const pivot = d[cj + j]!;
      if (!(pivot > 0)) throw new NotPositiveDefiniteError('cpu', what, col0 + j, pivot);
      const ljj = Math.sqrt(pivot);
      d[cj + j] = ljj;
      const inv = 1 / ljj;
      for (let i = j + 1; i < n; i++) d[cj + i] *= inv;
      for (let jj = j + 1; jj < n; jj++) {
        const f = d[cj + jj]!;
        const cjj = off + jj * ld;
        for (let i = jj; i < n; i++) d[cjj + i] -= f * d[cj + i]!;
      }
    }
    return;
  }
  const n1 = split(n), n2 = n - n1;
  const a21 = off + n1, a22 = off + n1 + n1 * ld;
  factor(d, off, ld, n1, col0, what);
  solveRightLowerTrans(n2, n1, d, off, ld, d, a21, ld);
  gemmStrided(n2, n2, n1, -1, d, a21, ld, false, d, a21, ld, true, d, a22, ld, true);
  factor(d, a22, ld, n2, col0 + n1, what);
}

/**
 * Returns L (n x n, lower, upper triangle zero). Throws NotPositiveDefiniteError naming the 0-based column
 * whose pivot was <= 0 (columns are factored left to right, each after all updates from those before it),
 * and KernelError for non-square or non-finite input.
 */
export function cpuPotrf(a: F64Matrix): F64Matrix {
  const n = checkSquare('potrf', 'cpu', a);
  const l = f64Matrix(n, n);
  if (n === 0) return l;
  // Factor in the product kernel's memory, so the trailing updates and solves update it in place.
  const w = kernelWorkspace(n * n);
  const src = a.data, lda = a.ld;
  for (let j = 0; j < n; j++) w.set(src.subarray(j + j * lda, n + j * lda), j + j * n);
  factor(w, 0, n, n, 0, `A ${shapeOf(a)}`);
  for (let j = 0; j < n; j++) l.data.set(w.subarray(j + j * n, n + j * n), j + j * n);
  return l;
}
