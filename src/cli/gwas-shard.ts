/**
 * Sharded GWAS: the gwas side of `gpulmm plan`, `gpulmm null`, `gpulmm gwas --plan --shard` and `gpulmm merge`.
 *
 * - plan: the gwas options are parsed by `gpulmm gwas` itself; the inputs they name are loaded once (bad input
 *   fails here, before any job) and fingerprinted; the SNPs are cut into ranges (gwas/shard-ranges.ts).
 * - null: stages 1-3 of the scan (samples, kinship, decompositions and null models) once, written by
 *   gwas/null-store.ts to files named by their content hash.
 * - shard: stage 1 again (cheap), the null models loaded and checked, then stage 4 over the shard's SNP range
 *   (the .bed is read from the range's first SNP) for the shard's phenotypes, into one Arrow IPC file whose
 *   metadata carries the plan hash, shard id and null-model hash.
 * - merge: the shards' batches in shard order into the merged dataset (and GEMMA text, plots, summary).
 */
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { hashSampleIds } from '../../gwas/eigen-cache.js';
import { loadNullModels, NULL_MANIFEST, readNullManifest, writeNullModels } from '../../gwas/null-store.js';
import { describeNullModel, GemmaTsvWriter, openArrowOutput, writeArrowBatch } from '../../gwas/scan-output.js';
import { ssfSoftware, SsfOutputs } from '../../gwas/ssf-output.js';
import { ScanReport } from '../../gwas/scan-report.js';
import { scanKinship } from '../../gwas/scan-kinship.js';
import { lmmStreamGroups, nullModelKey, releaseLmmModels } from '../../gwas/scan-lmm-tests.js';
import { readKeepFile } from '../../gwas/samples.js';
import { scanSamples, type ScanSamples } from '../../gwas/scan-samples.js';
import { streamScan } from '../../gwas/scan-stream.js';
import { buildModels, type ResultBatch, type ScanTimings } from '../../gwas/scan.js';
import type { ScanModels } from '../../gwas/scan-models.js';
import { gwasShards, type GwasShard } from '../../gwas/shard-ranges.js';
import { SnpTestPool } from '../../gwas/snp-pool.js';
import type { BackendChoice } from '../../kernels/backend.js';
import { createBackend } from '../../kernels/select.js';
import { InputError, UsageError } from '../errors.js';
import { getFlag, setFlags } from '../flags.js';
import { plinkPaths } from '../io/plink.js';
import { readArrowTable, type ArrowBatch } from '../io/arrow-batch.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { NullModel } from '../lmm/snp/null-model.js';
import { readPlan, shortHash, verifyPlanInputs, type ShardPlan } from '../shard/plan.js';
import { shardMetadata } from '../shard/shard-set.js';
import { VERSION } from '../version.js';
import { flagName, parseCommandArgs } from './analysis-args.js';
import { BIOBANK_AUTO_MIN_N, checkSsfOption, prepareGwas, registerGwas, testsOf, tsvPath, type GwasCliOptions, type GwasSetup } from './gwas.js';
import { chooseTrait } from './gwas-binary.js';
import type { Merger } from './merge.js';
import type { PlanCliOptions, PlannedAnalysis } from './plan.js';
import { createProgress } from './progress.js';
import { commitAllOrNone } from './scan-outputs.js';

