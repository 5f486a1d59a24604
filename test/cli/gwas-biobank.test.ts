/**
 * `gpulmm gwas --mode biobank` end to end: the outputs (GEMMA and BOLT-LMM TSV layouts, Arrow with the model in
 * the metadata, JSON sidecar), several phenotypes, --keep, and the bad-input cases (one chromosome, too few
 * samples, options of the other mode).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { BOLT_COLUMNS } from '../../gwas/biobank/bolt-format.js';
import { registerGwas } from '../../src/cli/gwas.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';
import { simulateCohort } from '../gwas/biobank/cohort.js';

const gwas = (args: string[]): Promise<CommandRun> => runCommand(registerGwas, 'gwas', ['--backend', 'cpu', ...args]);
const rows = (path: string): string[][] => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));

describe('gpulmm gwas --mode biobank', () => {
  const prefix = simulateCohort('cli', { n: 420, m: 900, chr: 4, seed: 9, 'pheno-miss': 0 });

  test('writes GEMMA and BOLT-LMM layouts, Arrow and the model sidecar; --verbose prints the memory', async () => {
    const r = await gwas(['--bfile', prefix, '--covar', `${prefix}.covar.txt`, '--mode', 'biobank', '--tsv', `${prefix}.stats`, '--tsv-format', 'bolt', '--out', `${prefix}.arrows`, '--verbose']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/memory: 2-bit genotypes \d+ MiB \+ work \d+ MiB/);
    expect(r.stderr).toMatch(/h2 \(BOLT-LMM pseudo-heritability, REML\) = 0\.\d+/);
    expect(r.stderr).toMatch(/calibration of the LOCO statistic/);
    const tested = Number(/analysed SNPs: (\d+) of 900/.exec(r.stderr)![1]);
    const bolt = rows(`${prefix}.stats`);
    expect(bolt[0]).toEqual([...BOLT_COLUMNS]);
    expect(bolt.length - 1).toBe(tested);
    const col = (name: string): number => BOLT_COLUMNS.indexOf(name as (typeof BOLT_COLUMNS)[number]);
    for (const row of bolt.slice(1)) {
      expect(row[col('P_BOLT_LMM_INF')]).toMatch(/^\d\.\dE[-+]\d\d$/);
      const chi2 = Number(row[col('CHISQ_BOLT_LMM_INF')]);
      const z = Number(row[col('BETA')]) / Number(row[col('SE')]);
      expect(Math.abs(z * z - chi2)).toBeLessThan(1e-4 * (1 + chi2));
    }
    const table = tableFromIPC(readFileSync(`${prefix}.arrows`));
    expect(table.numRows).toBe(tested);
    expect(JSON.parse(table.schema.metadata.get('gpulmm.biobank_model')!).p1.h2).toBeGreaterThan(0);
    const sidecar = JSON.parse(readFileSync(`${prefix}.json`, 'utf8'));
    expect(sidecar.mode).toBe('biobank');
    expect(sidecar.biobank_model.p1.calibration.snps).toBeGreaterThanOrEqual(20);
    // The same statistics in GEMMA's layout (p_wald) as in BOLT's.
    const r2 = await gwas(['--bfile', prefix, '--covar', `${prefix}.covar.txt`, '--mode', 'biobank', '--tsv', `${prefix}.assoc.txt`]);
    expect(r2.code).toBe(0);
    const gemma = rows(`${prefix}.assoc.txt`);
    expect(gemma[0]).toEqual(['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af', 'beta', 'se', 'logl_H1', 'l_remle', 'p_wald']);
    expect(gemma.length).toBe(bolt.length);
    for (let i = 1; i < gemma.length; i += 50) {
      expect(gemma[i]![1]).toBe(bolt[i]![0]);
      expect(Number(gemma[i]![11]) / Number(bolt[i]![col('P_BOLT_LMM_INF')])).toBeCloseTo(1, 1);
    }
  });

  test('several phenotypes with --keep: one file per phenotype, each on its own non-missing individuals', async () => {
    const miss = simulateCohort('miss', { n: 420, m: 900, chr: 4, seed: 9, 'pheno-miss': 0.05 });
    const keep = readFileSync(`${miss}.fam`, 'utf8').trim().split('\n').slice(0, 380).map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    writeFileSync(`${miss}.keep`, `${keep.join('\n')}\n`);
    const present = (col: number): number => readFileSync(`${miss}.pheno.txt`, 'utf8').trim().split('\n').slice(0, 380).filter((l) => l.split(/\s+/)[col - 1] !== 'NA').length;
    const r = await gwas(['--bfile', miss, '--pheno', `${miss}.pheno.txt`, '--pheno-col', '1,3', '--keep', `${miss}.keep`, '--mode', 'biobank', '--tsv', `${miss}.multi.stats`, '--tsv-format', 'bolt']);
    expect(r.code).toBe(0);
    expect(present(1)).not.toBe(present(3));
    expect(r.stderr).toContain(`analysed individuals [p1]: ${present(1)} of 420`);
    expect(r.stderr).toContain(`analysed individuals [p3]: ${present(3)} of 420`);
    expect(r.stderr).toMatch(/\[p1\] h2/);
    expect(r.stderr).toMatch(/\[p3\] h2/);
    expect(rows(`${miss}.multi.p1.stats`).length).toBeGreaterThan(800);
    expect(rows(`${miss}.multi.p3.stats`).length).toBeGreaterThan(800);
  });

  test('bad input: one chromosome, too few samples, options of the exact mode', async () => {
    const one = simulateCohort('one', { n: 120, m: 200, chr: 1, seed: 2 });
    const r1 = await gwas(['--bfile', one, '--mode', 'biobank', '--tsv', `${one}.stats`]);
    expect(r1.code).toBe(EXIT_CODES.numeric);
    expect(r1.stderr).toMatch(/leave-one-chromosome-out needs SNPs on at least 2 chromosomes/);
    // Two chromosomes, one with nearly every SNP: LOCO for it leaves too few.
    const lop = simulateCohort('lop', { n: 120, m: 200, chr: 2, seed: 3 });
    const bim = readFileSync(`${lop}.bim`, 'utf8').trim().split('\n').map((l, k) => (k < 190 ? l.replace(/^2\t/, '1\t') : l));
    writeFileSync(`${lop}.bim`, `${bim.join('\n')}\n`);
    const rl = await gwas(['--bfile', lop, '--mode', 'biobank', '--tsv', `${lop}.stats`, '--maf', '0']);
    expect(rl.code).toBe(EXIT_CODES.numeric);
    expect(rl.stderr).toMatch(/without chromosome 1 only \d+ of the \d+ SNPs of the model remain/);
    writeFileSync(`${prefix}.few`, readFileSync(`${prefix}.fam`, 'utf8').trim().split('\n').slice(0, 8).map((l) => l.split(/\s+/)[1]).join('\n'));
    const r2 = await gwas(['--bfile', prefix, '--keep', `${prefix}.few`, '--mode', 'biobank', '--tsv', `${prefix}.few.stats`]);
    expect(r2.code).toBe(EXIT_CODES.numeric);
    expect(r2.stderr).toMatch(/too few samples/);
    const r3 = await gwas(['--bfile', prefix, '--mode', 'biobank', '--test', 'lrt', '--tsv', `${prefix}.x`]);
    expect(r3.code).toBe(EXIT_CODES.usage);
    const r4 = await gwas(['--bfile', prefix, '--mode', 'exact', '--tsv-format', 'bolt', '--tsv', `${prefix}.x`]);
    expect(r4.code).toBe(EXIT_CODES.usage);
    expect(r4.stderr).toMatch(/--tsv-format bolt/);
  });
});
