import { describe, expect, it } from 'vitest';
import { CodedColumnSums, type CodedBlock } from '../../../kernels/cpu/coded-sums.js';
import { rng } from '../../helpers/random.js';

/** A block of n x k codes with random tables and, per output column, each column listed with probability p. */
function block(n: number, k: number, outCols: number, p: number, seed: number): CodedBlock {
  const u = rng(seed);
  const codes = Uint8Array.from({ length: n * k }, () => Math.floor(u() * 4));
  const tableA = Float64Array.from({ length: 4 * k }, () => u() * 3 - 1);
  const tableB = Float64Array.from({ length: 4 * k }, () => u() / 7);
  const start = new Int32Array(outCols + 1);
  const list: number[] = [];
  for (let q = 0; q < outCols; q++) {
    for (let j = 0; j < k; j++) if (u() < p) list.push(j);
    start[q + 1] = list.length;
  }
  return { codes, k, tableA, tableB, start, list: Int32Array.from(list) };
}

/** The same sums as plain loops, one addition at a time in block, list and column order. */
function scalar(n: number, outCols: number, blocks: CodedBlock[]): { u: Float64Array; w: Float64Array | undefined } {
  const u = new Float64Array(n);
  let w: Float64Array | undefined;
  for (const b of blocks) {
    for (let i = 0; i < n; i++) for (let j = 0; j < b.k; j++) u[i]! += b.tableB[4 * j + b.codes[i + j * n]!]!;
    for (let q = 0; q < outCols; q++) {
      for (let e = b.start[q]!; e < b.start[q + 1]!; e++) {
        w ??= new Float64Array(n * outCols);
        const j = b.list[e]!;
        for (let i = 0; i < n; i++) w[i + q * n]! += b.tableA[4 * j + b.codes[i + j * n]!]!;
      }
    }
  }
  return { u, w };
}

describe('CodedColumnSums (order-exact sums of table-decoded columns)', () => {
  for (const [n, outCols] of [[1, 1], [16, 5], [37, 37], [70, 9]] as const) {
    it(`n=${n}, ${outCols} output columns, blocks with and without lists: equal the scalar loops bit for bit`, () => {
      const blocks = [block(n, 13, outCols, 0, 1), block(n, 40, outCols, 0.2, 2), block(n, 1, outCols, 0.5, 3), block(n, 77, outCols, 0.05, 4)];
      const sums = new CodedColumnSums(n, outCols);
      blocks.forEach((b, i) => {
        sums.add(b);
        if (i === 0) expect(sums.w).toBeUndefined();
      });
      const want = scalar(n, outCols, blocks);
      expect(Array.from(sums.u)).toEqual(Array.from(want.u));
      const w = sums.w!;
      const got = new Float64Array(n * outCols);
      for (let q = 0; q < outCols; q++) for (let i = 0; i < n; i++) got[i + q * n] = w.data[(i >> 4) * w.tile + 16 * q + (i & 15)]!;
      expect(Array.from(got)).toEqual(Array.from(want.w!));
    });
  }

  it('rejects codes above 3, lists naming no column of the block, and bad offsets', () => {
    const sums = new CodedColumnSums(4, 2);
    const b = block(4, 3, 2, 0.5, 9);
    expect(() => sums.add({ ...b, codes: Uint8Array.from(b.codes, (c, i) => (i === 5 ? 4 : c)) })).toThrow(/code 4 at \(1, 1\) is above 3/);
    expect(() => sums.add({ ...b, list: Int32Array.from([7, 0, 0, 0, 0, 0]), start: Int32Array.from([0, 1, 1]) })).toThrow(/list\[0\] = 7 is not a column/);
    expect(() => sums.add({ ...b, start: Int32Array.from([0, 2]) })).toThrow(/start must have 3 entries/);
    expect(() => sums.add({ ...b, start: Int32Array.from([0, 2, 1]) })).toThrow(/non-decreasing/);
  });
});
