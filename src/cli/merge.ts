/**
 * `gpulmm merge --plan PLAN --out DIR [SHARDS...]`: checks that the shard outputs are exactly the plan's shards
 * once each, of this plan, on one set of null models, tool version and backend (else an error naming the
 * missing, duplicated and mismatched shards, and nothing written), then writes the merged result into DIR and
 * `DIR/_SUCCESS` last. `--list-missing` only prints the shards still to compute (for `sbatch --array`).
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { readNullManifest } from '../../gwas/null-store.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { readPlan, shortHash, type ShardPlan } from '../shard/plan.js';
import { checkShardSet, formatIds, listShardFiles, missingShards, readShardInfo, type ShardFileInfo } from '../shard/shard-set.js';
import { action } from './command.js';

/** The options of `gpulmm merge`. */
export interface MergeCliOptions {
  plan: string;
  out?: string;
  null?: string;
  tsv?: boolean;
  ssf?: string;
  ssfGenomeAssembly?: string;
  plot: boolean;
  listMissing?: boolean;
}

/** What a command's merge writes into DIR; returns the lines to print and what `_SUCCESS` records. */
export type Merger = (planPath: string, plan: ShardPlan, shards: ShardFileInfo[], out: string, o: MergeCliOptions) => Promise<{ lines: string[]; rows: number }>;

const MERGERS: Record<string, () => Promise<Merger>> = {
  gwas: async () => (await import('./gwas-shard.js')).mergeGwas,
  scde: async () => (await import('./scde-shard.js')).mergeScde,
};

/** The marker a complete merge writes last. */
export const SUCCESS_FILE = '_SUCCESS';

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('Merge the shard outputs of a plan: every shard exactly once, all of this plan and one set of null models, else an error naming what is missing, duplicated or mismatched; then the merged dataset, lambda_GC / FDR, top hits, plots, and DIR/_SUCCESS last')
    .argument('[shards...]', 'shard outputs: files, or directories whose *.arrow files are taken (default: shards/ beside the plan)')
    .requiredOption('--plan <plan.json>', 'the plan the shards were run from')
    .option('--out <dir>', 'directory of the merged result (required unless --list-missing)')
    .option('--null <null.json>', 'gwas: the null models the shards must have used (from gpulmm null)')
    .option('--tsv', "also write text: gwas GEMMA's assoc.txt layout (DIR/gwas.assoc.txt, one per phenotype when several), scde DIR/scde.tsv")
    .option('--ssf <file.tsv.gz>', "gwas: also write GWAS Catalog summary statistics (GWAS-SSF) with FILE-meta.yaml, as `gpulmm gwas --ssf` (one pair per phenotype when several)")
    .option('--ssf-genome-assembly <name>', "genome_assembly in the GWAS-SSF metadata (default: the plan's --ssf-genome-assembly, else NR)")
    .option('--no-plot', 'skip the plots')
    .option('--list-missing', 'print the shards without a valid output (comma-separated ranges, for sbatch --array) and stop')
    .action(action('merge', runMerge));
}

async function runMerge(args: string[], o: MergeCliOptions): Promise<void> {
  const plan = await readPlan(o.plan);
  const files = await listShardFiles(args.length > 0 ? args : [join(dirname(o.plan), 'shards')]).catch((e: unknown) => {
    if (o.listMissing && e instanceof InputError) return [];
    throw e;
  });
  const infos: ShardFileInfo[] = [];
  for (const f of files) infos.push(await readShardInfo(f).catch(() => ({ path: f, planHash: undefined, shard: undefined, nShards: undefined, nullHash: undefined, tool: undefined, backend: undefined, metadata: {} })));
  const nullHash = o.null ? await manifestHash(o.null, plan, !!o.listMissing) : undefined;
  if (o.listMissing) {
    const missing = nullHash === null ? plan.shards.map((s) => s.id) : missingShards(plan, infos, nullHash);
    process.stdout.write(missing.length > 0 ? `${formatIds(missing)}\n` : '');
    return;
  }
  if (!o.out) throw new InputError(o.plan, undefined, undefined, 'give --out DIR for the merged result');
  const merger = MERGERS[plan.command];
  if (!merger) throw new InputError(o.plan, undefined, undefined, `no merge for ${plan.command} plans`);
  // Step 1: no marker until the new result is complete; then check the set before writing anything.
  await rm(join(o.out, SUCCESS_FILE), { force: true });
  const shards = checkShardSet(o.plan, plan, infos, nullHash ?? undefined);
  const { lines, rows } = await (await merger())(o.plan, plan, shards, o.out, o);
  await writeFileAtomic(join(o.out, SUCCESS_FILE), `${JSON.stringify({ plan: plan.hash, null: nullHash ?? null, shards: shards.length, rows })}\n`);
  process.stderr.write(`${[`merged ${shards.length} shards of plan ${shortHash(plan.hash)} (${rows} rows) into ${o.out}`, ...lines].join('\n')}\n`);
}

/**
 * The hash of the null-model manifest `path` (checked to belong to the plan). With `lenient` (listing what is
 * missing before the null step ran), a manifest that is absent or of another plan gives null: every shard is
 * still to compute.
 */
async function manifestHash(path: string, plan: ShardPlan, lenient: boolean): Promise<string | null> {
  try {
    const m = await readNullManifest(path);
    if (m.plan !== plan.hash) throw new InputError(path, undefined, undefined, `null models made for plan ${shortHash(m.plan)}, not for this plan (${shortHash(plan.hash)})`);
    return m.hash;
  } catch (e) {
    if (lenient) return null;
    throw e;
  }
}
