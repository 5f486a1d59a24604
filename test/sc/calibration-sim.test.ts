/**
 * Calibration on a simulated null with donor effects: 8 donors split 4 vs 4, no condition effect, every gene
 * with its own donor random effect. The donor LMM must keep its type-I error near alpha; the naive cell-level
 * test, which treats cells as replicates, must be inflated.
 */
import { describe, expect, it } from 'vitest';
import type { SparseCounts } from '../../src/io/mtx.js';
import { runScde } from '../../src/sc/scde.js';
import { normal, rng } from '../helpers/random.js';

function poisson(u: () => number, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= u();
  } while (p > l);
  return k - 1;
}

function simulate(nGenes: number, nDonors: number, cellsPerDonor: number, seed: number) {
  const u = rng(seed);
  const z = normal(u);
  const nCells = nDonors * cellsPerDonor;
  const donor = Array.from({ length: nCells }, (_, c) => `d${Math.floor(c / cellsPerDonor)}`);
  const base = Array.from({ length: nGenes }, () => Math.exp(-1 + 2 * u()));
  const donorEff = Array.from({ length: nGenes * nDonors }, () => 0.3 * z());
  const colPtr = new Float64Array(nCells + 1);
  const rows: number[] = [];
  const vals: number[] = [];
  for (let c = 0; c < nCells; c++) {
    const d = Math.floor(c / cellsPerDonor);
    const size = Math.exp(0.3 * z());
    for (let g = 0; g < nGenes; g++) {
      const k = poisson(u, Math.min(base[g]! * size * Math.exp(donorEff[g * nDonors + d]!), 30));
      if (k > 0) {
        rows.push(g);
        vals.push(k);
      }
    }
    colPtr[c + 1] = rows.length;
  }
  const counts: SparseCounts = { nGenes, nCells, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(vals), integer: true };
  const group = donor.map((d) => (Number(d.slice(1)) < nDonors / 2 ? 'A' : 'B'));
  const columns = new Map<string, string[]>([
    ['donor', donor],
    ['group', group],
  ]);
  return {
    counts,
    genes: Array.from({ length: nGenes }, (_, g) => `g${g}`),
    cells: { table: { columns, nCells, source: 'simulated' }, present: Int32Array.from({ length: nCells }, (_, i) => i), missing: 0, missingExamples: [] },
  };
}

describe('type-I error on a simulated null with donor effects (2,000 genes, 8 donors x 40 cells)', () => {
  const input = simulate(2000, 8, 40, 7);
  const rate = (method: 'lmm' | 'welch' | 'pseudobulk') => {
    const [block] = [...runScde(input, { donor: 'donor', condition: 'group', method })];
    let tested = 0;
    let rejected = 0;
    for (const p of block!.p) {
      if (Number.isNaN(p)) continue;
      tested++;
      if (p < 0.05) rejected++;
    }
    expect(tested).toBeGreaterThan(1900);
    return rejected / tested;
  };
  it('lmm stays near 0.05 (binomial sd ~0.005 over 2,000 genes)', () => {
    const r = rate('lmm');
    expect(r).toBeGreaterThan(0.03);
    expect(r).toBeLessThan(0.07);
  });
  it('pseudobulk stays near 0.05', () => {
    const r = rate('pseudobulk');
    expect(r).toBeGreaterThan(0.03);
    expect(r).toBeLessThan(0.07);
  });
  it('the naive cell-level Welch test is inflated', () => {
    expect(rate('welch')).toBeGreaterThan(0.15);
  });
});
