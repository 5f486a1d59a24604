/**
 * `gpulmm gwas`: GEMMA 0.98.5-exact LMM association scan (-gk then -lmm 1/2/3/4 in one command), streamed to an
 * Arrow (`--out`), GEMMA's assoc.txt (`--tsv`) and Manhattan/QQ plots (`--plot`, `--plot-format`); see gwas/scan.ts.
 */
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { GemmaTsvWriter, describeNullModel, openArrowOutput, writeArrowBatch, writeNullModelJson } from '../../gwas/scan-output.js';
import { ScanReport } from '../../gwas/scan-report.js';
import { ssfSoftware, SsfOutputs } from '../../gwas/ssf-output.js';
import { gwasScan, type KinshipInput, type PhenotypeInput } from '../../gwas/scan.js';
import { readKeepFile } from '../../gwas/samples.js';
import type { GenotypeSource } from '../../gwas/types.js';
import type { BackendChoice } from '../../kernels/backend.js';
import { fileFingerprint } from '../../gwas/eigen-cache.js';
import { loadAnalysisInputs, type AnalysisInputs } from '../../gwas/inputs.js';
import { genotypeFiles, genotypeSettings, type GenotypeInputOptions } from '../../gwas/genotype-input.js';
import { setFlags, getFlag } from '../flags.js';
import { arrowOutputKind, arrowSiblingPath, checkArrowOutput } from '../io/arrow-output.js';
import { PLOT_FORMATS, type PlotFormat } from '../plot/index.js';
import { readKinship } from '../io/kinship-file.js';
import type { TestSelection } from '../lmm/snp/assoc.js';
import type { NullModel } from '../lmm/snp/null-model.js';
import { VERSION } from '../version.js';
import { formatBytes, parseSize } from '../memory.js';
import { DEFAULT_MEMORY_FRACTION, describeMemoryPlan, type ScanMemoryPlan } from '../../gwas/memory-model.js';
import { UsageError } from '../errors.js';
import { action } from './command.js';
import { numberOption, OPEN_UNIT, POSITIVE_INT, PROBABILITY, SHARD_NUMBER } from './option-values.js';
import { createProgress } from './progress.js';
import { addGenotypeOptions, describeSkipped, genotypeInput, type GenotypeCliOptions } from './genotype-options.js';
import { chooseTrait, runBinaryGwas, type TraitChoice } from './gwas-binary.js';
import { analysedSnpsLine, commitAllOrNone } from './scan-outputs.js';
import { runBiobankGwas } from './gwas-biobank.js';

/**
 * `--mode auto` picks the biobank mode from this many analysed individuals: there the exact mode's two n x n
 * f64 matrices (K and its eigenvectors) take 6.4 GB and its O(n^3) eigendecomposition dominates (see README).
 */
export const BIOBANK_AUTO_MIN_N = 20000;

/** The options of `gpulmm gwas`, as commander parses them. */
export interface GwasCliOptions extends GenotypeCliOptions {
  pheno?: string;
  phenoCol: string;
  phenoMissing: 'intersect' | 'separate';
  covar?: string;
  kinship?: string;
  grm: 'centered' | 'standardized';
  test: 'wald' | 'lrt' | 'score' | 'all';
  maf: number;
  miss: number;
  keep?: string;
  loco?: boolean;
  vc: 'exact' | 'fixed';
  backend?: BackendChoice;
  threads?: number;
  blockSize?: number;
  eigenCache?: string;
  out?: string;
  tsv?: string;
  plot?: string;
  plotFormat: PlotFormat;
  ssf?: string;
  ssfGenomeAssembly: string;
  verbose?: boolean;
  trait: TraitChoice;
  firthP: number;
  mode: 'exact' | 'biobank' | 'auto';
  tsvFormat: 'gemma' | 'bolt';
  h2Probes: number;
  calibrationSnps: number;
  cgTol: number;
  seed: number;
  h2?: number;
  calibration: 'mean' | 'bolt';
  maxMemory?: string;
  plan?: string;
  shard?: number;
  null?: string;
}

const TESTS: Record<GwasCliOptions['test'], TestSelection> = {
  wald: { wald: true, lrt: false, score: false },
  lrt: { wald: false, lrt: true, score: false },
  score: { wald: false, lrt: false, score: true },
  all: { wald: true, lrt: true, score: true },
};

