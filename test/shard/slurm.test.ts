/**
 * The sharded workflow on a real SLURM cluster: Snakemake's SLURM executor with the shipped `slurm` profile,
 * and the plain sbatch array of `gpulmm plan --emit-sbatch` (GPU jobs asking --gres=gpu:1). CI starts a
 * single-node cluster on loopback (.ci/slurm-cluster.sh) and exports SLURM_CONF; elsewhere these tests are
 * skipped with a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { built, expectSameDataset, gpulmm, MAIN, onPath, ROOT, simCopy } from './helpers.js';

/** Why the cluster tests cannot run here, or '' when they can. */
function clusterAbsent(): string {
  if (!onPath('sbatch') || !onPath('snakemake')) return 'sbatch or snakemake not installed (apt-get install slurm-client snakemake)';
  if (!built()) return `no build at ${MAIN} (npm run build)`;
  const s = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
  if (s.status !== 0 || !/idle|mix|alloc/.test(s.stdout)) return `no SLURM cluster answers (sinfo: ${(s.stderr || s.stdout).trim() || `exit ${s.status}`}); CI starts one with .ci/slurm-cluster.sh`;
  return '';
}
const absent = clusterAbsent();
if (absent) console.warn(`SLURM tests skipped: ${absent}`);

const FLAKY = join(ROOT, 'test/shard/flaky-gpulmm.sh');
const env = (dir: string, failShard: number) => ({ ...process.env, USER: process.env.USER ?? 'root', FLAKY_DIR: dir, FLAKY_SHARD: String(failShard), GPULMM_MAIN: MAIN });

/** The job calls the wrapper saw (`null`, `shard K`, `merge`), without the submit script's own checks. */
function jobCalls(dir: string): string[] {
  if (!existsSync(join(dir, 'calls.log'))) return [];
  return readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n')
    .filter((l) => !/--check|--list-missing/.test(l))
    .map((l) => (l.startsWith('null') ? 'null' : l.startsWith('merge') ? 'merge' : `shard ${/--shard (\d+)/.exec(l)![1]}`));
}

/** Waits until job `id` has ended; returns its final state (COMPLETED, FAILED, CANCELLED, ...). */
async function waitForJob(id: string, timeoutMs = 240_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const out = spawnSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' }).stdout;
    const state = /JobState=(\w+)/.exec(out)?.[1] ?? 'UNKNOWN';
    if (!['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED'].includes(state)) return state;
    if (Date.now() - t0 > timeoutMs) throw new Error(`SLURM job ${id} still ${state} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function oneProcess(dir: string): Promise<void> {
  const r = await gpulmm('gwas', ['--bfile', join(dir, 'sim'), '--test', 'all', '--backend', 'cpu', '--out', join(dir, 'one/')]);
  expect(r.code, r.stderr).toBe(0);
}

describe.skipIf(absent !== '')('sharded gwas on a SLURM cluster', () => {
  test('Snakemake --profile slurm (GPU jobs, 2 shards): every job through sbatch, merged result equals one process', async () => {
    const dir = simCopy('gpulmm-slurm-');
    const plan = join(dir, 'run', 'plan.json');
    const p = await gpulmm('plan', ['--out', plan, '--shards', '2', '--gpu', 'gwas', '--bfile', join(dir, 'sim'), '--test', 'all', '--backend', 'cpu']);
    expect(p.code, p.stderr).toBe(0);
    const r = spawnSync('snakemake', ['-s', join(ROOT, 'workflow/Snakefile'), '--profile', join(ROOT, 'workflow/profiles/slurm'), '--config', `plan=${plan}`, `gpulmm=bash ${FLAKY}`], { cwd: dir, encoding: 'utf8', timeout: 300_000, env: env(dir, -1) });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // Snakemake submitted each job to SLURM (one log per job) ...
    for (const [rule, n] of [['null', 1], ['shard', 2], ['merge', 1]] as const) {
      const logs = spawnSync('ls', [join(dir, '.snakemake/slurm_logs', `rule_${rule}`)], { encoding: 'utf8' }).stdout.trim().split('\n');
      expect(logs, rule).toHaveLength(n);
    }
    expect(jobCalls(dir).sort()).toEqual(['merge', 'null', 'shard 0', 'shard 1']);
    await oneProcess(dir);
    expectSameDataset(join(dir, 'run/merged/results'), join(dir, 'one'));
  }, 400_000);

  test('plain sbatch array (--emit-sbatch --gpu): a failed shard cancels the merge; submit.sh again redoes only it and the merge', async () => {
    const dir = simCopy('gpulmm-sbatch-');
    const plan = join(dir, 'run', 'plan.json');
    const scripts = join(dir, 'sbatch');
    const p = await gpulmm('plan', ['--out', plan, '--shards', '3', '--gpu', '--emit-sbatch', scripts, '--job-command', `bash ${FLAKY}`, 'gwas', '--bfile', join(dir, 'sim'), '--test', 'all', '--backend', 'cpu']);
    expect(p.code, p.stderr).toBe(0);
    expect(readFileSync(join(scripts, 'shards.sbatch'), 'utf8')).toContain('#SBATCH --gres=gpu:1');
    expect(readFileSync(join(scripts, 'merge.sbatch'), 'utf8')).not.toContain('--gres');
    const submit = () => {
      const s = spawnSync('bash', [join(scripts, 'submit.sh')], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: env(dir, 1) });
      expect(s.status, s.stderr).toBe(0);
      return { merge: s.stdout.trim().split('\n').at(-1)!, array: /array job (\d+)/.exec(s.stderr)?.[1], log: s.stderr };
    };

    // First submission: shard 1 fails, so the merge (afterok on the array) is cancelled and nothing is merged.
    const first = submit();
    expect(first.log).toMatch(/shards 0-2: array job \d+/);
    expect(await waitForJob(first.merge)).toBe('CANCELLED');
    expect(existsSync(join(dir, 'run/merged/_SUCCESS'))).toBe(false);
    expect(spawnSync('scontrol', ['show', 'job', '-o', first.array!], { encoding: 'utf8' }).stdout).toContain('TresPerNode=gres:gpu:1');
    expect(jobCalls(dir).sort()).toEqual(['null', 'shard 0', 'shard 1', 'shard 2']);

    // Second submission: the null models are complete and kept (no job), only shard 1 is computed, then the merge.
    rmSync(join(dir, 'calls.log'));
    const second = submit();
    expect(second.log).not.toMatch(/null models: job/);
    expect(second.log).toMatch(/shards 1: array job \d+/);
    expect(await waitForJob(second.merge)).toBe('COMPLETED');
    expect(jobCalls(dir)).toEqual(['shard 1', 'merge']);
    await oneProcess(dir);
    expectSameDataset(join(dir, 'run/merged/results'), join(dir, 'one'));
  }, 400_000);
});
