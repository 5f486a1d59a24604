// WebGPU gemm, syrk and batchedWeightedDot against the f64 cpu oracle.
// Tolerances: well-conditioned random inputs within 1e-4 relative to max |C_ref| (f32 inputs and f32
// accumulation over k <= 130 give about 1e-6); any input, however scaled, within the componentwise f32
// product bound (k + 2) u |A||B| (see setup.ts), which an indexing or staging bug breaks by orders of magnitude.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, type Backend } from '../../../kernels/backend.js';
import { cpuBatchedWeightedDot, cpuGemm, cpuSyrk } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { createWebGpuBackend } from '../../../kernels/webgpu/backend.js';
import { chooseTm, matmulWorkgroupBytes } from '../../../kernels/webgpu/tiling.js';
import { setFlags } from '../../../src/flags.js';
import { maxRelErr, randomMatrix, rng } from '../../helpers/random.js';
import { absOp, info, productBoundRatio, U32 } from './setup.js';

const TOL = 1e-4;
const SHAPES: [number, number, number][] = [[1, 1, 1], [17, 33, 5], [65, 1, 70], [130, 129, 40]];

describe('matmul tile choice', () => {
  it('takes 8x8 register tiles only for large outputs and when the workgroup memory limit allows', () => {
    expect(matmulWorkgroupBytes(8)).toBe(16896);
    expect(chooseTm(8192, 8192, 32768)).toBe(8);
    expect(chooseTm(8192, 8192, 16384)).toBe(4); // WebGPU's default maxComputeWorkgroupStorageSize
    expect(chooseTm(256, 256, 32768)).toBe(4);
    setFlags({ webgpuTile: '128' });
    expect(chooseTm(16, 16, 32768)).toBe(8);
    expect(chooseTm(16, 16, 16384)).toBe(4);
    setFlags({ webgpuTile: 'auto' });
  });
});

