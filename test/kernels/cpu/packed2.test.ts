/**
 * The 2-bit packed products (kernels/cpu/packed2.ts): the threaded wasm path (codes decoded into the product
 * kernel's panels) against the plain-loop oracle on ragged shapes (rows not a multiple of 4 or of KC, columns
 * across blocks and chunks, sub-ranges); ztv bit-identical for 1 and 3 threads, normal (whose per-thread sums are
 * added in thread order) within rounding.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Packed2Pool } from '../../../kernels/cpu/packed2.js';
import { packed2FromCodes, packed2ZtvReference, packed2ZuReference } from '../../../kernels/packed2.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { randomMatrix, rng } from '../../helpers/random.js';

function randomPacked(rows: number, cols: number, seed: number, colsPerBlock: number) {
  const u = rng(seed);
  const codes = Uint8Array.from({ length: rows * cols }, () => Math.floor(u() * 4));
  const tables = Float64Array.from({ length: 4 * cols }, () => u() * 2 - 1);
  return { codes, tables, z: packed2FromCodes(codes, rows, cols, colsPerBlock) };
}

function maxRelDiff(a: F64Matrix, b: F64Matrix): number {
  let scale = 0;
  let d = 0;
  for (let j = 0; j < a.cols; j++) {
    for (let i = 0; i < a.rows; i++) {
      scale = Math.max(scale, Math.abs(b.data[i + j * b.ld]!));
      d = Math.max(d, Math.abs(a.data[i + j * a.ld]! - b.data[i + j * b.ld]!));
    }
  }
  return d / scale;
}

const pools: Packed2Pool[] = [];
afterAll(async () => {
  for (const p of pools) await p.dispose();
});

describe('packed2 products', () => {
  const cases = [
    { rows: 37, cols: 5, b: 1, block: 2 },
    { rows: 501, cols: 130, b: 7, block: 50 },
    { rows: 4102, cols: 70, b: 3, block: 64 },
    { rows: 303, cols: 600, b: 9, block: 250 },
  ];
  for (const [k, c] of cases.entries()) {
    it(`ztv and the masked normal product match the oracle (${c.rows} x ${c.cols}, B = ${c.b}, blocks of ${c.block})`, async () => {
      const { tables, z } = randomPacked(c.rows, c.cols, 10 + k, c.block);
      const v = randomMatrix(c.rows, c.b, 20 + k);
      const one = new Packed2Pool(z, 1);
      const three = new Packed2Pool(z, 3);
      pools.push(one, three);
      const ztv = packed2ZtvReference(z, tables, v);
      const a1 = await one.ztv(tables, v);
      const a3 = await three.ztv(tables, v);
      expect(maxRelDiff(a1, ztv)).toBeLessThan(1e-13);
      expect(Array.from(a3.data)).toEqual(Array.from(a1.data));
      // normal: columns in 3 groups, right-hand side b leaves group b % 4 out (3: none) and is scaled.
      const groups = Int32Array.from({ length: c.cols }, (_, j) => Math.floor((3 * j) / c.cols));
      const exclude = Array.from({ length: c.b }, (_, b) => (b % 4 === 3 ? -1 : b % 4));
      const scale = Array.from({ length: c.b }, (_, b) => 1 / (b + 2));
      const masked = f64Matrix(c.cols, c.b);
      for (let b = 0; b < c.b; b++) for (let j = 0; j < c.cols; j++) masked.data[j + b * c.cols] = groups[j] === exclude[b] ? 0 : ztv.data[j + b * c.cols]! * scale[b]!;
      const want = packed2ZuReference(z, tables, masked);
      expect(maxRelDiff(await one.normal(tables, v, groups, exclude, scale), want)).toBeLessThan(1e-12);
      expect(maxRelDiff(await three.normal(tables, v, groups, exclude, scale), want)).toBeLessThan(1e-12);
    });
  }

  it('restricts ztv to a column range across blocks, with a strided V', async () => {
    const { tables, z } = randomPacked(203, 90, 5, 16);
    const pool = new Packed2Pool(z, 2);
    pools.push(pool);
    const v = randomMatrix(203, 4, 6);
    expect(maxRelDiff(await pool.ztv(tables, v, 13, 61), packed2ZtvReference(z, tables, v, 13, 61))).toBeLessThan(1e-13);
    const vs = randomMatrix(203, 2, 8, 210);
    expect(maxRelDiff(await pool.ztv(tables, vs), packed2ZtvReference(z, tables, vs))).toBeLessThan(1e-13);
  });

  it('rejects bad ranges, shapes and tables', async () => {
    const { tables, z } = randomPacked(9, 4, 9, 4);
    const pool = new Packed2Pool(z, 1);
    pools.push(pool);
    await expect(pool.ztv(tables, f64Matrix(8, 1))).rejects.toThrow(/9 rows/);
    await expect(pool.normal(tables, f64Matrix(9, 1), new Int32Array(3), [0], [1])).rejects.toThrow(/column groups/);
    await expect(pool.ztv(tables, f64Matrix(9, 1), 2, 5)).rejects.toThrow(/column range/);
    await expect(pool.ztv(tables.subarray(0, 8), f64Matrix(9, 1))).rejects.toThrow(/table entries/);
    expect(() => packed2FromCodes(Uint8Array.of(4), 1, 1)).toThrow(/not in 0..3/);
  });
});
