/**
 * `gpulmm plan --emit-sbatch DIR`: a plain SLURM run of a plan, for users without a workflow engine. Four
 * files: `null.sbatch` (the shared null models, gwas only), `shards.sbatch` (an array job, one task per shard;
 * the array range is given at submission), `merge.sbatch`, and `submit.sh`, which submits them chained by
 * `--dependency=afterok:<id> --kill-on-invalid-dep=yes` and, run again after a failure, submits only what is
 * missing: the null job returns at once when its manifest is complete and matches the plan, the array covers
 * only the shards without a valid output (`gpulmm merge --list-missing`), and the merge runs again.
 * Jobs that compute (null, shards) ask for `--gres=gpu:1` when the plan says so.
 */
import { join } from 'node:path';
import type { ShardPlan } from './plan.js';

/** Where a run keeps its files (absolute paths: jobs run on other machines of a shared file system). */
export interface RunLayout {
  workdir: string;
  plan: string;
  /** The null step's directory (gwas): `null.json` and its content-hashed files. */
  nullDir: string;
  shardDir: string;
  mergedDir: string;
  logDir: string;
}

/** The layout under one directory: null/, shards/, merged/, logs/. */
export function runLayout(workdir: string, plan: string, runDir: string): RunLayout {
  return { workdir, plan, nullDir: join(runDir, 'null'), shardDir: join(runDir, 'shards'), mergedDir: join(runDir, 'merged'), logDir: join(runDir, 'logs') };
}

/** The file name of shard `k` in the shard directory. */
export function shardFileName(k: number | string): string {
  return `shard-${k}.arrow`;
}

/** Single-quotes a word for the shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The scripts of a plain SLURM run: file name -> content. `gpulmm` is the command line that runs gpulmm on the
 * compute nodes (words, quoted here); `threads` the CPUs each computing job asks for; `scriptDir` the
 * (absolute) directory the scripts are written to.
 */
export function sbatchScripts(plan: ShardPlan, layout: RunLayout, gpulmm: readonly string[], threads: number, scriptDir: string): Record<string, string> {
  const q = shellQuote;
  const g = gpulmm.map(q).join(' ');
  const needsNull = plan.command === 'gwas';
  const header = (name: string, log: string, computes: boolean): string =>
    [
      '#!/usr/bin/env bash',
      `#SBATCH --job-name=gpulmm-${name}`,
      `#SBATCH --output=${q(join(layout.logDir, log))}`,
      ...(computes ? [`#SBATCH --cpus-per-task=${threads}`] : []),
      ...(computes && plan.jobs.gpu ? ['#SBATCH --gres=gpu:1'] : []),
      ...plan.jobs.sbatch.map((o) => `#SBATCH ${o}`),
      `# plan ${plan.hash} (${plan.command}, ${plan.shards.length} shards)`,
      'set -euo pipefail',
      `cd ${q(layout.workdir)}`,
    ].join('\n');
  // scde jobs run on one thread (its models are per gene, its pass streams the counts).
  const threadsArg = needsNull ? ` --threads ${threads}` : '';
  const files: Record<string, string> = {};
  if (needsNull) {
    files['null.sbatch'] = `${header('null', 'null-%j.log', true)}\nexec ${g} null --plan ${q(layout.plan)} --out ${q(layout.nullDir)}${threadsArg}\n`;
  }
  const nullArg = needsNull ? ` --null ${q(join(layout.nullDir, 'null.json'))}` : '';
  files['shards.sbatch'] =
    `${header('shard', 'shard-%A_%a.log', true)}\n` +
    `k=\${SLURM_ARRAY_TASK_ID:?submit with --array}\n` +
    `exec ${g} ${plan.command} --plan ${q(layout.plan)} --shard "$k"${nullArg} --out ${q(layout.shardDir)}/shard-"$k".arrow${threadsArg}\n`;
  files['merge.sbatch'] = `${header('merge', 'merge-%j.log', false)}\nexec ${g} merge --plan ${q(layout.plan)}${nullArg} --out ${q(layout.mergedDir)} ${q(layout.shardDir)}\n`;
  const here = q(scriptDir);
  files['submit.sh'] = [
    '#!/usr/bin/env bash',
    `# Submits the ${plan.command} plan ${plan.hash.slice(0, 12)} (${plan.shards.length} shards) to SLURM: ${needsNull ? 'null models, then ' : ''}the shard array, then the merge,`,
    '# each after the previous one succeeded. Run it again after a failure: only the missing shards are submitted.',
    '# Prints the merge job id last; the merged result is complete when merged/_SUCCESS exists.',
    'set -euo pipefail',
    `cd ${q(layout.workdir)}`,
    `mkdir -p ${q(layout.logDir)} ${q(layout.shardDir)}`,
    'dep=()',
    'jobid() { local out; out=$(sbatch --parsable "$@") || return 1; echo "${out%%;*}"; }',
    ...(needsNull
      ? [
          `if ! ${g} null --plan ${q(layout.plan)} --out ${q(layout.nullDir)} --check 2>/dev/null; then`,
          `  id=$(jobid ${here}/null.sbatch)`,
          '  echo "null models: job $id" >&2',
          '  dep=(--dependency=afterok:$id --kill-on-invalid-dep=yes)',
          'fi',
        ]
      : []),
    `todo=$(${g} merge --plan ${q(layout.plan)}${nullArg} --list-missing ${q(layout.shardDir)})`,
    'if [ -n "$todo" ]; then',
    `  id=$(jobid "\${dep[@]}" --array="$todo" ${here}/shards.sbatch)`,
    '  echo "shards $todo: array job $id" >&2',
    '  dep=(--dependency=afterok:$id --kill-on-invalid-dep=yes)',
    'fi',
    `id=$(jobid "\${dep[@]}" ${here}/merge.sbatch)`,
    'echo "merge: job $id" >&2',
    'echo "$id"',
    '',
  ].join('\n');
  return files;
}
