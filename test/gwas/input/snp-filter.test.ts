import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { f64FromRows, f64Matrix } from '../../../kernels/matrix.js';
import { loadAnalysisInputs, type AnalysisInputOptions } from '../../../gwas/inputs.js';
import { SNP_STATUS, SnpFilter } from '../../../gwas/snp-filter.js';
import { codeOf } from '../../helpers/packed-codes.js';
import { GOLDEN, hasMouse, MOUSE_DIR, MOUSE_PREFIX, readAssoc, SIM, SIM_PREFIX } from './sim-fixtures.js';

/** Runs the filter over every block of the inputs' analysed individuals, like a scan does. */
async function analysedSnps(opts: AnalysisInputOptions) {
  const inputs = await loadAnalysisInputs(opts);
  const filter = new SnpFilter({ covariates: inputs.design.w });
  const kept: { rs: string; af: number; nMiss: number }[] = [];
  const status = new Map<string, string>();
  for await (const block of inputs.source.blocks(700, inputs.samples.indices)) {
    const v = filter.apply(block.dosages);
    block.snps.forEach((s, j) => {
      status.set(s.rs, SNP_STATUS[v.status[j]!]!);
      if (v.kept[j]) kept.push({ rs: s.rs, af: v.af[j]!, nMiss: v.nMiss[j]! });
    });
    // Imputed columns: the kept SNPs, missing values replaced by 2 af, others untouched.
    let wrong = 0;
    v.keptIndex.forEach((j, k) => {
      for (let r = 0; r < block.dosages.rows; r++) {
        const x = block.dosages.data[r + j * block.dosages.ld]!;
        if (v.imputed.data[r + k * v.imputed.ld] !== (Number.isNaN(x) ? 2 * v.af[j]! : x)) wrong++;
      }
    });
    expect(wrong).toBe(0);
  }
  return { kept, status, inputs };
}

/** Same SNPs as GEMMA's assoc file, n_miss exact, af within GEMMA's 3-decimal rounding. */
function expectSameAsGemma(kept: { rs: string; af: number; nMiss: number }[], assocPath: string): void {
  const gemma = readAssoc(assocPath);
  expect(kept.map((k) => k.rs)).toEqual(gemma.map((g) => g.rs));
  expect(kept.map((k) => k.nMiss)).toEqual(gemma.map((g) => Number(g.n_miss)));
  const worst = Math.max(...kept.map((k, i) => Math.abs(k.af - Number(gemma[i]!.af))));
  expect(worst).toBeLessThanOrEqual(0.0005 + 1e-12);
}

describe('SNP filter against GEMMA 0.98.5 analysed SNPs', () => {
  test('PLINK, no covariates (lmm4): 1934 SNPs, af and n_miss', async () => {
    const { kept, status } = await analysedSnps({ bfile: SIM_PREFIX });
    expectSameAsGemma(kept, join(GOLDEN, 'lmm4.assoc.txt.gz'));
    expect(status.get('snp0008')).toBe('maf'); // j = 7: rare
    expect(status.get('snp0032')).toBe('maf'); // j = 31: all 2 (af = 1): the af filter comes first
    expect(status.get('snp1235')).toBe('monomorphic'); // j = 1234: all heterozygous
    expect(status.get('snp0012')).toBe('missing'); // j = 11: 9% missing
    expect(status.get('snp0556')).toBe('ok'); // 2 x sex: only collinear with covariates
  });

  test('PLINK with covariates (lmm4_covar): the r^2 filter drops the SNP equal to 2 x sex', async () => {
    const { kept, status, inputs } = await analysedSnps({ bfile: SIM_PREFIX, covar: join(SIM, 'sim.covar.txt') });
    expect(inputs.design.intercept).toBe('appended');
    expectSameAsGemma(kept, join(GOLDEN, 'lmm4_covar.assoc.txt.gz'));
    expect(status.get('snp0556')).toBe('collinear');
  });

  test('BIMBAM, phenotype 2, covariates (bimbam_lmm4_covar_n2)', async () => {
    const { kept } = await analysedSnps({
      geno: join(SIM, 'sim.geno.txt.gz'),
      anno: join(SIM, 'sim.anno.txt'),
      pheno: join(SIM, 'sim.pheno.txt'),
      phenoCols: [2],
      covar: join(SIM, 'sim.covar.txt'),
    });
    expectSameAsGemma(kept, join(GOLDEN, 'bimbam_lmm4_covar_n2.assoc.txt.gz'));
  });

  test.skipIf(!hasMouse)('mouse_hs1940 (shared data): 10768 SNPs as GEMMA', async () => {
    const { kept } = await analysedSnps({ bfile: MOUSE_PREFIX });
    expectSameAsGemma(kept, join(MOUSE_DIR, 'gemma-0.98.5/lmm4.assoc.txt.gz'));
  });
});

