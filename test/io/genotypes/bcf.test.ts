import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openBcf } from '../../../src/io/bcf.js';
import { openPlink } from '../../../src/io/plink.js';
import { openVcf, type VcfField } from '../../../src/io/vcf.js';
import { SIM_PREFIX, tempDir } from '../../gwas/input/sim-fixtures.js';
import { doseTruth, fx } from './fixtures.js';
import { inputError, maxDiff, readAll } from './helpers.js';

/** DS and GP are float32 in BCF: 3-decimal values are off by at most half a float32 unit at 2. */
const FLOAT32 = 2 ** -23;

describe('BCF reader', () => {
  test('dosage BCF (bcftools view -Ob of the dosage VCF): DS and GP to float32 precision, GT exactly, as the VCF reader', async () => {
    const truth = doseTruth();
    for (const field of ['DS', 'GT', 'GP'] as VcfField[]) {
      const bcf = await openBcf(fx('dose.bcf'), { field });
      const vcf = await openVcf(fx('dose.vcf.gz'), { field });
      expect(bcf.samples).toEqual(vcf.samples);
      expect(bcf.snps).toEqual(vcf.snps);
      const got = await readAll(bcf, 33);
      const want = await readAll(vcf, 64);
      expect(maxDiff(got.dosage, want.dosage), field).toBeLessThanOrEqual(field === 'GT' ? 0 : 2 * FLOAT32);
      if (field === 'DS') expect(maxDiff(got.dosage, truth.dosage)).toBeLessThanOrEqual(2 * FLOAT32);
      if (field === 'GT') expect(got.hard.every((h) => h)).toBe(true);
    }
    expect((await openBcf(fx('dose.bcf'))).field).toBe('DS');
  });

  test('hard calls (data/sim through VCF to BCF) = the .bed, with keep lists and ranges', async () => {
    const bed = await openPlink(SIM_PREFIX);
    const src = await openBcf(fx('sim.bcf'));
    expect(src.snps).toEqual(bed.snps);
    expect(maxDiff((await readAll(src, 250)).dosage, (await readAll(bed, 500)).dosage)).toBe(0);
    const keep = Int32Array.from([0, 1, 200, 349]);
    const want = await readAll(bed, 500, keep);
    expect(maxDiff((await readAll(src, 17, keep, { start: 1001, end: 1999 })).dosage, want.dosage.slice(1001, 1999))).toBe(0);
  });

  test('edge cases (multi-allelic split or skipped, haploid, missing) as the VCF reader reads them', async () => {
    for (const field of ['DS', 'GT', 'GP'] as VcfField[]) {
      const bcf = await openBcf(fx('edge.bcf'), { field });
      const vcf = await openVcf(fx('edge.vcf'), { field });
      expect(bcf.snps).toEqual(vcf.snps);
      expect(maxDiff((await readAll(bcf, 2)).dosage, (await readAll(vcf, 2)).dosage), field).toBeLessThanOrEqual(4 * FLOAT32);
    }
    expect((await openBcf(fx('edge.bcf'), { multiallelic: 'skip' })).skipped).toEqual({ multiallelic: 2, monoallelic: 0 });
  });

  test('a region through the .csi equals a filtered scan', async () => {
    const region = { chr: '2', from: 100_000, to: 600_000 };
    const indexed = await openBcf(fx('dose.bcf'), { region });
    const scanned = await openBcf(fx('dose.bcf'), { region, index: false });
    expect(indexed.indexPath).toBe(fx('dose.bcf.csi'));
    expect(indexed.snps.length).toBeGreaterThan(10);
    expect(indexed.snps).toEqual(scanned.snps);
    expect(indexed.snps).toEqual((await openVcf(fx('dose.vcf.gz'), { region })).snps);
    expect(maxDiff((await readAll(indexed, 5)).dosage, (await readAll(scanned, 9)).dosage)).toBe(0);
  });

  test('not a BCF, truncated, a VCF opened as BCF', async () => {
    const dir = tempDir();
    expect((await inputError(openBcf(fx('dose.vcf.gz')))).message).toMatch(/dose\.vcf\.gz: byte 0: not a BCF file/);
    const good = readFileSync(fx('sim.bcf'));
    writeFileSync(join(dir, 'cut.bcf'), good.subarray(0, 100_000));
    expect((await inputError(openBcf(join(dir, 'cut.bcf')))).message).toMatch(/truncated/);
    expect((await inputError(openVcf(fx('sim.bcf')))).message).toMatch(/sim\.bcf:1: a BCF file \(binary VCF\), not VCF text/);
  });
});