/** --pheno-col: `all`, or distinct 1-based columns `K[,K...]` (checked here, kept as given). */
const phenoColsArg = (raw: string): string => {
  if (raw === 'all') return raw;
  const cols = raw.split(',').map((c) => Number(c.trim()));
  const bad = raw.split(',').find((c, k) => c.trim() === '' || !Number.isInteger(cols[k]) || cols[k]! < 1);
  if (bad !== undefined) throw new UsageError(`--pheno-col ${raw}: "${bad}" is not a column number (1-based), expected K, a list 1,2,3 or all`);
  const twice = cols.find((c, k) => cols.indexOf(c) !== k);
  if (twice !== undefined) throw new UsageError(`--pheno-col ${raw}: column ${twice} is given twice`);
  return raw;
};
export function registerGwas(program: Command): void {
  addGenotypeOptions(program
    .command('gwas')
    .description('Exact LMM association scan (GEMMA 0.98.5 -lmm semantics): kinship, eigendecomposition, per-SNP Wald/LRT/score'))
    .option('--pheno <file>', 'phenotypes, one row per individual in genotype order (GEMMA -p); default: .fam column 6')
    .option('--pheno-col <cols>', 'phenotype column(s): K (1-based, GEMMA -n), a list 1,2,3 or all', phenoColsArg, '1')
    .option('--covar <file>', 'covariates (GEMMA -c); an intercept is appended when no column is constant')
    .option('--kinship <file>', 'kinship matrix over all individuals (GEMMA cXX/sXX text)')
    .addOption(new Option('--grm <mode>', 'kinship computed from the genotypes: centered (GEMMA -gk 1) or standardized (-gk 2); not with --kinship').default('centered').conflicts('kinship'))
    .option('--test <test>', 'wald | lrt | score | all (GEMMA -lmm 1/2/3/4)', 'all')
    .option('--maf <x>', 'minimum allele frequency', numberOption('--maf', { min: 0, max: 0.5, special: [{ value: -1, meaning: 'no filter' }] }), 0.01)
    .option('--miss <x>', 'maximum missing rate per SNP', numberOption('--miss', PROBABILITY), 0.05)
    .option('--keep <file>', 'analyse only these sample IDs (one IID, or FID IID, per line)')
    .option('--loco', 'leave-one-chromosome-out: test each chromosome against the kinship without it')
    .option('--vc <mode>', 'exact (per-SNP lambda, GEMMA) or fixed (null-model variance components, EMMAX/P3D)', 'exact')
    .option('--backend <name>', 'auto | cpu | webgpu | gpujs')
    .option('--threads <n>', 'cpu worker threads', numberOption('--threads', POSITIVE_INT))
    .option('--block-size <n>', 'SNPs per streamed block', numberOption('--block-size', POSITIVE_INT))
    .option('--eigen-cache <dir>', 'reuse eigendecompositions stored in DIR (keyed by a fingerprint of the inputs)')
    .option('--out <path>', 'Arrow output: DIR/ = IPC file dataset (DIR/pheno=P/chr=C/part-0.arrow, read as one table by polars scan_ipc, pyarrow.dataset, R open_dataset), FILE.arrow = one IPC file, FILE.arrows = IPC stream; null model JSON in the schema metadata and in the .json sidecar (DIR.json, FILE.json)')
    .option('--tsv <file>', "GEMMA's assoc.txt layout for the chosen test")
    .option('--plot <prefix>', 'write PREFIX.manhattan.png and PREFIX.qq.png (PREFIX.TEST.*.png for each test when several are run)')
    .option('--ssf <file.tsv.gz>', 'GWAS Catalog summary statistics (GWAS-SSF; .tsv or .tsv.gz) with FILE-meta.yaml; one pair per phenotype (FILE.PHENO.tsv.gz) when several; Wald beta/se/p (score with --test score); exact mode')
    .option('--ssf-genome-assembly <name>', 'genome_assembly in the GWAS-SSF metadata (e.g. GRCh38)', 'NR')
    .option('--plot-format <fmt>', 'png | svg | pdf (points as a raster, axes and text as vectors in svg/pdf)', 'png')
    .option('--pheno-missing <rule>', 'several phenotypes missing for different individuals: intersect (analyse all on the individuals with every one, GEMMA) or separate (each missingness pattern on its own individuals, as separate -n runs on the same kinship; exact quantitative scan)', 'intersect')
    .option('--max-memory <size>', `memory the scan may use, e.g. 8G or 512M (default ${DEFAULT_MEMORY_FRACTION * 100}% of the machine's): picks the block size and whether genotypes are kept between passes; a scan that cannot fit stops before it starts`)
    .option('--verbose', 'print the memory plan before the heavy work, and the time and peak memory per stage')
    .option('--trait <kind>', 'auto | quantitative | binary: binary (case/control: 0/1, PLINK 1/2, or the words control/case) runs the logistic mixed model with SPA score tests; auto picks binary for two-valued phenotypes', 'auto')
    .option('--firth-p <x>', 'binary traits: SNPs with p below this get Firth logistic regression beta and se (0 disables)', numberOption('--firth-p', PROBABILITY), 0.05)
    .option('--mode <mode>', `exact (eigendecomposition, GEMMA) | biobank (matrix-free BOLT-LMM-inf: no n x n matrix, LOCO) | auto (biobank from ${BIOBANK_AUTO_MIN_N} analysed individuals)`, 'auto')
    .option('--tsv-format <fmt>', "--tsv layout: gemma (assoc.txt) or bolt (BOLT-LMM's stats file; biobank mode)", 'gemma')
    .option('--h2-probes <n>', 'biobank: random probes of the stochastic REML log-determinant (up to 4x more are added while its Monte Carlo error is large)', numberOption('--h2-probes', POSITIVE_INT), 10)
    .option('--calibration-snps <n>', 'biobank: SNPs whose prospective statistic calibrates the LOCO statistic (BOLT --numCalibSnps)', numberOption('--calibration-snps', POSITIVE_INT), 30)
    .option('--cg-tol <x>', 'biobank: relative residual of the conjugate-gradient solves (BOLT --CGtol)', numberOption('--cg-tol', OPEN_UNIT), 5e-4)
    .option('--seed <n>', 'biobank: seed of the probes and of the calibration SNPs', numberOption('--seed', POSITIVE_INT), 1)
    .option('--calibration <rule>', 'biobank: calibration factor from the calibration SNPs: mean (of the prospective/retrospective ratios) or bolt (BOLT-LMM 2.4: ratio of sums, or of medians)', 'mean')
    .option('--h2 <x>', 'biobank: h2 (BOLT-LMM scale) fixed instead of estimated by REML', numberOption('--h2', OPEN_UNIT))
    .option('--plan <plan.json>', 'run one shard of a plan made by gpulmm plan (analysis options come from the plan; with --shard, --null, --out)')
    .option('--shard <k>', 'the shard of --plan to run (0-based)', numberOption('--shard', SHARD_NUMBER))
    .option('--null <null.json>', 'with --plan: the null models made by gpulmm null')
    .action(action('gwas', runGwas));
}

