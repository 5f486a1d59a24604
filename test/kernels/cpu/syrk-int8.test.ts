import { describe, expect, it } from 'vitest';
import { cpuSyrkInt8 } from '../../../kernels/cpu/index.js';
import { rng } from '../../helpers/random.js';

/** n x k byte matrix with leading dimension ld (padding bytes 99, which must never be read). */
function bytes(n: number, k: number, ld: number, seed: number, lo: number, hi: number, unsigned = false) {
  const u = rng(seed);
  const data = unsigned ? new Uint8Array(ld * k).fill(99) : new Int8Array(ld * k).fill(99);
  for (let p = 0; p < k; p++) for (let i = 0; i < n; i++) data[i + p * ld] = lo + Math.floor(u() * (hi - lo + 1));
  return { rows: n, cols: k, ld, data };
}

function naive(x: ReturnType<typeof bytes>): Float64Array {
  const { rows: n, cols: k, ld, data } = x;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += data[i + p * ld]! * data[j + p * ld]!;
      out[i + j * n] = s;
    }
  }
  return out;
}

describe('cpuSyrkInt8 (exact X X^T for small integers)', () => {
  for (const [n, k] of [[1, 1], [2, 7], [3, 8], [10, 17], [37, 300], [100, 2100]] as const) {
    it(`dosages 0..2, n=${n} k=${k}, strided: equals integer loops exactly`, () => {
      const x = bytes(n, k, n + 3, n * 31 + k, 0, 2);
      expect(cpuSyrkInt8(x).data).toEqual(naive(x));
    });
  }

  it('signed values at the int8 extremes, and Uint8 data', () => {
    const s = bytes(23, 41, 23, 5, -127, 127);
    expect(cpuSyrkInt8(s).data).toEqual(naive(s));
    const u = bytes(19, 33, 20, 6, 0, 127, true);
    expect(cpuSyrkInt8(u).data).toEqual(naive(u));
  });

  it('values up to 32 (relaxed kernel, 15 groups per call) and 33 (widening kernel): equal integer loops', () => {
    for (const hi of [1, 31, 32, 33]) {
      const x = bytes(29, 1000, 31, hi, 0, hi);
      expect(cpuSyrkInt8(x).data).toEqual(naive(x));
    }
  });

  it('handles empty shapes: 0 x k and n x 0', () => {
    expect(cpuSyrkInt8({ rows: 0, cols: 5, ld: 1, data: new Int8Array(5) }).rows).toBe(0);
    expect(Array.from(cpuSyrkInt8({ rows: 2, cols: 0, ld: 2, data: new Int8Array(0) }).data)).toEqual([0, 0, 0, 0]);
  });

  it('rejects Uint8 values above 127, int32 overflow and short buffers', () => {
    const u = bytes(4, 4, 4, 7, 0, 2, true);
    u.data[5] = 200;
    expect(() => cpuSyrkInt8(u)).toThrow(/syrk on cpu \(X 4x4 int8\): X\[1,1\] is 200; Uint8 data must be <= 127/);
    const k = 140_000;
    const big = { rows: 1, cols: k, ld: 1, data: new Int8Array(k).fill(-127) };
    expect(() => cpuSyrkInt8(big)).toThrow(/overflows int32 accumulation/);
    expect(() => cpuSyrkInt8({ rows: 3, cols: 3, ld: 3, data: new Int8Array(8) })).toThrow(/needs 9/);
  });
});
