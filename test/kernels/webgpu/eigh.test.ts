// WebGPU eigh (parallel cyclic Jacobi in f32) against the f64 cpu oracle and by reconstruction.
// Tolerances, relative to ||A||_2 = max |w|: eigenvalues, V diag(w) V^T = A and V^T V = I all within 1e-5
// (Jacobi is backward stable; the f32 rounding accumulated over ~8 sweeps of n rotations per entry measures
// 1e-6 to 3e-6 for n <= 256 on lavapipe). Odd n exercises the padded pairing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, EighResult } from '../../../kernels/backend.js';
import { cpuEigh, cpuGemm } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { createWebGpuBackend } from '../../../kernels/webgpu/backend.js';
import { randomSpd, rng } from '../../helpers/random.js';
import { info, maxAbs, withSpectrum } from './setup.js';

const TOL = 1e-5;

function checkDecomposition(a: F64Matrix, r: EighResult, label: string): void {
  const n = a.rows;
  const scale = Math.max(...Array.from(r.values, Math.abs), Number.MIN_VALUE);
  for (let j = 1; j < n; j++) expect(r.values[j]!, `${label}: ascending`).toBeGreaterThanOrEqual(r.values[j - 1]!);
  const vd = f64Matrix(n, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) vd.data[i + j * n] = r.vectors.data[i + j * n]! * r.values[j]!;
  const recon = cpuGemm(vd, r.vectors, { transB: true });
  let err = 0;
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) err = Math.max(err, Math.abs(recon.data[i + j * n]! - a.data[i + j * a.ld]!));
  expect(err / scale, `${label}: V diag(w) V^T = A`).toBeLessThan(TOL);
  const vtv = cpuGemm(r.vectors, r.vectors, { transA: true });
  for (let i = 0; i < n; i++) vtv.data[i + i * n]! -= 1;
  expect(maxAbs(vtv), `${label}: V^T V = I`).toBeLessThan(TOL);
  const ref = cpuEigh(a).values;
  let verr = 0;
  for (let j = 0; j < n; j++) verr = Math.max(verr, Math.abs(r.values[j]! - ref[j]!));
  expect(verr / scale, `${label}: eigenvalues vs cpu`).toBeLessThan(TOL);
}

describe.skipIf(!info.available)('webgpu eigh', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createWebGpuBackend();
  });
  afterAll(async () => {
    await be?.dispose();
  });

  it('random symmetric matrices of ragged sizes, odd and even', async () => {
    for (const n of [1, 2, 5, 33, 64]) {
      const a = randomSpd(n, n, -0.5); // indefinite: eigenvalues of both signs
      checkDecomposition(a, await be.eigh(a), `n=${n}`);
    }
  });

  it('reads only the lower triangle (upper is NaN) of a strided view', async () => {
    const n = 20;
    const full = randomSpd(n, 4);
    const a = f64Matrix(n, n, new Float64Array(23 * n).fill(Number.NaN), 23);
    for (let j = 0; j < n; j++) for (let i = j; i < n; i++) a.data[i + j * 23] = full.data[i + j * n]!;
    const r = await be.eigh(a);
    checkDecomposition(full, r, 'lower only');
  });

  it('clustered and widely spread spectra (repeated eigenvalues; values from 1e-6 to 1)', async () => {
    const u = rng(9);
    const clustered = Array.from({ length: 30 }, (_, i) => (i < 10 ? 1 : i < 20 ? 1 + 1e-7 * u() : -2));
    checkDecomposition(withSpectrum(clustered, 1), await be.eigh(withSpectrum(clustered, 1)), 'clustered');
    const spread = Array.from({ length: 30 }, (_, i) => 10 ** (-6 + (6 * i) / 29));
    const a = withSpectrum(spread, 2);
    const r = await be.eigh(a);
    checkDecomposition(a, r, 'spread');
  });

  it('diagonal and zero matrices converge at once', async () => {
    const d = f64Matrix(6, 6);
    [3, -1, 2, 0, 5, -4].forEach((v, i) => (d.data[i + i * 6] = v));
    const r = await be.eigh(d);
    expect(Array.from(r.values)).toEqual([-4, -1, 0, 2, 3, 5]);
    const z = await be.eigh(f64Matrix(4, 4));
    expect(Array.from(z.values)).toEqual([0, 0, 0, 0]);
    checkDecomposition(d, r, 'diagonal');
  });

  it('matrices near the ends of the f32 range (scaled by 1e30 and 1e-30) keep full relative accuracy', async () => {
    for (const factor of [1e30, 1e-30]) {
      const a = randomSpd(12, 5, -0.5);
      for (let k = 0; k < a.data.length; k++) a.data[k]! *= factor;
      checkDecomposition(a, await be.eigh(a), `scaled by ${factor}`);
    }
  });

  it('rejects non-square and non-finite input', async () => {
    await expect(be.eigh(f64Matrix(3, 2))).rejects.toThrow(/eigh on webgpu \(A 3x2\): A must be square/);
    const a = randomSpd(3, 1);
    a.data[1] = Number.POSITIVE_INFINITY;
    await expect(be.eigh(a)).rejects.toThrow(/A\[1,0\] is Infinity/);
  });
});
