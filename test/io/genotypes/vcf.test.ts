import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { openPlink } from '../../../src/io/plink.js';
import { openVcf, type VcfField } from '../../../src/io/vcf.js';
import { SIM_PREFIX, tempDir } from '../../gwas/input/sim-fixtures.js';
import { doseTruth, freqOf, fx, nanArray, plink2Freq } from './fixtures.js';
import { inputError, maxDiff, readAll } from './helpers.js';

interface EdgeSnp {
  chr: string;
  ps: number;
  rs: string;
  allele0: string;
  allele1: string;
  multiallelic: boolean;
  GT: (number | null)[];
  DS: (number | null)[];
  GP: (number | null)[];
}
const edge = JSON.parse(readFileSync(fx('edge.expected.json'), 'utf8')) as { samples: string[]; snps: EdgeSnp[] };

describe('VCF reader', () => {
  test('edge cases: GT/DS/GP rules, multi-allelic split or skipped, haploid, half calls, FORMAT orders, fallback to GT', async () => {
    for (const field of ['GT', 'DS', 'GP'] as VcfField[]) {
      const src = await openVcf(fx('edge.vcf'), { field });
      expect(src.samples).toEqual(edge.samples);
      expect(src.snps).toEqual(edge.snps.map((s) => ({ chr: s.chr, rs: s.rs, ps: s.ps, allele1: s.allele1, allele0: s.allele0 })));
      const { dosage, hard } = await readAll(src, 1);
      dosage.forEach((d, j) => {
        const want = nanArray(edge.snps[j]![field]);
        d.forEach((v, i) => (Number.isNaN(want[i]!) ? expect(v, `${field} ${edge.snps[j]!.rs} ${i}`).toBeNaN() : expect(v, `${field} ${edge.snps[j]!.rs} ${i}`).toBeCloseTo(want[i]!, 12)));
      });
      if (field === 'GT') expect(hard.every((h) => h)).toBe(true);
    }
    const skip = await openVcf(fx('edge.vcf'), { multiallelic: 'skip' });
    expect(skip.skipped).toEqual({ multiallelic: 2, monoallelic: 0 });
    expect(skip.snps.map((s) => s.rs)).toEqual(edge.snps.filter((s) => !s.multiallelic).map((s) => s.rs));
    expect((await openVcf(fx('edge.vcf'))).field).toBe('DS'); // the header declares FORMAT/DS
  });

  test('dosage VCF (bgzip, gzip, plain): DS exactly as written, GP to rounding, GT hard calls; ALT frequencies as plink2 reads DS', async () => {
    const truth = doseTruth();
    const dir = tempDir();
    const plain = join(dir, 'dose.vcf');
    writeFileSync(plain, gunzipSync(readFileSync(fx('dose.vcf.gz'))));
    const gz = join(dir, 'dose.gzip.vcf.gz');
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    for (const [path, compression] of [[fx('dose.vcf.gz'), 'bgzf'], [gz, 'gzip'], [plain, 'plain']] as const) {
      const src = await openVcf(path);
      expect(src.compression).toBe(compression);
      expect(src.field).toBe('DS');
      expect(src.samples[0]).toBe('d001');
      expect(src.snps.map((s) => [s.rs, s.allele1, s.allele0])).toEqual(truth.rs.map((rs, j) => [rs, truth.alt[j], truth.ref[j]]));
      const ds = await readAll(src, 50);
      expect(maxDiff(ds.dosage, truth.dosage)).toBe(0);
      const part = await readAll(src, 7, Int32Array.from([3, 4, 150, 199]), { start: 101, end: 163 });
      expect(maxDiff(part.dosage, truth.dosage.slice(101, 163).map((d) => Float64Array.from([d[3]!, d[4]!, d[150]!, d[199]!])))).toBe(0);
    }
    const gp = await readAll(await openVcf(fx('dose.vcf.gz'), { field: 'GP' }), 64);
    expect(maxDiff(gp.dosage, truth.dosage)).toBeLessThan(1e-12);
    const gt = await readAll(await openVcf(fx('dose.vcf.gz'), { field: 'GT' }), 64);
    expect(gt.hard.every((h) => h)).toBe(true);
    gt.dosage.forEach((d, j) => d.forEach((v, i) => expect(Number.isNaN(v)).toBe(Number.isNaN(truth.dosage[j]![i]!))));
    // plink2 --vcf dosage=DS keeps DS to 1/16384: frequencies agree to that precision.
    const ours = freqOf(truth.dosage);
    const oracle = plink2Freq('dose.vcf');
    expect(ours.obs).toEqual(oracle.obs);
    ours.altFreq.forEach((p, j) => expect(Math.abs(p - oracle.altFreq[j]!)).toBeLessThanOrEqual(1e-5 * Math.max(p, 0.01) + 1 / 16384 / 2));
  });

  test('hard calls (plink2 --export vcf bgz of data/sim): exactly the .bed genotypes, keep lists and SNP ranges', async () => {
    const bed = await openPlink(SIM_PREFIX);
    const src = await openVcf(fx('sim.vcf.gz'));
    expect(src.field).toBe('GT');
    expect(src.snps).toEqual(bed.snps);
    const keep = Int32Array.from([0, 1, 5, 77, 300, 349]);
    expect(maxDiff((await readAll(src, 300)).dosage, (await readAll(bed, 300)).dosage)).toBe(0);
    const want = await readAll(bed, 500, keep);
    const got = await readAll(src, 33, keep, { start: 999, end: 1500 });
    expect(maxDiff(got.dosage, want.dosage.slice(999, 1500))).toBe(0);
    expect(got.hard.every((h) => h)).toBe(true);
  });

  test('a region through the .tbi or the .csi reads only its chunks and gives the same SNPs and values as a filtered scan', async () => {
    const full = await openVcf(fx('dose.vcf.gz'));
    const all = await readAll(full, 64);
    for (const region of [{ chr: '2', from: 100_000, to: 600_000 }, { chr: '1', from: 1, to: 50_000 }, { chr: '3', from: 900_000, to: Number.MAX_SAFE_INTEGER }, { chr: '7', from: 1, to: 10 }]) {
      const want = full.snps.map((s, j) => [s, j] as const).filter(([s]) => s.chr === region.chr && s.ps >= region.from && s.ps <= region.to);
      for (const index of [fx('dose.vcf.gz.tbi'), fx('dose.vcf.gz.csi'), false] as const) {
        const src = await openVcf(fx('dose.vcf.gz'), { region, index });
        expect(src.indexPath).toBe(index === false ? undefined : index);
        expect(src.snps).toEqual(want.map(([s]) => s));
        expect(maxDiff((await readAll(src, 5)).dosage, want.map(([, j]) => all.dosage[j]!))).toBe(0);
      }
    }
    // The default index is FILE.tbi; a plain-text VCF is scanned.
    expect((await openVcf(fx('sim.vcf.gz'), { region: { chr: '3', from: 1, to: 2_000_000 } })).indexPath).toBe(fx('sim.vcf.gz.tbi'));
    const plain = await openVcf(fx('edge.vcf'), { region: { chr: '2', from: 1, to: 55 } });
    expect(plain.snps.map((s) => s.rs)).toEqual(['order']);
  });

  describe('malformed files are rejected with the file and line (or byte offset)', () => {
    const dir = tempDir();
    const edgeText = readFileSync(fx('edge.vcf'), 'utf8');
    const write = (name: string, text: string | Buffer): string => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    test('not a VCF, BCF, no #CHROM line, sites-only, bad header column', async () => {
      expect((await inputError(openVcf(write('x.vcf', 'hello\n')))).message).toMatch(/x\.vcf:1: not a VCF/);
      expect((await inputError(openVcf(fx('dose.bcf')))).message).toMatch(/dose\.bcf:1: a BCF file/);
      expect((await inputError(openVcf(write('nohead.vcf', '##fileformat=VCFv4.2\n1\t5\tx\tA\tC\t.\t.\t.\tGT\t0/1\n')))).message).toMatch(/nohead\.vcf:2: record before the #CHROM header line/);
      expect((await inputError(openVcf(write('sites.vcf', '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n')))).message).toMatch(/sites\.vcf:2: no sample columns/);
      expect((await inputError(openVcf(write('col.vcf', '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFMT\ts\n')))).message).toMatch(/col\.vcf:2:9: expected header column 'FORMAT'/);
    });

    test('wrong sample count, bad GT allele, DS outside [0, 2], bad number, bad position', async () => {
      const lines = edgeText.trimEnd().split('\n');
      const hdr = lines.findIndex((l) => l.startsWith('#CHROM'));
      const edit = (name: string, k: number, f: (l: string) => string): string => write(name, lines.map((l, i) => (i === hdr + k ? f(l) : l)).join('\n') + '\n');
      const lineNo = hdr + 2; // 1-based line of the first record
      expect((await inputError(readAll(await openVcf(edit('short.vcf', 1, (l) => l.split('\t').slice(0, -1).join('\t'))), 10))).message).toMatch(new RegExp(`short\\.vcf:${lineNo}: wrong sample count: 3 sample columns, the header names 4`));
      expect((await inputError(readAll(await openVcf(edit('long.vcf', 1, (l) => `${l}\t0/0`)), 10))).message).toMatch(/wrong sample count: more sample columns than the 4/);
      expect((await inputError(readAll(await openVcf(edit('gt.vcf', 1, (l) => l.replace('0|1:1.2', '0|2:1.2')), { field: 'GT' }), 10))).message).toMatch(new RegExp(`gt\\.vcf:${lineNo}:11: bad GT allele '0\\|2:1.2:0.1,0.6,0.3' \\(record has 1 ALT allele\\)`));
      expect((await inputError(readAll(await openVcf(edit('ds.vcf', 1, (l) => l.replace(':1.9:', ':2.5:'))), 10))).message).toMatch(new RegExp(`ds\\.vcf:${lineNo}:12: DS 2.5 is outside \\[0, 2\\]`));
      expect((await inputError(readAll(await openVcf(edit('num.vcf', 1, (l) => l.replace(':1.9:', ':x:'))), 10))).message).toMatch(/expected a number or '\.' as DS, found 'x'/);
      expect((await inputError(openVcf(edit('pos.vcf', 1, (l) => l.replace('\t100\t', '\tabc\t'))))).message).toMatch(new RegExp(`pos\\.vcf:${lineNo}:2: expected a position, found 'abc'`));
    });

    test('bgzip damage: a truncated file and a corrupt block name the byte offset of the block', async () => {
      const good = readFileSync(fx('dose.vcf.gz'));
      const cut = 200_000;
      const e1 = await inputError(openVcf(write('cut.vcf.gz', good.subarray(0, cut))));
      expect(e1.message).toMatch(/truncated BGZF block/);
      expect(e1.byteOffset).toBeLessThan(cut);
      const bad = Buffer.from(good);
      bad.fill(0x33, 150_000, 150_100);
      const e2 = await inputError(openVcf(write('bad.vcf.gz', bad)));
      expect(e2.message).toMatch(/bad BGZF block/);
      expect(e2.byteOffset).toBeLessThanOrEqual(150_000);
      expect(e2.byteOffset! + 65536).toBeGreaterThan(150_000);
    });
  });
});
