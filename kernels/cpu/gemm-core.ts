/**
 * The strided f64 product core shared by every cpu op (gemm, syrk, blocked potrf/trsm, eigh back-transform).
 * BLAS-style raw arguments so callers can pass sub-blocks of a larger matrix without copying:
 * element (i, j) of a view is data[off + i + j * ld].
 */

/**
 * C[0:m, 0:n] += alpha op(A) op(B), op(A) m x k, op(B) k x n.
 * With `lowerOnly`, only entries i >= j of C are updated (the syrk triangle); the rest is untouched.
 * Cost 2mnk flops (about half that with lowerOnly and m = n).
 */
export function gemmStrided(
  m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOff: number, lda: number, transA: boolean,
  b: Float64Array, bOff: number, ldb: number, transB: boolean,
  c: Float64Array, cOff: number, ldc: number,
  lowerOnly = false,
): void {
  if (m === 0 || n === 0 || k === 0 || alpha === 0) return;
  // Step 1: make op(A) column-contiguous (a packed copy of A^T when transposed).
  let ap = a, apOff = aOff, ldap = lda;
  if (transA) {
    ap = new Float64Array(m * k);
    for (let i = 0; i < m; i++) {
      const src = aOff + i * lda;
      for (let p = 0; p < k; p++) ap[i + p * m] = a[src + p]!;
    }
    apOff = 0;
    ldap = m;
  }
  // Step 2: column j of C gathers axpy updates from the columns of op(A).
  for (let j = 0; j < n; j++) {
    const cj = cOff + j * ldc;
    const i0 = lowerOnly ? j : 0;
    for (let p = 0; p < k; p++) {
      const bpj = alpha * (transB ? b[bOff + j + p * ldb]! : b[bOff + p + j * ldb]!);
      if (bpj === 0) continue;
      const ac = apOff + p * ldap;
      for (let i = i0; i < m; i++) c[cj + i] += bpj * ap[ac + i]!;
    }
  }
}