/** gwas options naming input files, and the files (role, path) each stands for. */
const PATH_OPTIONS: Record<string, (v: string) => { role: string; path: string }[]> = {
  bfile: (v) => Object.entries(plinkPaths(v)).map(([ext, path]) => ({ role: `bfile.${ext}`, path })),
  geno: (v) => [{ role: 'geno', path: v }],
  anno: (v) => [{ role: 'anno', path: v }],
  pheno: (v) => [{ role: 'pheno', path: v }],
  covar: (v) => [{ role: 'covar', path: v }],
  kinship: (v) => [{ role: 'kinship', path: v }],
  keep: (v) => [{ role: 'keep', path: v }],
  bgen: (v) => [{ role: 'bgen', path: v }],
  sample: (v) => [{ role: 'sample', path: v }],
};
/** gwas options that choose how, not what, is computed: allowed in a plan (jobs use them), not hashed. */
const EXECUTION_OPTIONS = new Set(['backend', 'threads', 'blockSize', 'eigenCache', 'verbose', 'maxMemory']);
/** gwas options a plan refuses: the merge writes the outputs; a plan cannot plan another plan. */
const REFUSED_OPTIONS: Record<string, string> = {
  out: 'the merge writes the results (gpulmm merge --out DIR)',
  tsv: 'ask the merge for GEMMA text (gpulmm merge --tsv)',
  plot: 'the merge draws the plots',
  ssf: 'ask the merge for GWAS-SSF (gpulmm merge --ssf FILE.tsv.gz)',
  plan: 'a plan cannot contain a plan',
  shard: 'a plan cannot contain a plan',
  null: 'a plan cannot contain a plan',
};

/** The gwas options of a plan's words: parsed by `gpulmm gwas`, outputs refused. */
export async function parsePlanGwasArgs(args: readonly string[]): Promise<GwasCliOptions> {
  const { opts, given } = await parseCommandArgs<GwasCliOptions>(registerGwas, 'gwas', args, "the plan's gwas options");
  for (const [key, why] of Object.entries(REFUSED_OPTIONS)) {
    if (given.has(key)) throw new UsageError(`the plan's gwas options: ${flagName(key)} is not part of a plan: ${why}`);
  }
  return opts;
}

/** `gpulmm plan ... gwas ...`: the SNP ranges x phenotype groups of the scan, its inputs and options. */
export async function planGwas(args: string[], o: PlanCliOptions): Promise<PlannedAnalysis<GwasShard>> {
  if (o.geneChunks !== undefined) throw new UsageError('--gene-chunks is for scde plans');
  const g = await parsePlanGwasArgs(args);
  testsOf(g);
  if (g.phenoMissing === 'separate') throw new UsageError('--pheno-missing separate: a sharded run analyses the phenotypes on the individuals with every one (plan each missingness pattern as its own run)');
  const setup = await prepareGwas(g);
  const source = setup.inputs.source;
  const phenos = setup.phenotypes.map((p) => p.name);
  // Sharding covers the exact LMM of quantitative traits (the null step holds its decompositions).
  if (g.mode === 'biobank' || (g.mode === 'auto' && setup.inputs.samples.indices.length >= BIOBANK_AUTO_MIN_N)) {
    throw new UsageError(`the plan's gwas options: the biobank mode (--mode ${g.mode}, ${setup.inputs.samples.indices.length} analysed individuals) is not sharded yet: plan --mode exact, or run the biobank mode in one process`);
  }
  if (chooseTrait(g.trait, setup.phenotypes, !g.pheno && !!g.bfile)) throw new UsageError(`the plan's gwas options: binary traits (--trait ${g.trait}) are not sharded yet: run them in one process, or give --trait quantitative`);
  if (o.phenoGroups !== undefined && o.phenoGroups > phenos.length) throw new UsageError(`--pheno-groups ${o.phenoGroups}: the analysis has ${phenos.length} phenotype(s)`);
  const shards = gwasShards(source.snps, phenos, {
    ...(o.chunkSnps !== undefined ? { chunkSnps: o.chunkSnps } : { shards: o.shards ?? 1 }),
    byChromosome: !!g.loco,
    phenoGroups: o.phenoGroups ?? 1,
  });
  const files: { role: string; path: string }[] = [];
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(g)) {
    if (value === undefined || EXECUTION_OPTIONS.has(key)) continue;
    if (PATH_OPTIONS[key]) files.push(...PATH_OPTIONS[key](String(value)));
    else options[key] = value;
  }
  const s = setup.inputs.samples;
  return {
    files,
    options,
    shards,
    summary: { nSnps: source.nSnps, nIndividuals: source.samples.length, nAnalysed: s.indices.length, phenos },
    describe: shards.map((sh) => `SNPs ${sh.start}-${sh.end - 1} (chr ${sh.chrs.join(',')}), ${sh.phenos.join(',')}`),
  };
}

