import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { f64FromRows } from '../../../kernels/matrix.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { describeSelection, readKeepFile, selectSamples } from '../../../gwas/samples.js';
import { covariateDesign } from '../../../src/io/gemma-tables.js';
import { InputError } from '../../../src/errors.js';
import { GOLDEN, logValue, SIM, SIM_PREFIX, tempDir } from './sim-fixtures.js';

describe('analysed individuals (GEMMA rule)', () => {
  test('sim cohort: counts equal GEMMA logs without and with covariates', async () => {
    const plain = await loadAnalysisInputs({ bfile: SIM_PREFIX });
    expect(plain.samples.counts.analysed).toBe(Number(logValue(join(GOLDEN, 'lmm4.log.txt.gz'), 'number of analyzed individuals')));
    const covar = await loadAnalysisInputs({ bfile: SIM_PREFIX, covar: join(SIM, 'sim.covar.txt') });
    expect(covar.samples.counts.analysed).toBe(Number(logValue(join(GOLDEN, 'lmm4_covar.log.txt.gz'), 'number of analyzed individuals')));
    expect(covar.samples.counts).toEqual({ total: 350, missingPhenotype: 10, missingCovariate: 5, notKept: 0, analysed: 335 });
    expect(describeSelection(covar.samples)).toBe('335 of 350 individuals analysed (10 missing a phenotype, 5 missing a covariate)');
    expect(covar.design.w.cols).toBe(3);
    expect(covar.y.rows).toBe(335);
    const bimbam = await loadAnalysisInputs({ geno: join(SIM, 'sim.geno.txt.gz'), pheno: join(SIM, 'sim.pheno.txt'), phenoCols: [1, 2], covar: join(SIM, 'sim.covar.txt') });
    // Every selected phenotype must be present: fewer than with phenotype 2 alone (GEMMA's 333).
    expect(bimbam.samples.counts.analysed).toBeLessThan(Number(logValue(join(GOLDEN, 'bimbam_lmm4_covar_n2.log.txt.gz'), 'number of analyzed individuals')));
  });

  test('keep list (IID or FID IID) restricts; unknown IDs are ignored with a warning naming the keep file, count and lines (PLINK); none known is an error', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'keep.txt'), 'F001 F001_1\nF001_2\nU001\n');
    const s = await loadAnalysisInputs({ bfile: SIM_PREFIX, keep: join(dir, 'keep.txt') });
    expect(s.samples.ids).toEqual(['F001_1', 'F001_2', 'U001']);
    expect(s.samples.counts.notKept).toBe(337);
    expect(s.warnings).toEqual([]);
    writeFileSync(join(dir, 'bad.txt'), 'F001_1\nnobody\nU001\nnoone\n');
    const partly = await loadAnalysisInputs({ bfile: SIM_PREFIX, keep: join(dir, 'bad.txt') });
    expect(partly.samples.ids).toEqual(['F001_1', 'U001']);
    expect(partly.warnings).toEqual([`${join(dir, 'bad.txt')}: 2 sample IDs are not individuals of the genotype file and are ignored (line 2: 'nobody', line 4: 'noone')`]);
    writeFileSync(join(dir, 'none.txt'), 'nobody\nnoone\n');
    const err = await loadAnalysisInputs({ bfile: SIM_PREFIX, keep: join(dir, 'none.txt') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/none\.txt: none of its 2 sample IDs is an individual of the genotype file \(first: 'nobody' on line 1\)/);
    await expect(readKeepFile(join(dir, 'missing.txt'))).rejects.toThrow(/missing\.txt: cannot open/);
  });

  test('phenotype / covariate files with another number of rows than individuals', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'short.txt'), '1.0\n2.0\n');
    await expect(loadAnalysisInputs({ bfile: SIM_PREFIX, covar: join(dir, 'short.txt') })).rejects.toThrow(/short\.txt: has 2 rows but .*sim\.bed has 350 individuals/);
    await expect(loadAnalysisInputs({ bfile: SIM_PREFIX, pheno: join(dir, 'short.txt') })).rejects.toThrow(/has 2 rows/);
    // BIMBAM: the genotype lines must hold one dosage per phenotype row.
    await expect(loadAnalysisInputs({ geno: join(SIM, 'sim.geno.txt.gz'), pheno: join(dir, 'short.txt') })).rejects.toThrow(/sim\.geno\.txt\.gz:1: expected 3 \+ 2 fields/);
  });

  test('non-numeric and all-missing phenotypes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.txt'), '1.0 2\nNA 3\nabc 4\n');
    await expect(loadAnalysisInputs({ geno: join(SIM, 'sim.geno.txt.gz'), pheno: join(dir, 'p.txt') })).rejects.toThrow(/p\.txt:3:1: expected a number or NA as phenotype, found 'abc'/);
    writeFileSync(join(dir, 'na.txt'), 'NA\n'.repeat(350));
    await expect(loadAnalysisInputs({ bfile: SIM_PREFIX, pheno: join(dir, 'na.txt') })).rejects.toThrow(/na\.txt: phenotype 1 is missing \(NA\) for every individual/);
  });

  test('linearly dependent covariates name the covariate file', async () => {
    const dir = tempDir();
    // Column 2 = 2 x column 1: singular W'W once the intercept is appended.
    writeFileSync(join(dir, 'c.txt'), Array.from({ length: 350 }, (_, i) => `${i % 7} ${2 * (i % 7)}`).join('\n') + '\n');
    await expect(loadAnalysisInputs({ bfile: SIM_PREFIX, covar: join(dir, 'c.txt') })).rejects.toThrow(/c\.txt: covariates are linearly dependent .*column 2 is a combination of the previous ones/);
  });

  test('selectSamples needs every phenotype and covariate', () => {
    const nan = Number.NaN;
    const s = selectSamples({
      ids: ['a', 'b', 'c', 'd'],
      phenotypes: [Float64Array.from([1, nan, 3, 4]), Float64Array.from([1, 2, 3, nan])],
      covariates: f64FromRows([[1], [1], [nan], [2]]),
    });
    expect(Array.from(s.indices)).toEqual([0]);
    expect(s.counts).toEqual({ total: 4, missingPhenotype: 2, missingCovariate: 1, notKept: 0, analysed: 1 });
    expect(() => selectSamples({ ids: ['a'], phenotypes: [Float64Array.from([nan])] })).toThrow(/no individual has every selected phenotype/);
  });
});

