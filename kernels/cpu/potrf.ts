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
 *
 * With the `threads` flag at 2 or more, each product of at least PARALLEL_MIN_FLOPS is cut into chunks of
 * C's columns (or rows) shared with the process-wide pool ({@link commonPool}), and the call blocks until the
 * helpers are done ({@link GemmPool.runChunksSync}), so cpuPotrf stays synchronous. Each large trailing
 * update also looks ahead: the helpers update all of A22 but its first diagonal block while this thread
 * updates and factors that block. The matrix lives in the kernel's shared memory and the leaves' scratch on
 * SharedArrayBuffers, so the helpers read and write it directly. Every entry is summed in the same order by
 * the same kernel either way: the factor is the same bit for bit.
 */
import { NotPositiveDefiniteError } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSquare } from '../validate.js';
import { sharedF64, type StridedProduct } from './eigh-products.js';
import { gemmStrided, kernelWorkspace } from './gemm-core.js';
import { commonPool, productSlices, type ChunkRun, type GemmPool } from './pool.js';
import { invertTriangle } from './trsm.js';

/** Widths at or below which the factor runs as plain loops. */
const LEAF = 32;
/** Widths at or below which the panel solve inverts its triangle (plain loops) and multiplies. */
const SOLVE_LEAF = 64;

/** Split point of a recursive step: about half, a multiple of 8 so the products' tiles stay whole. */
function split(n: number): number {
  return ((n >> 1) + 7) & ~7;
}

/** Products of fewer flops stay on the calling thread (a synchronous hand-off costs tens of microseconds). */
const PARALLEL_MIN_FLOPS = 2 * 128 ** 3;

/** Narrowest chunk of a split product (rows or columns of C). */
const MIN_CHUNK = 32;

/** Column chunks per thread of a split product: more balance the threads, fewer pack op(A) fewer times. */
const CHUNKS_PER_THREAD = 2;

/** Scratch of the solve's leaves: a leaf's inverse and a copy of its block of B (grown on demand), shared. */
const leafInv = sharedF64(SOLVE_LEAF * SOLVE_LEAF);
let leafB = sharedF64(0);

/** The pool of the factorisation under way (undefined: one thread). */
let pool: GemmPool | undefined;

/**
 * C += alpha op(A) op(B) (the arguments of gemmStrided): split over the pool when large, else on this thread.
 * Chunks are at least MIN_CHUNK wide, of C's rows when C is taller than wide (the solves' products), so
 * that no thread packs much more of op(A) or op(B) than its own share.
 */
function product(...p: StridedProduct): void {
  const [m, n, k, , a, , , , b, , , , c, , , lowerOnly = false] = p;
  const byRows = !lowerOnly && m > n;
  const chunks = pool === undefined ? 0 : Math.min(CHUNKS_PER_THREAD * pool.threads, Math.floor((byRows ? m : n) / MIN_CHUNK));
  if (chunks >= 2 && 2 * m * n * k >= PARALLEL_MIN_FLOPS && [a, b, c].every((x) => x.buffer instanceof SharedArrayBuffer)) {
    pool!.runChunksSync(productSlices(p, chunks, byRows));
  } else gemmStrided(...p);
}

/**
 * B := B L^-T in place: B m x n at b[bOff] (leading dimension ldb), L n x n lower triangular at l[lOff]
 * (ldl). Recursive over L's columns: X1 = B1 L11^-T, B2 -= X1 L21^T, X2 = B2 L22^-T; a leaf
 * (n <= SOLVE_LEAF) inverts its L11 and multiplies, X = B L11inv^T, so the leaf's m n^2 flops also run in
 * the product core. Cost m n^2 flops (plus the leaves' products over the zero triangle of L11inv^T).
 */
function solveRightLowerTrans(m: number, n: number, l: Float64Array, lOff: number, ldl: number, b: Float64Array, bOff: number, ldb: number): void {
  if (n <= SOLVE_LEAF) {
    invertTriangle(n, l, lOff, ldl, true, false, leafInv);
    if (leafB.length < m * n) leafB = sharedF64(m * n);
    for (let j = 0; j < n; j++) {
      const bj = bOff + j * ldb;
      leafB.set(b.subarray(bj, bj + m), j * m);
      b.fill(0, bj, bj + m);
    }
    product(m, n, n, 1, leafB, 0, m, false, leafInv, 0, n, true, b, bOff, ldb);
    return;
  }
  const n1 = split(n), n2 = n - n1;
  solveRightLowerTrans(m, n1, l, lOff, ldl, b, bOff, ldb);
  product(m, n2, n1, -1, b, bOff, ldb, false, l, lOff + n1, ldl, true, b, bOff + n1 * ldb, ldb);
  solveRightLowerTrans(m, n2, l, lOff + n1 + n1 * ldl, ldl, b, bOff + n1 * ldb, ldb);
}

