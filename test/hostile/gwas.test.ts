/** Hostile inputs of `gpulmm gwas` and `gpulmm grm` (see runner.ts for what every case asserts). */
import { closeSync, constants, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { addBom, editLines, mkfifo, scribble, setUint32, toCrlf, truncateTo } from './edit.js';
import { copyData, EXIT_CODES, hostileCases, simCohort, type CaseKind, type HostileCase } from './runner.js';

const { usage, input, numeric } = EXIT_CODES;

/** `gwas --bfile DIR/sim --pheno DIR/sim.pheno.txt` plus `extra` (paths relative to DIR joined by the caller). */
const gwasArgs = (dir: string, ...extra: string[]): string[] => ['--backend', 'cpu', '--bfile', join(dir, 'sim'), '--pheno', join(dir, 'sim.pheno.txt'), ...extra];

/** The phenotype file with every value passed through `fn`. */
const phenoValues = (dir: string, fn: (v: string) => string): void =>
  editLines(join(dir, 'sim.pheno.txt'), (l) => l.split(/\s+/).map((v) => (v === 'NA' ? v : fn(v))).join(' '));

/** An identity kinship for the 350 individuals, GEMMA text layout, with `edit` applied to its rows. */
function kinship(dir: string, edit: (rows: string[][]) => void = () => undefined): string {
  const rows = Array.from({ length: 350 }, (_, i) => Array.from({ length: 350 }, (_, j) => (i === j ? '1' : '0')));
  edit(rows);
  const file = join(dir, 'k.txt');
  writeFileSync(file, rows.map((r) => r.join('\t')).join('\n') + '\n');
  return file;
}

/** A genotype file of data/formats copied, mangled by `mangle`, and scanned with sim.pheno.txt: an InputError. */
const formatCase = (name: string, kind: CaseKind, flag: string, rel: string, mangle: (file: string) => void, message: (RegExp | string)[]): HostileCase => ({
  name,
  kind,
  command: 'gwas',
  setup: (d) => {
    const [f] = copyData(d, `formats/${rel}`, 'sim/sim.pheno.txt');
    mangle(f!);
    return ['--backend', 'cpu', flag, f!, '--pheno', join(d, 'sim.pheno.txt'), '--tsv', join(d, 'o.txt')];
  },
  code: input,
  message,
});

/** gwas --tsv to a FIFO that a reader drains: written in place (the FIFO stays a FIFO) with the whole table. */
function fifoCase(): HostileCase {
  let reader: Promise<Buffer> | undefined;
  return {
    name: '--tsv to a FIFO is written in place (not renamed over)',
    kind: 'special-output',
    command: 'gwas',
    setup: (dir) => {
      simCohort(dir);
      mkfifo(join(dir, 'pipe'));
      reader = readFile(join(dir, 'pipe'));
      return gwasArgs(dir, '--tsv', join(dir, 'pipe'));
    },
    code: 0,
    check: async (dir) => {
      // release the reader even if nothing opened the FIFO for writing
      closeSync(openSync(join(dir, 'pipe'), constants.O_WRONLY | constants.O_NONBLOCK));
      const text = (await reader!).toString('utf8');
      expect(text.split('\n')[0]).toMatch(/^chr\trs\tps/);
      expect(text.trimEnd().split('\n').length).toBe(1934 + 1);
      expect(statSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    },
  };
}

const cases: HostileCase[] = [
  // ---- outputs that would replace an input, or each other
  { name: '--tsv = the phenotype file', kind: 'output-is-input', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--tsv', join(d, 'sim.pheno.txt'))), code: usage, message: ['sim.pheno.txt', /is an input of this run/] },
  { name: '--out = the .bed', kind: 'output-is-input', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--out', join(d, 'sim.bed'))), code: usage, message: ['sim.bed', /not an earlier gpulmm dataset/] },
  { name: '--tsv = the .fam', kind: 'output-is-input', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--tsv', join(d, 'sim.fam'))), code: usage, message: ['sim.fam', /input/] },
  { name: '--tsv = the covariate file through a symbolic link', kind: 'output-is-input', command: 'gwas', setup: (d) => (simCohort(d), symlinkSync(join(d, 'sim.covar.txt'), join(d, 'link.txt')), gwasArgs(d, '--covar', join(d, 'sim.covar.txt'), '--tsv', join(d, 'link.txt'))), code: usage, message: ['link.txt', /input of this run \(given as .*sim\.covar\.txt\)/] },
  { name: '--tsv = the phenotype file through a hard link', kind: 'output-is-input', command: 'gwas', setup: (d) => (simCohort(d), linkSync(join(d, 'sim.pheno.txt'), join(d, 'hard.txt')), gwasArgs(d, '--tsv', join(d, 'hard.txt'))), code: usage, message: ['hard.txt', /input of this run/] },
  {
    name: '--tsv = the kinship file',
    kind: 'output-is-input',
    command: 'gwas',
    setup: (d) => (simCohort(d), gwasArgs(d, '--kinship', kinship(d), '--tsv', join(d, 'k.txt'))),
    code: usage,
    message: ['k.txt', /input/],
  },
  { name: '--tsv and --ssf the same file', kind: 'outputs-collide', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--tsv', join(d, 'o.tsv.gz'), '--ssf', join(d, 'o.tsv.gz'))), code: usage, message: ['o.tsv.gz', /written twice/] },
  { name: '--out and --tsv the same file', kind: 'outputs-collide', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--out', join(d, 'o.arrows'), '--tsv', join(d, 'o.arrows'))), code: usage, message: ['o.arrows', /written twice/] },

  // ---- special and bad output paths
  {
    name: '--tsv /dev/null is written in place (the device stays a device)',
    kind: 'special-output',
    command: 'gwas',
    setup: (d) => (simCohort(d), gwasArgs(d, '--tsv', '/dev/null', '--out', join(d, 'o.arrows'))),
    code: 0,
    outputs: ['o.arrows', 'o.json'],
    check: () => expect(statSync('/dev/null').isCharacterDevice()).toBe(true),
  },
  fifoCase(),
  { name: '--tsv is a directory', kind: 'bad-output-path', command: 'gwas', setup: (d) => (simCohort(d), mkdirSync(join(d, 'out')), gwasArgs(d, '--tsv', join(d, 'out'))), code: usage, message: ['out', /is a directory/] },
  { name: '--tsv ends in a slash', kind: 'bad-output-path', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--tsv', join(d, 'o.txt/'))), code: usage, message: ['o.txt/', /file name is expected/] },
  { name: '--tsv under a regular file', kind: 'bad-output-path', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--tsv', join(d, 'sim.bim', 'o.txt'))), code: usage, message: ['sim.bim/o.txt', /not a directory/] },

  // ---- missing, directories, empty
  { name: 'no .bed', kind: 'missing-or-directory', command: 'gwas', setup: (d) => (simCohort(d), ['--bfile', join(d, 'nosuch'), '--pheno', join(d, 'sim.pheno.txt'), '--tsv', join(d, 'o.txt')]), code: input, message: ['nosuch.bim', /no such file/] },
  { name: '--pheno is a directory', kind: 'missing-or-directory', command: 'gwas', setup: (d) => (simCohort(d), mkdirSync(join(d, 'p')), ['--bfile', join(d, 'sim'), '--pheno', join(d, 'p'), '--tsv', join(d, 'o.txt')]), code: input, message: [/\/p\b/, /is a directory/] },
  { name: '--kinship is a directory', kind: 'missing-or-directory', command: 'gwas', setup: (d) => (simCohort(d), mkdirSync(join(d, 'k')), gwasArgs(d, '--kinship', join(d, 'k'), '--tsv', join(d, 'o.txt'))), code: input, message: [/\/k\b/, /is a directory/] },
  { name: '--pheno is a FIFO that no one writes (no hang)', kind: 'missing-or-directory', command: 'gwas', setup: (d) => (simCohort(d), mkfifo(join(d, 'p.fifo')), ['--bfile', join(d, 'sim'), '--pheno', join(d, 'p.fifo'), '--tsv', join(d, 'o.txt')]), code: input, message: ['p.fifo', /is a pipe/] },
  { name: 'the .bed is a FIFO', kind: 'missing-or-directory', command: 'gwas', setup: (d) => { simCohort(d); rmSync(join(d, 'sim.bed')); mkfifo(join(d, 'sim.bed')); return gwasArgs(d, '--tsv', join(d, 'o.txt')); }, code: input, message: ['sim.bed', /is a pipe/] },
  { name: '--pheno /dev/null (empty)', kind: 'empty', command: 'gwas', setup: (d) => (simCohort(d), ['--bfile', join(d, 'sim'), '--pheno', '/dev/null', '--tsv', join(d, 'o.txt')]), code: input, message: ['/dev/null', /no rows/] },
  { name: 'empty phenotype file', kind: 'empty', command: 'gwas', setup: (d) => (simCohort(d), writeFileSync(join(d, 'sim.pheno.txt'), ''), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.pheno.txt'] },
  { name: 'empty .fam', kind: 'empty', command: 'gwas', setup: (d) => (simCohort(d), writeFileSync(join(d, 'sim.fam'), ''), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.fam'] },
  { name: 'empty .bed', kind: 'empty', command: 'gwas', setup: (d) => (simCohort(d), writeFileSync(join(d, 'sim.bed'), ''), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.bed'] },

  // ---- truncated and corrupt binaries
  { name: 'truncated .bed', kind: 'truncated-or-corrupt', command: 'gwas', setup: (d) => (simCohort(d), truncateTo(join(d, 'sim.bed'), 0.5), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.bed', /bytes/] },
  { name: '.bed with a bad magic number', kind: 'truncated-or-corrupt', command: 'gwas', setup: (d) => (simCohort(d), scribble(join(d, 'sim.bed'), 0, 3), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.bed'] },
  formatCase('truncated BGEN (zlib)', 'truncated-or-corrupt', '--bgen', 'sim.b8.bgen', (f) => truncateTo(f, 0.6), ['sim.b8.bgen', /byte \d+/]),
  formatCase('corrupt BGEN zlib block', 'truncated-or-corrupt', '--bgen', 'sim.b8.bgen', (f) => scribble(f, 0.5, 64), ['sim.b8.bgen', /byte \d+/]),
  formatCase('truncated BGEN (zstd)', 'truncated-or-corrupt', '--bgen', 'sim.b13.bgen', (f) => truncateTo(f, 0.4), ['sim.b13.bgen', /byte \d+/]),
  formatCase('corrupt BGEN zstd block', 'truncated-or-corrupt', '--bgen', 'sim.b13.bgen', (f) => scribble(f, 0.5, 64), ['sim.b13.bgen', /byte \d+/]),
  formatCase('truncated .vcf.gz', 'truncated-or-corrupt', '--vcf', 'sim.vcf.gz', (f) => truncateTo(f, 0.5), ['sim.vcf.gz']),
  formatCase('corrupt .vcf.gz block', 'truncated-or-corrupt', '--vcf', 'sim.vcf.gz', (f) => scribble(f, 0.5, 64), ['sim.vcf.gz']),

  // ---- text: CRLF, BOM, malformed values, long lines
  { name: 'phenotype file with CRLF line endings is read as LF', kind: 'crlf-bom', command: 'gwas', setup: (d) => (simCohort(d), toCrlf(join(d, 'sim.pheno.txt')), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: 0, outputs: ['o.txt'] },
  { name: 'phenotype file with a byte-order mark', kind: 'crlf-bom', command: 'gwas', setup: (d) => (simCohort(d), addBom(join(d, 'sim.pheno.txt')), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: 0, outputs: ['o.txt'] },
  {
    name: 'phenotype "abc" on line 10',
    kind: 'malformed-text',
    command: 'gwas',
    setup: (d) => (simCohort(d), editLines(join(d, 'sim.pheno.txt'), (l, i) => (i === 9 ? `abc ${l.split(' ')[1]}` : l)), gwasArgs(d, '--tsv', join(d, 'o.txt'))),
    code: input,
    message: ['sim.pheno.txt:10', /abc/],
  },
  { name: 'phenotype file one row short', kind: 'malformed-text', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.pheno.txt'), (l, i) => (i === 5 ? null : l)), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.pheno.txt', /349/, /350/] },
  { name: 'covariate file one row short', kind: 'malformed-text', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.covar.txt'), (l, i) => (i === 0 ? null : l)), gwasArgs(d, '--covar', join(d, 'sim.covar.txt'), '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.covar.txt', /349/] },
  { name: '.bim line with 3 fields', kind: 'malformed-text', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.bim'), (l, i) => (i === 41 ? l.split(/\s+/).slice(0, 3).join(' ') : l)), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.bim:42'] },
  { name: 'phenotype line of 1 MB', kind: 'long-line', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.pheno.txt'), (l, i) => (i === 2 ? `${l} ${'1.5 '.repeat(250_000)}` : l)), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.pheno.txt:3'] },
  { name: 'kinship with a NaN entry', kind: 'malformed-text', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--kinship', kinship(d, (r) => (r[3]![3] = 'nan')), '--tsv', join(d, 'o.txt'))), code: input, message: ['k.txt', /4/] },
  { name: 'kinship one row short', kind: 'malformed-text', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--kinship', kinship(d, (r) => r.pop()), '--tsv', join(d, 'o.txt'))), code: input, message: ['k.txt', /349|350/] },

  // ---- huge and degenerate values
  { name: 'phenotype scaled by 1e300', kind: 'huge-or-degenerate', command: 'gwas', setup: (d) => (simCohort(d), phenoValues(d, (v) => `${v}e300`), gwasArgs(d, '--tsv', join(d, 'o.txt'), '--out', join(d, 'o.arrows'))), code: numeric, message: ['sim.pheno.txt', /phenotype 1/, /overflow/, /rescale/] },
  { name: 'phenotype scaled by 1e-300', kind: 'huge-or-degenerate', command: 'gwas', setup: (d) => (simCohort(d), phenoValues(d, (v) => `${v}e-300`), gwasArgs(d, '--tsv', join(d, 'o.txt'), '--out', join(d, 'o.arrows'))), code: numeric, message: ['sim.pheno.txt', /phenotype 1/, /underflow/] },
  { name: 'constant phenotype', kind: 'huge-or-degenerate', command: 'gwas', setup: (d) => (simCohort(d), phenoValues(d, () => '2.5'), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: numeric, message: ['sim.pheno.txt', /phenotype 1 is constant/] },
  { name: 'phenotype 1e999 (infinite)', kind: 'huge-or-degenerate', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.pheno.txt'), (l, i) => (i === 6 ? l.replace(/^\S+/, '1e999') : l)), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.pheno.txt:7', /1e999/] },
  {
    name: 'a failed run leaves the previous complete output as it was',
    kind: 'huge-or-degenerate',
    command: 'gwas',
    setup: (d) => {
      simCohort(d);
      writeFileSync(join(d, 'o.txt'), 'previous complete output\n');
      phenoValues(d, (v) => `${v}e300`);
      return gwasArgs(d, '--tsv', join(d, 'o.txt'));
    },
    code: numeric,
    check: (d) => expect(readFileSync(join(d, 'o.txt'), 'utf8')).toBe('previous complete output\n'),
  },

  // ---- options
  { name: '--maf abc', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--maf', 'abc', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--maf', 'abc'] },
  { name: '--maf 2', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--maf', '2', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--maf'] },
  { name: '--test bogus', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--test', 'bogus', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--test', 'bogus'] },
  { name: '--block-size 0', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--block-size', '0', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--block-size'] },
  { name: '--region 1:900-100', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--region', '1:900-100', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--region'] },
  { name: 'unknown option', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--no-such-option', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--no-such-option'] },
  { name: '--max-memory 12Q', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--max-memory', '12Q', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--max-memory'] },
  { name: '--pheno-col 1,1', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--pheno-col', '1,1', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--pheno-col', /given twice/] },
  { name: '--pheno-col 0', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--pheno-col', '0', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--pheno-col', /1-based/] },
  { name: '--h2 5 (biobank)', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--mode', 'biobank', '--h2', '5', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--h2 5', /\(0, 1\)/] },
  { name: '--firth-p 7', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--firth-p', '7', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--firth-p 7'] },
  { name: '--bfile and --vcf together', kind: 'conflicting-options', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--vcf', join(d, 'x.vcf'), '--tsv', join(d, 'o.txt'))), code: usage, message: ['--bfile', '--vcf'] },

  { name: '--eigen-cache is a file', kind: 'bad-output-path', command: 'gwas', setup: (d) => (simCohort(d), writeFileSync(join(d, 'ec'), ''), gwasArgs(d, '--eigen-cache', join(d, 'ec'), '--tsv', join(d, 'o.txt'))), code: usage, message: ['--eigen-cache', /not a directory/] },
  { name: '--pheno-col 5 of a 2-column file', kind: 'bad-option', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--pheno-col', '5', '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.pheno.txt', /phenotype column 5/] },
  { name: 'covariate "nan" on line 3', kind: 'malformed-text', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.covar.txt'), (l, i) => (i === 2 ? l.replace(/\s\S+/, ' nan') : l)), gwasArgs(d, '--covar', join(d, 'sim.covar.txt'), '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.covar.txt:3:2', /'nan'/] },
  formatCase('BGEN header claiming 2^31-1 samples', 'huge-or-degenerate', '--bgen', 'sim.b8.bgen', (f) => setUint32(f, 12, 0x7fffffff), ['sim.b8.bgen', /byte \d+/, /2147483647/]),
  formatCase('BGEN header claiming 2^31-1 variants', 'huge-or-degenerate', '--bgen', 'sim.b8.bgen', (f) => setUint32(f, 8, 0x7fffffff), ['sim.b8.bgen', /truncated/, /2147483647/]),

  // ---- cross-file checks (issue 17's second part: src/io/sample-ids.ts, gwas/inputs.ts, gwas/scan-models.ts)
  { name: '.fam one row short of the .bed (same .bed size)', kind: 'cross-file', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.fam'), (l, i) => (i === 100 ? null : l)), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--tsv', join(d, 'o.txt')]), code: input, message: ['sim.fam', 'sim.bed'] },
  { name: 'an individual twice in the .fam', kind: 'cross-file', command: 'gwas', setup: (d) => (simCohort(d), editLines(join(d, 'sim.fam'), (l, i) => (i === 7 ? l.replace(/^\S+ \S+/, 'F001 F001_1') : l)), gwasArgs(d, '--tsv', join(d, 'o.txt'))), code: input, message: ['sim.fam:8', 'F001_1'] },
  { name: '--kinship with --grm', kind: 'conflicting-options', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--kinship', kinship(d), '--grm', 'centered', '--tsv', join(d, 'o.txt'))), code: usage, message: ['--kinship', '--grm'] },
  { name: 'a negative definite kinship', kind: 'cross-file', command: 'gwas', setup: (d) => (simCohort(d), gwasArgs(d, '--kinship', kinship(d, (r) => r.forEach((row, i) => (row[i] = '-1'))), '--tsv', join(d, 'o.txt'), '--out', join(d, 'o.arrows'))), code: numeric, message: ['k.txt', /eigenvalue/] },
  { name: '--keep with no individual of the genotype file', kind: 'cross-file', command: 'gwas', setup: (d) => (simCohort(d), writeFileSync(join(d, 'keep.txt'), 'nobody\nnoone\n'), gwasArgs(d, '--keep', join(d, 'keep.txt'), '--tsv', join(d, 'o.txt'))), code: input, message: ['keep.txt'] },

  // ---- grm
  { name: '--out = the .bed', kind: 'output-is-input', command: 'grm', setup: (d) => (simCohort(d), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--out', join(d, 'sim.bed')]), code: usage, message: ['sim.bed', /input/] },
  { name: '--out = the keep file', kind: 'output-is-input', command: 'grm', setup: (d) => (simCohort(d), writeFileSync(join(d, 'keep.txt'), 'F001_1\nF001_2\n'), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--keep', join(d, 'keep.txt'), '--out', join(d, 'keep.txt')]), code: usage, message: ['keep.txt', /input/] },
  {
    name: '--out /dev/null',
    kind: 'special-output',
    command: 'grm',
    setup: (d) => (simCohort(d), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--out', '/dev/null']),
    code: 0,
    check: () => expect(statSync('/dev/null').isCharacterDevice()).toBe(true),
  },
  {
    name: '--out /dev/stdout goes to the standard output',
    kind: 'special-output',
    command: 'grm',
    setup: (d) => (simCohort(d), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--out', '/dev/stdout']),
    code: 0,
    check: (_d, run) => expect(run.stdout.trimEnd().split('\n').length).toBe(350),
  },
  { name: '--out is a directory', kind: 'bad-output-path', command: 'grm', setup: (d) => (simCohort(d), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--out', d]), code: usage, message: [/is a directory/] },
  { name: '--format bogus', kind: 'bad-option', command: 'grm', setup: (d) => (simCohort(d), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--format', 'bogus', '--out', join(d, 'k.txt')]), code: usage, message: ['--format'] },
  { name: 'truncated .bed', kind: 'truncated-or-corrupt', command: 'grm', setup: (d) => (simCohort(d), truncateTo(join(d, 'sim.bed'), 0.7), ['--backend', 'cpu', '--bfile', join(d, 'sim'), '--out', join(d, 'k.txt')]), code: input, message: ['sim.bed'] },
];

hostileCases('hostile inputs: gwas, grm', cases);
