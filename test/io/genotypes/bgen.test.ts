import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { openBgen, readSampleFile } from '../../../src/io/bgen.js';
import { openPlink } from '../../../src/io/plink.js';
import { SIM_PREFIX, tempDir } from '../../gwas/input/sim-fixtures.js';
import { doseTruth, freqOf, fx, nanArray, plink2Freq } from './fixtures.js';
import { inputError, maxDiff, readAll } from './helpers.js';

interface EdgeVariant {
  rs: string;
  chr: string;
  ps: number;
  alleles: string[];
  dosage: (number | null)[][];
}
const edge = JSON.parse(readFileSync(fx('edge-bgen.expected.json'), 'utf8')) as { samples: string[]; l2: EdgeVariant[]; v11: EdgeVariant[] };

/** Expected SNPs of the edge variants: REF last counts alleles 0..K-2, REF first counts 1..K-1. */
function expectedSnps(variants: EdgeVariant[], ref: 'first' | 'last', skipMulti = false): { rs: string; allele1: string; allele0: string; dosage: Float64Array }[] {
  const out = [];
  for (const v of variants) {
    const k = v.alleles.length;
    if (k < 2 || (skipMulti && k > 2)) continue;
    const refIndex = ref === 'first' ? 0 : k - 1;
    for (let a = 0; a < k; a++) if (a !== refIndex) out.push({ rs: v.rs, allele1: v.alleles[a]!, allele0: v.alleles[refIndex]!, dosage: nanArray(v.dosage[a]!) });
  }
  return out;
}

/** Bits of precision of each dosage fixture and the largest dosage error it allows against the 3-decimal truth. */
const DOSE_FILES: { file: string; oracle: string; ref: 'first' | 'last'; tol: number; sample?: string }[] = [
  // plink2 first rounds DS to 1/16384 (error <= 0.5/16384), then each probability to 1/(2^B - 1) (<= 1.5 units).
  { file: 'dose.b8.bgen', oracle: 'dose.b8', ref: 'last', tol: 0.5 / 16384 + 1.5 / 255, sample: 'dose.b8.sample' },
  { file: 'dose.b16rf.bgen', oracle: 'dose.b16rf', ref: 'first', tol: 0.5 / 16384 + 1.5 / 65535 },
  { file: 'dose.b13.bgen', oracle: 'dose.b13', ref: 'last', tol: 0.5 / 16384 + 1.5 / 65535 },
  { file: 'dose.b11.bgen', oracle: 'dose.b11', ref: 'last', tol: 0.5 / 16384 + 1.5 / 32768, sample: 'dose.b8.sample' },
];

