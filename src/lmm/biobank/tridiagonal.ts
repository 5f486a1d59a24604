/**
 * Eigenvalues and first eigenvector components of a small symmetric tridiagonal matrix (a Lanczos T_k): the
 * nodes theta_i and weights tau_i^2 of the Gauss quadrature rule v' f(A) v ~= |v|^2 sum_i tau_i^2 f(theta_i)
 * (Golub and Welsch 1969). Implicit QL with Wilkinson shifts (the tql2 iteration: kernels/cpu/tridiagonal-ql.ts),
 * with only the first row of the eigenvector matrix carried along: O(k^2) for k x k, f64.
 */
import { tridiagonalQl } from '../../../kernels/cpu/tridiagonal-ql.js';

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
  // Only the first row of the eigenvector matrix is carried (zRows = 1): its squares are the weights.
  const failed = tridiagonalQl(d, e, k, z, 1);
  if (failed >= 0) throw new RangeError(`gaussRule: QL iteration did not converge for eigenvalue ${failed} of ${k}`);
  const weight = new Float64Array(k);
  for (let i = 0; i < k; i++) weight[i] = z[i]! * z[i]!;
  return { theta: d, weight };
}
