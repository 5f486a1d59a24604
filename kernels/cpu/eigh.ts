/**
 * Symmetric eigendecomposition on the cpu, f64: A = V diag(w) V^T, w ascending, V orthonormal.
 * Householder tridiagonalisation Q^T A Q = T (LAPACK dsytrd, lower), explicit Q (dorgtr), then implicit QL
 * with Wilkinson-style shifts on T (EISPACK tql2 / LAPACK dsteqr) accumulating plane rotations into Q.
 * Backward stable: ||A V - V diag(w)|| and ||V^T V - I|| are O(n eps ||A||). Cost about 4/3 n^3 (reduction)
 * + 4/3 n^3 (Q) + 6 n^3 (rotations) flops.
 */
import { KernelError, type EighResult } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSquare } from '../validate.js';

/** Eigenvalues ascending and orthonormal eigenvectors of the symmetric A (only its lower triangle is read). */
export function cpuEigh(a: F64Matrix): EighResult {
  const n = checkSquare('eigh', 'cpu', a);
  const ld = Math.max(1, n);
  const w = new Float64Array(n);
  const v = f64Matrix(n, n);
  const work = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) work[i + j * ld] = a.data[i + j * a.ld]!;
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  tridiagonalise(work, n, w, e, tau);
  formQ(work, n, tau, v.data);
  tridiagonalQl(w, e, n, v.data, `A ${shapeOf(a)}`);
  sortAscending(w, v.data, n);
  return { values: w, vectors: v };
}

/** 2-norm of x[off : off+len] with scaling (no overflow or underflow for extreme magnitudes). */
function scaledNorm(x: Float64Array, off: number, len: number): number {
  let scale = 0;
  for (let i = 0; i < len; i++) scale = Math.max(scale, Math.abs(x[off + i]!));
  if (scale === 0) return 0;
  const inv = 1 / scale;
  let s = 0;
  for (let i = 0; i < len; i++) {
    const t = x[off + i]! * inv;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/**
 * In place on the packed lower triangle of `a` (n x n): reflectors H_k = I - tau_k v_k v_k^T with
 * v_k = [0..0, 1, a[k+2:n, k]] so that H_{n-3}..H_0 A H_0..H_{n-3} = T; d = diag(T), e = subdiagonal.
 * Each step: p = tau A22 v (symv), w = p - (tau/2)(p.v) v, A22 -= v w^T + w v^T (syr2), lower half only.
 */
function tridiagonalise(a: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): void {
  const p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    d[k] = a[k + k * n]!;
    const col = k * n;
    const alpha = a[col + k + 1]!;
    const xnorm = scaledNorm(a, col + k + 2, n - k - 2);
    if (xnorm === 0) {
      tau[k] = 0;
      e[k] = alpha;
      continue;
    }
    // Step 1: reflector (dlarfg): beta = -sign(alpha) ||x||, v = x / (alpha - beta), v_0 = 1.
    const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, xnorm);
    const t = (beta - alpha) / beta;
    tau[k] = t;
    e[k] = beta;
    const scal = 1 / (alpha - beta);
    for (let i = k + 2; i < n; i++) a[col + i] *= scal;
    a[col + k + 1] = 1;
    // Step 2: p = tau A22 v over the lower triangle of A22 = a[k+1:n, k+1:n].
    const s0 = k + 1;
    p.fill(0, s0, n);
    for (let j = s0; j < n; j++) {
      const cj = j * n;
      const vj = a[col + j]!;
      let acc = a[cj + j]! * vj;
      for (let i = j + 1; i < n; i++) {
        const aij = a[cj + i]!;
        p[i] += aij * vj;
        acc += aij * a[col + i]!;
      }
      p[j] += acc;
    }
    let pv = 0;
    for (let i = s0; i < n; i++) {
      p[i] *= t;
      pv += p[i]! * a[col + i]!;
    }
    // Step 3: w = p - (tau/2)(p.v) v, then the symmetric rank-2 update of the lower triangle.
    const h = 0.5 * t * pv;
    for (let i = s0; i < n; i++) p[i] -= h * a[col + i]!;
    for (let j = s0; j < n; j++) {
      const cj = j * n;
      const vj = a[col + j]!;
      const wj = p[j]!;
      for (let i = j; i < n; i++) a[cj + i] -= a[col + i]! * wj + p[i]! * vj;
    }
  }
  if (n >= 2) {
    d[n - 2] = a[n - 2 + (n - 2) * n]!;
    e[n - 2] = a[n - 1 + (n - 2) * n]!;
  }
  if (n >= 1) d[n - 1] = a[n * n - 1]!;
  e[n - 1] = 0;
}

/** Q = H_0 H_1 ... H_{n-3} into packed q (n x n), applying reflectors backwards to the identity (dorg2l). */
function formQ(a: Float64Array, n: number, tau: Float64Array, q: Float64Array): void {
  for (let i = 0; i < n; i++) q[i + i * n] = 1;
  for (let k = n - 3; k >= 0; k--) {
    const t = tau[k]!;
    if (t === 0) continue;
    const col = k * n;
    for (let j = k + 1; j < n; j++) {
      const cj = j * n;
      let s = 0;
      for (let i = k + 1; i < n; i++) s += a[col + i]! * q[cj + i]!;
      s *= t;
      if (s === 0) continue;
      for (let i = k + 1; i < n; i++) q[cj + i] -= s * a[col + i]!;
    }
  }
}

/**
 * Implicit QL on the symmetric tridiagonal (d, e) with e[i] = T[i+1, i]; on return d holds the eigenvalues
 * and the columns of z (n x n, initially Q) have been rotated into the eigenvectors of A.
 * A subdiagonal entry is negligible when |e_m| <= eps (|d_m| + |d_{m+1}|).
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number, z: Float64Array, shapes: string): void {
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        if (Math.abs(e[m]!) <= eps * (Math.abs(d[m]!) + Math.abs(d[m + 1]!))) break;
      }
      if (m === l) break;
      if (++iter > 60) throw new KernelError('eigh', 'cpu', shapes, `QL iteration did not converge for eigenvalue ${l}`);
      // Shift from the leading 2x2 block (Wilkinson).
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
          d[i + 1] -= p;
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
        const ci = i * n, ci1 = ci + n;
        for (let k = 0; k < n; k++) {
          const zi = z[ci + k]!;
          const zi1 = z[ci1 + k]!;
          z[ci1 + k] = s * zi + c * zi1;
          z[ci + k] = c * zi - s * zi1;
        }
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/** Sorts eigenvalues ascending, permuting the columns of z alongside (selection sort: n column swaps). */
function sortAscending(d: Float64Array, z: Float64Array, n: number): void {
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (d[j]! < d[k]!) k = j;
    if (k === i) continue;
    const t = d[i]!;
    d[i] = d[k]!;
    d[k] = t;
    const ci = i * n, ck = k * n;
    for (let r = 0; r < n; r++) {
      const x = z[ci + r]!;
      z[ci + r] = z[ck + r]!;
      z[ck + r] = x;
    }
  }
}