/** The tests of the options (--vc fixed: Wald only). UsageError for an unknown test or LRT/score with --vc fixed. */
/** `--ssf FILE` needs a test with beta and se, and a GWAS-SSF file name (UsageError otherwise). */
export function checkSsfOption(ssf: string, tests: TestSelection): void {
  if (!tests.wald && !tests.score) throw new UsageError('--ssf needs beta and its standard error: use --test wald, score or all (not lrt alone)');
  if (!/\.tsv(\.gz)?$/i.test(ssf)) throw new UsageError(`--ssf ${ssf}: the GWAS-SSF data file name must end in .tsv or .tsv.gz`);
}

export function testsOf(o: Pick<GwasCliOptions, 'test' | 'vc'>): TestSelection {
  if (!TESTS[o.test]) throw new UsageError(`--test ${o.test}: expected wald, lrt, score or all`);
  const tests = o.vc === 'fixed' ? (o.test === 'wald' || o.test === 'all' ? TESTS.wald : undefined) : TESTS[o.test];
  if (!tests) throw new UsageError('--vc fixed gives Wald statistics only: use --test wald');
  return tests;
}

/** What a gwas run, its plan, its null step and its shards share: the options' inputs, loaded and cross-checked. */
export interface GwasSetup {
  genotypes: GenotypeInputOptions;
  inputs: AnalysisInputs;
  phenotypes: PhenotypeInput[];
  /** K computed from the genotypes (--grm) or read from --kinship (read when called: shards never need it). */
  kinship: () => Promise<KinshipInput>;
}

