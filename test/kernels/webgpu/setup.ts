/**
 * Shared set-up of the WebGPU tests: whether an adapter exists (the files skip, with the reason printed,
 * only when none does), the error bounds the f32 kernels are held to, and well-conditioned inputs.
 */
import { afterAll, beforeAll } from 'vitest';
import { webGpuBackendInfo } from '../../../kernels/webgpu/backend.js';
import { GpuContext } from '../../../kernels/webgpu/context.js';
import { acquireDevice, releaseDevice, type SharedDevice } from '../../../kernels/webgpu/device.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { randomMatrix, rng } from '../../helpers/random.js';

export const info = await webGpuBackendInfo();
if (!info.available) console.warn(`webgpu tests skipped: ${info.reason}`);

/**
 * For the tests of the calling describe block: a GpuContext on the shared device, acquired before them and
 * released after them. Returns its getter (valid inside the tests).
 */
export function useGpuContext(): () => GpuContext {
  let shared: SharedDevice | undefined;
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    shared = await acquireDevice();
    ctx = new GpuContext(shared);
  });
  afterAll(() => {
    if (shared) releaseDevice(shared);
  });
  return () => ctx!;
}

/** Unit roundoff of f32. */
export const U32 = 2 ** -24;

/**
 * Componentwise bound of an f32 product (Higham, Thm 3.5, with the f32 rounding of the inputs):
 * |C - C_ref| <= (k + 2) u |alpha| |op(A)| |op(B)| + u |beta C|, entry by entry; returns the largest ratio
 * |error| / bound (<= 1 passes). It holds whatever the conditioning, so ill-scaled inputs are tested with it.
 */
export function productBoundRatio(c: F64Matrix, ref: F64Matrix, absA: F64Matrix, absB: F64Matrix, k: number, alpha = 1, beta = 0, c0?: F64Matrix): number {
  let worst = 0;
  for (let j = 0; j < c.cols; j++) {
    for (let i = 0; i < c.rows; i++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += absA.data[i + p * absA.ld]! * absB.data[p + j * absB.ld]!;
      const bound = (k + 2) * U32 * Math.abs(alpha) * s + 2 * U32 * Math.abs(beta * (c0 ? c0.data[i + j * c0.ld]! : 0)) + 1e-300;
      worst = Math.max(worst, Math.abs(c.data[i + j * c.ld]! - ref.data[i + j * ref.ld]!) / bound);
    }
  }
  return worst;
}

/** |op(X)| as a packed matrix (for the product bound). */
export function absOp(x: F64Matrix, trans: boolean): F64Matrix {
  const r = trans ? x.cols : x.rows;
  const c = trans ? x.rows : x.cols;
  const out = f64Matrix(r, c);
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) out.data[i + j * r] = Math.abs(trans ? x.data[j + i * x.ld]! : x.data[i + j * x.ld]!);
  return out;
}

/** A well-conditioned triangular matrix (off-diagonal N(0,1)/n, diagonal in [1, 2]); the other triangle is NaN. */
export function triangular(n: number, seed: number, lower: boolean, ld = n): F64Matrix {
  const t = randomMatrix(n, n, seed, ld);
  const u = rng(seed + 1);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      if (i === j) t.data[i + j * ld] = 1 + u();
      else if (lower ? i > j : i < j) t.data[i + j * ld]! /= n;
      else t.data[i + j * ld] = Number.NaN;
    }
  }
  return t;
}

/** Q diag(values) Q^T for a random orthogonal Q (Gram-Schmidt of a Gaussian matrix), f64. */
export function withSpectrum(values: readonly number[], seed: number): F64Matrix {
  const n = values.length;
  const q = randomMatrix(n, n, seed);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q.data[i + p * n]! * q.data[i + j * n]!;
        for (let i = 0; i < n; i++) q.data[i + j * n]! -= d * q.data[i + p * n]!;
      }
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += q.data[i + j * n]! ** 2;
    for (let i = 0; i < n; i++) q.data[i + j * n]! /= Math.sqrt(s);
  }
  const a = f64Matrix(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += q.data[i + p * n]! * values[p]! * q.data[j + p * n]!;
      a.data[i + j * n] = s;
    }
  }
  return a;
}

/** Largest |x| over a matrix view. */
export function maxAbs(m: F64Matrix): number {
  let s = 0;
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) s = Math.max(s, Math.abs(m.data[i + j * m.ld]!));
  return s;
}
