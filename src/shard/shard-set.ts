/**
 * Shard outputs and the check that they make one run of one plan. Every shard writes one Arrow IPC file whose
 * schema metadata says which plan (hash), which shard (id of how many), which null models (hash of the null
 * manifest, gwas only), which tool version and which backend made it. `gpulmm merge` reads that metadata
 * from every file first and refuses, naming the files and shards, any set that is not exactly the plan's
 * shards once each, all of this plan, all on the same null models, tool and backend.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readArrowTable } from '../io/arrow-batch.js';
import { shortHash, type ShardPlan } from './plan.js';

/** Schema metadata keys of a shard file. */
export const SHARD_META = {
  plan: 'gpulmm.plan_hash',
  shard: 'gpulmm.shard',
  shards: 'gpulmm.shard_count',
  null: 'gpulmm.null_hash',
  tool: 'gpulmm.tool',
  backend: 'gpulmm.backend',
} as const;

/** Suffix of shard files (Arrow IPC). */
export const SHARD_SUFFIX = '.arrow';

/** What a shard file says about itself. */
export interface ShardFileInfo {
  path: string;
  planHash: string | undefined;
  shard: number | undefined;
  nShards: number | undefined;
  nullHash: string | undefined;
  tool: string | undefined;
  backend: string | undefined;
  /** The whole schema metadata. */
  metadata: Record<string, string>;
}

/** The metadata entries a shard writes into its Arrow schema. */
export function shardMetadata(plan: ShardPlan, shard: number, extra: { nullHash?: string; tool: string; backend: string }): Record<string, string> {
  return {
    [SHARD_META.plan]: plan.hash,
    [SHARD_META.shard]: String(shard),
    [SHARD_META.shards]: String(plan.shards.length),
    ...(extra.nullHash ? { [SHARD_META.null]: extra.nullHash } : {}),
    [SHARD_META.tool]: extra.tool,
    [SHARD_META.backend]: extra.backend,
  };
}

/** Reads only the schema metadata of an Arrow IPC file or stream. InputError when it is not Arrow. */
export async function readShardInfo(path: string): Promise<ShardFileInfo> {
  const table = await readArrowTable(path);
  await table.close();
  const meta = table.metadata;
  const int = (k: string): number | undefined => {
    const v = meta[k];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  return {
    path,
    planHash: meta[SHARD_META.plan],
    shard: int(SHARD_META.shard),
    nShards: int(SHARD_META.shards),
    nullHash: meta[SHARD_META.null],
    tool: meta[SHARD_META.tool],
    backend: meta[SHARD_META.backend],
    metadata: meta,
  };
}

/** Shard files named by the arguments: files as given, and every `*.arrow` file in a directory. */
export async function listShardFiles(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    const s = await stat(a).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(a, undefined, undefined, `cannot read: ${e.code ?? e.message}`);
    });
    if (s.isDirectory()) out.push(...(await readdir(a)).filter((f) => f.endsWith(SHARD_SUFFIX) && !f.startsWith('.')).sort().map((f) => join(a, f)));
    else out.push(a);
  }
  return out;
}

/** Compact list of shard ids: 0-3,5,9. */
export function formatIds(ids: readonly number[]): string {
  const s = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Checks that `files` are exactly the plan's shards, once each, of this plan, with one null-model hash (equal
 * to `expectNullHash` when given), one tool version and one backend. Returns them ordered by shard id; throws
 * an InputError (on `planPath`) whose message lists every problem: files of another plan, duplicated and
 * missing shards, and which shards disagree on null models, tool or backend.
 */
export function checkShardSet(planPath: string, plan: ShardPlan, files: readonly ShardFileInfo[], expectNullHash?: string): ShardFileInfo[] {
  const n = plan.shards.length;
  const problems: string[] = [];
  const byId = new Map<number, ShardFileInfo[]>();
  for (const f of files) {
    if (f.planHash === undefined || f.shard === undefined) problems.push(`${f.path}: not a gpulmm shard output (no ${SHARD_META.plan} / ${SHARD_META.shard} metadata)`);
    else if (f.planHash !== plan.hash) problems.push(`${f.path}: shard ${f.shard} of another plan (${shortHash(f.planHash)}; this plan is ${shortHash(plan.hash)})`);
    else if (f.shard >= n || f.nShards !== n) problems.push(`${f.path}: shard ${f.shard} of ${f.nShards}, but the plan has ${n} shards`);
    else byId.set(f.shard, [...(byId.get(f.shard) ?? []), f]);
  }
  for (const [id, fs] of [...byId].sort((a, b) => a[0] - b[0])) {
    if (fs.length > 1) problems.push(`shard ${id} appears ${fs.length} times: ${fs.map((f) => f.path).join(', ')}`);
  }
  const missing = plan.shards.map((s) => s.id).filter((id) => !byId.has(id));
  if (missing.length > 0) problems.push(`missing shard${missing.length > 1 ? 's' : ''} ${formatIds(missing)} (of 0-${n - 1})`);
  const ok = [...byId.values()].filter((fs) => fs.length === 1).map((fs) => fs[0]!);
  const disagree = (what: string, value: (f: ShardFileInfo) => string | undefined, expect?: string) => {
    const groups = new Map<string, number[]>();
    for (const f of ok) groups.set(value(f) ?? '(none)', [...(groups.get(value(f) ?? '(none)') ?? []), f.shard!]);
    if (expect !== undefined) {
      const other = [...groups].filter(([v]) => v !== expect);
      if (other.length > 0) problems.push(`${what} differ from ${shortHash(expect)}: ${other.map(([v, ids]) => `shard${ids.length > 1 ? 's' : ''} ${formatIds(ids)} used ${shortHash(v)}`).join('; ')}`);
    } else if (groups.size > 1) {
      problems.push(`shards disagree on ${what}: ${[...groups].map(([v, ids]) => `${v.length === 64 ? shortHash(v) : v} (shard${ids.length > 1 ? 's' : ''} ${formatIds(ids)})`).join(', ')}`);
    }
  };
  disagree('null models', (f) => f.nullHash, expectNullHash);
  disagree('tool version', (f) => f.tool);
  disagree('backend', (f) => f.backend);
  if (problems.length > 0) {
    throw new InputError(planPath, undefined, undefined, `the shard outputs are not one complete run of this plan (${n} shards, plan ${shortHash(plan.hash)}):\n  ${problems.join('\n  ')}`);
  }
  return ok.sort((a, b) => a.shard! - b.shard!);
}

/**
 * Shard ids of the plan with no output among `files` that belongs to it (and, when given, to the null models
 * `expectNullHash`): what a rerun must compute (`sbatch --array`).
 */
export function missingShards(plan: ShardPlan, files: readonly ShardFileInfo[], expectNullHash?: string): number[] {
  const ours = (f: ShardFileInfo) => f.planHash === plan.hash && f.nShards === plan.shards.length && (expectNullHash === undefined || f.nullHash === expectNullHash);
  const have = new Set(files.filter(ours).map((f) => f.shard));
  return plan.shards.map((s) => s.id).filter((id) => !have.has(id));
}