/** Checks the options that need no file (UsageError naming the option) and loads the inputs they name. */
export async function prepareGwas(o: GwasCliOptions): Promise<GwasSetup> {
  if (!TESTS[o.test]) throw new UsageError(`--test ${o.test}: expected wald, lrt, score or all`);
  if (o.grm !== 'centered' && o.grm !== 'standardized') throw new UsageError(`--grm ${o.grm}: expected centered or standardized`);
  if (o.vc !== 'exact' && o.vc !== 'fixed') throw new UsageError(`--vc ${o.vc}: expected exact or fixed`);
  const genotypes = genotypeInput(o);
  const inputs = await loadAnalysisInputs({
    ...genotypes,
    ...(o.pheno ? { pheno: o.pheno } : {}), phenoCols: o.phenoCol === 'all' ? 'all' : o.phenoCol.split(',').map((c) => Number(c.trim())),
    ...(o.covar ? { covar: o.covar } : {}), ...(o.keep ? { keep: o.keep } : {}),
  });
  for (const w of inputs.warnings) process.stderr.write(`gpulmm gwas: warning: ${w}\n`);
  const phenotypes: PhenotypeInput[] = inputs.phenotypes.map((values, k) => ({ name: `p${inputs.phenoCols[k]}`, values }));
  const kinship = async (): Promise<KinshipInput> =>
    o.kinship ? { matrix: await readKinship(o.kinship, inputs.source.samples.length), describe: o.kinship } : { mode: o.grm };
  return { genotypes, inputs, phenotypes, kinship };
}