describe('SNP filter rules on small cases', () => {
  test('thresholds are strict like GEMMA (> miss, < maf), monomorphic means one distinct value', () => {
    const nan = Number.NaN;
    // 20 individuals; columns: 1 missing (5% -> kept), 2 missing (10% -> dropped), af exactly 0.025 with maf 0.025
    // (kept), all 1 (monomorphic), a dosage column with two values (kept).
    const cols = [
      [nan, ...Array(9).fill(0), ...Array(10).fill(2)],
      [nan, nan, ...Array(8).fill(0), ...Array(10).fill(2)],
      [1, ...Array(19).fill(0)],
      Array(20).fill(1),
      [0.5, ...Array(19).fill(1.5)],
    ];
    const x = f64Matrix(20, cols.length, Float64Array.from(cols.flat()));
    const v = new SnpFilter({ maf: 0.025 }).apply(x);
    expect(Array.from(v.status, (s) => SNP_STATUS[s])).toEqual(['ok', 'missing', 'ok', 'monomorphic', 'ok']);
    expect(v.af[0]).toBeCloseTo(20 / 38, 15);
    expect(Array.from(v.nMiss)).toEqual([1, 2, 0, 0, 0]);
    expect(Array.from(v.keptIndex)).toEqual([0, 2, 4]);
    expect(v.imputed.data[0]).toBeCloseTo(40 / 38, 14); // 2 af
  });

  test('r^2 on W is uncentred and only applies with more than one column', () => {
    const w = f64FromRows([[1, 0], [1, 1], [1, 0], [1, 1]]);
    const x = f64FromRows([[0, 0], [2, 1], [0, 2], [2, 1]]); // column 0 = 2 * w1 (r^2 = 1); column 1 not in span
    expect(Array.from(new SnpFilter({ covariates: w, maf: -1 }).apply(x).status, (s) => SNP_STATUS[s])).toEqual(['collinear', 'ok']);
    expect(Array.from(new SnpFilter({ maf: -1 }).apply(x).status, (s) => SNP_STATUS[s])).toEqual(['ok', 'ok']);
  });

  test('linearly dependent covariates are rejected with the shape', () => {
    const w = f64FromRows([[1, 2], [1, 2], [1, 2]]);
    expect(() => new SnpFilter({ covariates: w })).toThrow(/linearly dependent.*3x2/);
  });
});

describe('SnpFilter.applyCounts (code counts of a .bed/PGEN) decides as apply', () => {
  test('data/sim with covariates (r^2 filter), analysed individuals a subset', async () => {
    const inputs = await loadAnalysisInputs({ bfile: SIM_PREFIX, covar: join(SIM, 'sim.covar.txt') });
    const filter = new SnpFilter({ covariates: inputs.design.w });
    const rows = inputs.samples.indices;
    const n = rows.length;
    let compared = 0;
    for await (const block of inputs.source.blocks(300)) {
      const x = block.dosages;
      const counts = new Int32Array(4 * x.cols);
      for (let j = 0; j < x.cols; j++) for (const i of rows) counts[4 * j + codeOf(x.data[i + j * x.ld]!)]!++;
      const got = filter.applyCounts(counts, n, (j, mean, out) => {
        for (let r = 0; r < n; r++) {
          const v = x.data[rows[r]! + j * x.ld]!;
          out[r] = v === v ? v : mean;
        }
      });
      expect(got).toEqual(filter.apply(x, rows, { impute: false }));
      compared += x.cols;
    }
    expect(compared).toBe(inputs.source.nSnps);
  });
});
