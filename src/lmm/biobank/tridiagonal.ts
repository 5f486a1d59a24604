/**
 * Eigenvalues and first eigenvector components of a small symmetric tridiagonal matrix (a Lanczos T_k): the
 * nodes theta_i and weights tau_i^2 of the Gauss quadrature rule v' f(A) v ~= |v|^2 sum_i tau_i^2 f(theta_i)
 * (Golub and Welsch 1969). Implicit QL with Wilkinson shifts (the tql2 iteration), with only the first row of
 * the eigenvector matrix carried along: O(k^2) for k x k, f64.
 */

/** Gauss quadrature nodes (eigenvalues of T) and weights (squared first components, summing to 1). */
export interface GaussRule {
  theta: Float64Array;
  weight: Float64Array;
}

/**
 * The Gauss rule of T = tridiag(beta, alpha, beta): alpha[0..k) on the diagonal, beta[0..k-1) off it
 * (beta[i] = T[i, i+1]). Throws a RangeError when the iteration does not converge (60 sweeps per
 * eigenvalue; never seen for finite input) or the input is not finite.
 */
export function gaussRule(alpha: ArrayLike<number>, beta: ArrayLike<number>, k = alpha.length): GaussRule {
  if (k < 1 || alpha.length < k || beta.length < k - 1) throw new RangeError(`gaussRule: need ${k} diagonal and ${k - 1} off-diagonal entries`);
  const d = new Float64Array(k);
  const e = new Float64Array(k);
  const z = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    d[i] = alpha[i]!;
    if (i + 1 < k) e[i] = beta[i]!;
    if (!Number.isFinite(d[i]!) || !Number.isFinite(e[i]!)) throw new RangeError(`gaussRule: non-finite entry at ${i}`);
  }
  z[0] = 1;
  for (let l = 0; l < k; l++) {
    let iter = 0;
    for (;;) {
      // Step: find a negligible off-diagonal entry e[m] (m = k - 1 when none).
      let m = l;
      for (; m < k - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter++ === 60) throw new RangeError(`gaussRule: QL iteration did not converge for eigenvalue ${l} of ${k}`);
      // Step: Wilkinson shift, then a QL sweep from m - 1 down to l (rotating the first row of Z too).
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1]! -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const zf = z[i + 1]!;
        z[i + 1] = s * z[i]! + c * zf;
        z[i] = c * z[i]! - s * zf;
      }
      if (r === 0 && i >= l) continue;
      d[l]! -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  const weight = new Float64Array(k);
  for (let i = 0; i < k; i++) weight[i] = z[i]! * z[i]!;
  return { theta: d, weight };
}