const TOOL = `gpulmm ${VERSION}`;
/** Options a shard job takes from its own command line; every analysis option comes from the plan. */
const SHARD_OWN_OPTIONS = new Set(['plan', 'shard', 'null', 'out', 'backend', 'threads', 'blockSize', 'verbose']);

/** Every null model of `models`, keyed `pheno` or `pheno:chr` as one process keys them. */
function modelNullModels(models: ScanModels): Map<string, NullModel> {
  const out = new Map<string, NullModel>();
  for (const dec of models.decompositions) for (const p of dec.phenotypes) out.set(nullModelKey(p.pheno, dec.chr), p.nullModel);
  return out;
}

/** A gwas plan read, checked (hash, tool, inputs unchanged since planning) and its analysis options parsed. */
async function openGwasPlan(planPath: string): Promise<{ plan: ShardPlan<GwasShard>; g: GwasCliOptions }> {
  const plan = (await readPlan(planPath)) as ShardPlan<GwasShard>;
  if (plan.command !== 'gwas') throw new InputError(planPath, undefined, undefined, `a ${plan.command} plan, not a gwas plan`);
  await verifyPlanInputs(planPath, plan, TOOL);
  return { plan, g: await parsePlanGwasArgs(plan.args) };
}

/** Stage 1 of the scan for a plan's analysis, checked against the facts the plan recorded. */
async function planSamples(planPath: string, plan: ShardPlan<GwasShard>, g: GwasCliOptions, setup: GwasSetup): Promise<ScanSamples> {
  const source = setup.inputs.source;
  const samples = scanSamples({
    ids: source.samples, phenotypes: setup.phenotypes, ...(setup.inputs.covariates ? { covariates: setup.inputs.covariates } : {}),
    ...(g.keep ? { keep: await readKeepFile(g.keep) } : {}), maf: g.maf, miss: g.miss,
  });
  const want = plan.summary as { nSnps: number; nIndividuals: number; nAnalysed: number };
  const have = { nSnps: source.nSnps, nIndividuals: source.samples.length, nAnalysed: samples.n };
  for (const k of Object.keys(have) as (keyof typeof have)[]) {
    if (have[k] !== want[k]) throw new InputError(planPath, undefined, undefined, `the plan recorded ${k} = ${want[k]}, the inputs now give ${have[k]}: make the plan again`);
  }
  return samples;
}

/** Execution flags of a job: its own command line first, then the plan's analysis options. */
function setJobFlags(o: Pick<GwasCliOptions, 'backend' | 'threads' | 'blockSize'>, g: GwasCliOptions): void {
  setFlags({ backend: o.backend ?? g.backend, threads: o.threads ?? g.threads, blockSize: o.blockSize ?? g.blockSize });
}

/** The options of `gpulmm null`. */
export interface NullCliOptions {
  plan: string;
  out: string;
  backend?: BackendChoice;
  threads?: number;
  verbose?: boolean;
  check?: boolean;
}

/**
 * `gpulmm null --plan PLAN --out DIR` for a gwas plan: samples, kinship, decompositions and null models once
 * (stages 1-3), written to DIR (gwas/null-store.ts). A complete manifest of this plan already in DIR, whose
 * files verify, is kept as it is (a rerun costs one read).
 */