async function runGwas(o: GwasCliOptions, cmd?: Command): Promise<void> {
  if (o.plan !== undefined || o.shard !== undefined || o.null !== undefined) return (await import('./gwas-shard.js')).runGwasShard(o, cmd);
  const t0 = performance.now();
  if (!PLOT_FORMATS.includes(o.plotFormat)) throw new UsageError(`--plot-format ${o.plotFormat}: expected ${PLOT_FORMATS.join(', ')}`);
  if (!o.out && !o.tsv && !o.ssf) throw new UsageError('nothing to write: give --out DIR/ (or FILE.arrow, FILE.arrows), --tsv FILE and/or --ssf FILE.tsv.gz');
  if (o.out) await checkArrowOutput(o.out, ['pheno', 'chr'], '--out');
  setFlags({ backend: o.backend, threads: o.threads, blockSize: o.blockSize });
  let maxMemory: number | undefined;
  try {
    maxMemory = o.maxMemory === undefined ? undefined : parseSize(o.maxMemory);
  } catch (e) {
    throw new UsageError(`--max-memory ${o.maxMemory}: ${(e as Error).message}`);
  }

  if (o.phenoMissing !== 'intersect' && o.phenoMissing !== 'separate') throw new UsageError(`--pheno-missing ${o.phenoMissing}: expected intersect or separate`);
  const separate = o.phenoMissing === 'separate';

  // Step 1: inputs (genotypes, phenotypes, covariates, keep list; files cross-checked by gwas/inputs.ts).
  const { genotypes, inputs, phenotypes, kinship: loadKinship } = await prepareGwas(o);
  const nAnalysed = inputs.samples.indices.length;
  if (o.mode !== 'exact' && o.mode !== 'biobank' && o.mode !== 'auto') throw new UsageError(`--mode ${o.mode}: expected exact, biobank or auto`);
  if (o.mode === 'biobank' || (o.mode === 'auto' && nAnalysed >= BIOBANK_AUTO_MIN_N)) {
    if (o.kinship) throw new UsageError('--kinship: the biobank mode computes its kinship from the genotypes (no n x n matrix); use --mode exact for a kinship file');
    if (o.test !== 'wald' && o.test !== 'all') throw new UsageError(`--test ${o.test}: the biobank mode gives BOLT-LMM-inf statistics (in the Wald columns); use --test wald`);
    if (o.backend === 'gpujs') throw new UsageError('--backend gpujs: the biobank mode runs its products on cpu or webgpu');
    if (o.trait === 'binary') throw new UsageError('--trait binary: the biobank mode analyses every phenotype as quantitative (a linear mixed model on 0/1, as BOLT-LMM); use --mode exact for the logistic mixed model');
    if (o.ssf) throw new UsageError('--ssf: GWAS-SSF is written by the exact mode only (use --mode exact)');
    if (separate) throw new UsageError('--pheno-missing separate: the biobank mode analyses the individuals with every phenotype (use --mode exact)');
    return runBiobankGwas(o, inputs, process.argv.slice(2).join(' '), t0);
  }
  if (o.tsvFormat !== 'gemma') throw new UsageError(`--tsv-format ${o.tsvFormat}: the exact mode writes GEMMA's layout only (bolt is for --mode biobank)`);
  const source: GenotypeSource = inputs.source;
  const covariates = inputs.covariates;
  const kinship = await loadKinship();
  const codings = chooseTrait(o.trait, phenotypes, !o.pheno && !!o.bfile);
  if (codings) {
    if (o.ssf) throw new UsageError('--ssf: GWAS-SSF is written for quantitative traits only (binary traits: use --out or --tsv)');
    if (separate) throw new UsageError('--pheno-missing separate: binary traits are analysed on the individuals with every phenotype');
    if (o.vc !== 'exact') throw new UsageError('--vc fixed applies to quantitative traits: a binary trait always uses the logistic mixed model');
    return runBinaryGwas({
      source, phenotypes, codings, ...(covariates ? { covariates } : {}), ...(o.keep ? { keep: await readKeepFile(o.keep) } : {}),
      kinship, kinshipName: o.kinship ?? o.grm, maf: o.maf, miss: o.miss, loco: !!o.loco, firthP: o.firthP,
      ...(o.out ? { out: o.out } : {}), ...(o.tsv ? { tsv: o.tsv } : {}), ...(o.plot ? { plot: o.plot, plotFormat: o.plotFormat } : {}), verbose: !!o.verbose, tsvPath, started: t0,
    });
  }
  const tests = testsOf(o);
  if (o.ssf) checkSsfOption(o.ssf, tests);
  const genoFiles = genotypeFiles(genotypes);
  if (o.eigenCache && (await stat(o.eigenCache).catch(() => undefined))?.isDirectory() === false) {
    throw new UsageError(`--eigen-cache ${o.eigenCache}: exists and is not a directory`);
  }
  const eigenCache = o.eigenCache
    ? {
        dir: o.eigenCache,
        keyParts: o.kinship
          ? { kinship: await fileFingerprint(o.kinship, true) }
          : { genotypes: await Promise.all(genoFiles.map((f) => fileFingerprint(f, false))), ...genotypeSettings(genotypes), grm: o.grm, maf: o.maf, miss: o.miss, covar: o.covar ? await fileFingerprint(o.covar, true) : null },
        log: (m: string) => process.stderr.write(`${m}\n`),
      }
    : undefined;

  // Step 2: the scan.
  const progress = createProgress({ label: 'gwas', total: source.nSnps * phenotypes.length, unit: 'SNPs' });
  let lastDone = 0;
  const scan = await gwasScan({
    source, phenotypes, ...(covariates ? { covariates } : {}), ...(o.keep ? { keep: await readKeepFile(o.keep) } : {}),
    kinship, tests, maf: o.maf, miss: o.miss, ...(o.loco ? { loco: true } : {}), vc: o.vc, ...(eigenCache ? { eigenCache } : {}),
    backend: getFlag('backend'), blockSize: getFlag('blockSize'),
    ...(maxMemory !== undefined ? { maxMemoryBytes: maxMemory } : {}), memoryLimitName: '--max-memory', phenotypeMissing: o.phenoMissing,
    ...(o.verbose ? { onMemoryPlan: (plan: ScanMemoryPlan) => process.stderr.write(`${describeMemoryPlan(plan).join('\n')}\n`) } : {}),
    onProgress: (done) => {
      progress.tick((done - lastDone) * phenotypes.length);
      lastDone = done;
    },
  });
  const several = phenotypes.length > 1;
  const withPheno = several || (o.out !== undefined && arrowOutputKind(o.out) === 'dataset');
  const meta = { tool: `gpulmm ${VERSION}`, command: process.argv.slice(2).join(' '), test: o.test, vc: o.vc, kinship: o.kinship ?? o.grm, loco: String(!!o.loco) };
  const arrow = o.out ? await openArrowOutput(o.out, scan.nullModels, withPheno, meta) : undefined;
  const tsvs = new Map<string, GemmaTsvWriter>();
  const report = new ScanReport(tests);
  /** Analysed individuals per phenotype when missingness patterns are analysed separately. */
  const nAnalysedOf = new Map((scan.summary.patterns ?? []).flatMap((q) => q.phenotypes.map((p) => [p, q.nAnalysed] as const)));
  let ssf: SsfOutputs | undefined;
  await commitAllOrNone(() => [...tsvs.values(), ssf, arrow], async () => {
    if (o.tsv) for (const p of phenotypes) tsvs.set(p.name, await GemmaTsvWriter.open(several ? tsvPath(o.tsv, p.name) : o.tsv, tests));
    if (o.ssf) {
      const test = tests.wald ? 'wald' : 'score';
      ssf = await SsfOutputs.open(o.ssf, phenotypes.map((p) => p.name), { genomeAssembly: o.ssfGenomeAssembly, software: ssfSoftware(meta.tool, test, o), sampleSize: scan.summary.nAnalysed, ...(o.covar ? { covariates: [`columns of ${o.covar}`] } : {}) }, test);
    }
    for await (const b of scan.batches) {
      if (arrow) await writeArrowBatch(arrow, b, nAnalysedOf.get(b.pheno) ?? scan.summary.nAnalysed, withPheno);
      await tsvs.get(b.pheno)?.write(b);
      await ssf?.write(b);
      report.add(b);
    }
    progress.done();
  });
  if (o.out) await writeNullModelJson(arrowSiblingPath(o.out, '.json'), scan.nullModels, { tool: meta.tool, command: meta.command });

  // Step 3: summary (and plots).
  const s = scan.summary;
  const lines: string[] = [];
  lines.push(`analysed individuals: ${s.nAnalysed} of ${s.nIndividuals}; covariates (intercept included): ${s.c}`);
  for (const q of s.patterns ?? []) lines.push(`  ${q.phenotypes.join(', ')}: ${q.nAnalysed} individuals`);
  if (!separate && several && inputs.samples.counts.missingPhenotype > 0 && phenotypes.some((p) => inputs.samples.indices.length < p.values.filter((v) => !Number.isNaN(v)).length)) {
    lines.push(`  (phenotypes missing for different individuals are analysed on those with every one; --pheno-missing separate analyses each on its own)`);
  }
  lines.push(analysedSnpsLine(s));
  const skipped = describeSkipped(source);
  if (skipped) lines.push(skipped);
  for (const [key, nm] of scan.nullModels) {
    if (!o.loco || !several) lines.push(`null model${several || o.loco ? ` [${key}]` : ''}:`, ...describeNullModel(nm as NullModel).map((l) => `  ${l}`));
  }
  const reports = report.reports();
  lines.push(...report.lines(reports, several));
  if (ssf) lines.push(...ssf.lines());
  if (o.plot) await report.writePlots(o.plot, reports, several, o.plotFormat);
  if (o.verbose) {
    const t = s.timings;
    if (s.memory) {
      const peak = s.memory.peakRss;
      lines.push(`peak memory (RSS): kinship ${formatBytes(peak.kinship)}, decompositions ${formatBytes(peak.decompositions)}, stream ${formatBytes(peak.stream)} (plan: ${s.memory.plan.stages.map((st) => formatBytes(st.bytes)).join(', ')})`);
    }
    lines.push(`time (s): kinship ${t.kinship.toFixed(2)}, eigh ${t.eigh.toFixed(2)}, null model ${t.nullModel.toFixed(2)}, rotation ${t.rotation.toFixed(2)}, optimisation ${t.optimisation.toFixed(2)}, read+filter ${t.io.toFixed(2)}, total ${((performance.now() - t0) / 1000).toFixed(2)} [backend ${s.backend}]`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** `out.assoc.txt` -> `out.PHENO.assoc.txt` (one GEMMA file per phenotype). */
export function tsvPath(path: string, pheno: string): string {
  const m = /^(.*?)(\.assoc\.txt|\.txt|\.tsv)?$/.exec(path)!;
  return `${m[1]}.${pheno}${m[2] ?? ''}`;
}
