/**
 * Implicit QL with Wilkinson shifts on a symmetric tridiagonal matrix (the tql2 iteration), f64: the eigenvalues,
 * with the rotations applied to the leading rows of an eigenvector matrix. With all n rows it gives the full
 * eigenvectors (the leaves of kernels/cpu/tridiagonal-eigen.ts); with one row only their first components (the
 * Gauss quadrature weights of src/lmm/biobank/tridiagonal.ts). Cost O(n^2) for the eigenvalues plus
 * O(n^2 zRows) for the rotations.
 */

/**
 * Implicit QL on T = tridiag(e, d, e) with e[i] = T[i+1, i] (e[n-1] must be 0); on return d holds the eigenvalues
 * (not sorted) and e is overwritten. z holds n columns of zRows entries (column j at z[j zRows ..]; initially the
 * identity's leading zRows rows, or any rows to be rotated), which are rotated into those rows of T's
 * eigenvectors. A subdiagonal entry is negligible when |e_m| <= eps (|d_m| + |d_{m+1}|). Returns -1, or the index
 * of the eigenvalue whose iteration did not converge in 60 sweeps (the caller reports it; d and z are then
 * partial).
 */
export function tridiagonalQl(d: Float64Array, e: Float64Array, n: number, z: Float64Array, zRows: number): number {
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      // Step: find a negligible off-diagonal entry e[m] (m = n - 1 when none).
      let m = l;
      for (; m < n - 1; m++) {
        if (Math.abs(e[m]!) <= eps * (Math.abs(d[m]!) + Math.abs(d[m + 1]!))) break;
      }
      if (m === l) break;
      if (++iter > 60) return l;
      // Step: shift from the leading 2x2 block (Wilkinson), then a QL sweep from m - 1 down to l.
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Recover from underflow: the block splits here.
          d[i + 1]! -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        // Rotate eigenvector columns i and i+1.
        const ci = i * zRows, ci1 = ci + zRows;
        for (let k = 0; k < zRows; k++) {
          const zi = z[ci + k]!;
          const zi1 = z[ci1 + k]!;
          z[ci1 + k] = s * zi + c * zi1;
          z[ci + k] = c * zi - s * zi1;
        }
      }
      if (underflow) continue;
      d[l]! -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return -1;
}
