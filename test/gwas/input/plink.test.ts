import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { famPhenotype, openPlink, readFam } from '../../../src/io/plink.js';
import type { GenotypeSource } from '../../../gwas/types.js';
import { SIM_PREFIX, simBimbamDosages, tempDir } from './sim-fixtures.js';

/** All blocks of a source as dosage[snp][row]. */
async function collect(src: GenotypeSource, blockSize: number, keep?: Int32Array): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  let next = 0;
  for await (const b of src.blocks(blockSize, keep)) {
    expect(b.start).toBe(next);
    expect(b.snps.length).toBe(b.dosages.cols);
    for (let j = 0; j < b.dosages.cols; j++) out.push(b.dosages.data.slice(j * b.dosages.ld, j * b.dosages.ld + b.dosages.rows));
    next += b.dosages.cols;
  }
  return out;
}

/** A copy of the sim fileset in a temp dir, with `edit` applied to the named file's bytes. */
function editedCopy(ext: 'bed' | 'bim' | 'fam', edit: (b: Buffer) => Buffer): string {
  const dir = tempDir();
  const prefix = join(dir, 'sim');
  for (const e of ['bed', 'bim', 'fam']) copyFileSync(`${SIM_PREFIX}.${e}`, `${prefix}.${e}`);
  writeFileSync(`${prefix}.${ext}`, edit(readFileSync(`${prefix}.${ext}`)));
  return prefix;
}

async function openError(prefix: string): Promise<InputError> {
  const err = await openPlink(prefix).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe('PLINK reader on the simulated cohort', () => {
  test('counts, IDs and .bim fields', async () => {
    const src = await openPlink(SIM_PREFIX);
    expect(src.samples.length).toBe(350);
    expect(src.nSnps).toBe(2000);
    expect(src.samples[0]).toBe('F001_1');
    expect(src.snps[0]).toEqual({ chr: '1', rs: 'snp0001', ps: 48839, allele1: 'C', allele0: 'G' });
    expect(new Set(src.snps.map((s) => s.chr))).toEqual(new Set(['1', '2', '3', '4', '5']));
    const y = famPhenotype(src.fam, 1);
    expect(y.filter((v) => Number.isNaN(v)).length).toBe(10);
  });

  test('decoded dosages equal the BIMBAM text of the same genotypes (all individuals and a subset, ragged blocks)', async () => {
    const src = await openPlink(SIM_PREFIX);
    const ref = simBimbamDosages();
    expect(src.snps.map((s) => s.rs)).toEqual(ref.rs);
    expect(src.snps.map((s) => s.allele1)).toEqual(ref.a1);
    const all = await collect(src, 333);
    expect(all.length).toBe(2000);
    all.forEach((col, j) => expect(Array.from(col)).toEqual(Array.from(ref.dosage[j]!)));
    const keep = Int32Array.from([0, 3, 4, 5, 7, 100, 346, 349]);
    const some = await collect(src, 1999, keep);
    some.forEach((col, j) => expect(Array.from(col)).toEqual(Array.from(keep, (i) => ref.dosage[j]![i]!)));
    expect(all.flatMap((c) => Array.from(c)).filter((v) => Number.isNaN(v)).length).toBeGreaterThan(1000);
  });

  test('2-bit codes: 00 -> 2, 01 -> missing, 10 -> 1, 11 -> 0, low bits first', async () => {
    const dir = tempDir();
    const prefix = join(dir, 'tiny');
    writeFileSync(`${prefix}.fam`, ['a', 'b', 'c', 'd', 'e'].map((id) => `${id} ${id} 0 0 1 1.5`).join('\n') + '\n');
    writeFileSync(`${prefix}.bim`, '1 s1 0 100 A G\n1 s2 0 200 C T\n');
    // SNP 1: individuals a..d in byte 0 (a in bits 0-1), e in byte 1. SNP 2: all 11 (0).
    writeFileSync(`${prefix}.bed`, Buffer.from([0x6c, 0x1b, 0x01, 0b11100100, 0b00000000, 0xff, 0b00000011]));
    const cols = await collect(await openPlink(prefix), 1);
    expect(Array.from(cols[0]!)).toEqual([2, Number.NaN, 1, 0, 2]);
    expect(Array.from(cols[1]!)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('PLINK bad input names the file and what was expected', () => {
  test('wrong magic bytes', async () => {
    const e = await openError(editedCopy('bed', (b) => Buffer.concat([Buffer.from([0x00, 0x1b, 0x01]), b.subarray(3)])));
    expect(e.file).toMatch(/sim\.bed$/);
    expect(e.message).toMatch(/expected magic bytes 0x6c 0x1b/);
  });

  test('individual-major .bed is refused', async () => {
    const e = await openError(editedCopy('bed', (b) => Buffer.concat([Buffer.from([0x6c, 0x1b, 0x00]), b.subarray(3)])));
    expect(e.message).toMatch(/SNP-major/);
  });

  test('truncated .bed', async () => {
    const e = await openError(editedCopy('bed', (b) => b.subarray(0, b.length - 100)));
    expect(e.file).toMatch(/sim\.bed$/);
    expect(e.message).toMatch(/truncated/);
    expect(e.message).toContain('3 + 2000 x 88 = 176003 bytes');
  });

  test('.bim with one SNP more than the .bed holds', async () => {
    const e = await openError(editedCopy('bim', (b) => Buffer.concat([b, Buffer.from('5 extra 0 99999999 A C\n')])));
    expect(e.message).toMatch(/lists 2001 SNPs/);
  });

  test('.fam with more individuals than the .bed holds (beyond the padding of the last byte)', async () => {
    const e = await openError(editedCopy('fam', (b) => Buffer.concat([b, Buffer.from([1, 2, 3].map((k) => `X${k} X${k} 0 0 1 1.0\n`).join(''))])));
    expect(e.message).toMatch(/353 individuals/);
    expect(e.message).toContain('3 + 2000 x 89 = 178003 bytes');
  });

  test('.bim line with a missing column', async () => {
    const e = await openError(editedCopy('bim', (b) => Buffer.from(b.toString().replace('1 snp0002 0.0884 88391 C G', '1 snp0002 88391 C G'))));
    expect(e.file).toMatch(/sim\.bim$/);
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/expected 6 columns/);
  });

  test('non-numeric .fam phenotype', async () => {
    const prefix = editedCopy('fam', (b) => Buffer.from(b.toString().replace('F001 F001_3 F001_1 F001_2 2 -1.540179', 'F001 F001_3 F001_1 F001_2 2 tall')));
    const fam = await readFam(`${prefix}.fam`);
    const e = (() => {
      try {
        famPhenotype(fam, 1);
      } catch (err) {
        return err as InputError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(InputError);
    expect([e.line, e.column]).toEqual([3, 6]);
    expect(e.message).toContain("found 'tall'");
  });
});
