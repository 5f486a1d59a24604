/**
 * `gpulmm plan [plan options] gwas|scde [analysis options]`: writes a shard plan (src/shard/plan.ts) for the
 * analysis the words after the command name describe, and optionally the scripts of a plain SLURM run
 * (`--emit-sbatch DIR`, src/shard/sbatch.ts). The analysis options are parsed by the analysis command itself,
 * so the plan accepts exactly what `gpulmm gwas` / `gpulmm scde` accept, minus their outputs (the merge writes
 * those).
 */
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { fingerprintInputs, makePlan, shortHash, writePlan, type PlanJobs, type ShardSpec } from '../shard/plan.js';
import { runLayout, sbatchScripts } from '../shard/sbatch.js';
import { VERSION } from '../version.js';
import { action } from './command.js';
import { numberOption, POSITIVE_INT } from './option-values.js';

/** The options of `gpulmm plan`. */
export interface PlanCliOptions {
  out: string;
  shards?: number;
  chunkSnps?: number;
  phenoGroups?: number;
  geneChunks?: number;
  gpu?: boolean;
  sbatchOpt: string[];
  emitSbatch?: string;
  jobCommand?: string;
  jobThreads: number;
}

/** What a command's planner returns: the plan's content before fingerprints and hash. */
export interface PlannedAnalysis<S extends ShardSpec = ShardSpec> {
  /** Input files by role. */
  files: { role: string; path: string }[];
  /** Options that change results, without paths. */
  options: Record<string, unknown>;
  shards: S[];
  summary: Record<string, unknown>;
  /** One line per shard, for the printout. */
  describe: string[];
}

/** A planner: the analysis words and the plan options -> the plan's content. */
export type Planner = (args: string[], o: PlanCliOptions) => Promise<PlannedAnalysis>;

const PLANNERS: Record<string, () => Promise<Planner>> = {
  gwas: async () => (await import('./gwas-shard.js')).planGwas,
  scde: async () => (await import('./scde-shard.js')).planScde,
};

const positiveInt = (flag: string) => numberOption(flag, POSITIVE_INT);

export function registerPlan(program: Command): void {
  // Options after the analysis command's name belong to it (gpulmm plan --out p.json gwas --bfile x ...).
  program.enablePositionalOptions();
  program
    .command('plan')
    .description('Plan a sharded run: a JSON manifest of shards (SNP ranges x phenotype groups for gwas, gene chunks x cell types for scde) with a hash over the inputs\' content and the options; run it with Snakemake (workflow/Snakefile), the emitted sbatch scripts, or any scheduler (gpulmm null, gwas|scde --plan --shard K, merge)')
    .argument('<command>', 'the analysis: gwas or scde')
    .argument('[options...]', "the analysis' options, as for gpulmm gwas / gpulmm scde (without --out, --tsv, --plot)")
    .passThroughOptions()
    .requiredOption('--out <plan.json>', 'where to write the plan; the run keeps its files beside it (null/, shards/, merged/, logs/)')
    .option('--shards <n>', 'gwas: cut the SNPs into about n ranges (more when ranges may not cross chromosomes: --loco); scde: n gene chunks per cell type', positiveInt('--shards'))
    .option('--chunk-snps <n>', 'gwas: at most n SNPs per shard (instead of --shards)', positiveInt('--chunk-snps'))
    .option('--pheno-groups <g>', 'gwas: also split the phenotypes into g groups (shards = ranges x groups)', positiveInt('--pheno-groups'))
    .option('--gpu', 'jobs that compute (null, shards) ask the scheduler for one GPU (--gres=gpu:1)')
    .option('--sbatch-opt <option>', 'extra #SBATCH option for every job, e.g. --partition=gpu (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--emit-sbatch <dir>', 'also write null.sbatch, shards.sbatch, merge.sbatch and submit.sh into DIR (a plain SLURM run)')
    .option('--job-command <cmd>', 'how the sbatch jobs run gpulmm (default: this node and this gpulmm, by absolute path)')
    .option('--job-threads <n>', 'CPU threads of each sbatch job that computes', positiveInt('--job-threads'), 1)
    .action(action('plan', runPlan));
}

async function runPlan(command: string, args: string[], o: PlanCliOptions): Promise<void> {
  const planner = PLANNERS[command];
  if (!planner) throw new UsageError(`plan: unknown analysis '${command}': expected gwas or scde`);
  if (o.shards !== undefined && o.chunkSnps !== undefined) throw new UsageError('give one of --shards and --chunk-snps');
  const planned = await (await planner())(args, o);
  const jobs: PlanJobs = { gpu: !!o.gpu, sbatch: o.sbatchOpt };
  const plan = makePlan({
    tool: `gpulmm ${VERSION}`, command, args, workdir: process.cwd(), inputs: await fingerprintInputs(planned.files),
    options: planned.options, shards: planned.shards, summary: planned.summary, jobs,
  });
  await writePlan(o.out, plan);
  const lines = [`${o.out}: ${command} plan ${shortHash(plan.hash)}, ${plan.shards.length} shards`];
  for (const s of plan.shards.slice(0, 4)) lines.push(`  shard ${s.id}: ${planned.describe[s.id]}`);
  if (plan.shards.length > 4) lines.push(`  ... shard ${plan.shards.length - 1}: ${planned.describe[plan.shards.length - 1]}`);
  if (o.emitSbatch) {
    const root = resolve(dirname(o.out));
    const layout = runLayout(process.cwd(), resolve(o.out), root);
    const words = o.jobCommand ? splitWords(o.jobCommand) : [process.execPath, resolve(process.argv[1]!)];
    const files = sbatchScripts(plan, layout, words, o.jobThreads, resolve(o.emitSbatch));
    for (const [name, text] of Object.entries(files)) {
      const path = join(o.emitSbatch, name);
      await writeFileAtomic(path, text, { mode: 0o755 });
    }
    lines.push(`sbatch scripts: ${join(o.emitSbatch, 'submit.sh')} submits ${Object.keys(files).filter((f) => f.endsWith('.sbatch')).join(', ')}`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Splits a command line into words (double or single quotes group; no other shell syntax). */
function splitWords(cmd: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(cmd); m; m = re.exec(cmd)) words.push(m[1] ?? m[2] ?? m[3]!);
  if (words.length === 0) throw new UsageError('--job-command: empty');
  return words;
}
