/** Hostile inputs of `gpulmm scde` and `gpulmm scde-calibrate` (see runner.ts for what every case asserts). */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { addBom, editLines, scribble, toCrlf, truncateTo } from './edit.js';
import { copyData, EXIT_CODES, hostileCases, scFixture, type HostileCase } from './runner.js';

const { usage, input } = EXIT_CODES;

/** `scde --counts DIR/tenx --cells DIR/tenx/cells.csv --donor donor --condition group --method welch` plus `extra`. */
const scde = (t: string, ...extra: string[]): string[] => ['--counts', t, '--cells', join(t, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--method', 'welch', ...extra];
const calibrate = (t: string, ...extra: string[]): string[] => ['--counts', t, '--cells', join(t, 'cells.csv'), '--donor', 'donor', '--methods', 'welch', '--max-splits', '2', ...extra];
/** The same with counts from an .h5ad copied into the case directory. */
const h5ad = (d: string, mangle: (f: string) => void): string[] => {
  const [f] = copyData(d, 'sc/fixture-csr.h5ad');
  mangle(f!);
  return ['--h5ad', f!, '--donor', 'donor', '--condition', 'group', '--method', 'welch', '--tsv', join(d, 'o.tsv')];
};

const cases: HostileCase[] = [
  // ---- outputs
  { name: '--tsv = the cells file', kind: 'output-is-input', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(t, 'cells.csv')); }, code: usage, message: ['cells.csv', /input of this run/] },
  { name: '--tsv = the matrix', kind: 'output-is-input', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(t, 'matrix.mtx')); }, code: usage, message: ['matrix.mtx', /input/] },
  { name: '--out over an existing directory that is not a dataset', kind: 'output-is-input', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--out', `${t}/`); }, code: usage, message: ['tenx', /not an earlier gpulmm dataset|input/] },
  { name: '--tsv and --out the same file', kind: 'outputs-collide', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.arrows'), '--out', join(d, 'o.arrows')); }, code: usage, message: ['o.arrows', /twice/] },
  { name: '--tsv /dev/null', kind: 'special-output', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', '/dev/null'); }, code: 0 },
  { name: '--tsv is a directory', kind: 'bad-output-path', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', t); }, code: usage, message: [/is a directory/] },
  { name: 'scde-calibrate --json = the cells file', kind: 'output-is-input', command: 'scde-calibrate', setup: (d) => { const t = scFixture(d); return calibrate(t, '--json', join(t, 'cells.csv')); }, code: usage, message: ['cells.csv', /input/] },
  { name: 'scde-calibrate --json is a directory', kind: 'bad-output-path', command: 'scde-calibrate', setup: (d) => { const t = scFixture(d); return calibrate(t, '--json', d); }, code: usage, message: [/is a directory/] },

  // ---- covariates and metadata
  {
    name: 'a covariate with one text value among numbers (was a hang)',
    kind: 'malformed-text',
    command: 'scde',
    setup: (d) => {
      const t = scFixture(d);
      editLines(join(t, 'cells.csv'), (l, i) => (i === 9 ? l.replace(/[^,]+$/, 'abc') : l));
      return scde(t, '--tsv', join(d, 'o.tsv'), '--covariates', 'score');
    },
    code: input,
    message: ['cells.csv:10', 'score', '"abc"'],
  },
  { name: 'a categorical covariate with a level per cell', kind: 'huge-or-degenerate', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv'), '--covariates', 'barcode'); }, code: usage, message: ['barcode', /distinct values/] },
  { name: 'no such condition column', kind: 'malformed-text', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv')).map((a) => (a === 'group' ? 'nosuch' : a)); }, code: usage, message: ['nosuch'] },
  { name: 'empty cells file', kind: 'empty', command: 'scde', setup: (d) => { const t = scFixture(d); writeFileSync(join(t, 'cells.csv'), ''); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['cells.csv'] },
  { name: 'cells file with CRLF line endings', kind: 'crlf-bom', command: 'scde', setup: (d) => { const t = scFixture(d); toCrlf(join(t, 'cells.csv')); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: 0, outputs: ['o.tsv'] },
  { name: 'cells file with a byte-order mark', kind: 'crlf-bom', command: 'scde', setup: (d) => { const t = scFixture(d); addBom(join(t, 'cells.csv')); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: 0, outputs: ['o.tsv'] },
  { name: 'duplicate barcode in the cells file', kind: 'cross-file', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'cells.csv'), (l, i) => (i === 5 ? l.replace(/^[^,]+/, 'C0000-D01') : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['cells.csv:6', 'C0000-D01', /already on line 2/] },

  // ---- counts
  { name: '--counts is a file', kind: 'missing-or-directory', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv')).map((a) => (a === t ? join(t, 'matrix.mtx') : a)); }, code: input, message: ['matrix.mtx'] },
  { name: 'no matrix.mtx in --counts', kind: 'missing-or-directory', command: 'scde', setup: (d) => { const t = scFixture(d); rmSync(join(t, 'matrix.mtx')); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['matrix.mtx'] },
  { name: 'truncated matrix.mtx', kind: 'truncated-or-corrupt', command: 'scde', setup: (d) => { const t = scFixture(d); truncateTo(join(t, 'matrix.mtx'), 0.5); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['matrix.mtx'] },
  { name: 'matrix.mtx with a bad header', kind: 'truncated-or-corrupt', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'matrix.mtx'), (l, i) => (i === 0 ? '%%MatrixMarket matrix array real general' : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['matrix.mtx:1'] },
  { name: 'matrix.mtx entry out of range', kind: 'malformed-text', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'matrix.mtx'), (l, i) => (i === 10 ? '99999 1 3' : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['matrix.mtx', '99999'] },
  { name: 'matrix.mtx.gz truncated', kind: 'truncated-or-corrupt', command: 'scde', setup: (d) => { const t = scFixture(d); const m = join(t, 'matrix.mtx'); writeFileSync(`${m}.gz`, gzipSync(readFileSync(m))); rmSync(m); truncateTo(`${m}.gz`, 0.5); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['matrix.mtx.gz'] },
  { name: 'features.tsv one line short', kind: 'cross-file', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'features.tsv'), (l, i) => (i === 3 ? null : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['features.tsv'] },
  { name: 'barcodes.tsv one line short', kind: 'cross-file', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'barcodes.tsv'), (l, i) => (i === 3 ? null : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['barcodes.tsv'] },
  { name: 'truncated .h5ad', kind: 'truncated-or-corrupt', command: 'scde', setup: (d) => h5ad(d, (f) => truncateTo(f, 0.5)), code: input, message: ['fixture-csr.h5ad'] },
  { name: 'corrupt .h5ad', kind: 'truncated-or-corrupt', command: 'scde', setup: (d) => h5ad(d, (f) => scribble(f, 0, 512)), code: input, message: ['fixture-csr.h5ad'] },
  { name: '--h5 is a directory', kind: 'missing-or-directory', command: 'scde', setup: (d) => { mkdirSync(join(d, 'x.h5')); return ['--h5', join(d, 'x.h5'), '--cells', join(d, 'x.h5'), '--donor', 'donor', '--condition', 'group', '--tsv', join(d, 'o.tsv')]; }, code: input, message: ['x.h5', /is a directory/] },
  { name: 'empty .h5', kind: 'empty', command: 'scde', setup: (d) => { const t = scFixture(d); writeFileSync(join(d, 'x.h5'), ''); return ['--h5', join(d, 'x.h5'), '--cells', join(t, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--tsv', join(d, 'o.tsv')]; }, code: input, message: ['x.h5'] },

  { name: 'a negative count in matrix.mtx', kind: 'malformed-text', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'matrix.mtx'), (l, i) => (i === 20 ? l.replace(/\S+$/, '-3') : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['matrix.mtx:21', /-3/] },
  { name: 'a column named twice in the cells file', kind: 'malformed-text', command: 'scde', setup: (d) => { const t = scFixture(d); editLines(join(t, 'cells.csv'), (l, i) => (i === 0 ? l.replace('treat', 'donor') : l)); return scde(t, '--tsv', join(d, 'o.tsv')); }, code: input, message: ['cells.csv:1', 'donor'] },

  // ---- options
  { name: '--min-frac 2', kind: 'bad-option', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv'), '--min-frac', '2'); }, code: usage, message: ['--min-frac'] },
  { name: '--method bogus', kind: 'bad-option', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv')).map((a) => (a === 'welch' ? 'bogus' : a)); }, code: usage, message: ['--method', 'bogus'] },
  { name: '--counts and --h5ad together', kind: 'conflicting-options', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv'), '--h5ad', join(d, 'x.h5ad')); }, code: usage, message: ['--counts', '--h5ad'] },
  { name: '--contrast with an unknown level', kind: 'bad-option', command: 'scde', setup: (d) => { const t = scFixture(d); return scde(t, '--tsv', join(d, 'o.tsv'), '--contrast', 'nosuch:ctrl'); }, code: usage, message: ['--contrast', 'nosuch'] },
  { name: 'scde-calibrate --alpha 2', kind: 'bad-option', command: 'scde-calibrate', setup: (d) => { const t = scFixture(d); return calibrate(t, '--alpha', '2'); }, code: usage, message: ['--alpha'] },
  { name: 'scde-calibrate --max-splits 0 (printed NaN)', kind: 'bad-option', command: 'scde-calibrate', setup: (d) => { const t = scFixture(d); return calibrate(t, '--max-splits', '0'); }, code: usage, message: ['--max-splits'] },
  { name: 'scde-calibrate --max-splits abc', kind: 'bad-option', command: 'scde-calibrate', setup: (d) => { const t = scFixture(d); return calibrate(t, '--max-splits', 'abc'); }, code: usage, message: ['--max-splits', 'abc'] },
  { name: 'scde-calibrate --methods bogus', kind: 'bad-option', command: 'scde-calibrate', setup: (d) => { const t = scFixture(d); return calibrate(t, '--methods', 'bogus'); }, code: usage, message: ['bogus'] },
];

hostileCases('hostile inputs: scde, scde-calibrate', cases);
