/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix T (diagonal d, subdiagonal e), f64:
 * implicit QL for small blocks and Cuppen's divide and conquer (LAPACK dstedc/dlaed0-3) above them.
 *
 * Divide and conquer: tear T = diag(T1, T2) + rho u u^T at the middle (rho = |e_mid|), solve both halves,
 * then solve D + rho z z^T (z = Q^T u) for the merged block: deflate components with negligible z or
 * (after a plane rotation) near-equal poles, find each remaining root of the secular equation
 * 1 + rho sum_j z_j^2 / (delta_j - lambda) = 0 by bracketed Newton steps on lambda - delta_origin (origin:
 * the nearer pole, so every difference delta_j - lambda keeps full relative accuracy), recompute z from the
 * roots (Gu and Eisenstat, 1995) so the rank-one eigenvectors z_j / (delta_j - lambda) are orthogonal to
 * working precision, and multiply them into the halves' vectors with two products (one per half's rows, as
 * dlaed3), yielded to the caller's driver (kernels/cpu/eigh-products.ts).
 * Cost O(n^2) for the roots plus at most about (4/3) n^3 flops of products (less with deflation).
 */
import { KernelError } from '../backend.js';
import { sharedF64, type Products } from './eigh-products.js';
import { tridiagonalQl } from './tridiagonal-ql.js';

/** Blocks of at most this size are solved by QL. */
const LEAF = 32;

/**
 * All eigenpairs of T = tridiag(d, e) (e[i] = T[i+1, i], e[n-1] ignored): on return d holds the eigenvalues
 * (not sorted) and the packed n x n z the eigenvectors as columns. `shapes` names the caller's operand.
 * z should be on a SharedArrayBuffer when the driver hands products to worker threads.
 */
export function* tridiagonalEigen(d: Float64Array, e: Float64Array, n: number, z: Float64Array, shapes: string): Products<void> {
  // Scale to unit max-norm so tolerances and the secular equation work on O(1) numbers.
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]!), i + 1 < n ? Math.abs(e[i]!) : 0);
  z.fill(0, 0, n * n);
  if (scale === 0) {
    for (let i = 0; i < n; i++) z[i + i * n] = 1;
    return;
  }
  for (let i = 0; i < n; i++) {
    d[i]! /= scale;
    e[i]! /= scale;
  }
  e[n - 1] = 0;
  const scratch: MergeScratch = n <= LEAF ? { q: sharedF64(0), diff: sharedF64(0) } : { q: sharedF64(n * n), diff: sharedF64(n * n) };
  yield* divideConquer(d, e, 0, n, n, z, scratch, shapes);
  for (let i = 0; i < n; i++) d[i]! *= scale;
}

/**
 * The merges' working arrays, n^2 f64 each, allocated once per decomposition (merges run one at a time and
 * each uses the leading part), shared for the driver's threads since both are product operands: the halves'
 * vectors Q (s x s; kept columns first, in product order) and the root differences, then U (k x k).
 */
interface MergeScratch {
  q: Float64Array;
  diff: Float64Array;
}

/**
 * Permutes the s-long columns of x (leading dimension s) in place so that column i becomes the old column
 * from[i] (`from` a permutation of 0..cols-1), following its cycles with one column of scratch. O(cols s).
 */
export function permuteColumns(x: Float64Array, s: number, from: Int32Array): void {
  const cols = from.length;
  const done = new Uint8Array(cols);
  const tmp = new Float64Array(s);
  for (let i = 0; i < cols; i++) {
    if (done[i] || from[i] === i) continue;
    tmp.set(x.subarray(i * s, i * s + s));
    for (let j = i; ; ) {
      done[j] = 1;
      const src = from[j]!;
      if (src === i) {
        x.set(tmp, j * s);
        break;
      }
      x.copyWithin(j * s, src * s, src * s + s);
      j = src;
    }
  }
}

