/**
 * In-place dense Cholesky of the lower triangle of a column-major symmetric matrix, the fill-in block of
 * the blocked penalised least-squares factor. f64 throughout.
 *
 * Right-looking, blocked by `NB` columns: factor the diagonal block, solve the panel below it, then update
 * the trailing lower triangle with the panel (a rank-NB syrk), four panel columns per pass so each element
 * of the trailing matrix is loaded and stored once per four multiply-adds. Cost n^3/3 flops, O(1) extra
 * memory. Only the lower triangle (i >= j) is read or written.
 */

const NB = 48;

/**
 * Factors A = L L^T in place (lower triangle of `a`, n x n, leading dimension n).
 * Returns -1 on success, else the column whose pivot was not positive (the factor is then incomplete).
 */
export function potrfLowerInPlace(a: Float64Array, n: number): number {
  for (let k0 = 0; k0 < n; k0 += NB) {
    const k1 = Math.min(n, k0 + NB);
    // step 1: unblocked left-looking factor of the panel columns k0..k1-1 (rows k0..n-1)
    for (let j = k0; j < k1; j++) {
      const cj = j * n;
      for (let k = k0; k < j; k++) {
        const ljk = a[j + k * n]!;
        if (ljk === 0) continue;
        const ck = k * n;
        for (let i = j; i < n; i++) a[cj + i]! -= a[ck + i]! * ljk;
      }
      const d = a[cj + j]!;
      if (!(d > 0)) return j;
      const s = Math.sqrt(d);
      a[cj + j] = s;
      const inv = 1 / s;
      for (let i = j + 1; i < n; i++) a[cj + i]! *= inv;
    }
    // step 2: trailing update A22 -= L21 L21^T over columns j >= k1, four panel columns at a time
    for (let j = k1; j < n; j++) {
      const cj = j * n;
      let k = k0;
      for (; k + 3 < k1; k += 4) {
        const c0 = k * n;
        const c1 = c0 + n;
        const c2 = c1 + n;
        const c3 = c2 + n;
        const l0 = a[c0 + j]!;
        const l1 = a[c1 + j]!;
        const l2 = a[c2 + j]!;
        const l3 = a[c3 + j]!;
        if (l0 === 0 && l1 === 0 && l2 === 0 && l3 === 0) continue;
        for (let i = j; i < n; i++) {
          a[cj + i]! -= a[c0 + i]! * l0 + a[c1 + i]! * l1 + a[c2 + i]! * l2 + a[c3 + i]! * l3;
        }
      }
      for (; k < k1; k++) {
        const ck = k * n;
        const l0 = a[ck + j]!;
        if (l0 === 0) continue;
        for (let i = j; i < n; i++) a[cj + i]! -= a[ck + i]! * l0;
      }
    }
  }
  return -1;
}
