/**
 * The crossed donor + second-factor LMM (src/sc/lmm-crossed.ts, from sufficient statistics, batched over genes)
 * and the general mixed-model engine (src/lmm/mixed, lme4's algorithm on the cell-level data) fit the same model:
 * y ~ condition + covariates + (1 | donor) + (1 | batch), REML, Satterthwaite df.
 */
import { describe, expect, it } from 'vitest';
import { fit } from '../../src/lmm/mixed/index.js';
import { cellGeneStats, librarySizes, NORMALISE_SCALE } from '../../src/sc/cell-stats.js';
import { buildDesign } from '../../src/sc/design.js';
import { crossedDesign, fitCrossedLmm, pseudoInverseQuadratic3 } from '../../src/sc/lmm-crossed.js';
import { loadFixture } from './fixture.js';

describe('crossed donor x batch LMM agrees with the general engine', async () => {
  const { tenx, cells } = await loadFixture();
  const lib = librarySizes(tenx.counts);
  const col = (design: { cells: Int32Array }, name: string) => [...design.cells].map((j) => cells.table.columns.get(name)![j]!);
  const yOf = (design: { cells: Int32Array }, g: number) =>
    Float64Array.from(design.cells, (j) => {
      let c = 0;
      for (let k = tenx.counts.colPtr[j]!; k < tenx.counts.colPtr[j + 1]!; k++) if (tenx.counts.rowIdx[k] === g) c = tenx.counts.values[k]!;
      return Math.log1p((NORMALISE_SCALE * c) / lib[j]!);
    });

  for (const [label, opts, formula, term] of [
    ['between-donor condition', { donor: 'donor', condition: 'group', random: 'batch' }, 'y ~ group + (1 | donor) + (1 | batch)', 'groupstim'],
    ['paired condition + numeric covariate', { donor: 'donor', condition: 'treat', contrast: 'trt:untr', covariates: ['score'], random: 'batch' }, 'y ~ treat + score + (1 | donor) + (1 | batch)', 'treatb_trt'],
  ] as const) {
    it(`${label}: beta, se, p, df, variances on 10 genes`, () => {
      const design = buildDesign(cells.table, cells.present, opts);
      const second = design.second!;
      const stats = cellGeneStats(tenx.counts, lib, design);
      const ours = fitCrossedLmm(crossedDesign(design.x, design.p, design.coef, design.donorOf, design.donors.length, second.of, second.levels.length), { ...stats, uy: stats.uy! });
      const data: Record<string, unknown> = { donor: col(design, 'donor'), batch: col(design, 'batch'), score: col(design, 'score').map(Number) };
      data.group = col(design, 'group');
      data.treat = col(design, 'treat').map((v) => (v === 'untr' ? 'a_untr' : 'b_trt'));
      for (const g of [1, 2, 3, 5, 8, 13, 21, 27, 34, 39]) {
        const m = fit({ ...data, y: yOf(design, g) } as Parameters<typeof fit>[0], formula);
        const row = m.fixef.find((r) => r.term === term)!;
        const vc = (grp: string) => m.varcorr.find((r) => r.grp === grp)!.vcov;
        const at = `gene ${g}`;
        expect(Math.abs(ours.beta[g]! - row.estimate) / row.se, at).toBeLessThan(1e-3);
        expect(Math.abs(ours.se[g]! / row.se - 1), at).toBeLessThan(1e-3);
        expect(Math.abs(Math.log10(ours.p[g]!) - Math.log10(row.p)), at).toBeLessThan(0.01);
        expect(Math.abs(ours.df[g]! / row.df - 1), at).toBeLessThan(0.01);
        expect(Math.abs(ours.varResid[g]! / vc('Residual') - 1), at).toBeLessThan(1e-3);
        for (const [v, grp] of [[ours.varDonor[g]!, 'donor'], [ours.varSecond[g]!, 'batch']] as const) expect(Math.abs(v - vc(grp)), `${at} ${grp}`).toBeLessThan(1e-3 * vc('Residual'));
        process.stderr.write(`VC ${label} ${g} donor=${vc("donor").toFixed(5)}/${ours.varDonor[g]!.toFixed(5)} batch=${vc("batch").toFixed(5)}/${ours.varSecond[g]!.toFixed(5)} df=${row.df.toFixed(2)}/${ours.df[g]!.toFixed(2)}\n`);
      }
    });
  }

  it('pseudo-inverse quadratic form of a 3 x 3 matrix: full rank and rank-deficient', () => {
    const h = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
    const x = [1, -2, 0.5];
    // Full rank: x' H^-1 x by solving directly.
    const det = 4 * (3 * 2 - 0.04) - 1 * (1 * 2 - 0.2 * 0.5) + 0.5 * (1 * 0.2 - 3 * 0.5);
    const inv = [
      (3 * 2 - 0.04) / det, -(1 * 2 - 0.5 * 0.2) / det, (1 * 0.2 - 3 * 0.5) / det,
      -(1 * 2 - 0.2 * 0.5) / det, (4 * 2 - 0.25) / det, -(4 * 0.2 - 0.5 * 1) / det,
      (1 * 0.2 - 0.5 * 3) / det, -(4 * 0.2 - 1 * 0.5) / det, (4 * 3 - 1) / det,
    ];
    let q = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) q += x[i]! * inv[i * 3 + j]! * x[j]!;
    expect(Math.abs(pseudoInverseQuadratic3(h, x) / q - 1)).toBeLessThan(1e-12);
    // Rank one: H = u u', x = 2u: x' H^+ x = 4.
    const u = [1, 2, 2].map((v) => v / 3);
    const r1 = Float64Array.from({ length: 9 }, (_, k) => u[Math.floor(k / 3)]! * u[k % 3]!);
    expect(Math.abs(pseudoInverseQuadratic3(r1, u.map((v) => 2 * v)) - 4)).toBeLessThan(1e-10);
  });
});