/** Eigenpairs of the block [lo, hi) of T into d[lo:hi] and z[lo:hi, lo:hi] (z has leading dimension ld). */
function* divideConquer(d: Float64Array, e: Float64Array, lo: number, hi: number, ld: number, z: Float64Array, scratch: MergeScratch, shapes: string): Products<void> {
  const s = hi - lo;
  if (s <= LEAF) {
    const dl = d.subarray(lo, hi);
    const el = Float64Array.from(e.subarray(lo, hi));
    el[s - 1] = 0;
    const zl = new Float64Array(s * s);
    for (let i = 0; i < s; i++) zl[i + i * s] = 1;
    const failed = tridiagonalQl(dl, el, s, zl, s);
    if (failed >= 0) throw new KernelError('eigh', 'cpu', shapes, `QL iteration did not converge for eigenvalue ${failed}`);
    for (let j = 0; j < s; j++) z.set(zl.subarray(j * s, j * s + s), lo + (lo + j) * ld);
    return;
  }
  const mid = lo + (s >> 1);
  const beta = e[mid - 1]!;
  const rho = Math.abs(beta);
  // Tear: T = diag(T1 - rho e_k e_k^T, T2 - rho e_1 e_1^T) + rho u u^T, u = [e_k; sign(beta) e_1].
  d[mid - 1]! -= rho;
  d[mid]! -= rho;
  yield* divideConquer(d, e, lo, mid, ld, z, scratch, shapes);
  yield* divideConquer(d, e, mid, hi, ld, z, scratch, shapes);
  yield* merge(d, lo, mid, hi, rho, beta >= 0 ? 1 : -1, ld, z, scratch);
}

/**
 * Merges two solved halves: D + rho z z^T with D = [d1; d2], z = [last row of Q1; sign * first row of Q2].
 * Writes the block's eigenvalues into d[lo:hi] and eigenvectors into z[lo:hi, lo:hi].
 */
