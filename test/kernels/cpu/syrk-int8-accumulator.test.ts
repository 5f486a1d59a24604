import { afterAll, describe, expect, it } from 'vitest';
import { GemmPool } from '../../../kernels/cpu/pool.js';
import { cpuSyrkInt8, SyrkInt8Accumulator } from '../../../kernels/cpu/syrk-int8.js';
import { rng } from '../../helpers/random.js';

/** n x k dosages 0..2 (column-major, ld = n). */
function dosages(n: number, k: number, seed: number): Int8Array {
  const u = rng(seed);
  return Int8Array.from({ length: n * k }, () => Math.floor(u() * 3));
}

/** X X^T by integer loops. */
function naive(data: Int8Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += data[i + p * n]! * data[j + p * n]!;
      out[i + j * n] = s;
    }
  }
  return out;
}

const pools = new Map<number, GemmPool>();
const poolOf = (threads: number): GemmPool => {
  let p = pools.get(threads);
  if (!p) pools.set(threads, (p = new GemmPool(threads)));
  return p;
};
afterAll(async () => {
  for (const p of pools.values()) await p.dispose();
});

describe('SyrkInt8Accumulator (sum of X_b X_b^T over blocks, on helper threads)', () => {
  // Ragged blocks (depths not multiples of 8, a deeper block after shallower ones so the buffers grow).
  const blocks = [5, 64, 13, 200, 1, 77];
  for (const [n, threads] of [[1, 2], [4, 3], [50, 1], [50, 2], [97, 3], [160, 4]] as const) {
    it(`n=${n}, ${threads} thread(s): equals one syrk of all columns and the integer loops, exactly`, async () => {
      const k = blocks.reduce((a, b) => a + b, 0);
      const all = dosages(n, k, 7 * n + threads);
      const acc = new SyrkInt8Accumulator(n, poolOf(threads));
      let p0 = 0;
      for (const kb of blocks) {
        const block = all.slice(p0 * n, (p0 + kb) * n);
        await acc.add({ rows: n, cols: kb, ld: n, data: block });
        block.fill(9); // the accumulator copied the block: overwriting it must not change the result
        p0 += kb;
      }
      expect(acc.cols).toBe(k);
      const got = await acc.result();
      expect(got.data).toEqual(naive(all, n, k));
      expect(got.data).toEqual(cpuSyrkInt8({ rows: n, cols: k, ld: n, data: all }).data);
    });
  }

  it('blocks taking different kernel variants (dosages, signed values, values above 32) sum exactly', async () => {
    const n = 41, kb = 90;
    const u = rng(3);
    const ranges = [[0, 2], [-5, 5], [0, 2], [0, 60], [0, 32]] as const;
    const all = new Int8Array(n * kb * ranges.length);
    ranges.forEach(([lo, hi], b) => {
      for (let i = b * n * kb; i < (b + 1) * n * kb; i++) all[i] = lo + Math.floor(u() * (hi - lo + 1));
    });
    for (const threads of [1, 2]) {
      const acc = new SyrkInt8Accumulator(n, poolOf(threads));
      for (let b = 0; b < ranges.length; b++) await acc.add({ rows: n, cols: kb, ld: n, data: all.subarray(b * n * kb, (b + 1) * n * kb) });
      expect((await acc.result()).data).toEqual(naive(all, n, kb * ranges.length));
    }
  });

  it('checks the int32 bound over all blocks together, and the row count', async () => {
    const acc = new SyrkInt8Accumulator(3, poolOf(2));
    const block = { rows: 3, cols: 100_000, ld: 3, data: new Int8Array(300_000).fill(110) };
    await acc.add(block); // 100000 * 110^2 = 1.21e9 < 2^31
    await expect(acc.add(block)).rejects.toThrow(/syrk on cpu \(X 3x100000 int8\): k \* max\|x\|\^2 = 2420000000 over all blocks overflows int32/);
    await expect(acc.add({ rows: 4, cols: 1, ld: 4, data: new Int8Array(4) })).rejects.toThrow(/X must have 3 rows/);
    // A rejected block is not counted: the accumulator still holds the first one.
    expect(acc.cols).toBe(100_000);
    expect((await acc.result()).data[0]).toBe(100_000 * 110 * 110);
  });
});

describe('SyrkInt8Accumulator.addCodes (X as 2-bit codes, decoded into the panels by the kernel)', () => {
  for (const [n, threads] of [[1, 1], [7, 2], [50, 1], [83, 2], [161, 3]] as const) {
    it(`n=${n}, ${threads} thread(s): equals add() of the decoded X, mixed with add() blocks`, async () => {
      const u = rng(13 * n + threads);
      const bpc = Math.ceil(n / 4) + 1; // a spare byte per column
      const tables = [[2, 0, 1, 0], [-3, 7, 0, 5], [0, 0, 0, 1]];
      const viaCodes = new SyrkInt8Accumulator(n, poolOf(threads));
      const viaBytes = new SyrkInt8Accumulator(n, poolOf(threads));
      for (const [b, m] of [17, 5, 40, 1, 33].entries()) {
        const data = Uint8Array.from({ length: bpc * m }, () => Math.floor(u() * 256));
        const cols = Array.from({ length: m }, (_, j) => j).filter(() => u() < 0.8);
        const table = tables[b % tables.length]!;
        const x = Int8Array.from({ length: n * cols.length }, (_, e) => {
          const i = e % n, p = Math.floor(e / n);
          return table[(data[cols[p]! * bpc + (i >> 2)]! >> (2 * (i & 3))) & 3]!;
        });
        if (b === 3) {
          await viaCodes.add({ rows: n, cols: cols.length, ld: n, data: x.slice() }); // the two paths interleave
        } else {
          await viaCodes.addCodes({ rows: n, bytesPerCol: bpc, data, cols, table });
          data.fill(0xaa); // copied before addCodes resolved
        }
        await viaBytes.add({ rows: n, cols: cols.length, ld: n, data: x });
      }
      expect(viaCodes.cols).toBe(viaBytes.cols);
      expect((await viaCodes.result()).data).toEqual((await viaBytes.result()).data);
    });
  }

  it('rejects a bad table, a column outside the data and a wrong row count', async () => {
    const acc = new SyrkInt8Accumulator(10);
    const data = new Uint8Array(9);
    await expect(acc.addCodes({ rows: 10, bytesPerCol: 3, data, cols: [0], table: [0, 1, 200, 0] })).rejects.toThrow(/four integers in \[-128, 127\]/);
    await expect(acc.addCodes({ rows: 10, bytesPerCol: 3, data, cols: [3], table: [0, 1, 2, 0] })).rejects.toThrow(/column 3 is not in data/);
    await expect(acc.addCodes({ rows: 11, bytesPerCol: 3, data, cols: [0], table: [0, 1, 2, 0] })).rejects.toThrow(/must have 10 rows/);
  });
});