/**
 * Factors the n x n lower triangle at d[off] (leading dimension ld) in place; `col0` is its first column in
 * the whole matrix (named by the error), `what` the operand description for it. `pending`: a helpers' run
 * still updating A21 and A22 of this block (the parent's lookahead), completed after A11 is factored.
 */
function factor(d: Float64Array, off: number, ld: number, n: number, col0: number, what: string, pending?: ChunkRun): void {
  if (n <= LEAF) {
    // Unblocked right-looking: scale column j by 1/sqrt(pivot), subtract its outer product from the rest.
    for (let j = 0; j < n; j++) {
      const cj = off + j * ld;
      const pivot = d[cj + j]!;
      if (!(pivot > 0)) throw new NotPositiveDefiniteError('cpu', what, col0 + j, pivot);
      const ljj = Math.sqrt(pivot);
      d[cj + j] = ljj;
      const inv = 1 / ljj;
      for (let i = j + 1; i < n; i++) d[cj + i]! *= inv;
      for (let jj = j + 1; jj < n; jj++) {
        const f = d[cj + jj]!;
        const cjj = off + jj * ld;
        for (let i = jj; i < n; i++) d[cjj + i]! -= f * d[cj + i]!;
      }
    }
    return;
  }
  const n1 = split(n), n2 = n - n1;
  const a21 = off + n1, a22 = off + n1 + n1 * ld;
  if (pending) {
    // The helpers may still be updating A21 and A22 (not A11): their run completes before the panel solve,
    // and before a pivot failure in A11 propagates (they write into this workspace).
    try {
      factor(d, off, ld, n1, col0, what);
    } finally {
      pool!.finishChunks(pending);
    }
  } else factor(d, off, ld, n1, col0, what);
  solveRightLowerTrans(n2, n1, d, off, ld, d, a21, ld);
  // Trailing update A22 -= L21 L21^T. Lookahead with a pool: the helpers start on all of it but the
  // diagonal block that factor(A22) factors first (its A11: p1 = split(n2) columns), which this thread
  // updates and factors meanwhile; factor(A22) completes the helpers' run before its panel solve.
  const p1 = split(n2), q = n2 - p1;
  if (pool !== undefined && n2 > LEAF && (2 * p1 + q) * q * n1 >= PARALLEL_MIN_FLOPS && d.buffer instanceof SharedArrayBuffer) {
    const parts = CHUNKS_PER_THREAD * pool.threads;
    const run = pool.startChunks([
      ...productSlices([q, p1, n1, -1, d, a21 + p1, ld, false, d, a21, ld, true, d, a22 + p1, ld], Math.min(parts, Math.floor(p1 / MIN_CHUNK))),
      ...productSlices([q, q, n1, -1, d, a21 + p1, ld, false, d, a21 + p1, ld, true, d, a22 + p1 + p1 * ld, ld, true], Math.min(parts, Math.floor(q / MIN_CHUNK))),
    ]);
    product(p1, p1, n1, -1, d, a21, ld, false, d, a21, ld, true, d, a22, ld, true);
    factor(d, a22, ld, n2, col0 + n1, what, run);
  } else {
    product(n2, n2, n1, -1, d, a21, ld, false, d, a21, ld, true, d, a22, ld, true);
    factor(d, a22, ld, n2, col0 + n1, what);
  }
}

/**
 * Returns L (n x n, lower, upper triangle zero). Throws NotPositiveDefiniteError naming the 0-based column
 * whose pivot was <= 0 (columns are factored left to right, each after all updates from those before it),
 * and KernelError for non-square or non-finite input.
 */
export function cpuPotrf(a: F64Matrix): F64Matrix {
  const n = checkSquare('potrf', 'cpu', a);
  const l = f64Matrix(n, n);
  factorInto(a, l, n);
  return l;
}

/**
 * Factors A in place: its lower triangle becomes L, the strict upper triangle is left as it was (callers
 * that read only the lower triangle save allocating a new n x n matrix: page faults on ~n^2 8 bytes).
 * Errors as {@link cpuPotrf}; after a NotPositiveDefiniteError, A is unchanged.
 */
export function cpuPotrfInPlace(a: F64Matrix): void {
  factorInto(a, a, checkSquare('potrf', 'cpu', a));
}

/** Lower triangle of A (n x n) factored in the product kernel's memory, L written to out's lower triangle. */
function factorInto(a: F64Matrix, out: F64Matrix, n: number): void {
  if (n === 0) return;
  // Factor in the product kernel's memory, so the trailing updates and solves update it in place.
  const w = kernelWorkspace(n * n);
  const src = a.data, lda = a.ld;
  for (let j = 0; j < n; j++) w.set(src.subarray(j + j * lda, n + j * lda), j + j * n);
  const common = commonPool();
  pool = common.threads >= 2 ? common : undefined;
  try {
    factor(w, 0, n, n, 0, `A ${shapeOf(a)}`);
  } finally {
    pool = undefined;
  }
  const dst = out.data, ldo = out.ld;
  for (let j = 0; j < n; j++) dst.set(w.subarray(j + j * n, n + j * n), j + j * ldo);
}
