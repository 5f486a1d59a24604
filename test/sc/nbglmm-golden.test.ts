import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScde } from '../../src/sc/scde.js';
import { FIXTURE_DIR, loadFixture } from './fixture.js';

interface GoldenGene {
  gene: string;
  fitted: boolean;
  beta: number;
  se: number;
  sigma2: number;
  theta: number;
}
const golden = JSON.parse(readFileSync(path.join(FIXTURE_DIR, '..', 'golden-nbglmm.json'), 'utf8')) as { genes: GoldenGene[] };

describe('nbglmm agrees with glmmTMB nbinom2 + (1 | donor) (data/sc/golden-nbglmm.json from make-golden-nbglmm.R)', () => {
  it('beta within 0.01 se, se within 1%, sigma2 and theta within 1% (or sigma2 at the boundary in both)', async () => {
    const { tenx, cells } = await loadFixture();
    const [block] = [...runScde({ counts: tenx.counts, genes: tenx.geneNames, cells }, { donor: 'donor', condition: 'group', contrast: 'stim:ctrl', method: 'nbglmm' })];
    const b = block!;
    let compared = 0;
    golden.genes.forEach((gd, g) => {
      if (!gd.fitted) {
        expect(b.status[g]).toBe('all_zero');
        return;
      }
      compared++;
      expect(['ok', 'singular']).toContain(b.status[g]);
      expect(Math.abs(b.beta[g]! - gd.beta) / gd.se, gd.gene).toBeLessThan(0.01);
      expect(Math.abs(b.se[g]! / gd.se - 1), gd.gene).toBeLessThan(0.01);
      expect(Math.abs(1 / b.varResid[g]! / gd.theta - 1), gd.gene).toBeLessThan(0.01);
      if (gd.sigma2 < 1e-6) expect(b.status[g], gd.gene).toBe('singular');
      else expect(Math.abs(b.varDonor[g]! / gd.sigma2 - 1), gd.gene).toBeLessThan(0.01);
      // Donor-level reference: 10 donors, intercept + condition constant within donors.
      expect(b.df[g]).toBe(8);
    });
    expect(compared).toBe(39);
  });
});