function* merge(d: Float64Array, lo: number, mid: number, hi: number, rho0: number, sign: number, ld: number, z: Float64Array, scratch: MergeScratch): Products<void> {
  const s = hi - lo;
  const n1 = mid - lo;
  // Step 1: sort the poles, gathering Q's columns (packed s x s) and z in that order.
  const order = Array.from({ length: s }, (_, i) => i).sort((x, y) => d[lo + x]! - d[lo + y]!);
  const q = scratch.q.subarray(0, s * s);
  const ds = new Float64Array(s);
  const zs = new Float64Array(s);
  // Column kind: 0 = nonzero only in the top n1 rows (from Q1), 2 = only the bottom rows (Q2), 1 = both.
  const kind = new Uint8Array(s);
  let znorm2 = 0;
  for (let c = 0; c < s; c++) {
    const j = order[c]!;
    ds[c] = d[lo + j]!;
    const src = lo + (lo + j) * ld;
    if (j < n1) {
      q.set(z.subarray(src, src + n1), c * s);
      q.fill(0, c * s + n1, c * s + s);
      zs[c] = z[src + n1 - 1]!;
      kind[c] = 0;
    } else {
      q.fill(0, c * s, c * s + n1);
      q.set(z.subarray(src + n1, src + s), c * s + n1);
      zs[c] = sign * z[src + n1]!;
      kind[c] = 2;
    }
    znorm2 += zs[c]! * zs[c]!;
  }
  const znorm = Math.sqrt(znorm2);
  for (let c = 0; c < s; c++) zs[c]! /= znorm;
  const rho = rho0 * znorm2;
  // Step 2: deflation (dlaed2): negligible rho |z_j|, or near-equal poles merged by a plane rotation.
  let dmax = 0, zmax = 0;
  for (let c = 0; c < s; c++) {
    dmax = Math.max(dmax, Math.abs(ds[c]!));
    zmax = Math.max(zmax, Math.abs(zs[c]!));
  }
  const tol = 8 * Number.EPSILON * Math.max(dmax, zmax);
  const kept: number[] = [];
  const deflated: number[] = [];
  let prev = -1;
  for (let c = 0; c < s; c++) {
    if (rho * Math.abs(zs[c]!) <= tol) {
      deflated.push(c);
      continue;
    }
    if (prev < 0) {
      prev = c;
      continue;
    }
    const tau = Math.hypot(zs[c]!, zs[prev]!);
    const cs = zs[c]! / tau;
    const sn = -zs[prev]! / tau;
    const t = ds[c]! - ds[prev]!;
    if (Math.abs(t * cs * sn) <= tol) {
      // Rotate columns prev and c so that z_prev becomes 0: pole prev deflates.
      zs[c] = tau;
      zs[prev] = 0;
      const cp = prev * s, cc = c * s;
      for (let r = 0; r < s; r++) {
        const x = q[cp + r]!, y = q[cc + r]!;
        q[cp + r] = cs * x + sn * y;
        q[cc + r] = cs * y - sn * x;
      }
      const dp = ds[prev]!, dc = ds[c]!;
      ds[prev] = dp * cs * cs + dc * sn * sn;
      ds[c] = dp * sn * sn + dc * cs * cs;
      if (kind[prev] !== kind[c]) kind[c] = 1;
      deflated.push(prev);
    } else {
      kept.push(prev);
    }
    prev = c;
  }
  if (prev >= 0) kept.push(prev);
  const k = kept.length;
  // Step 3: secular roots lambda_i = origin_i + tau_i, and delta[j, i] = delta_j - lambda_i.
  const delta = new Float64Array(k);
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    delta[i] = ds[kept[i]!]!;
    w[i] = zs[kept[i]!]!;
  }
  const diff = scratch.diff.subarray(0, k * k);
  const lambda = new Float64Array(k);
  const w2 = w.map((x) => x * x);
  for (let i = 0; i < k; i++) secularRoot(delta, w2, k, rho, i, diff, lambda);
  // Step 4: Gu-Eisenstat: w_hat_j^2 = prod_i (lambda_i - delta_j) / (rho prod_{i != j} (delta_i - delta_j)).
  // The products run over i in ascending order for every j; the loops go column by column through diff.
  const what = new Float64Array(k);
  for (let j = 0; j < k; j++) what[j] = -diff[j + (k - 1) * k]! / rho;
  for (let i = 0; i < k - 1; i++) {
    const ci = i * k;
    const di = delta[i]!, di1 = delta[i + 1]!;
    for (let j = 0; j <= i; j++) what[j]! *= -diff[ci + j]! / (di1 - delta[j]!);
    for (let j = i + 1; j < k; j++) what[j]! *= -diff[ci + j]! / (di - delta[j]!);
  }
  for (let j = 0; j < k; j++) what[j] = (w[j]! >= 0 ? 1 : -1) * Math.sqrt(Math.max(what[j]!, 0));
  // Step 5: the new vectors are Q[:, kept] U, computed exploiting Q's block structure (dlaed3): with the kept
  // columns grouped as top-only, mixed, bottom-only, the top n1 rows need only the first two groups and
  // the bottom rows only the last two, which halves the product when little deflates across the halves.
  const grouped = new Int32Array(k);
  let nTop = 0, nBot = 0, ng = 0;
  for (const want of [0, 1, 2]) {
    for (let r = 0; r < k; r++) {
      if (kind[kept[r]!] !== want) continue;
      grouped[ng++] = r;
      if (want === 0) nTop++;
      else if (want === 2) nBot++;
    }
  }
  // Step 6: rank-one eigenvectors u_i[j] = w_hat_j / (delta_j - lambda_i), normalised, in place of diff with
  // rows in group order (U[g + i k] = u_i[grouped[g]]); Q's columns reordered in place to [kept columns in
  // group order | deflated columns].
  const row = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const ci = i * k;
    let nrm = 0;
    for (let j = 0; j < k; j++) {
      const v = what[j]! / diff[ci + j]!;
      row[j] = v;
      nrm += v * v;
    }
    const inv = 1 / Math.sqrt(nrm);
    for (let g = 0; g < k; g++) diff[ci + g] = row[grouped[g]!]! * inv;
  }
  const from = new Int32Array(s);
  for (let g = 0; g < k; g++) from[g] = kept[grouped[g]!]!;
  for (let t = 0; t < deflated.length; t++) from[k + t] = deflated[t]!;
  permuteColumns(q, s, from);
  const out = lo + lo * ld;
  for (let j = 0; j < s; j++) z.fill(0, out + j * ld, out + j * ld + s);
  yield [n1, k, k - nBot, 1, q, 0, s, false, diff, 0, k, false, z, out, ld];
  yield [s - n1, k, k - nTop, 1, q, n1 + nTop * s, s, false, diff, nTop, k, false, z, out + n1, ld];
  for (let i = 0; i < k; i++) d[lo + i] = lambda[i]!;
  for (let t = 0; t < deflated.length; t++) {
    d[lo + k + t] = ds[deflated[t]!]!;
    z.set(q.subarray((k + t) * s, (k + t) * s + s), out + (k + t) * ld);
  }
}

