/**
 * `gpulmm null --plan PLAN --out DIR`: the shared step of a sharded gwas plan: kinship, eigendecomposition(s)
 * (one per chromosome with --loco) and null models, once, into DIR/null.json and content-named files that
 * every shard loads (see gwas/null-store.ts and src/cli/gwas-shard.ts).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readPlan } from '../shard/plan.js';
import { action } from './command.js';
import { numberOption, POSITIVE_INT } from './option-values.js';
import type { NullCliOptions } from './gwas-shard.js';

export function registerNull(program: Command): void {
  program
    .command('null')
    .description('Null step of a sharded gwas plan: kinship, eigendecomposition(s) and null models once, written to DIR/null.json and files named by their content hash (kept when DIR already holds this plan\'s)')
    .requiredOption('--plan <plan.json>', 'the plan (gpulmm plan ... gwas ...)')
    .requiredOption('--out <dir>', 'directory for null.json and the model files')
    .option('--backend <name>', 'auto | cpu | webgpu | gpujs (default: the plan\'s, else auto)')
    .option('--threads <n>', 'cpu worker threads', numberOption('--threads', POSITIVE_INT))
    .option('--verbose', 'print the time spent per stage')
    .option('--check', 'compute nothing: exit 0 when DIR holds this plan\'s complete null models, else 1 (for rerun scripts)')
    .action(
      action('null', async (o: NullCliOptions) => {
        const plan = await readPlan(o.plan);
        if (plan.command !== 'gwas') throw new UsageError(`--plan ${o.plan}: a ${plan.command} plan has no null step: run its shards directly`);
        await (await import('./gwas-shard.js')).runGwasNull(o);
      }),
    );
}
