import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDesign } from '../../src/sc/design.js';
import { cellGeneStats, donorDesign, librarySizes } from '../../src/sc/cell-stats.js';
import { fitDonorLmm, LMM_STATUS } from '../../src/sc/lmm-donor.js';
import { FIXTURE_DIR, loadFixture } from './fixture.js';

interface GoldenGene {
  gene: string;
  fitted: boolean;
  beta: number;
  se: number;
  df: number;
  t: number;
  p: number;
  var_donor: number;
  var_resid: number;
  singular: boolean;
}
interface GoldenModel {
  contrast: string;
  condition: string;
  covariates: string[];
  genes: GoldenGene[];
}
const golden = JSON.parse(readFileSync(path.join(FIXTURE_DIR, '..', 'golden-lmm.json'), 'utf8')) as Record<string, GoldenModel>;

describe('donor LMM matches lmerTest (data/sc/golden-lmm.json from make-golden.R)', async () => {
  const { tenx, cells } = await loadFixture();
  const lib = librarySizes(tenx.counts);
  for (const name of ['between', 'paired_cov']) {
    const m = golden[name]!;
    it(`${name}: beta, se, df, p and variance components per gene`, () => {
      const design = buildDesign(cells.table, cells.present, { donor: 'donor', condition: m.condition, contrast: m.contrast, covariates: m.covariates });
      expect(design.kind).toBe(name === 'between' ? 'between' : 'paired');
      const stats = cellGeneStats(tenx.counts, lib, design);
      const fit = fitDonorLmm(donorDesign(design), stats);
      let compared = 0;
      m.genes.forEach((gd, g) => {
        if (!gd.fitted) {
          expect(LMM_STATUS[fit.code[g]!]).toBe('no_variance');
          return;
        }
        compared++;
        const label = `${name} ${gd.gene}`;
        expect(Math.abs(fit.beta[g]! - gd.beta) / gd.se, label).toBeLessThanOrEqual(1e-3);
        expect(Math.abs(Math.log10(fit.p[g]!) - Math.log10(gd.p)), label).toBeLessThanOrEqual(0.01);
        expect(Math.abs(fit.se[g]! / gd.se - 1), label).toBeLessThanOrEqual(1e-3);
        expect(Math.abs(fit.varResid[g]! / gd.var_resid - 1), label).toBeLessThanOrEqual(1e-3);
        expect(Math.abs(fit.varDonor[g]! - gd.var_donor), label).toBeLessThanOrEqual(1e-3 * gd.var_resid);
        expect(LMM_STATUS[fit.code[g]!] === 'singular', label).toBe(gd.singular);
        if (!gd.singular) expect(Math.abs(fit.df[g]! / gd.df - 1), label).toBeLessThanOrEqual(0.01);
      });
      expect(compared).toBeGreaterThan(30);
    });
  }
});
