/**
 * Input files checked against each other (issue 17): a .fam that lost a row while the .bed size still fits, repeated
 * sample and SNP IDs, keep lists, kinship files that are not kinships (NaN, NA, asymmetric, indefinite, wrong size),
 * tables with a repeated column name, conflicting kinship options. Each names the file, where, and what was expected.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InputError, NumericError } from '../../../src/errors.js';
import { registerGwas } from '../../../src/cli/gwas.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { checkKinshipSpectrum } from '../../../gwas/scan-models.js';
import { readTable } from '../../../src/io/csv.js';
import { readKinship, writeKinship } from '../../../src/io/kinship-file.js';
import { openPlink } from '../../../src/io/plink.js';
import { readPsam } from '../../../src/io/pgen.js';
import { readSampleFile } from '../../../src/io/bgen.js';
import { openVcf } from '../../../src/io/vcf.js';
import { findDuplicateSnpIds } from '../../../src/io/snp-ids.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { runCommand } from '../../helpers/cli.js';
import { SIM_PREFIX, tempDir } from './sim-fixtures.js';

/** A copy of the sim fileset (350 individuals, 2000 SNPs) with `edit` applied to one file's text or bytes. */
function simCopy(ext: 'bed' | 'bim' | 'fam', edit: (b: Buffer) => Buffer): string {
  const prefix = join(tempDir(), 'sim');
  for (const e of ['bed', 'bim', 'fam']) copyFileSync(`${SIM_PREFIX}.${e}`, `${prefix}.${e}`);
  writeFileSync(`${prefix}.${ext}`, edit(readFileSync(`${prefix}.${ext}`)));
  return prefix;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

const lines = (b: Buffer) => b.toString('utf8').split('\n');

describe('.fam against .bed', () => {
  test('a .fam with a row deleted (same bytes per SNP, so the .bed size still fits) is caught by the padding bits', async () => {
    // 350 -> 349 individuals: ceil(n / 4) = 88 either way; the lost individual's genotypes sit in the padding slots.
    const prefix = simCopy('fam', (b) => Buffer.from(lines(b).filter((_, i) => i !== 4).join('\n')));
    const e = await rejection(openPlink(prefix));
    expect(e).toBeInstanceOf(InputError);
    const ie = e as InputError;
    expect(ie.file).toBe(`${prefix}.bed`);
    expect(ie.byteOffset).toBeGreaterThanOrEqual(3 + 88 - 1);
    expect((ie.byteOffset! - 3 + 1) % 88).toBe(0); // the last byte of a SNP record
    expect(ie.message).toContain(`beyond the 349 individuals of ${prefix}.fam`);
    expect(ie.message).toMatch(/holds at least 350 individuals/);
    expect(ie.message).toMatch(/PLINK writes as 0/);
  });

  test('the untouched fileset and a .fam whose count is a multiple of 4 pass', async () => {
    expect((await openPlink(SIM_PREFIX)).samples.length).toBe(350);
  });

  test('repeated FID IID in the .fam: InputError at the second line, naming the first', async () => {
    const prefix = simCopy('fam', (b) => {
      const l = lines(b);
      l[9] = l[2]!;
      return Buffer.from(l.join('\n'));
    });
    const e = (await rejection(openPlink(prefix))) as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect(e.file).toBe(`${prefix}.fam`);
    expect(e.line).toBe(10);
    expect(e.message).toMatch(/duplicate sample ID \(FID IID\) '\S+ \S+' \(entries 3 and 10; first on line 3\): each needs its own ID/);
  });
});

describe('repeated IDs in other sample lists', () => {
  test('VCF header: the column of the second occurrence', async () => {
    const dir = tempDir();
    const path = join(dir, 'dup.vcf');
    writeFileSync(path, '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\ta\n1\t100\trs1\tA\tC\t.\t.\t.\tGT\t0/0\t0/1\t1/1\n');
    const e = (await rejection(openVcf(path))) as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect([e.line, e.column]).toEqual([2, 12]);
    expect(e.message).toMatch(/duplicate sample ID 'a' \(entries 1 and 3; first on line 2\)/);
  });

  test('.psam: FID IID pairs with a FID column, IIDs without', async () => {
    const dir = tempDir();
    const withFid = join(dir, 'a.psam');
    writeFileSync(withFid, '#FID\tIID\tSEX\nf1\ti1\t1\nf2\ti1\t2\nf1\ti1\t1\n');
    const e1 = (await rejection(readPsam(withFid))) as InputError;
    expect(e1.line).toBe(4);
    expect(e1.message).toMatch(/duplicate sample ID \(FID IID\) 'f1 i1' \(entries 1 and 3; first on line 2\)/);
    const iidOnly = join(dir, 'b.psam');
    writeFileSync(iidOnly, '#IID\tSEX\ni1\t1\ni2\t2\ni2\t1\n');
    expect(((await rejection(readPsam(iidOnly))) as InputError).message).toMatch(/b\.psam:4: duplicate sample ID 'i2' \(entries 2 and 3/);
  });

  test('Oxford .sample file', async () => {
    const path = join(tempDir(), 'dup.sample');
    writeFileSync(path, 'ID_1 ID_2 missing\n0 0 0\nf1 s1 0\nf2 s2 0\nf3 s1 0\n');
    const e = (await rejection(readSampleFile(path))) as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect([e.line, e.column]).toEqual([5, 2]);
    expect(e.message).toMatch(/duplicate sample ID 's1'/);
  });

  test('SNP IDs at two positions: a warning with the count and both positions (split multi-allelic alleles and "." do not count)', async () => {
    const snp = (rs: string, chr: string, ps: number) => ({ rs, chr, ps, allele1: 'A', allele0: 'C' });
    expect(findDuplicateSnpIds([snp('a', '1', 1), snp('a', '1', 1), snp('.', '1', 5), snp('.', '2', 5), snp('b', '1', 9)])).toEqual({ count: 0 });
    expect(findDuplicateSnpIds([snp('a', '1', 1), snp('b', '1', 2), snp('a', '2', 1), snp('b', '1', 3), snp('a', '3', 7)])).toEqual({ count: 3, first: { id: 'a', a: 0, b: 2 } });
    const prefix = simCopy('bim', (b) => Buffer.from(b.toString().replace('snp0002', 'snp0001')));
    const inputs = await loadAnalysisInputs({ bfile: prefix });
    expect(inputs.warnings).toEqual([`${prefix}.bed: 1 SNP reuses the ID of SNPs at other positions (first: 'snp0001' at 1:48839 and 1:88391); they are analysed as separate SNPs`]);
  });
});

describe('kinship files', () => {
  const n = 350;
  const gwas = (args: string[]) => runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', SIM_PREFIX, ...args]);

  test('NA and NaN entries name the line and column (text) or byte offset (binary), diagonal included', async () => {
    const dir = tempDir();
    const text = join(dir, 'k.txt');
    writeFileSync(text, '1\t0.5\t0\n0.5\tNA\t0\n0\t0\t1\n');
    const e1 = (await rejection(readKinship(text))) as InputError;
    expect([e1.file, e1.line, e1.column]).toEqual([text, 2, 2]);
    expect(e1.message).toMatch(/K\[2,2\] is NA/);
    const k = f64Matrix(3, 3, Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]));
    k.data[0] = Number.NaN;
    const bin = join(dir, 'k.bin');
    await writeKinship(bin, k, 'binary');
    const e2 = (await rejection(readKinship(bin))) as InputError;
    expect(e2.byteOffset).toBe(16);
    expect(e2.message).toBe(`${bin}: byte 16: kinship entry K[1,1] is NaN: expected a finite number`);
    k.data[0] = 1;
    k.data[2 * 3] = Number.POSITIVE_INFINITY; // K[1,3], upper triangle
    await writeKinship(bin, k, 'binary');
    expect(((await rejection(readKinship(bin))) as InputError).message).toMatch(/byte 64: kinship entry K\[1,3\] is Infinity/);
  });

  test('a non-symmetric kinship names the line and column', async () => {
    const path = join(tempDir(), 'asym.txt');
    writeFileSync(path, '1 0.5 0\n0.4 1 0\n0 0 1\n');
    const e = (await rejection(readKinship(path))) as InputError;
    expect([e.line, e.column]).toEqual([2, 1]);
    expect(e.message).toMatch(/not symmetric: K\[2,1\] = 0.4 but K\[1,2\] = 0.5/);
  });

  test('checkKinshipSpectrum: rounding passes; a negative eigenvalue beyond it, or none positive, is a NumericError naming the kinship', () => {
    expect(() => checkKinshipSpectrum(Float64Array.of(-1e-9, 0, 2, 5), 'k.txt')).not.toThrow();
    expect(() => checkKinshipSpectrum(Float64Array.of(-0.5, 0, 2, 5), 'k.txt')).toThrow(NumericError);
    expect(() => checkKinshipSpectrum(Float64Array.of(-0.5, 0, 2, 5), 'k.txt')).toThrow(/kinship k\.txt is not positive semi-definite: smallest eigenvalue -0\.500000 \(largest 5\.00000; 1 below/);
    expect(() => checkKinshipSpectrum(Float64Array.of(0, 0, 0), 'k.txt')).toThrow(/kinship k\.txt: no positive eigenvalue/);
  });

  test('gwas --kinship with an indefinite matrix: exit 4 naming the file and the smallest eigenvalue, nothing written', async () => {
    // K = I - 2 v v' (v: unit, orthogonal to 1): eigenvalue -1 along v, 1 elsewhere; restricted to the 340 analysed
    // individuals and centred, one eigenvalue stays near -1.
    const dir = tempDir();
    const v = Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1) / Math.sqrt(n));
    const k = f64Matrix(n, n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) k.data[i + j * n] = (i === j ? 1 : 0) - 2 * v[i]! * v[j]!;
    const path = join(dir, 'indefinite.cXX.txt');
    await writeKinship(path, k, 'gemma');
    const tsv = join(dir, 'out.assoc.txt');
    const r = await gwas(['--kinship', path, '--tsv', tsv]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`kinship ${path.replace(/[.]/g, '\\.')} is not positive semi-definite: smallest eigenvalue -0\\.9\\d+ \\(largest 1\\.00000; 1 below -1e-6 x the largest`));
    expect(existsSync(tsv)).toBe(false);
  });

  test('gwas --kinship of the wrong size names the kinship file (exit 3)', async () => {
    const path = join(tempDir(), 'small.txt');
    writeFileSync(path, '1 0\n0 1\n');
    const r = await gwas(['--kinship', path, '--tsv', join(tempDir(), 'o.txt')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${path}:1: kinship row 1 has 2 values, expected 350 (the genotype file has 350 individuals)`);
  });

  test('a kinship computed from no SNP (every SNP filtered out): exit 4 naming the genotype file and the filters', async () => {
    const r = await gwas(['--region', '9', '--tsv', join(tempDir(), 'o.txt')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/kinship: no SNP of \S+sim\.bed \(region 9:1-\) passes the SNP filters \(maf 0\.01, miss 0\.05\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('a keep list leaving nobody with a phenotype, or too few for one residual degree of freedom: exit 4, no stack trace', async () => {
    const dir = tempDir();
    const fam = readFileSync(`${SIM_PREFIX}.fam`, 'utf8').trim().split('\n').map((l) => l.split(/\s+/));
    writeFileSync(join(dir, 'na.txt'), `${fam.filter((f) => f[5] === 'NA' || f[5] === '-9').map((f) => f[1]).join('\n')}\n`);
    const none = await gwas(['--keep', join(dir, 'na.txt'), '--tsv', join(dir, 'o.txt')]);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/no individual has every selected phenotype present and is in the keep list \(0 of 350 individuals analysed/);
    writeFileSync(join(dir, 'two.txt'), `${fam.filter((f) => f[5] !== 'NA' && f[5] !== '-9').slice(0, 2).map((f) => f[1]).join('\n')}\n`);
    const two = await gwas(['--keep', join(dir, 'two.txt'), '--tsv', join(dir, 'o.txt')]);
    expect(two.code).toBe(4);
    expect(two.stderr).toMatch(/2 analysed individuals and 1 covariate \(intercept included\) leave no residual degrees of freedom: a scan needs at least 3/);
    for (const r of [none, two]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('--kinship and --grm together: usage error naming both (exit 2)', async () => {
    const r = await gwas(['--kinship', 'k.txt', '--grm', 'standardized', '--tsv', join(tempDir(), 'o.txt')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--grm <mode>' cannot be used with option '--kinship <file>'/);
  });
});

describe('tables', () => {
  test('a header with the same column name twice: InputError at line 1 naming both columns', async () => {
    const path = join(tempDir(), 'dup.csv');
    writeFileSync(path, 'y,x,g,x\n1,2,a,3\n');
    const e = (await rejection(readTable(path))) as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect([e.line, e.column]).toEqual([1, 4]);
    expect(e.message).toBe(`${path}:1:4: column name 'x' appears twice in the header (columns 2 and 4): expected unique column names`);
  });
});
