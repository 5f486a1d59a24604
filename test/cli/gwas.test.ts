import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { registerGwas } from '../../src/cli/gwas.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

const SIM = 'data/sim/';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** `gpulmm gwas ...args` on the cpu backend. */
const gwas = (args: string[]): Promise<CommandRun> => runCommand(registerGwas, 'gwas', ['--backend', 'cpu', ...args]);

/** A fresh directory holding a copy of the simulated cohort's PLINK files (prefix `sim`). */
function simDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-gwas-cli-'));
  for (const ext of ['bed', 'bim', 'fam']) copyFileSync(`${SIM}sim.${ext}`, join(dir, `sim.${ext}`));
  return dir;
}

const tsvRows = (text: string): string[][] => text.trimEnd().split('\n').map((l) => l.split('\t'));

describe('gpulmm gwas (command line)', () => {
  test('--test all writes GEMMA assoc.txt, an Arrow stream with the null model, a sidecar and one plot pair per test', async () => {
    const dir = simDir();
    const r = await gwas(['--bfile', join(dir, 'sim'), '--test', 'all', '--tsv', join(dir, 'o.assoc.txt'), '--out', join(dir, 'o.arrows'), '--plot', join(dir, 'o')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/analysed SNPs: 1934 of 2000/);
    for (const t of ['wald', 'lrt', 'score']) expect(r.stderr).toMatch(new RegExp(`lambda_GC \\(${t}\\) = \\d\\.\\d{4}`));

    // The TSV: GEMMA's header and SNP columns exactly, p-values within the parity tolerance.
    const gemma = tsvRows(gunzipSync(readFileSync(`${SIM}gemma/lmm4.assoc.txt.gz`)).toString());
    const ours = tsvRows(readFileSync(join(dir, 'o.assoc.txt'), 'utf8'));
    expect(ours[0]).toEqual(gemma[0]);
    expect(ours.length).toBe(gemma.length);
    const col = (name: string): number => gemma[0]!.indexOf(name);
    for (let i = 1; i < gemma.length; i++) {
      for (const name of ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af']) expect(ours[i]![col(name)]).toBe(gemma[i]![col(name)]);
      for (const name of ['p_wald', 'p_score']) {
        expect(Math.abs(Math.log10(Number(ours[i]![col(name)])) - Math.log10(Number(gemma[i]![col(name)])))).toBeLessThan(1e-3);
      }
    }

    // The Arrow stream: GEMMA's columns plus n, log10 p and status; the null model in the schema metadata.
    const table = tableFromIPC(readFileSync(join(dir, 'o.arrows')));
    expect(table.numRows).toBe(1934);
    for (const name of ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af', 'beta', 'se', 'logl_H1', 'l_remle', 'l_mle', 'p_wald', 'p_lrt', 'p_score', 'n', 'log10p_wald', 'log10p_lrt', 'log10p_score', 'status']) {
      expect(table.schema.fields.map((f) => f.name)).toContain(name);
    }
    // GEMMA's printed null model (lmm4.log.txt: pve 0.626991, vg 2.21698, ve 0.474774), in both places.
    const sidecar = JSON.parse(readFileSync(join(dir, 'o.json'), 'utf8')).null_model.p1;
    const meta = JSON.parse(table.schema.metadata.get('gpulmm.null_model')!);
    expect(JSON.stringify(meta)).toContain(JSON.stringify(sidecar));
    expect(sidecar.pve.toPrecision(6)).toBe('0.626991');
    expect(sidecar.vg.toPrecision(6)).toBe('2.21698');
    expect(sidecar.ve.toPrecision(6)).toBe('0.474774');

    // Plots: a Manhattan and a QQ per test, real PNGs; no temporary file left behind.
    for (const t of ['wald', 'lrt', 'score']) {
      for (const kind of ['manhattan', 'qq']) expect(readFileSync(join(dir, `o.${t}.${kind}.png`)).subarray(0, 8)).toEqual(PNG_MAGIC);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  test('one test: plots without a test suffix', async () => {
    const dir = simDir();
    const r = await gwas(['--bfile', join(dir, 'sim'), '--test', 'wald', '--tsv', join(dir, 'w.txt'), '--plot', join(dir, 'w')]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.png')).sort()).toEqual(['w.manhattan.png', 'w.qq.png']);
  }, 60_000);

  test('--eigen-cache: the second run reuses the decomposition (same output); --vc fixed shares it', async () => {
    const dir = simDir();
    const cache = join(dir, 'cache');
    const run = (out: string, ...extra: string[]) => gwas(['--bfile', join(dir, 'sim'), '--eigen-cache', cache, '--tsv', join(dir, out), ...extra]);
    const first = await run('a.txt', '--test', 'wald');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/eigen cache: no entry for these inputs.*computing/);
    expect(first.stderr).toMatch(/eigen cache: stored /);
    const second = await run('b.txt', '--test', 'wald');
    expect(second.stderr).toMatch(/eigen cache: reusing /);
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe(readFileSync(join(dir, 'a.txt'), 'utf8'));
    const fixed = await run('f.txt', '--test', 'wald', '--vc', 'fixed');
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toMatch(/eigen cache: reusing /);
    expect(fixed.stderr).not.toMatch(/computing/);
  }, 60_000);

  test('a non-numeric phenotype: error names file, line and column; input exit code; nothing written', async () => {
    const dir = simDir();
    const lines = readFileSync(`${SIM}sim.pheno.txt`, 'utf8').split('\n');
    lines[6] = `abc ${lines[6]!.split(' ')[1]}`;
    writeFileSync(join(dir, 'bad.pheno.txt'), lines.join('\n'));
    const before = readdirSync(dir).sort();
    const r = await gwas(['--bfile', join(dir, 'sim'), '--pheno', join(dir, 'bad.pheno.txt'), '--tsv', join(dir, 'o.txt'), '--out', join(dir, 'o.arrows')]);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/bad\.pheno\.txt:7:1: expected a number or NA/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  test('a kinship of the wrong size: error names the file and the expected size; input exit code; nothing written', async () => {
    const dir = simDir();
    writeFileSync(join(dir, 'k3.txt'), '1 0 0\n0 1 0\n0 0 1\n');
    const before = readdirSync(dir).sort();
    const r = await gwas(['--bfile', join(dir, 'sim'), '--kinship', join(dir, 'k3.txt'), '--tsv', join(dir, 'o.txt')]);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/k3\.txt:1: .*expected 350/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
