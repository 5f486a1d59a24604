import { describe, expect, it } from 'vitest';
import { columnSplits } from '../../../kernels/cpu/backend.js';
import { cpuBackendInfo, cpuEigh, cpuGemm, cpuPotrf, cpuSyrk, createCpuBackend } from '../../../kernels/cpu/index.js';
import { randomMatrix, randomSpd } from '../../helpers/random.js';
import { cpuBackendFor } from '../../helpers/cpu-backend.js';

describe('cpu backend (worker pool for large products)', () => {
  const backend = cpuBackendFor(3);

  it('describes the host cpu as an f64, non-software adapter', async () => {
    const info = await cpuBackendInfo();
    expect(info).toMatchObject({ name: 'cpu', available: true, precision: 'f64' });
    expect(info.adapter?.isSoftware).toBe(false);
    expect(info.adapter?.device.length).toBeGreaterThan(0);
    expect(backend().supports('eigh')).toBe(true);
  });

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`threaded gemm equals the synchronous kernel bit for bit (transA=${transA} transB=${transB})`, async () => {
        const [m, n, k] = [203, 181, 170];
        const a = transA ? randomMatrix(k, m, 1, k + 1) : randomMatrix(m, k, 1, m + 3);
        const b = transB ? randomMatrix(n, k, 2, n + 2) : randomMatrix(k, n, 2);
        const c = randomMatrix(m, n, 3, m + 1);
        const o = { transA, transB, alpha: 1.5, beta: -0.5, c };
        expect((await backend().gemm(a, b, o)).data).toEqual(cpuGemm(a, b, o).data);
      });
    }
  }

  for (const trans of [false, true]) {
    it(`threaded syrk equals the synchronous kernel bit for bit (trans=${trans})`, async () => {
      const [n, k] = [262, 131];
      const a = trans ? randomMatrix(k, n, 4, k + 2) : randomMatrix(n, k, 4, n + 5);
      const c = cpuSyrk(randomMatrix(n, 3, 5));
      const o = { trans, alpha: 0.5, beta: 2, c };
      expect((await backend().syrk(a, o)).data).toEqual(cpuSyrk(a, o).data);
    });
  }

  it('runs the other ops on the calling thread with identical results, and validates', async () => {
    const a = randomSpd(40, 6);
    expect((await backend().potrf(a)).data).toEqual(cpuPotrf(a).data);
    expect((await backend().eigh(a)).values).toEqual(cpuEigh(a).values);
    await expect(backend().gemm(randomMatrix(300, 300, 1), randomMatrix(299, 300, 2))).rejects.toThrow(/gemm on cpu \(A 300x300, B 299x300\): inner dimensions differ/);
  });

  it('splits columns into equal-work slices aligned to the micro-tile', () => {
    expect(columnSplits(100, 2, false)).toEqual([0, 52, 100]);
    const tri = columnSplits(1000, 2, true);
    expect(tri[1]! % 4).toBe(0);
    const left = tri[1]! * 1000 - (tri[1]! * tri[1]!) / 2;
    expect(Math.abs(left / (1000 * 1000 / 2) - 0.5)).toBeLessThan(0.01);
  });

  it('refuses work after dispose', async () => {
    const other = await createCpuBackend();
    await other.gemm(randomMatrix(200, 200, 1), randomMatrix(200, 200, 2));
    await other.dispose();
    await expect(other.gemm(randomMatrix(2, 2, 1), randomMatrix(2, 2, 2))).rejects.toThrow(/after dispose/);
  });
});
