/**
 * The per-gene donor LMM and the general mixed-model engine (src/lmm/mixed) fit the same model where both apply:
 * y ~ condition + covariates + (1 | donor), REML, Satterthwaite df.
 */
import { describe, expect, it } from 'vitest';
import { fit } from '../../src/lmm/mixed/index.js';
import { cellGeneStats, donorDesign, librarySizes, NORMALISE_SCALE } from '../../src/sc/cell-stats.js';
import { buildDesign } from '../../src/sc/design.js';
import { fitDonorLmm } from '../../src/sc/lmm-donor.js';
import { loadFixture } from './fixture.js';

describe('donor LMM agrees with the general engine (src/lmm/mixed)', () => {
  it('paired design with numeric and categorical covariates: beta, se, df, p on 8 genes', async () => {
    const { tenx, cells } = await loadFixture();
    const lib = librarySizes(tenx.counts);
    const design = buildDesign(cells.table, cells.present, { donor: 'donor', condition: 'treat', contrast: 'trt:untr', covariates: ['score', 'batch'] });
    const ours = fitDonorLmm(donorDesign(design), cellGeneStats(tenx.counts, lib, design));
    const col = (name: string) => [...design.cells].map((j) => cells.table.columns.get(name)![j]!);
    const treat = col('treat').map((v) => (v === 'untr' ? 'a_untr' : 'b_trt')); // engine's reference level: first sorted
    for (const g of [1, 2, 3, 5, 8, 13, 21, 34]) {
      const y = Float64Array.from(design.cells, (j) => {
        let c = 0;
        for (let k = tenx.counts.colPtr[j]!; k < tenx.counts.colPtr[j + 1]!; k++) if (tenx.counts.rowIdx[k] === g) c = tenx.counts.values[k]!;
        return Math.log1p((NORMALISE_SCALE * c) / lib[j]!);
      });
      const m = fit({ y, treat, score: col('score').map(Number), batch: col('batch'), donor: col('donor') }, 'y ~ treat + score + batch + (1 | donor)');
      const row = m.fixef.find((r) => r.term === 'treatb_trt')!;
      expect(Math.abs(ours.beta[g]! - row.estimate) / row.se, `gene ${g}`).toBeLessThan(1e-3);
      expect(Math.abs(ours.se[g]! / row.se - 1), `gene ${g}`).toBeLessThan(1e-3);
      expect(Math.abs(Math.log10(ours.p[g]!) - Math.log10(row.p)), `gene ${g}`).toBeLessThan(0.01);
      if (!m.singular) expect(Math.abs(ours.df[g]! / row.df - 1), `gene ${g}`).toBeLessThan(0.01);
    }
  });
});
