/**
 * `gpulmm gwas` on a binary trait (data/binary: 600 individuals in families, 90 cases): auto-detection and the
 * three codings (0/1, PLINK 1/2, control/case words) giving the same results, the output columns (Arrow, TSV,
 * sidecar, plots), no NaN, and the usage errors.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { registerGwas } from '../../src/cli/gwas.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

const DATA = 'data/binary/';
const gwas = (args: string[]): Promise<CommandRun> => runCommand(registerGwas, 'gwas', ['--backend', 'cpu', ...args]);

/** A fresh directory with the cohort, the binary trait coded three ways and a keep list of the first 300 individuals. */
function cohortDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-gwas-binary-'));
  for (const ext of ['bed', 'bim', 'fam', 'covar.txt']) copyFileSync(`${DATA}fam.${ext}`, join(dir, `fam.${ext}`));
  const y = readFileSync(`${DATA}fam.pheno.txt`, 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[1]!);
  writeFileSync(join(dir, 'y01.txt'), `${y.join('\n')}\n`);
  writeFileSync(join(dir, 'y12.txt'), `${y.map((v) => (v === '1' ? '2' : '1')).join('\n')}\n`);
  writeFileSync(join(dir, 'ywords.txt'), `${y.map((v, i) => (i === 3 ? 'NA' : v === '1' ? 'case' : 'Control')).join('\n')}\n`);
  const ids = readFileSync(`${DATA}fam.fam`, 'utf8').trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '));
  writeFileSync(join(dir, 'keep.txt'), `${ids.slice(0, 300).join('\n')}\n`);
  return dir;
}

const tsvRows = (text: string): string[][] => text.trimEnd().split('\n').map((l) => l.split('\t'));

describe('gpulmm gwas, binary traits (command line)', () => {
  const dir = cohortDir();
  const common = ['--bfile', join(dir, 'fam'), '--covar', join(dir, 'fam.covar.txt'), '--maf', '0.001'];

  test('auto-detected 0/1 trait: Arrow, TSV, sidecar and plots with the binary columns, never NaN', async () => {
    const r = await gwas([...common, '--pheno', join(dir, 'y01.txt'), '--out', join(dir, 'o.arrows'), '--tsv', join(dir, 'o.tsv'), '--plot', join(dir, 'o')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/binary trait \(p1: 0\/1\)/);
    expect(r.stderr).toMatch(/cases 90, controls 510/);
    expect(r.stderr).toMatch(/PQL\/AI-REML iterations \d+, converged/);
    expect(r.stderr).toMatch(/lambda_GC \(score\) = \d\.\d{4}/);
    const table = tableFromIPC(readFileSync(join(dir, 'o.arrows')));
    const names = table.schema.fields.map((f) => f.name);
    expect(names).toEqual(['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af', 'n_cases', 'n_controls', 'af_cases', 'af_controls', 'beta', 'se', 'p', 'log10p', 'log10p_normal', 'method', 'status']);
    expect(table.numRows).toBeGreaterThan(300);
    for (const name of ['beta', 'se', 'p', 'log10p', 'log10p_normal', 'af_cases', 'af_controls']) {
      for (const v of table.getChild(name)!.toArray() as Float64Array) expect(Number.isFinite(v)).toBe(true);
    }
    const methods = new Set(table.getChild('method')!.toArray() as string[]);
    expect(methods.has('normal')).toBe(true);
    expect([...methods].some((m) => m.endsWith('+firth'))).toBe(true);
    // n_cases + n_controls + n_miss = n for every SNP.
    const nc = table.getChild('n_cases')!.toArray() as Int32Array;
    const nn = table.getChild('n_controls')!.toArray() as Int32Array;
    const nm = table.getChild('n_miss')!.toArray() as Int32Array;
    for (let i = 0; i < table.numRows; i++) expect(nc[i]! + nn[i]! + nm[i]!).toBe(600);
    const meta = JSON.parse(table.schema.metadata.get('gpulmm.null_model')!);
    expect(meta.p1.nCases).toBe(90);
    expect(JSON.parse(readFileSync(join(dir, 'o.json'), 'utf8')).null_model.p1.tau).toBe(meta.p1.tau);
    const tsv = tsvRows(readFileSync(join(dir, 'o.tsv'), 'utf8'));
    expect(tsv[0]).toEqual(names);
    expect(tsv.length).toBe(table.numRows + 1);
    for (const f of ['o.manhattan.png', 'o.qq.png']) expect(existsSync(join(dir, f))).toBe(true);
  }, 300_000);

  test('0/1, PLINK 1/2 and control/case words give the same results (first 300 individuals)', async () => {
    const outs: string[][][] = [];
    for (const [k, file] of ['y01.txt', 'y12.txt', 'ywords.txt'].entries()) {
      const ds = k === 2 ? ['--out', join(dir, 'ds/')] : [];
      const r = await gwas([...common, '--keep', join(dir, 'keep.txt'), '--pheno', join(dir, file), '--tsv', join(dir, `c${k}.tsv`), '--trait', k === 1 ? 'binary' : 'auto', ...ds]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(k === 1 ? /p1: 1\/2/ : /p1: 0\/1/);
      outs.push(tsvRows(readFileSync(join(dir, `c${k}.tsv`), 'utf8')));
    }
    expect(outs[1]).toEqual(outs[0]);
    // The words file has individual 4 missing: 299 analysed, so only the layout is compared; its Arrow output
    // is a dataset partitioned by phenotype and chromosome, with the sidecar beside it.
    expect(outs[2]![0]).toEqual(outs[0]![0]);
    expect(existsSync(join(dir, 'ds', 'pheno=p1', 'chr=1'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'ds.json'), 'utf8')).null_model.p1.nCases).toBeGreaterThan(0);
  }, 300_000);

  test('usage errors: --trait binary on a quantitative trait, --vc fixed, a bad --firth-p', async () => {
    const quant = await gwas([...common, '--pheno', `${DATA}fam.pheno.txt`, '--pheno-col', '1', '--trait', 'binary', '--tsv', join(dir, 'x.tsv')]);
    expect(quant.code).toBe(EXIT_CODES.usage);
    expect(quant.stderr).toMatch(/--trait binary: phenotype p1 does not have exactly two values/);
    const mixed = await gwas([...common, '--pheno', `${DATA}fam.pheno.txt`, '--pheno-col', '1,2', '--tsv', join(dir, 'x.tsv')]);
    expect(mixed.code).toBe(EXIT_CODES.usage);
    expect(mixed.stderr).toMatch(/--trait auto: phenotypes p2 are binary but p1 not/);
    const vc = await gwas([...common, '--pheno', join(dir, 'y01.txt'), '--vc', 'fixed', '--tsv', join(dir, 'x.tsv')]);
    expect(vc.code).toBe(EXIT_CODES.usage);
    const fp = await gwas([...common, '--pheno', join(dir, 'y01.txt'), '--firth-p', '2', '--tsv', join(dir, 'x.tsv')]);
    expect(fp.code).toBe(EXIT_CODES.usage);
    expect(existsSync(join(dir, 'x.tsv'))).toBe(false);
  });
});
