import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openPgen, readPsam, readPvar } from '../../../src/io/pgen.js';
import { famPhenotype, openPlink } from '../../../src/io/plink.js';
import { openVcf } from '../../../src/io/vcf.js';
import { SIM_PREFIX, tempDir } from '../../gwas/input/sim-fixtures.js';
import { doseTruth, freqOf, fx, plink2Freq } from './fixtures.js';
import { inputError, maxDiff, readAll, readPacked } from './helpers.js';

/** A copy of a PLINK 2 fileset in a temp dir (prefix returned), with `edit` applied to one file's bytes. */
function editedCopy(name: string, ext: 'pgen' | 'pvar' | 'psam', edit: (b: Buffer) => Buffer): string {
  const dir = tempDir();
  for (const e of ['pgen', 'pvar', 'psam']) copyFileSync(fx(`${name}.${e}`), join(dir, `${name}.${e}`));
  const p = join(dir, `${name}.${ext}`);
  writeFileSync(p, edit(readFileSync(p)));
  return join(dir, name);
}

describe('PGEN reader', () => {
  test('hard calls (plink2 --make-pgen of data/sim: plain, 1-bit and difflist records) = the .bed, with keep lists and ranges', async () => {
    const bed = await openPlink(SIM_PREFIX);
    const src = await openPgen(fx('sim'));
    expect(src.snps).toEqual(bed.snps);
    expect(src.samples).toEqual(bed.samples);
    const got = await readAll(src, 111);
    expect(maxDiff(got.dosage, (await readAll(bed, 500)).dosage)).toBe(0);
    expect(got.hard.every((h) => h)).toBe(true);
    const keep = Int32Array.from([0, 3, 4, 5, 100, 349]);
    const want = await readAll(bed, 500, keep);
    expect(maxDiff((await readAll(src, 64, keep, { start: 7, end: 1700 })).dosage, want.dosage.slice(7, 1700))).toBe(0);
  });

  test('LD-compressed records (plain and inverted) = the .bed of the same genotypes, also when a range starts on one', async () => {
    const bed = await openPlink(fx('ld'));
    const src = await openPgen(fx('ld'));
    const want = await readAll(bed, 100);
    expect(maxDiff((await readAll(src, 9)).dosage, want.dosage)).toBe(0);
    // Record types 2 and 3 (LD) and 0/1 (their bases) are all present (checked in the fixture's header).
    const types = new Set((src as unknown as { index: { type: Uint8Array } }).index.type);
    expect([...types].map((t) => t & 7).sort()).toEqual([0, 1, 2, 3]);
    for (const start of [1, 3, 15, 47, 79]) expect(maxDiff((await readAll(src, 4, undefined, { start, end: 80 })).dosage, want.dosage.slice(start))).toBe(0);
  });

  test('dosages (plink2 --make-pgen of the dosage VCF): within 1/32768 of the truth, frequencies as plink2 reads them', async () => {
    const truth = doseTruth();
    const src = await openPgen(fx('dose'));
    expect(src.snps.map((s) => [s.rs, s.allele1, s.allele0])).toEqual(truth.rs.map((rs, j) => [rs, truth.alt[j], truth.ref[j]]));
    const got = await readAll(src, 50);
    const err = maxDiff(got.dosage, truth.dosage);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThanOrEqual(0.5 / 16384);
    const ours = freqOf(got.dosage);
    const oracle = plink2Freq('dose.pgen');
    expect(ours.obs).toEqual(oracle.obs);
    ours.altFreq.forEach((p, j) => expect(Math.abs(p - oracle.altFreq[j]!)).toBeLessThanOrEqual(1e-5 * Math.max(p, 0.01)));
    const keep = Int32Array.from([1, 2, 150, 199]);
    const part = await readAll(src, 7, keep, { start: 33, end: 200 });
    expect(maxDiff(part.dosage, got.dosage.slice(33, 200).map((d) => Float64Array.from(keep, (i) => d[i]!)))).toBe(0);
  });

  test('multi-allelic hard calls (patch sets for 2 and 3 ALT alleles), phase tracks, phased dosages: as the VCF says', async () => {
    const vcf = await readAll(await openVcf(fx('edge.vcf'), { field: 'GT' }), 5);
    const src = await openPgen(fx('edge'));
    expect(src.snps).toEqual((await openVcf(fx('edge.vcf'))).snps);
    expect(maxDiff((await readAll(src, 2)).dosage, vcf.dosage)).toBe(0);
    const skip = await openPgen(fx('edge'), { multiallelic: 'skip' });
    expect(skip.skipped).toEqual({ multiallelic: 2, monoallelic: 0 });
    expect(skip.snps.map((s) => s.rs)).toEqual(['bi', 'haploid', 'order', 'gtonly']);
    // edge-ds: the biallelic records with DS (plink2 keeps DS to 1/16384; where DS is absent, s4 of 'order',
    // plink2 keeps the GT call 1/0).
    const ds = await readAll(await openPgen(fx('edge-ds')), 3);
    const want = [[0.1, 1.2, 1.9, NaN], [2, 0, NaN, NaN], [1, 1.3, 0, 1], [1, 2, 0, 1]].map((r) => Float64Array.from(r));
    expect(maxDiff(ds.dosage, want)).toBeLessThanOrEqual(0.5 / 16384);
  });

  test('packed blocks (.bed codes without f64): the same hard calls as blocks(), for .bed and hard-call PGENs; none for PGENs with dosages', async () => {
    for (const src of [await openPlink(SIM_PREFIX), await openPgen(fx('sim')), await openPgen(fx('ld')), await openPgen(fx('edge'))]) {
      expect(src.packedBlocks, src.describe).toBeDefined();
      const want = (await readAll(src, 100)).dosage;
      expect(maxDiff(await readPacked(src, 33), want)).toBe(0);
      const n = src.nSnps;
      expect(maxDiff(await readPacked(src, 4, { start: 1, end: n - 1 }), want.slice(1, n - 1))).toBe(0);
    }
    expect((await openPgen(fx('dose'))).packedBlocks).toBeUndefined();
  });

  test('.psam phenotypes and IDs; .pvar without a header (.bim order)', async () => {
    const psam = await readPsam(fx('sim.psam'));
    expect(psam.iid[0]).toBe('F001_1');
    expect(psam.fid[0]).toBe('F001');
    const y = famPhenotype(psam, 1);
    expect(y.filter((v) => Number.isNaN(v)).length).toBe(10);
    const dir = tempDir();
    writeFileSync(join(dir, 'bim.pvar'), readFileSync(`${SIM_PREFIX}.bim`));
    const headerless = await readPvar(join(dir, 'bim.pvar'));
    const withHeader = await readPvar(fx('sim.pvar'));
    expect(headerless).toEqual(withHeader);
    writeFileSync(join(dir, 'fam.psam'), readFileSync(`${SIM_PREFIX}.fam`));
    expect((await readPsam(join(dir, 'fam.psam'))).iid).toEqual(psam.iid);
  });

  describe('malformed filesets are rejected with the file and byte offset or line', () => {
    test('bad magic, PLINK 1 mode, unsupported storage mode', async () => {
      expect((await inputError(openPgen(editedCopy('sim', 'pgen', (b) => Buffer.concat([Buffer.from([0x6c, 0x1c]), b.subarray(2)]))))).message).toMatch(/sim\.pgen: byte 0: not a PGEN file: expected magic bytes 6c 1b, found 6c 1c/);
      expect((await inputError(openPgen(editedCopy('sim', 'pgen', (b) => ((b[2] = 0x01), b))))).message).toMatch(/byte 2: storage mode 0x01 is a PLINK 1 \.bed: read it with --bfile/);
      expect((await inputError(openPgen(editedCopy('sim', 'pgen', (b) => ((b[2] = 0x02), b))))).message).toMatch(/byte 2: storage mode 0x02 is not supported/);
    });

    test('wrong sample count, wrong variant count, truncated records', async () => {
      const fewer = editedCopy('sim', 'psam', (b) => Buffer.from(b.toString('utf8').split('\n').slice(0, -2).join('\n') + '\n'));
      expect((await inputError(openPgen(fewer))).message).toMatch(/sim\.pgen: byte 7: wrong sample count: the header says 350 samples, .*sim\.psam lists 349/);
      const pvar = editedCopy('sim', 'pvar', (b) => Buffer.from(b.toString('utf8').split('\n').slice(0, -2).join('\n') + '\n'));
      expect((await inputError(openPgen(pvar))).message).toMatch(/byte 3: the header says 2000 variants, .*sim\.pvar lists 1999/);
      const cut = editedCopy('sim', 'pgen', (b) => b.subarray(0, b.length - 500));
      expect((await inputError(openPgen(cut))).message).toMatch(/truncated: the records end at byte \d+, the file at byte \d+/);
    });

    test('a corrupt record (difflist naming a sample out of range) names the record byte offset', async () => {
      const src = await openPgen(fx('sim'));
      const idx = (src as unknown as { index: { type: Uint8Array; offset: Float64Array } }).index;
      const rec = idx.type.findIndex((t) => t === 4);
      const at = idx.offset[rec]!;
      // A difflist of one entry whose sample ID (2 bytes: 350 samples) is 0xffff.
      const bad = editedCopy('sim', 'pgen', (b) => {
        b[at] = 1;
        b[at + 1] = 0xff;
        b[at + 2] = 0xff;
        return b;
      });
      const e = await inputError(readAll(await openPgen(bad), 100));
      expect(e.message).toMatch(new RegExp(`byte ${at}: difflist names sample 65535, but there are 350`));
    });
  });
});
