/**
 * Sharded single-cell DE: the scde side of `gpulmm plan`, `gpulmm scde --plan --shard` and `gpulmm merge`.
 * A shard is one analysis (cell type, or `all`) x one chunk of genes [start, end).
 *
 * - plan: the scde options parsed by `gpulmm scde` itself (outputs refused), the metadata read and the analyses
 *   planned exactly as one process plans them; `--shards N` gene chunks per analysis.
 * - shard: the same planning, restricted to the shard's analysis: one pass over the counts for its cells. The
 *   methods that need every gene (library sizes; limma-voom's trend and moderation for pseudobulk) compute all
 *   genes, nbglmm fits only the chunk's; the shard writes the chunk's rows (their fdr is provisional).
 * - merge: per analysis and method, the chunks in gene order; the Benjamini-Hochberg FDR recomputed over every
 *   gene of the analysis, as one process computes it; the dataset merged/results/ (celltype= partitions), TSV
 *   with --tsv, volcano plots, summary.json.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { readArrowTable, type ArrowBatch } from '../io/arrow-batch.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { SCDE_COLUMNS, type ScdeBlock, type ScdeMethod, type ScdePlan } from '../sc/scde.js';
import { runScdeStream } from '../sc/scde-stream.js';
import { ScdeResultWriter } from '../sc/write-results.js';
import { readPlan, shortHash, verifyPlanInputs, type ShardPlan } from '../shard/plan.js';
import { shardMetadata } from '../shard/shard-set.js';
import { tLog10Survival2 } from '../stats/distributions.js';
import { benjaminiHochberg } from '../stats/multiple-testing.js';
import { VERSION } from '../version.js';
import { flagName, parseCommandArgs } from './analysis-args.js';
import type { Merger } from './merge.js';
import type { PlanCliOptions, PlannedAnalysis } from './plan.js';
import { asUserError, prepareScdeRun, registerScde, writeVolcano, type ScdeCliOptions } from './scde.js';

/** One scde shard: genes [geneStart, geneEnd) of the analysis `name`. */
export interface ScdeShard {
  id: number;
  name: string;
  geneStart: number;
  geneEnd: number;
}

const TOOL = `gpulmm ${VERSION}`;
/** scde options that choose how, not what, is computed: allowed in a plan, not hashed. */
const EXECUTION_OPTIONS = new Set(['maxMemory', 'blockEntries', 'verbose', 'plotFormat']);
const REFUSED_OPTIONS: Record<string, string> = {
  out: 'the merge writes the results (gpulmm merge --out DIR)',
  tsv: 'ask the merge for TSV (gpulmm merge --tsv)',
  plot: 'the merge draws the volcano plots',
  plan: 'a plan cannot contain a plan',
  shard: 'a plan cannot contain a plan',
};
/** Options a shard job takes from its own command line. */
const SHARD_OWN_OPTIONS = new Set(['plan', 'shard', 'out', 'maxMemory', 'blockEntries', 'verbose']);

/** The scde options of a plan's words: parsed by `gpulmm scde`, outputs refused. */
async function parsePlanScdeArgs(args: readonly string[]): Promise<ScdeCliOptions> {
  const { opts, given } = await parseCommandArgs<ScdeCliOptions>(registerScde, 'scde', args, "the plan's scde options");
  for (const [key, why] of Object.entries(REFUSED_OPTIONS)) {
    if (given.has(key)) throw new UsageError(`the plan's scde options: ${flagName(key)} is not part of a plan: ${why}`);
  }
  return opts;
}

/** The input files of the options, by role: every file of a 10x directory, the .h5/.h5ad, the cell table. */
async function inputFiles(sc: ScdeCliOptions): Promise<{ role: string; path: string }[]> {
  const files: { role: string; path: string }[] = [];
  if (sc.counts !== undefined) {
    for (const f of (await readdir(sc.counts)).sort()) {
      if (!f.startsWith('.') && (await stat(join(sc.counts, f))).isFile()) files.push({ role: `counts/${f}`, path: join(sc.counts, f) });
    }
  }
  if (sc.h5 !== undefined) files.push({ role: 'h5', path: sc.h5 });
  if (sc.h5ad !== undefined) files.push({ role: 'h5ad', path: sc.h5ad });
  if (sc.cells !== undefined) files.push({ role: 'cells', path: sc.cells });
  return files;
}

