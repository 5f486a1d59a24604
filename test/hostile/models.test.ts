/** Hostile inputs of `gpulmm fit`, `meta`, `nlme` and `bench` (see runner.ts for what every case asserts). */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addBom, editLines, mkfifo, toCrlf } from './edit.js';
import { copyData, EXIT_CODES, hostileCases, type HostileCase } from './runner.js';

const { usage, input, numeric } = EXIT_CODES;

const sleep = (d: string): string => copyData(d, 'lme4/sleepstudy.csv')[0]!;
const fit = (data: string, ...extra: string[]): string[] => ['--data', data, '--formula', 'Reaction ~ Days + (1 | Subject)', ...extra];
const bcg = (d: string): string => copyData(d, 'meta/bcg.csv')[0]!;
const orange = (d: string): string => copyData(d, 'nlme/Orange.csv')[0]!;
const nlme = (data: string, ...extra: string[]): string[] => [
  '--data', data, '--model', 'circumference ~ SSlogis(age, Asym, xmid, scal)', '--fixed', 'Asym + xmid + scal ~ 1', '--random', 'Asym ~ 1 | Tree', '--start', 'Asym=170,xmid=700,scal=350', ...extra,
];

const cases: HostileCase[] = [
  // ---- fit
  { name: '--json = the data file', kind: 'output-is-input', command: 'fit', setup: (d) => { const f = sleep(d); return fit(f, '--json', f); }, code: usage, message: ['sleepstudy.csv', /input of this run/] },
  { name: '--json is a directory', kind: 'bad-output-path', command: 'fit', setup: (d) => fit(sleep(d), '--json', d), code: usage, message: [/is a directory/] },
  { name: '--json /dev/null', kind: 'special-output', command: 'fit', setup: (d) => fit(sleep(d), '--json', '/dev/null'), code: 0 },
  { name: '--json under /proc (mkdir fails with ENOENT: no endless retry)', kind: 'bad-output-path', command: 'fit', setup: (d) => fit(sleep(d), '--json', '/proc/gpulmm-nosuch/x.json'), code: usage, message: ['/proc/gpulmm-nosuch/x.json', /cannot create/] },
  { name: '--json /dev/full (disk full)', kind: 'special-output', command: 'fit', setup: (d) => fit(sleep(d), '--json', '/dev/full'), code: EXIT_CODES.resource, message: ['/dev/full', /no space left/] },
  { name: 'data path through a regular file', kind: 'missing-or-directory', command: 'fit', setup: (d) => fit(join(sleep(d), 'x.csv')), code: input, message: ['sleepstudy.csv/x.csv', /not a directory/] },
  {
    name: 'unreadable data file (chmod 000)',
    kind: 'missing-or-directory',
    command: 'fit',
    skip: process.getuid?.() === 0 ? 'running as root, who reads a chmod 000 file' : undefined,
    setup: (d) => {
      const f = sleep(d);
      chmodSync(f, 0);
      return fit(f);
    },
    code: input,
    message: ['sleepstudy.csv', /permission denied/],
  },
  { name: 'data file missing', kind: 'missing-or-directory', command: 'fit', setup: (d) => fit(join(d, 'nosuch.csv')), code: input, message: ['nosuch.csv', /no such file/] },
  { name: 'data is a directory', kind: 'missing-or-directory', command: 'fit', setup: (d) => fit(d), code: input, message: [/is a directory/] },
  { name: 'data is a FIFO', kind: 'missing-or-directory', command: 'fit', setup: (d) => (mkfifo(join(d, 'd.csv')), fit(join(d, 'd.csv'))), code: input, message: ['d.csv', /is a pipe/] },
  { name: 'empty data file', kind: 'empty', command: 'fit', setup: (d) => { const f = sleep(d); writeFileSync(f, ''); return fit(f); }, code: input, message: ['sleepstudy.csv'] },
  { name: 'header only', kind: 'empty', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 0 ? l : null)); return fit(f); }, code: input, message: ['sleepstudy.csv'] },
  { name: 'CRLF line endings', kind: 'crlf-bom', command: 'fit', setup: (d) => { const f = sleep(d); toCrlf(f); return fit(f, '--json', join(d, 'o.json')); }, code: 0, outputs: ['o.json'] },
  { name: 'a byte-order mark', kind: 'crlf-bom', command: 'fit', setup: (d) => { const f = sleep(d); addBom(f); return fit(f, '--json', join(d, 'o.json')); }, code: 0, outputs: ['o.json'] },
  { name: 'a response value "abc" on line 5', kind: 'malformed-text', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 4 ? l.replace(/^[^,]+/, 'abc') : l)); return fit(f); }, code: input, message: ['sleepstudy.csv:5', /'abc'/] },
  { name: 'a row with a missing field', kind: 'malformed-text', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 7 ? l.split(',').slice(0, 2).join(',') : l)); return fit(f); }, code: input, message: ['sleepstudy.csv:8'] },
  { name: 'no such response column', kind: 'malformed-text', command: 'fit', setup: (d) => ['--data', sleep(d), '--formula', 'Nosuch ~ Days + (1 | Subject)'], code: usage, message: ['sleepstudy.csv', /unknown column 'Nosuch'/] },
  { name: 'a line of 2 MB', kind: 'long-line', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 3 ? `${l}${',1'.repeat(1_000_000)}` : l)); return fit(f); }, code: input, message: ['sleepstudy.csv:4'] },
  { name: 'constant response', kind: 'huge-or-degenerate', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 0 ? l : l.replace(/^[^,]+/, '250'))); return fit(f, '--json', join(d, 'o.json')); }, code: numeric, message: ['Reaction', /constant/] },
  { name: 'response scaled by 1e300', kind: 'huge-or-degenerate', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 0 ? l : l.replace(/^[^,]+/, (v) => `${v}e300`))); return fit(f, '--json', join(d, 'o.json')); }, code: numeric, message: ['Reaction', /overflow/, /rescale/] },
  { name: 'a value 1e999', kind: 'huge-or-degenerate', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 9 ? l.replace(/^[^,]+/, '1e999') : l)); return fit(f); }, code: input, message: ['sleepstudy.csv:10', /'1e999'/] },
  { name: 'a formula with an unclosed parenthesis', kind: 'bad-option', command: 'fit', setup: (d) => ['--data', sleep(d), '--formula', 'Reaction ~ Days + (1 | Subject'], code: usage, message: ['sleepstudy.csv', /formula error at position 31/] },
  { name: '--family bogus', kind: 'bad-option', command: 'fit', setup: (d) => fit(sleep(d), '--family', 'bogus'), code: usage, message: ['--family', 'bogus'] },

  { name: 'two columns of the same name', kind: 'malformed-text', command: 'fit', setup: (d) => { const f = sleep(d); editLines(f, (l, i) => (i === 0 ? l.replace('"Days"', '"Reaction"') : l)); return fit(f); }, code: input, message: ['sleepstudy.csv:1', 'Reaction'] },

  // ---- meta
  { name: '--json = the data file', kind: 'output-is-input', command: 'meta', setup: (d) => { const f = bcg(d); return ['--data', f, '--json', f]; }, code: usage, message: ['bcg.csv', /input/] },
  { name: '--json and --predict-out the same file', kind: 'outputs-collide', command: 'meta', setup: (d) => ['--data', bcg(d), '--json', join(d, 'o'), '--predict-out', join(d, 'o')], code: usage, message: [/twice/] },
  { name: 'a negative sampling variance', kind: 'huge-or-degenerate', command: 'meta', setup: (d) => { const f = bcg(d); editLines(f, (l, i) => (i === 3 ? l.replace(/,[^,]+,([^,]+)$/, ',-0.5,$1') : l)); return ['--data', f]; }, code: input, message: ['bcg.csv', /-0\.5 at line 4/] },
  { name: 'empty data file', kind: 'empty', command: 'meta', setup: (d) => { const f = bcg(d); writeFileSync(f, ''); return ['--data', f]; }, code: input, message: ['bcg.csv'] },
  { name: '--level 2', kind: 'bad-option', command: 'meta', setup: (d) => ['--data', bcg(d), '--level', '2'], code: usage, message: ['--level'] },
  { name: '--data and --gwas together', kind: 'conflicting-options', command: 'meta', setup: (d) => ['--data', bcg(d), '--gwas', join(d, 'a.txt'), join(d, 'b.txt')], code: usage, message: ['--data', '--gwas'] },
  { name: '--gwas: the same file twice', kind: 'cross-file', command: 'meta', setup: (d) => { const f = join(d, 'a.assoc.txt'); writeFileSync(f, 'chr\trs\tps\tn_miss\tallele1\tallele0\taf\tbeta\tse\tlogl_H1\tl_remle\tp_wald\n1\trs1\t100\t0\tA\tG\t0.3\t0.1\t0.05\t-10\t1\t0.04\n'); return ['--gwas', f, f, '--tsv', join(d, 'o.tsv')]; }, code: usage, message: ['a.assoc.txt', /same file/] },
  { name: '--gwas: --tsv = an input', kind: 'output-is-input', command: 'meta', setup: (d) => { const f = join(d, 'a.assoc.txt'); const g = join(d, 'b.assoc.txt'); for (const x of [f, g]) writeFileSync(x, 'chr\trs\tps\tn_miss\tallele1\tallele0\taf\tbeta\tse\tlogl_H1\tl_remle\tp_wald\n1\trs1\t100\t0\tA\tG\t0.3\t0.1\t0.05\t-10\t1\t0.04\n'); return ['--gwas', f, g, '--tsv', g]; }, code: usage, message: ['b.assoc.txt', /input/] },

  { name: 'a column named twice', kind: 'malformed-text', command: 'meta', setup: (d) => { const f = bcg(d); editLines(f, (l, i) => (i === 0 ? l.replace('"sei"', '"vi"') : l)); return ['--data', f]; }, code: input, message: ['bcg.csv:1', 'vi'] },

  // ---- nlme
  { name: '--json = the data file', kind: 'output-is-input', command: 'nlme', setup: (d) => { const f = orange(d); return nlme(f, '--json', f); }, code: usage, message: ['Orange.csv', /input/] },
  { name: '--json and --fitted-out the same file', kind: 'outputs-collide', command: 'nlme', setup: (d) => nlme(orange(d), '--json', join(d, 'o'), '--fitted-out', join(d, 'o')), code: usage, message: [/twice/] },
  { name: '--max-iter 0', kind: 'bad-option', command: 'nlme', setup: (d) => nlme(orange(d), '--max-iter', '0'), code: usage, message: ['--max-iter'] },
  { name: '--start names an unknown parameter', kind: 'bad-option', command: 'nlme', setup: (d) => nlme(orange(d), '--start', 'Nope=1'), code: usage, message: ['Orange.csv', /starting value for 'Nope'/] },
  { name: 'a model calling an unknown function', kind: 'bad-option', command: 'nlme', setup: (d) => ['--data', orange(d), '--model', 'circumference ~ system(age)', '--fixed', 'a ~ 1', '--random', 'a ~ 1 | Tree', '--start', 'a=1'], code: usage, message: ['system'] },
  { name: 'constant response', kind: 'huge-or-degenerate', command: 'nlme', setup: (d) => { const f = orange(d); editLines(f, (l, i) => (i === 0 ? l : l.replace(/[^,]+$/, '100'))); return nlme(f, '--json', join(d, 'o.json')); }, code: numeric, message: ['circumference', /constant/] },
  { name: 'empty data file', kind: 'empty', command: 'nlme', setup: (d) => { const f = orange(d); writeFileSync(f, ''); return nlme(f); }, code: input, message: ['Orange.csv'] },

  // ---- bench
  { name: '--json is a directory', kind: 'bad-output-path', command: 'bench', setup: (d) => (mkdirSync(join(d, 'j')), ['--quick', '--ops', 'gemm', '--sizes', '16', '--backend', 'cpu', '--json', join(d, 'j')]), code: usage, message: [/is a directory/] },
  { name: '--sizes abc', kind: 'bad-option', command: 'bench', setup: () => ['--ops', 'gemm', '--sizes', 'abc', '--backend', 'cpu'], code: usage, message: ['--sizes'] },
  { name: '--ops bogus', kind: 'bad-option', command: 'bench', setup: () => ['--ops', 'bogus', '--sizes', '16', '--backend', 'cpu'], code: usage, message: ['bogus'] },
  { name: '--backend bogus', kind: 'bad-option', command: 'bench', setup: () => ['--ops', 'gemm', '--sizes', '16', '--backend', 'bogus'], code: usage, message: ['bogus'] },
];

hostileCases('hostile inputs: fit, meta, nlme, bench', cases);