describe('BGEN reader', () => {
  test('plink2 conversions of the dosage cohort (v1.1, v1.2 8/16-bit, v1.3 zstd; REF first or last): dosages within the format precision, ALT frequencies as plink2 reads them', async () => {
    const truth = doseTruth();
    for (const f of DOSE_FILES) {
      const src = await openBgen(fx(f.file), { ref: f.ref, ...(f.sample ? { samplePath: fx(f.sample) } : {}) });
      expect(src.samples.length).toBe(200);
      expect(src.samples[0]).toBe('d001');
      expect(src.snps.map((s) => s.rs)).toEqual(truth.rs);
      expect(src.snps.map((s) => s.allele1)).toEqual(truth.alt);
      expect(src.snps.map((s) => s.allele0)).toEqual(truth.ref);
      const { dosage } = await readAll(src, 37);
      const err = maxDiff(dosage, truth.dosage);
      expect(err, f.file).toBeLessThanOrEqual(f.tol);
      expect(err, f.file).toBeGreaterThan(0); // dosages, not hard calls
      // One SNP per block: a block is flagged hard exactly when its dosages are all integers (or NaN).
      const single = await readAll(src, 1, undefined, { start: 0, end: 40 });
      expect(single.hard).toEqual(single.dosage.map((d) => d.every((v) => Number.isNaN(v) || Number.isInteger(v))));
      expect(single.hard.filter((h) => h).length).toBeGreaterThan(0); // SNPs j % 17 == 4 have certain genotypes
      const ours = freqOf(dosage);
      const oracle = plink2Freq(f.oracle);
      expect(oracle.id).toEqual(truth.rs);
      expect(ours.obs).toEqual(oracle.obs);
      ours.altFreq.forEach((p, j) => expect(Math.abs(p - oracle.altFreq[j]!), `${f.file} ${truth.rs[j]}`).toBeLessThanOrEqual(1e-5 * Math.max(p, 0.01) + 1 / 16384 / 2));
    }
  });

  test('hard calls (data/sim as v1.2 8-bit and v1.3 zstd 16-bit): exactly the .bed genotypes, blocks flagged hard, keep lists and SNP ranges', async () => {
    const bed = await openPlink(SIM_PREFIX);
    const want = await readAll(bed, 500);
    const keep = Int32Array.from([0, 1, 5, 77, 300, 349]);
    const wantKeep = await readAll(bed, 500, keep);
    for (const file of ['sim.b8.bgen', 'sim.b13.bgen']) {
      const src = await openBgen(fx(file));
      expect(src.header.version).toBe(file === 'sim.b8.bgen' ? 'v1.2' : 'v1.3');
      expect(src.snps).toEqual(bed.snps);
      expect(src.samples.length).toBe(350);
      const got = await readAll(src, 129);
      expect(maxDiff(got.dosage, want.dosage)).toBe(0);
      expect(got.hard.every((h) => h)).toBe(true);
      expect(maxDiff((await readAll(src, 64, keep)).dosage, wantKeep.dosage)).toBe(0);
      expect(maxDiff((await readAll(src, 10, keep, { start: 1234, end: 1300 })).dosage, wantKeep.dosage.slice(1234, 1300))).toBe(0);
    }
  });

  test('hand-encoded layout 2: 3/5/7/10/16-bit, phased, ploidy 0-3, three alleles split or skipped, missing samples, one-allele variant skipped', async () => {
    for (const ref of ['last', 'first'] as const) {
      const src = await openBgen(fx('edge-l2.bgen'), { ref });
      expect(src.samples).toEqual(edge.samples);
      const want = expectedSnps(edge.l2, ref);
      expect(src.snps.map((s) => [s.rs, s.allele1, s.allele0, s.chr])).toEqual(want.map((w) => [w.rs, w.allele1, w.allele0, '01']));
      expect(src.skipped).toEqual({ multiallelic: 0, monoallelic: 1 });
      const { dosage } = await readAll(src, 2);
      dosage.forEach((d, j) => {
        expect(Array.from(d, Number.isNaN), want[j]!.rs).toEqual(Array.from(want[j]!.dosage, Number.isNaN));
        d.forEach((v, i) => Number.isNaN(v) || expect(v).toBeCloseTo(want[j]!.dosage[i]!, 12));
      });
      // Keep list through the general decoder (ploidy and phasing vary).
      const kept = await readAll(src, 3, Int32Array.from([1, 4]));
      kept.dosage.forEach((d, j) => expect(Array.from(d)).toEqual([dosage[j]![1], dosage[j]![4]]));
    }
    const skip = await openBgen(fx('edge-l2.bgen'), { multiallelic: 'skip' });
    expect(skip.skipped).toEqual({ multiallelic: 2, monoallelic: 1 });
    expect(skip.snps.map((s) => s.rs)).toEqual(expectedSnps(edge.l2, 'last', true).map((w) => w.rs));
  });

  test('hand-encoded layout 1 (v1.1, uncompressed) with IDs from a .sample file', async () => {
    const src = await openBgen(fx('edge-v11.bgen'), { samplePath: fx('edge.sample') });
    expect(src.header).toMatchObject({ layout: 1, compression: 0, version: 'v1.1', hasSampleIds: false });
    expect(src.samples).toEqual(edge.samples);
    const want = expectedSnps(edge.v11, 'last');
    const { dosage } = await readAll(src, 2);
    dosage.forEach((d, j) => d.forEach((v, i) => (Number.isNaN(want[j]!.dosage[i]!) ? expect(v).toBeNaN() : expect(v).toBeCloseTo(want[j]!.dosage[i]!, 12))));
    expect((await openBgen(fx('edge-v11.bgen'))).samples).toEqual(['1', '2', '3', '4', '5']);
    expect(await readSampleFile(fx('dose.b8.sample'))).toHaveLength(200);
  });

  test('.bgi index (bgenix schema): the same SNPs and dosages as the header pass; a region reads only its variants', async () => {
    const indexed = await openBgen(fx('dose.b8.bgen'));
    const scanned = await openBgen(fx('dose.b8.bgen'), { index: false });
    expect(indexed.indexPath).toBe(fx('dose.b8.bgen.bgi'));
    expect(scanned.indexPath).toBeUndefined();
    expect(indexed.snps).toEqual(scanned.snps);
    const all = await readAll(scanned, 64);
    expect(maxDiff((await readAll(indexed, 29)).dosage, all.dosage)).toBe(0);
    // Multi-allelic variants read their headers; the one-allele variant is skipped as without the index.
    const edgeIndexed = await openBgen(fx('edge-l2.bgen'));
    expect(edgeIndexed.indexPath).toBeDefined();
    expect(edgeIndexed.snps).toEqual((await openBgen(fx('edge-l2.bgen'), { index: false })).snps);
    expect(edgeIndexed.skipped).toEqual({ multiallelic: 0, monoallelic: 1 });
    // Regions, with and without the index ('1' matches the file's '01').
    const region = { chr: '2', from: 100_000, to: 600_000 };
    const want = scanned.snps.map((s, j) => [s, j] as const).filter(([s]) => s.chr === '2' && s.ps >= 100_000 && s.ps <= 600_000);
    expect(want.length).toBeGreaterThan(10);
    for (const index of [undefined, false] as const) {
      const part = await openBgen(fx('dose.b8.bgen'), { region, ...(index === false ? { index } : {}) });
      expect(part.snps).toEqual(want.map(([s]) => s));
      expect(maxDiff((await readAll(part, 7)).dosage, want.map(([, j]) => all.dosage[j]!))).toBe(0);
    }
    expect((await openBgen(fx('edge-l2.bgen'), { region: { chr: '1', from: 2000, to: 4000 } })).snps.map((s) => s.rs)).toEqual(['v5phased', 'v8multi', 'v8multi', 'v10ploidy']);
  });

  describe('malformed files are rejected with the file and byte offset', () => {
    const dir = tempDir();
    const good = readFileSync(fx('sim.b8.bgen'));
    const write = (name: string, bytes: Buffer): string => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const firstVariant = good.readUInt32LE(0) + 4;

    test('bad magic, unknown layout and compression', async () => {
      const bad = Buffer.from(good);
      bad.write('bgex', 16, 'latin1');
      expect((await inputError(openBgen(write('magic.bgen', bad)))).message).toMatch(/magic\.bgen: byte 16: not a BGEN file: expected magic bytes 'bgen'/);
      const layout = Buffer.from(good);
      layout.writeUInt32LE(((layout.readUInt32LE(20) & ~(15 << 2)) | (3 << 2)) >>> 0, 20);
      expect((await inputError(openBgen(write('layout.bgen', layout)))).message).toMatch(/byte 20: unsupported layout 3/);
      const comp = Buffer.from(good);
      comp.writeUInt32LE((comp.readUInt32LE(20) | 3) >>> 0, 20);
      expect((await inputError(openBgen(write('comp.bgen', comp)))).message).toMatch(/byte 20: unknown compression 3/);
    });

    test('truncated files: inside a variant header, inside genotype data, fewer variants than the header says', async () => {
      for (const cut of [firstVariant + 10, firstVariant + 200, good.length - 100]) {
        const e = await inputError(openBgen(write(`cut${cut}.bgen`, good.subarray(0, cut))));
        expect(e.message).toMatch(/truncated/);
        expect(e.byteOffset).toBeGreaterThanOrEqual(firstVariant);
        expect(e.byteOffset).toBeLessThanOrEqual(cut);
      }
    });

    test('wrong sample count (.sample file, sample identifier block)', async () => {
      const sample = join(dir, 'short.sample');
      writeFileSync(sample, readFileSync(fx('dose.b8.sample'), 'utf8').split('\n').slice(0, 50).join('\n'));
      expect((await inputError(openBgen(fx('dose.b8.bgen'), { samplePath: sample }))).message).toMatch(/short\.sample: wrong sample count: 48 samples, but .*dose\.b8\.bgen holds 200/);
      const ids = Buffer.from(good);
      ids.writeUInt32LE(349, 28);
      const e = await inputError(openBgen(write('ids.bgen', ids)));
      expect(e.message).toMatch(/wrong sample count: the sample identifier block lists 349 samples, the header 350/);
      expect(e.byteOffset).toBe(28);
    });

    test('bad compressed data (zlib and zstd) and a genotype block whose sample count disagrees', async () => {
      // Corrupt the middle of the 3rd variant's compressed data: the error comes from blocks(), at its data.
      const startOf = (src: unknown, j: number): number => (src as { where: { variantStart: Float64Array } }).where.variantStart[j]!;
      for (const file of ['sim.b8.bgen', 'sim.b13.bgen']) {
        const src = await openBgen(fx(file));
        const bytes = Buffer.from(readFileSync(fx(file)));
        const [a, b] = [startOf(src, 2), startOf(src, 3)];
        bytes.fill(0x55, (a + b) / 2 - 16, (a + b) / 2 + 16);
        const e = await inputError(readAll(await openBgen(write(`corrupt-${file}`, bytes)), 100));
        expect(e.message).toMatch(/bad (zlib|zstd) data in the genotype block/);
        expect(e.byteOffset).toBeGreaterThan(a);
        expect(e.byteOffset).toBeLessThan(b);
      }
      // A recompressed block that says 349 samples.
      const src = await openBgen(fx('sim.b8.bgen'));
      let at = startOf(src, 0);
      for (let f = 0; f < 3; f++) at += 2 + good.readUInt16LE(at); // id, rsid, chr
      at += 4;
      const k = good.readUInt16LE(at);
      at += 2;
      for (let a = 0; a < k; a++) at += 4 + good.readUInt32LE(at);
      const c = good.readUInt32LE(at);
      const payload = Buffer.from(await import('node:zlib').then((z) => z.inflateSync(good.subarray(at + 8, at + 4 + c))));
      payload.writeUInt32LE(349, 0);
      const z = deflateSync(payload);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(z.length + 4, 0);
      head.writeUInt32LE(payload.length, 4);
      const p = write('count.bgen', Buffer.concat([good.subarray(0, at), head, z, good.subarray(at + 4 + c)]));
      const e = await inputError(readAll(await openBgen(p), 100));
      expect(e.message).toMatch(new RegExp(`byte ${at}: wrong sample count: genotype data list 349 samples, the header 350`));
    });

    test('a stale or foreign index', async () => {
      copyFileSync(fx('dose.b8.bgen'), join(dir, 'stale.bgen'));
      writeFileSync(join(dir, 'stale.bgen'), Buffer.concat([readFileSync(fx('dose.b8.bgen')), Buffer.from([0])]));
      copyFileSync(fx('dose.b8.bgen.bgi'), join(dir, 'stale.bgen.bgi'));
      expect((await inputError(openBgen(join(dir, 'stale.bgen')))).message).toMatch(/stale\.bgen\.bgi: does not describe .*stale\.bgen .*rebuild it with bgenix -index/);
      writeFileSync(join(dir, 'junk.bgi'), 'not sqlite');
      expect((await inputError(openBgen(fx('dose.b8.bgen'), { index: join(dir, 'junk.bgi') }))).message).toMatch(/junk\.bgi: not a BGEN index/);
    });

    test('a .sample copy is not needed when IDs are embedded', async () => {
      copyFileSync(fx('dose.b13.bgen'), join(dir, 'copy.bgen'));
      expect((await openBgen(join(dir, 'copy.bgen'))).samples[199]).toBe('d200');
    });
  });
});