/** `gpulmm plan ... scde ...`: every analysis (cell type) x `--shards` gene chunks. */
export async function planScde(args: string[], o: PlanCliOptions): Promise<PlannedAnalysis<ScdeShard>> {
  if (o.chunkSnps !== undefined || o.phenoGroups !== undefined) throw new UsageError('--chunk-snps and --pheno-groups are for gwas plans; scde plans take --shards N (gene chunks per cell type)');
  const sc = await parsePlanScdeArgs(args);
  let run;
  try {
    run = await prepareScdeRun(sc);
  } catch (err) {
    throw asUserError(err);
  }
  const { plan } = run;
  const nGenes = plan.genes.length;
  run.input.close();
  const chunks = Math.min(o.shards ?? 1, nGenes);
  const shards: ScdeShard[] = [];
  for (const a of plan.analyses) {
    for (let c = 0; c < chunks; c++) shards.push({ id: shards.length, name: a.name, geneStart: Math.floor((nGenes * c) / chunks), geneEnd: Math.floor((nGenes * (c + 1)) / chunks) });
  }
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sc)) {
    if (value === undefined || EXECUTION_OPTIONS.has(key) || ['counts', 'h5', 'h5ad', 'cells'].includes(key)) continue;
    options[key] = value;
  }
  return {
    files: await inputFiles(sc),
    options,
    shards,
    summary: { nGenes, nCells: run.input.source.nCells, analyses: plan.analyses.map((a) => a.name), methods: [...plan.methods] },
    describe: shards.map((s) => `${s.name}, genes ${s.geneStart}-${s.geneEnd - 1}`),
  };
}

/** A gene range of a result block: every per-gene column sliced (numbers as views), the rest kept. */
function sliceBlock(b: ScdeBlock, start: number, end: number): ScdeBlock {
  const n = b.gene.length;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    if (ArrayBuffer.isView(v) && (v as Float64Array).length === n) out[k] = (v as Float64Array | Int32Array).subarray(start, end);
    else if (Array.isArray(v) && v.length === n) out[k] = v.slice(start, end);
    else out[k] = v;
  }
  return out as unknown as ScdeBlock;
}

/** `gpulmm scde --plan PLAN --shard K --out FILE.arrow`: one analysis's pass, the chunk's rows of every method. */
export async function runScdeShard(o: ScdeCliOptions, cmd?: Command): Promise<void> {
  if (o.plan === undefined || o.shard === undefined || o.out === undefined) throw new UsageError('a shard needs --plan PLAN, --shard K and --out FILE.arrow');
  const foreign = cmd ? Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli' && !SHARD_OWN_OPTIONS.has(k)) : [];
  if (foreign.length > 0) throw new UsageError(`${foreign.map(flagName).join(', ')}: a shard takes its analysis options from the plan (${o.plan}); it accepts only --plan, --shard, --out, --max-memory, --block-entries and --verbose`);
  const plan = (await readPlan(o.plan)) as ShardPlan<ScdeShard>;
  if (plan.command !== 'scde') throw new InputError(o.plan, undefined, undefined, `a ${plan.command} plan, not an scde plan`);
  const shard = plan.shards[o.shard];
  if (!shard) throw new UsageError(`--shard ${o.shard}: the plan has ${plan.shards.length} shards (0-${plan.shards.length - 1})`);
  await verifyPlanInputs(o.plan, plan, TOOL);
  const sc = await parsePlanScdeArgs(plan.args);
  for (const k of ['maxMemory', 'blockEntries', 'verbose'] as const) if (cmd?.getOptionValueSource(k) === 'cli') (sc as unknown as Record<string, unknown>)[k] = o[k];
  const run = await prepareScdeRun(sc);
  try {
    const all = run.plan;
    const index = all.analyses.findIndex((a) => a.name === shard.name);
    if (index < 0 || all.genes.length !== plan.summary.nGenes) {
      throw new InputError(o.plan, undefined, undefined, `the inputs now give ${all.genes.length} genes and analyses ${all.analyses.map((a) => a.name).join(', ')}; the plan recorded ${String(plan.summary.nGenes)} genes and ${shard.name}: make the plan again`);
    }
    const one: ScdePlan = { ...all, analyses: [all.analyses[index]!], fitGenes: [shard.geneStart, shard.geneEnd] };
    const writer = await ScdeResultWriter.open({ arrow: o.out }, { tool: TOOL, command: 'scde', method: all.methods.join(','), ...shardMetadata(plan, shard.id, { tool: TOOL, backend: 'cpu' }) });
    try {
      for await (const block of runScdeStream(run.input, one, { blockEntries: run.blockEntries, stateBudget: run.estimate.stateBudget, onProgress: run.log })) {
        await writer.write(sliceBlock(block, shard.geneStart, shard.geneEnd));
      }
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  } finally {
    run.input.close();
  }
  process.stderr.write(`shard ${shard.id} of ${plan.shards.length} (plan ${shortHash(plan.hash)}): ${shard.name}, genes ${shard.geneStart}-${shard.geneEnd - 1} -> ${o.out}\n`);
}

/** Columns of one (analysis, method) gathered over its chunks, in gene order. */
interface Gathered {
  celltype: string;
  method: ScdeMethod;
  cols: Map<string, { f64: boolean; i32: boolean; values: (number | string)[] }>;
}

/** Output column -> result block field: n_cells -> nCells, var_donor -> varDonor, ... */
const fieldOf = (column: string): string => column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The block of a gathered (analysis, method): fdr and log10 p computed over every gene, as one process does. */
function mergedBlock(g: Gathered): ScdeBlock {
  const block: Record<string, unknown> = { celltype: g.celltype, method: g.method, design: null };
  for (const [name, c] of g.cols) {
    if (name === 'celltype' || name === 'method') continue;
    block[fieldOf(name)] = c.f64 ? Float64Array.from(c.values as number[]) : c.i32 ? Int32Array.from(c.values as number[]) : (c.values as string[]);
  }
  const p = block.p as Float64Array, t = block.t as Float64Array, df = block.df as Float64Array;
  const log10p = new Float64Array(p.length).fill(Number.NaN);
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i]!)) log10p[i] = tLog10Survival2(t[i]!, df[i]!);
  block.log10p = log10p;
  block.fdr = benjaminiHochberg(p);
  return block as unknown as ScdeBlock;
}

