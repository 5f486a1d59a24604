/**
 * The shipped workflow (workflow/Snakefile, profile `local`) run by Snakemake 7 for real, with the built CLI
 * (npm run build) as the jobs' gpulmm. Skipped, with a message, where snakemake or the build is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { built, expectSameDataset, gpulmm, MAIN, onPath, ROOT, simCopy } from './helpers.js';

const ready = onPath('snakemake') && built();
if (!ready) console.warn(`snakemake tests skipped: ${onPath('snakemake') ? `no build at ${MAIN} (npm run build)` : 'snakemake is not installed (apt-get install snakemake)'}`);

const FLAKY = join(ROOT, 'test/shard/flaky-gpulmm.sh');

/** Plans a gwas of the copied cohort into DIR/run/plan.json. */
async function plan(dir: string, shards: number): Promise<string> {
  const path = join(dir, 'run', 'plan.json');
  const r = await gpulmm('plan', ['--out', path, '--shards', String(shards), 'gwas', '--bfile', join(dir, 'sim'), '--test', 'all', '--backend', 'cpu']);
  expect(r.code, r.stderr).toBe(0);
  return path;
}

/** snakemake with the local profile, jobs through the flaky wrapper (shard `failShard` fails once). */
function snakemake(dir: string, planPath: string, failShard: number, extra: string[] = []): { status: number | null; out: string } {
  const r = spawnSync('snakemake', ['-s', join(ROOT, 'workflow/Snakefile'), '--profile', join(ROOT, 'workflow/profiles/local'), '--cores', '2', '--config', `plan=${planPath}`, `gpulmm=bash ${FLAKY}`, ...extra], {
    cwd: dir, encoding: 'utf8', timeout: 240_000, env: { ...process.env, USER: process.env.USER ?? 'root', FLAKY_DIR: dir, FLAKY_SHARD: String(failShard), GPULMM_MAIN: MAIN },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The gpulmm calls the wrapper saw, as `null`, `shard K` or `merge`. */
function calls(dir: string): string[] {
  return readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n').map((l) => (l.startsWith('null') ? 'null' : l.startsWith('merge') ? 'merge' : `shard ${/--shard (\d+)/.exec(l)![1]}`));
}

describe.skipIf(!ready)('Snakemake 7 local profile runs the sharded workflow', () => {
  test('8 shards: a failing shard is retried within the run, the merged result equals one process', async () => {
    const dir = simCopy('gpulmm-smk-');
    const planPath = await plan(dir, 8);
    const r = snakemake(dir, planPath, 3);
    expect(r.status, r.out).toBe(0);
    // The null step once, shard 3 twice (failed, retried: the profile's restart-times 1), the merge once.
    const c = calls(dir);
    expect(c.filter((x) => x === 'null')).toHaveLength(1);
    expect(c.filter((x) => x === 'shard 3')).toHaveLength(2);
    expect(c.filter((x) => x.startsWith('shard')).sort()).toEqual(['shard 0', 'shard 1', 'shard 2', 'shard 3', 'shard 3', 'shard 4', 'shard 5', 'shard 6', 'shard 7']);
    expect(c.at(-1)).toBe('merge');
    const one = await gpulmm('gwas', ['--bfile', join(dir, 'sim'), '--test', 'all', '--backend', 'cpu', '--out', join(dir, 'one/')]);
    expect(one.code).toBe(0);
    expectSameDataset(join(dir, 'run/merged/results'), join(dir, 'one'));
  }, 300_000);

  test('without retries the run fails; the rerun redoes only the failed shard and the merge', async () => {
    const dir = simCopy('gpulmm-smk-');
    const planPath = await plan(dir, 3);
    const first = snakemake(dir, planPath, 2, ['--restart-times', '0']);
    expect(first.status).not.toBe(0);
    expect(first.out).toMatch(/Error in rule shard/);
    expect(existsSync(join(dir, 'run/merged/_SUCCESS'))).toBe(false);
    expect(calls(dir).sort()).toEqual(['null', 'shard 0', 'shard 1', 'shard 2']);
    rmSync(join(dir, 'calls.log'));
    const rerun = snakemake(dir, planPath, 2, ['--restart-times', '0']);
    expect(rerun.status, rerun.out).toBe(0);
    expect(calls(dir)).toEqual(['shard 2', 'merge']);
    expect(existsSync(join(dir, 'run/merged/_SUCCESS'))).toBe(true);
  }, 300_000);
});