describe.skipIf(!info.available)('webgpu products', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createWebGpuBackend();
  });
  afterAll(async () => {
    setFlags({ webgpuTile: 'auto' });
    await be?.dispose();
  });

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`gemm ${transA ? 'A^T' : 'A'} ${transB ? 'B^T' : 'B'} on ragged shapes, alpha, beta, C`, async () => {
        let seed = 10;
        for (const [m, n, k] of SHAPES) {
          const a = transA ? randomMatrix(k, m, seed++) : randomMatrix(m, k, seed++);
          const b = transB ? randomMatrix(n, k, seed++) : randomMatrix(k, n, seed++);
          const plain = await be.gemm(a, b, { transA, transB });
          expect(maxRelErr(plain, cpuGemm(a, b, { transA, transB }))).toBeLessThan(TOL);
          const c = randomMatrix(m, n, seed++);
          const opts = { transA, transB, alpha: -0.75, beta: 1.5, c };
          const got = await be.gemm(a, b, opts);
          expect(maxRelErr(got, cpuGemm(a, b, opts))).toBeLessThan(TOL);
          expect(c.data[0]).toBe(randomMatrix(m, n, seed - 1).data[0]); // C is not modified
        }
      });
    }
  }

  it('gemm on strided views (padding is NaN, so any stray read shows)', async () => {
    const a = randomMatrix(23, 19, 1, 31);
    const b = randomMatrix(29, 19, 2, 40);
    const c = randomMatrix(23, 29, 3, 25);
    const opts = { transB: true, alpha: 2, beta: -1, c };
    const got = await be.gemm(a, b, opts);
    expect(got.ld).toBe(23);
    expect(maxRelErr(got, cpuGemm(a, b, opts))).toBeLessThan(TOL);
  });

  it('gemm: both register tiles (4x4 and 8x8 per thread) on shapes that leave partial tiles', async () => {
    for (const tile of ['64', '128'] as const) {
      setFlags({ webgpuTile: tile });
      // Transposes are covered above; the 8x8 tile (a slow shader compile on lavapipe) is checked on one.
      const cases = tile === '64' ? [[130, 129, 40, false, false], [257, 3, 17, true, true], [9, 140, 33, true, false]] as const : [[130, 129, 40, false, false], [9, 140, 33, false, false]] as const;
      for (const [m, n, k, ta, tb] of cases) {
        const a = ta ? randomMatrix(k, m, m) : randomMatrix(m, k, m);
        const b = tb ? randomMatrix(n, k, n) : randomMatrix(k, n, n);
        const got = await be.gemm(a, b, { transA: ta, transB: tb });
        expect(maxRelErr(got, cpuGemm(a, b, { transA: ta, transB: tb })), `tile ${tile} ${m}x${n}x${k}`).toBeLessThan(TOL);
      }
    }
    setFlags({ webgpuTile: 'auto' });
  });

  it('gemm on badly scaled inputs stays within the componentwise f32 bound', async () => {
    // Rows of A and columns of B scaled over 12 orders of magnitude, plus cancellation (entries of both signs).
    const a = randomMatrix(40, 37, 7);
    const b = randomMatrix(37, 33, 8);
    for (let i = 0; i < 40; i++) for (let p = 0; p < 37; p++) a.data[i + p * 40]! *= 10 ** ((i % 13) - 6);
    for (let j = 0; j < 33; j++) for (let p = 0; p < 37; p++) b.data[p + j * 37]! *= 10 ** ((j % 7) - 3);
    const got = await be.gemm(a, b);
    const ref = cpuGemm(a, b);
    expect(productBoundRatio(got, ref, absOp(a, false), absOp(b, false), 37)).toBeLessThan(1);
  });

  it('syrk both forms, with C and beta, fills both triangles', async () => {
    for (const trans of [false, true]) {
      for (const [n, k] of [[1, 1], [33, 17], [70, 5]] as const) {
        const a = trans ? randomMatrix(k, n, n + k, k + 3) : randomMatrix(n, k, n + k, n + 2);
        const got = await be.syrk(a, { trans });
        const ref = cpuSyrk(a, { trans });
        expect(maxRelErr(got, ref), `syrk trans=${trans} ${n}x${k}`).toBeLessThan(TOL);
        for (let j = 0; j < n; j++) for (let i = 0; i < j; i++) expect(got.data[i + j * n]).toBe(got.data[j + i * n]);
        const c = cpuSyrk(randomMatrix(n, 3, 99));
        const opts = { trans, alpha: 0.5, beta: -2, c };
        expect(maxRelErr(await be.syrk(a, opts), cpuSyrk(a, opts))).toBeLessThan(TOL);
      }
    }
  });

  it('syrk with the 8x8 register tile (triangle of 128-wide tiles)', async () => {
    setFlags({ webgpuTile: '128' });
    const a = randomMatrix(260, 20, 5);
    const got = await be.syrk(a);
    setFlags({ webgpuTile: 'auto' });
    expect(maxRelErr(got, cpuSyrk(a))).toBeLessThan(TOL);
  });

  it('batchedWeightedDot with per-column and broadcast w and b, within the f32 sum bound', async () => {
    const n = 300;
    const m = 7;
    const u = rng(3);
    const wCol = randomMatrix(n, 1, 4);
    for (let i = 0; i < n; i++) wCol.data[i] = 0.1 + u(); // weights are positive in every caller
    const wAll = randomMatrix(n, m, 5);
    const a = randomMatrix(n, m, 6, n + 5);
    const bCol = randomMatrix(n, 1, 7);
    const bAll = randomMatrix(n, m, 8);
    for (const [w, b] of [[wCol, bCol], [wCol, bAll], [wAll, bCol], [wAll, bAll]] as const) {
      const got = await be.batchedWeightedDot(w, a, b);
      const ref = cpuBatchedWeightedDot(w, a, b);
      expect(got.length).toBe(m);
      for (let j = 0; j < m; j++) {
        let absSum = 0;
        for (let i = 0; i < n; i++) absSum += Math.abs(w.data[i + (w.cols === 1 ? 0 : j) * n]! * a.data[i + j * a.ld]! * b.data[i + (b.cols === 1 ? 0 : j) * n]!);
        // 3 input roundings + 2 products + (n / 256 + 8) additions, each at most u relative to sum |w a b|.
        expect(Math.abs(got[j]! - ref[j]!)).toBeLessThanOrEqual((n / 256 + 13) * U32 * absSum);
      }
    }
  });

  it('rejects bad input with a KernelError naming op, backend and shapes', async () => {
    const a = randomMatrix(3, 4, 1);
    await expect(be.gemm(a, randomMatrix(5, 2, 2))).rejects.toThrow(/gemm on webgpu \(A 3x4, B 5x2\): inner dimensions differ/);
    const bad = randomMatrix(4, 2, 3);
    bad.data[5] = Number.NaN;
    await expect(be.gemm(a, bad)).rejects.toThrow(KernelError);
    await expect(be.gemm(a, bad)).rejects.toThrow(/B\[1,1\] is NaN/);
    await expect(be.syrk(a, { c: f64Matrix(2, 2) })).rejects.toThrow(/syrk on webgpu.*C must be 3x3/);
    await expect(be.batchedWeightedDot(randomMatrix(3, 2, 1), randomMatrix(3, 4, 2), randomMatrix(3, 1, 3))).rejects.toThrow(/w must have 4 columns or 1/);
  });

  it('values outside the f32 range, and results that overflow f32, are errors rather than Inf', async () => {
    const big = randomMatrix(3, 3, 1);
    big.data[4] = 1e39;
    await expect(be.gemm(big, big)).rejects.toThrow(/gemm on webgpu \(A 3x3, B 3x3\): A\[1,1\] = 1e\+39 is outside the f32 range/);
    const large = randomMatrix(3, 3, 2);
    for (let k = 0; k < 9; k++) large.data[k] = 1e20;
    await expect(be.gemm(large, large)).rejects.toThrow(/result\[0,0\] is Infinity in f32/);
    await expect(be.batchedWeightedDot(large, large, large)).rejects.toThrow(/batchedWeightedDot on webgpu.*is Infinity in f32/);
  });

  it('empty operands give empty (or zero) results', async () => {
    expect((await be.gemm(f64Matrix(0, 3), f64Matrix(3, 2))).rows).toBe(0);
    const z = await be.gemm(f64Matrix(2, 0), f64Matrix(0, 3));
    expect(Array.from(z.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect((await be.batchedWeightedDot(f64Matrix(4, 1), f64Matrix(4, 0), f64Matrix(4, 1))).length).toBe(0);
  });
});