/**
 * Root i of f(lambda) = 1 + rho sum_j w_j^2 / (delta_j - lambda) (rho > 0, delta ascending, sum w^2 = 1;
 * `w2` holds the w_j^2), which lies in (delta_i, delta_{i+1}) or, for the last, in (delta_{k-1},
 * delta_{k-1} + rho].
 * Solved for tau = lambda - origin (origin: the nearer pole, so every difference delta_j - lambda keeps full
 * relative accuracy) by the fixed-weight rational steps of Li's "middle way" (as LAPACK dlaed4): around
 * the current tau, g = f / rho is modelled as c + s1 / (D_a - x) + s2 / (D_b - x) with the two poles a, b
 * nearest the root (D_j = delta_j - origin - tau), matching g and g', and the step x is the model's root
 * (a quadratic). Every iterate stays inside a bisection bracket (Newton, then bisection, when a step
 * leaves it). Stops when |g| is within the rounding error of its evaluation,
 * 8 eps (1/rho + sum_j |w_j^2 / D_j|) + eps |tau| g' (dlaed4's test), usually after 2 to 4 steps, or
 * after 200. Each step costs O(k); writes lambda[i] and diff[j + i k] = (delta_j - origin) - tau, i.e.
 * delta_j - lambda_i with the differences' full relative accuracy.
 */
function secularRoot(delta: Float64Array, w2: Float64Array, k: number, rho: number, i: number, diff: Float64Array, lambda: Float64Array): void {
  const ci = i * k;
  const eps = Number.EPSILON;
  const rhoInv = 1 / rho;
  if (k === 1) {
    // One pole: 1/rho + w_0^2 / (delta_0 - lambda) = 0 exactly at lambda = delta_0 + rho w_0^2.
    lambda[i] = delta[0]! + rho * w2[0]!;
    diff[ci] = -rho * w2[0]!;
    return;
  }
  let org: number, lo: number, hi: number;
  if (i === k - 1) {
    org = i;
    lo = 0;
    hi = rho;
  } else {
    // The sign of f at the midpoint picks the origin (the root lies in the half next to it).
    const gap = delta[i + 1]! - delta[i]!;
    const di = delta[i]!;
    let f = 0;
    for (let j = 0; j < k; j++) f += w2[j]! / (delta[j]! - di - gap / 2);
    if (rhoInv + f >= 0) {
      org = i;
      lo = 0;
      hi = gap / 2;
    } else {
      org = i + 1;
      lo = -gap / 2;
      hi = 0;
    }
  }
  const dorg = delta[org]!;
  // The model's two poles: i and i+1 for an interior root, k-2 and k-1 (both left of it) for the last.
  const pa = i === k - 1 ? k - 2 : i;
  const pb = pa + 1;
  let tau = 0.5 * (lo + hi);
  // Each pass writes diff[ci + j] = (delta_j - origin) - tau for its tau: the result once tau stops moving.
  for (let it = 0; ; it++) {
    let psi = 0, dpsi = 0, phi = 0, dphi = 0, abs = 0;
    for (let j = 0; j <= pa; j++) {
      const dj = delta[j]! - dorg - tau;
      diff[ci + j] = dj;
      const inv = 1 / dj;
      const t = w2[j]! * inv;
      psi += t;
      dpsi += t * inv;
      abs += Math.abs(t);
    }
    for (let j = pb; j < k; j++) {
      const dj = delta[j]! - dorg - tau;
      diff[ci + j] = dj;
      const inv = 1 / dj;
      const t = w2[j]! * inv;
      phi += t;
      dphi += t * inv;
      abs += Math.abs(t);
    }
    const g = rhoInv + psi + phi;
    const dg = dpsi + dphi;
    if (it === 200 || Math.abs(g) <= 8 * eps * (rhoInv + abs) + eps * Math.abs(tau) * dg) break;
    if (g > 0) hi = tau;
    else lo = tau;
    // Fixed-weight model: c x^2 - A x + B = 0.
    const da = diff[ci + pa]!, db = diff[ci + pb]!;
    const c = g - da * dpsi - db * dphi;
    const A = (da + db) * g - da * db * dg;
    const B = da * db * g;
    const disc = Math.sqrt(Math.abs(A * A - 4 * B * c));
    let x: number;
    if (c === 0) x = B / A;
    else if (i === k - 1) x = A >= 0 ? (A + disc) / (2 * c) : (2 * B) / (A - disc);
    else x = A <= 0 ? (A - disc) / (2 * c) : (2 * B) / (A + disc);
    let next = tau + x;
    if (!(next > lo && next < hi)) next = tau - g / dg;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next === tau || next <= lo || next >= hi) break;
    tau = next;
  }
  lambda[i] = dorg + tau;
}