describe("GEMMA's intercept rule", () => {
  const rows = Int32Array.from([0, 1, 2]);
  test('no file: W = 1; no constant column: ones appended last; a constant column: kept as is; all constant: W = 1', () => {
    expect(covariateDesign(undefined, rows)).toMatchObject({ intercept: 'none-given', w: { cols: 1 } });
    const a = covariateDesign(f64FromRows([[1], [2], [3]]), rows);
    expect(a.intercept).toBe('appended');
    expect(Array.from(a.w.data)).toEqual([1, 2, 3, 1, 1, 1]);
    const p = covariateDesign(f64FromRows([[2, 1], [2, 5], [2, 3]]), rows);
    expect(p.intercept).toBe('present');
    expect(Array.from(p.w.data)).toEqual([2, 2, 2, 1, 5, 3]);
    expect(covariateDesign(f64FromRows([[2, 7], [2, 7], [2, 7]]), rows)).toMatchObject({ intercept: 'all-constant', w: { cols: 1 } });
    // Constancy is judged on the analysed rows only.
    expect(covariateDesign(f64FromRows([[9], [2], [2]]), Int32Array.from([1, 2])).intercept).toBe('all-constant');
  });
});

describe('biobank-sized sample files', () => {
  test('a .fam of 200,000 individuals loads (phenotype columns counted without spreading an n-long array)', async () => {
    const dir = tempDir();
    const n = 200_000;
    const bytesPerSnp = Math.ceil(n / 4);
    const bed = new Uint8Array(3 + 2 * bytesPerSnp);
    bed.set([0x6c, 0x1b, 0x01]);
    bed.fill(0b11111111, 3); // every genotype homozygous for allele 2
    const prefix = join(dir, 'big');
    writeFileSync(`${prefix}.bed`, bed);
    writeFileSync(`${prefix}.bim`, '1\trs1\t0\t1\tA\tG\n1\trs2\t0\t2\tC\tT\n');
    writeFileSync(`${prefix}.fam`, Array.from({ length: n }, (_, i) => `f${i} i${i} 0 0 1 ${(i % 7) / 7}`).join('\n') + '\n');
    const inputs = await loadAnalysisInputs({ bfile: prefix });
    expect(inputs.phenotypes.length).toBe(1);
    expect(inputs.phenotypes[0]!.length).toBe(n);
    expect(inputs.phenotypes[0]![8]).toBeCloseTo(1 / 7, 12);
  });
});