export async function runGwasNull(o: NullCliOptions): Promise<void> {
  const t0 = performance.now();
  const { plan, g } = await openGwasPlan(o.plan);
  const manifestPath = join(o.out, NULL_MANIFEST);
  const old = await readNullManifest(manifestPath).catch(() => undefined);
  const complete = !!old && old.plan === plan.hash && old.tool === TOOL && (await loadNullModels(old, o.out).then(() => true, () => false));
  if (o.check) {
    process.stderr.write(complete ? `${manifestPath}: complete null models of plan ${shortHash(plan.hash)}\n` : `${manifestPath}: no complete null models of plan ${shortHash(plan.hash)}\n`);
    if (!complete) process.exitCode = 1;
    return;
  }
  if (complete) {
    process.stderr.write(`null models of plan ${shortHash(plan.hash)} already in ${manifestPath} (null ${shortHash(old.hash)}): kept\n`);
    return;
  }
  setJobFlags(o, g);
  const setup = await prepareGwas(g);
  const source = setup.inputs.source;
  const samples = await planSamples(o.plan, plan, g, setup);
  const backend = await createBackend(getFlag('backend'));
  const timings: ScanTimings = { kinship: 0, eigh: 0, rotation: 0, optimisation: 0, io: 0, nullModel: 0 };
  const kin = await scanKinship(source, samples, await setup.kinship(), { backend, blockSize: getFlag('blockSize'), ...(g.loco ? { loco: true } : {}), storeBytes: 0 });
  timings.kinship += kin.seconds;
  const models = await buildModels(source, samples, kin, { vc: g.vc, loco: !!g.loco, backend }, timings);
  const manifest = await writeNullModels(o.out, models, { tool: TOOL, plan: plan.hash });
  // Files of earlier runs (other content) are no longer listed: remove them.
  const listed = new Set(manifest.decompositions.map((d) => d.file));
  for (const f of await readdir(o.out)) if (/^(eigen|whitened)-.*\.f64$/.test(f) && !listed.has(f)) await rm(join(o.out, f), { force: true });
  const lines = [`null models of plan ${shortHash(plan.hash)}: ${manifestPath} (null ${shortHash(manifest.hash)}), ${manifest.decompositions.length} decomposition file(s), ${(manifest.decompositions.reduce((s, d) => s + d.bytes, 0) / 2 ** 20).toFixed(1)} MiB`];
  if (!g.loco) for (const [key, nm] of modelNullModels(models)) lines.push(`null model [${key}]:`, ...describeNullModel(nm).map((l) => `  ${l}`));
  if (o.verbose) lines.push(`time (s): kinship ${timings.kinship.toFixed(2)}, eigh ${timings.eigh.toFixed(2)}, null model ${timings.nullModel.toFixed(2)}, total ${((performance.now() - t0) / 1000).toFixed(2)} [backend ${backend.name}]`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

/**
 * `gpulmm gwas --plan PLAN --shard K --null DIR/null.json --out FILE.arrow`: stage 4 of the scan over shard K's
 * SNP range for its phenotypes, on the null models of the null step, into one Arrow file whose metadata names
 * the plan, the shard and the null models.
 */
export async function runGwasShard(o: GwasCliOptions, cmd?: Command): Promise<void> {
  const t0 = performance.now();
  if (o.plan === undefined || o.shard === undefined || o.null === undefined || o.out === undefined) {
    throw new UsageError('a shard needs --plan PLAN, --shard K, --null DIR/null.json (from gpulmm null) and --out FILE.arrow');
  }
  const foreign = cmd ? Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli' && !SHARD_OWN_OPTIONS.has(k)) : [];
  if (foreign.length > 0) throw new UsageError(`${foreign.map(flagName).join(', ')}: a shard takes its analysis options from the plan (${o.plan}); it accepts only --plan, --shard, --null, --out, --backend, --threads, --block-size and --verbose`);
  const { plan, g } = await openGwasPlan(o.plan);
  const shard = plan.shards[o.shard];
  if (!shard) throw new UsageError(`--shard ${o.shard}: the plan has ${plan.shards.length} shards (0-${plan.shards.length - 1})`);
  const manifest = await readNullManifest(o.null);
  if (manifest.plan !== plan.hash) throw new InputError(o.null, undefined, undefined, `null models made for plan ${shortHash(manifest.plan)}, not for ${o.plan} (${shortHash(plan.hash)}): run gpulmm null --plan ${o.plan}`);
  if (manifest.tool !== TOOL) throw new InputError(o.null, undefined, undefined, `null models made by ${manifest.tool}, this is ${TOOL}`);
  setJobFlags(o, g);
  const setup = await prepareGwas(g);
  const source = setup.inputs.source;
  const samples = await planSamples(o.plan, plan, g, setup);
  if (hashSampleIds(samples.selection.ids) !== manifest.samplesHash || samples.c !== manifest.c) {
    throw new InputError(o.null, undefined, undefined, `null models over other individuals or covariates than this shard's analysis (${samples.n} individuals, ${samples.c} covariates; the null step had ${manifest.n}, ${manifest.c})`);
  }
  const models = await loadNullModels(manifest, dirname(o.null), { ...(g.loco ? { chrs: new Set(shard.chrs) } : {}), phenos: new Set(shard.phenos) });
  const backend = await createBackend(getFlag('backend'));
  const pool = new SnpTestPool(getFlag('threads'));
  const groups = lmmStreamGroups(models, { backend, pool, tests: testsOf(g) });
  const progress = createProgress({ label: `shard ${shard.id}`, total: shard.end - shard.start, unit: 'SNPs' });
  let lastDone = 0;
  const stream = streamScan({
    source, samples, groups, blockSize: getFlag('blockSize'), range: { start: shard.start, end: shard.end },
    onProgress: (done) => {
      progress.tick(done - lastDone);
      lastDone = done;
    },
  });
  const several = (plan.summary.phenos as string[]).length > 1;
  const meta = { tool: TOOL, command: `gwas ${plan.args.join(' ')}`, ...shardMetadata(plan, shard.id, { nullHash: manifest.hash, tool: TOOL, backend: backend.name }) };
  let out: Awaited<ReturnType<typeof openArrowOutput>> | undefined;
  try {
    out = await openArrowOutput(o.out, modelNullModels(models), several, meta);
    for await (const b of stream.batches) await writeArrowBatch(out, b, samples.n, several);
    await out.close();
    progress.done();
  } catch (e) {
    await out?.abort();
    throw e;
  } finally {
    releaseLmmModels(models, backend);
    await pool.dispose();
  }
  const st = stream.stats;
  const dropped = Object.entries(st.dropped).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [`shard ${shard.id} of ${plan.shards.length} (plan ${shortHash(plan.hash)}): SNPs ${shard.start}-${shard.end - 1}, ${st.nTested} tested${dropped ? ` (dropped: ${dropped})` : ''}, ${shard.phenos.join(',')} -> ${o.out}`];
  if (o.verbose) lines.push(`time (s): read+filter ${st.ioSeconds.toFixed(2)}, rotation ${st.transformSeconds.toFixed(2)}, optimisation ${pool.seconds.toFixed(2)}, total ${((performance.now() - t0) / 1000).toFixed(2)} [backend ${backend.name}]`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** A batch of a shard (the columns of scan-output.ts arrowColumns) as the scan's result batch. */
function resultBatchFromArrow(b: ArrowBatch, pheno: string): ResultBatch {
  const f64 = (name: string): Float64Array => {
    const v = b[name];
    if (!(v instanceof Float64Array)) throw new RangeError(`shard batch: column '${name}' missing or not f64`);
    return v;
  };
  const i32 = (name: string): Int32Array => {
    const v = b[name];
    if (!(v instanceof Int32Array)) throw new RangeError(`shard batch: column '${name}' missing or not i32`);
    return v;
  };
  const str = (name: string): string[] => {
    const v = b[name];
    if (!Array.isArray(v)) throw new RangeError(`shard batch: column '${name}' missing or not utf8`);
    return v as string[];
  };
  const chr = str('chr'), rs = str('rs'), ps = i32('ps'), a1 = str('allele1'), a0 = str('allele0');
  return {
    pheno: b.pheno ? str('pheno')[0] ?? pheno : pheno,
    snps: chr.map((c, j) => ({ chr: c, rs: rs[j]!, ps: ps[j]!, allele1: a1[j]!, allele0: a0[j]! })),
    nMiss: i32('n_miss'),
    af: f64('af'),
    assoc: {
      beta: f64('beta'), se: f64('se'), loglH1: f64('logl_H1'), lRemle: f64('l_remle'), lMle: f64('l_mle'),
      pWald: f64('p_wald'), pLrt: f64('p_lrt'), pScore: f64('p_score'),
      log10pWald: f64('log10p_wald'), log10pLrt: f64('log10p_lrt'), log10pScore: f64('log10p_score'), status: str('status'),
    },
  };
}

/**
 * The gwas merge: the shards' batches, in shard order, into the dataset DIR/results/ (pheno=/chr= partitions,
 * as one process's `--out DIR/`), GEMMA text with `--tsv`, plots, and DIR/summary.json (lambda_GC per phenotype
 * and test, top hits).
 */
export const mergeGwas: Merger = async (_planPath, plan, shards, out, o) => {
  const g = await parsePlanGwasArgs(plan.args);
  const setup = { tests: testsOf(g) };
  if (o.ssf) checkSsfOption(o.ssf, setup.tests);
  const phenos = plan.summary.phenos as string[];
  const several = phenos.length > 1;
  const withPheno = true; // the dataset's outer partition
  const nAnalysed = plan.summary.nAnalysed as number;
  // The null models of every shard (the same manifest: checked), as one process's output records them.
  const nullModels = new Map<string, NullModel>();
  for (const s of shards) {
    const json = s.metadata['gpulmm.null_model'];
    if (json) for (const [k, v] of Object.entries(JSON.parse(json) as Record<string, NullModel>)) nullModels.set(k, v);
  }
  const meta = { tool: TOOL, command: `gwas ${plan.args.join(' ')}`, test: g.test, vc: g.vc, kinship: g.kinship ?? g.grm, loco: String(!!g.loco), 'gpulmm.plan_hash': plan.hash, 'gpulmm.shard_count': String(shards.length), ...(shards[0]?.nullHash ? { 'gpulmm.null_hash': shards[0].nullHash } : {}) };
  const arrow = await openArrowOutput(join(out, 'results'), nullModels, withPheno, meta);
  const tsvs = new Map<string, GemmaTsvWriter>();
  const report = new ScanReport(setup.tests);
  let rows = 0;
  let ssf: SsfOutputs | undefined;
  await commitAllOrNone(() => [...tsvs.values(), ssf, arrow], async () => {
    if (o.tsv) for (const p of phenos) tsvs.set(p, await GemmaTsvWriter.open(several ? tsvPath(join(out, 'gwas.assoc.txt'), p) : join(out, 'gwas.assoc.txt'), setup.tests));
    if (o.ssf) {
      const test = setup.tests.wald ? 'wald' : 'score';
      ssf = await SsfOutputs.open(o.ssf, phenos, { genomeAssembly: o.ssfGenomeAssembly ?? g.ssfGenomeAssembly, software: ssfSoftware(TOOL, test, g), sampleSize: nAnalysed, ...(g.covar ? { covariates: [`columns of ${g.covar}`] } : {}) }, test);
    }
    for (const s of shards) {
      for await (const batch of (await readArrowTable(s.path)).batches) {
        const b = resultBatchFromArrow(batch, phenos[0]!);
        await writeArrowBatch(arrow, b, nAnalysed, withPheno);
        await tsvs.get(b.pheno)?.write(b);
        await ssf?.write(b);
        report.add(b);
        rows += b.snps.length;
      }
    }
  });
  const reports = report.reports();
  if (o.plot) await report.writePlots(join(out, 'gwas'), reports, several, g.plotFormat);
  await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify({ tool: TOOL, plan: plan.hash, null: shards[0]?.nullHash ?? null, shards: shards.length, rows, phenotypes: reports }, null, 2)}\n`);
  return { lines: [...report.lines(reports, several), ...(ssf?.lines() ?? [])], rows };
};
