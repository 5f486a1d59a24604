import { describe, expect, it } from 'vitest';
import { GenotypeStore } from '../../../gwas/genotype-store.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import type { GenotypeBlock } from '../../../gwas/types.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { packCodes } from '../../helpers/packed-codes.js';
import { rng } from '../../helpers/random.js';

/** N x m dosages: hard calls, or fractional values, with ~3% missing (NaN) and a monomorphic column. */
function block(N: number, m: number, seed: number, fractional: boolean): GenotypeBlock {
  const u = rng(seed);
  const x = f64Matrix(N, m);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < N; i++) {
      const v = fractional ? Math.round(u() * 200) / 100 : Math.floor(u() * 3);
      x.data[i + j * N] = j === 2 ? 1 : u() < 0.03 ? Number.NaN : v;
    }
  }
  return { start: 0, snps: Array.from({ length: m }, (_, j) => ({ chr: '1', rs: `s${j}`, ps: j, allele1: 'A', allele0: 'G' })), dosages: x };
}

const rows = Int32Array.from({ length: 40 }, (_, r) => 2 * r + 1); // every other individual of 81
const rows39 = rows.subarray(0, 39); // n not a multiple of 4: the last byte of each SNP is partly used

describe('GenotypeStore (the kinship pass kept for the scan)', () => {
  for (const fractional of [false, true]) {
    it(`${fractional ? 'fractional dosages (f64 columns)' : 'hard calls (2-bit codes)'}: drains exactly what SnpFilter.apply returns`, () => {
      const filter = new SnpFilter({ miss: 0.1 });
      const blocks = [block(81, 30, 1, fractional), block(81, 17, 2, fractional)];
      const store = new GenotypeStore(rows, 1 << 20);
      for (const b of blocks) store.add(b, filter.apply(b.dosages, rows, { impute: false }));
      expect(store.complete).toBe(true);
      const kept = blocks.reduce((s, b) => s + filter.apply(b.dosages, rows).keptIndex.length, 0);
      expect(store.heldBytes).toBe(fractional ? 8 * rows.length * kept : (rows.length / 4) * kept); // 40 rows: 10 bytes per SNP
      const drained = [...store.drain()];
      expect(drained).toHaveLength(2);
      drained.forEach((d, b) => {
        expect(d.snps).toEqual(blocks[b]!.snps);
        expect(d.verdict).toEqual(filter.apply(blocks[b]!.dosages, rows));
        expect(d.verdict.status.includes(3)).toBe(true); // the monomorphic column was dropped
      });
      expect(store.heldBytes).toBe(0);
      expect([...store.drain()]).toHaveLength(0); // drained once
    });
  }

  it('joins consecutive blocks up to the size asked for, as one block read at once', () => {
    const filter = new SnpFilter({ miss: 0.1 });
    const blocks = [block(81, 30, 4, false), block(81, 17, 5, true), block(81, 9, 6, false)];
    const store = new GenotypeStore(rows, 1 << 20);
    for (const b of blocks) store.add(b, filter.apply(b.dosages, rows, { impute: false }));
    const drained = [...store.drain(40)];
    expect(drained.map((d) => d.snps.length)).toEqual([47, 9]);
    const joined = f64Matrix(81, 47);
    joined.data.set(blocks[0]!.dosages.data);
    joined.data.set(blocks[1]!.dosages.data, 81 * 30);
    expect(drained[0]!.snps).toEqual([...blocks[0]!.snps, ...blocks[1]!.snps]);
    expect(drained[0]!.verdict).toEqual(filter.apply(joined, rows));
    expect(drained[1]!.verdict).toEqual(filter.apply(blocks[2]!.dosages, rows));
  });

  it('n not a multiple of 4 (the last code byte of each SNP partly used): drains what SnpFilter.apply returns', () => {
    const filter = new SnpFilter({ miss: 0.1 });
    const b = block(81, 30, 7, false);
    const store = new GenotypeStore(rows39, 1 << 20);
    store.add(b, filter.apply(b.dosages, rows39, { impute: false }));
    const kept = filter.apply(b.dosages, rows39).keptIndex.length;
    expect(store.heldBytes).toBe(10 * kept);
    expect([...store.drain()][0]!.verdict).toEqual(filter.apply(b.dosages, rows39));
  });

  it('over its budget: holds nothing, reports itself incomplete, and refuses to drain', () => {
    const filter = new SnpFilter();
    const b = block(81, 30, 3, false);
    const verdict = filter.apply(b.dosages, rows, { impute: false });
    const bytes = (rows.length / 4) * verdict.keptIndex.length;
    const exact = new GenotypeStore(rows, bytes);
    exact.add(b, verdict);
    expect(exact.complete).toBe(true);
    const small = new GenotypeStore(rows, bytes + 10);
    small.add(b, verdict);
    small.add(b, verdict);
    expect(small.complete).toBe(false);
    expect(small.heldBytes).toBe(0);
    expect(() => [...small.drain()]).toThrow(/went over its budget/);
    expect(() => new GenotypeStore(rows, -1)).toThrow(/budget must be >= 0/);
  });

  it('2-bit codes (addCodes, the kinship pass of a .bed/PGEN) hold and drain what add holds, for every row set', () => {
    const filter = new SnpFilter({ miss: 0.1 });
    const b = block(81, 30, 8, false);
    const all = Int32Array.from({ length: 81 }, (_, i) => i);
    for (const r of [rows, rows39, all, all.subarray(0, 80)]) {
      const viaF64 = new GenotypeStore(r, 1 << 20);
      const viaCodes = new GenotypeStore(r, 1 << 20);
      const verdict = filter.apply(b.dosages, r, { impute: false });
      viaF64.add(b, verdict);
      viaCodes.addCodes({ start: 0, snps: b.snps, codes: packCodes(b.dosages) }, verdict);
      expect(viaCodes.heldBytes).toBe(viaF64.heldBytes);
      expect([...viaCodes.drain()]).toEqual([...viaF64.drain()]);
    }
  });
});
