import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EXIT_CODES } from '../../src/errors.js';
import { registerScde } from '../../src/cli/scde.js';
import { benjaminiHochberg } from '../../src/stats/multiple-testing.js';
import { runCommand } from '../helpers/cli.js';
import { built, expectSameDataset, gpulmm, MAIN, onPath, readTable, ROOT, simCopy } from './helpers.js';

const FIXTURE = join(ROOT, 'data/sc/fixture');
/** Three cell types (batch b1-b3), 40 genes, three methods with different needs (per gene, moderated, own pass). */
const ARGS = ['--counts', FIXTURE, '--cells', join(FIXTURE, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--covariates', 'score', '--celltype', 'batch', '--method', 'lmm,pseudobulk,nbglmm'];
const scde = (args: string[]) => runCommand(registerScde, 'scde', args);

async function planRun(dir: string, chunks: number): Promise<{ plan: string; n: number }> {
  const plan = join(dir, 'run', 'plan.json');
  const r = await gpulmm('plan', ['--out', plan, '--shards', String(chunks), 'scde', ...ARGS]);
  expect(r.code, r.stderr).toBe(0);
  return { plan, n: (JSON.parse(readFileSync(plan, 'utf8')) as { shards: unknown[] }).shards.length };
}

describe('sharded scde: cell types x gene chunks, FDR over all genes at the merge', () => {
  test('12 shards (3 cell types x 4 gene chunks) merge to one process\'s result, value for value', async () => {
    const dir = simCopy('gpulmm-scde-shard-');
    const { plan, n } = await planRun(dir, 4);
    expect(n).toBe(12);
    for (let k = 0; k < n; k++) {
      const r = await scde(['--plan', plan, '--shard', String(k), '--out', join(dir, 'run', 'shards', `shard-${k}.arrow`)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const m = await gpulmm('merge', ['--plan', plan, '--out', join(dir, 'run', 'merged'), '--tsv']);
    expect(m.code, m.stderr).toBe(0);
    const one = await scde([...ARGS, '--out', join(dir, 'one/'), '--tsv', join(dir, 'one.tsv')]);
    expect(one.code, one.stderr).toBe(0);
    expectSameDataset(join(dir, 'run/merged/results'), join(dir, 'one'));
    expect(readFileSync(join(dir, 'run/merged/scde.tsv'), 'utf8')).toBe(readFileSync(join(dir, 'one.tsv'), 'utf8'));

    // A shard's nbglmm fits only its chunk, so its own fdr is over 10 genes; the merge's is over all 40.
    const shard = readTable(join(dir, 'run/shards/shard-1.arrow'));
    const merged = readTable(join(dir, 'run/merged/results/celltype=b1/part-0.arrow'));
    const rows = (t: typeof merged, method: string) => [...Array(t.numRows).keys()].filter((i) => t.getChild('method')!.get(i) === method);
    const mNb = rows(merged, 'nbglmm');
    const p = Float64Array.from(mNb, (i) => merged.getChild('p')!.get(i) as number);
    expect(Float64Array.from(mNb, (i) => merged.getChild('fdr')!.get(i) as number)).toEqual(benjaminiHochberg(p));
    const sNb = rows(shard, 'nbglmm');
    expect(sNb.map((i) => shard.getChild('gene')!.get(i))).toEqual(mNb.slice(10, 20).map((i) => merged.getChild('gene')!.get(i)));
    const differs = sNb.some((i, k) => shard.getChild('fdr')!.get(i) !== merged.getChild('fdr')!.get(mNb[10 + k]!));
    expect(differs).toBe(true);

    // A missing chunk is refused, naming it.
    rmSync(join(dir, 'run/shards/shard-5.arrow'));
    const bad = await gpulmm('merge', ['--plan', plan, '--out', join(dir, 'm2')]);
    expect(bad.code).toBe(EXIT_CODES.input);
    expect(bad.stderr).toMatch(/missing shard 5 \(of 0-11\)/);
  }, 180_000);

  test('a shard refuses an input changed after planning', async () => {
    const dir = simCopy('gpulmm-scde-shard-');
    const cells = join(dir, 'cells.csv');
    spawnSync('cp', [join(FIXTURE, 'cells.csv'), cells]);
    // A plan over a private copy of the metadata, then the copy edited.
    const p2 = join(dir, 'run2', 'plan.json');
    const args = ARGS.map((a) => (a === join(FIXTURE, 'cells.csv') ? cells : a));
    expect((await gpulmm('plan', ['--out', p2, '--shards', '2', 'scde', ...args])).code).toBe(0);
    spawnSync('sed', ['-i', '2s/63.51/63.52/', cells]);
    const r = await scde(['--plan', p2, '--shard', '0', '--out', join(dir, 'x.arrow')]);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/cells .*cells\.csv: content changed/);
    expect(existsSync(join(dir, 'x.arrow'))).toBe(false);
  }, 60_000);

  test.skipIf(!onPath('snakemake') || !built())('Snakemake local: a failing scde shard is retried, the merged result equals one process', async () => {
    const dir = simCopy('gpulmm-scde-smk-');
    const { plan } = await planRun(dir, 2);
    const r = spawnSync('snakemake', ['-s', join(ROOT, 'workflow/Snakefile'), '--profile', join(ROOT, 'workflow/profiles/local'), '--cores', '2', '--config', `plan=${plan}`, `gpulmm=bash ${join(ROOT, 'test/shard/flaky-gpulmm.sh')}`], {
      cwd: dir, encoding: 'utf8', timeout: 240_000, env: { ...process.env, USER: process.env.USER ?? 'root', FLAKY_DIR: dir, FLAKY_SHARD: '3', GPULMM_MAIN: MAIN },
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
    expect(calls.filter((c) => / --shard 3 /.test(` ${c} `))).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('null'))).toHaveLength(0);
    const one = await scde([...ARGS, '--out', join(dir, 'one/')]);
    expect(one.code).toBe(0);
    expectSameDataset(join(dir, 'run/merged/results'), join(dir, 'one'));
  }, 300_000);
});
