import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { registerGwas } from '../../../src/cli/gwas.js';
import { openPlink } from '../../../src/io/plink.js';
import { RegionView } from '../../../src/io/region-view.js';
import { parseRegion } from '../../../src/io/region.js';
import { UsageError } from '../../../src/errors.js';
import { runCommand } from '../../helpers/cli.js';
import { SIM_PREFIX, tempDir } from '../../gwas/input/sim-fixtures.js';
import { fx } from './fixtures.js';
import { maxDiff, readAll } from './helpers.js';

describe('genomic regions', () => {
  test('parseRegion: CHR, CHR:FROM-TO, open ends, thousands separators; bad text is a usage error', () => {
    expect(parseRegion('2', '--region')).toEqual({ chr: '2', from: 1, to: Number.MAX_SAFE_INTEGER });
    expect(parseRegion('chrX:1,000-2,000', '--region')).toEqual({ chr: 'chrX', from: 1000, to: 2000 });
    expect(parseRegion('3:500-', '--region')).toEqual({ chr: '3', from: 500, to: Number.MAX_SAFE_INTEGER });
    for (const bad of ['2:', '2:-', '2:9-3', '2:0-5', ':1-2']) expect(() => parseRegion(bad, '--region')).toThrow(UsageError);
  });

  test('RegionView over a .bed: the region of a sorted file, and of one whose chromosome is split in two runs', async () => {
    const bed = await openPlink(SIM_PREFIX);
    const all = await readAll(bed, 500);
    const keep = Int32Array.from([2, 3, 349]);
    const allKeep = await readAll(bed, 500, keep);
    const view = new RegionView(bed, { chr: '3', from: 1, to: 5_000_000 });
    const want = bed.snps.map((s, j) => [s, j] as const).filter(([s]) => s.chr === '3' && s.ps <= 5_000_000);
    expect(view.snps).toEqual(want.map(([s]) => s));
    expect(maxDiff((await readAll(view, 13)).dosage, want.map(([, j]) => all.dosage[j]!))).toBe(0);
    // SNPs 100..109 moved to chromosome 9: chromosome 1 is two runs of the .bed.
    const dir = tempDir();
    for (const e of ['bed', 'fam']) copyFileSync(`${SIM_PREFIX}.${e}`, join(dir, `sim.${e}`));
    writeFileSync(join(dir, 'sim.bim'), readFileSync(`${SIM_PREFIX}.bim`, 'utf8').split('\n').map((l, i) => (i >= 100 && i < 110 ? l.replace(/^1(\s)/, '9$1') : l)).join('\n'));
    const split = new RegionView(await openPlink(join(dir, 'sim')), { chr: '1', from: 1, to: Number.MAX_SAFE_INTEGER });
    const idx = [...Array(400).keys()].filter((j) => j < 100 || j >= 110);
    expect(split.nSnps).toBe(390);
    expect(maxDiff((await readAll(split, 64, keep)).dosage, idx.map((j) => allKeep.dosage[j]!))).toBe(0);
    expect(maxDiff((await readAll(split, 7, keep, { start: 95, end: 120 })).dosage, idx.slice(95, 120).map((j) => allKeep.dosage[j]!))).toBe(0);
  });

  test('gwas --region: the tabix-indexed VCF gives the same table as a scan of the plain file, with only the region SNPs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-region-'));
    writeFileSync(join(dir, 'dose.vcf'), gunzipSync(readFileSync(fx('dose.vcf.gz'))));
    const run = async (vcf: string, out: string): Promise<string> => {
      const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--vcf', vcf, '--region', '2:100000-600000', '--pheno', fx('dose.pheno.txt'), '--test', 'wald', '--tsv', join(dir, out)]);
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(join(dir, out), 'utf8');
    };
    const indexed = await run(fx('dose.vcf.gz'), 'a.txt');
    expect(indexed).toBe(await run(join(dir, 'dose.vcf'), 'b.txt'));
    const rows = indexed.trimEnd().split('\n').slice(1).map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) {
      expect(r[0]).toBe('2');
      expect(Number(r[2])).toBeGreaterThanOrEqual(100_000);
      expect(Number(r[2])).toBeLessThanOrEqual(600_000);
    }
  });
});

describe('skipped variants are reported', () => {
  test('grm --multiallelic skip names the multi-allelic variants it left out', async () => {
    const { registerGrm } = await import('../../../src/cli/grm.js');
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-skip-'));
    const r = await runCommand(registerGrm, 'grm', ['--backend', 'cpu', '--vcf', fx('edge.vcf'), '--vcf-field', 'GT', '--multiallelic', 'skip', '--maf', '0', '--miss', '1', '--out', join(dir, 'k.txt')]);
    expect(r.stderr).toMatch(/gpulmm grm: variants not read as SNPs: 2 multi-allelic \(--multiallelic skip\)/);
    expect(r.code, r.stderr).toBe(0);
  });
});