/**
 * The scde merge: per analysis (plan order), its chunks' rows per method in gene order, FDR over all genes;
 * written to DIR/results/ (celltype= partitions), DIR/scde.tsv with --tsv, volcano plots, DIR/summary.json.
 */
export const mergeScde: Merger = async (_planPath, plan, shards, out, o) => {
  if (o.ssf) throw new UsageError('--ssf: GWAS-SSF is for gwas plans (this plan is scde)');
  const sc = await parsePlanScdeArgs(plan.args);
  const methods = plan.summary.methods as ScdeMethod[];
  const specs = plan.shards as ScdeShard[];
  const writer = await ScdeResultWriter.open(
    { arrow: join(out, 'results'), ...(o.tsv ? { tsv: join(out, 'scde.tsv') } : {}) },
    { tool: TOOL, command: 'scde', method: methods.join(','), 'gpulmm.plan_hash': plan.hash, 'gpulmm.shard_count': String(shards.length) },
  );
  const lines: string[] = [];
  const report: { celltype: string; method: string; tested: number; fdr05: number }[] = [];
  let rows = 0;
  try {
    for (const name of plan.summary.analyses as string[]) {
      const gathered = new Map<string, Gathered>(methods.map((m) => [m, { celltype: name, method: m, cols: new Map() }]));
      for (const s of shards.filter((f) => specs[f.shard!]!.name === name)) {
        for await (const batch of (await readArrowTable(s.path)).batches) appendBatch(s.path, batch, gathered);
      }
      for (const m of methods) {
        const block = mergedBlock(gathered.get(m)!);
        await writer.write(block);
        if (o.plot) await writeVolcano(join(out, 'scde'), block, methods.length > 1, sc.plotFormat);
        const tested = block.status.filter((st) => st === 'ok' || st === 'singular').length;
        const hits = block.fdr.filter((q) => q < 0.05).length;
        report.push({ celltype: name, method: m, tested, fdr05: hits });
        lines.push(`${name}: ${m}: ${tested} of ${block.gene.length} genes tested, ${hits} at FDR < 0.05`);
        rows += block.gene.length;
      }
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify({ tool: TOOL, plan: plan.hash, shards: shards.length, rows, analyses: report }, null, 2)}\n`);
  return { lines, rows };
};

/** Appends a shard batch (one method's rows of one chunk) to its (analysis, method): every column of SCDE_COLUMNS. */
function appendBatch(path: string, batch: ArrowBatch, gathered: Map<string, Gathered>): void {
  const method = (batch.method as string[] | undefined)?.[0];
  const g = method === undefined ? undefined : gathered.get(method);
  if (!g) throw new InputError(path, undefined, undefined, `rows of method '${String(method)}', which the plan does not run`);
  for (const name of SCDE_COLUMNS) {
    const v = batch[name] as ArrayLike<number | string> | undefined;
    if (!v) throw new InputError(path, undefined, undefined, `no column '${name}'`);
    let c = g.cols.get(name);
    if (!c) g.cols.set(name, (c = { f64: v instanceof Float64Array, i32: v instanceof Int32Array, values: [] }));
    for (let i = 0; i < v.length; i++) c.values.push(v[i]!);
  }
}
