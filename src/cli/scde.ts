/**
 * `gpulmm scde`: donor-aware single-cell differential expression (see src/sc/scde.ts for the models).
 */
import { Option, type Command } from 'commander';
import { DesignError } from '../sc/design.js';
import { CellJoinError } from '../sc/cell-table.js';
import { openScdeInput } from '../sc/load-input.js';
import { DEFAULT_MIN_FRAC, planScde, scdeMethods, SCDE_METHODS, type ScdeMethod } from '../sc/scde.js';
import { DEFAULT_BLOCK_ENTRIES, runScdeStream } from '../sc/scde-stream.js';
import { describeScdeMemory, fitScdeMemory, gib, parseByteSize } from '../sc/scde-memory.js';
import type { PseudobulkNormalisation } from '../sc/pseudobulk.js';
import { ScdeResultWriter } from '../sc/write-results.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { checkArrowOutput } from '../io/arrow-output.js';
import { PLOT_FORMATS, volcanoPlot, type PlotFormat } from '../plot/index.js';
import type { ScdeBlock } from '../sc/scde.js';
import { VERSION } from '../version.js';
import { UsageError } from '../errors.js';
import type { Backend, BackendChoice } from '../../kernels/backend.js';
import { createBackend } from '../../kernels/select.js';
import { getFlag, setFlags } from '../flags.js';
import { action } from './command.js';
import { numberOption, parseNumberOption, POSITIVE_INT, PROBABILITY, SHARD_NUMBER } from './option-values.js';
import { createProgress } from './progress.js';

/** The options of `gpulmm scde`, as commander parses them. */
export interface ScdeCliOptions {
  counts?: string;
  h5?: string;
  h5ad?: string;
  h5adMatrix?: string;
  cells?: string;
  barcodeColumn: string;
  missingCells: 'error' | 'drop';
  donor: string;
  condition: string;
  contrast?: string;
  covariates?: string;
  random?: string;
  design: 'auto' | 'paired' | 'between';
  celltype?: string;
  celltypeValue?: string;
  method: string;
  minFrac: string;
  maxMemory: string;
  backend?: BackendChoice;
  blockEntries: string;
  verbose?: boolean;
  pseudobulkNorm: PseudobulkNormalisation;
  out?: string;
  tsv?: string;
  plot?: string;
  plotFormat: PlotFormat;
  plan?: string;
  shard?: number;
}

/** Errors caused by the user's flags or metadata print without a stack (input-file errors are InputErrors already). */
export function asUserError(err: unknown): unknown {
  if (err instanceof DesignError || err instanceof CellJoinError) return new UsageError(err.message);
  return err;
}

/** Default --max-memory: 3 GiB. */
const DEFAULT_MAX_MEMORY = '3G';

export function registerScde(program: Command): void {
  program
    .command('scde')
    .description('Single-cell differential expression between two conditions, respecting donors (cells are not replicates).')
    .option('--counts <dir>', '10x directory: matrix.mtx[.gz] (genes x cells), features.tsv[.gz] or genes.tsv[.gz], barcodes.tsv[.gz]')
    .option('--h5 <file>', 'Cell Ranger 3.0+ HDF5 matrix (filtered_feature_bc_matrix.h5) instead of --counts; Gene Expression features only')
    .option('--h5ad <file>', 'AnnData file instead of --counts (X dense, csr or csc; cell metadata from obs unless --cells)')
    .option('--h5ad-matrix <path>', 'matrix inside the .h5ad: X, raw/X or layers/NAME', 'X')
    .option('--cells <file>', 'cell metadata table (csv/tsv, may be gzipped) with a barcode column (required with --counts and --h5)')
    .option('--barcode-column <name>', 'barcode column of --cells', 'barcode')
    .addOption(new Option('--missing-cells <policy>', 'matrix barcodes absent from --cells: error, or drop them').choices(['error', 'drop']).default('error'))
    .option('--donor <col>', 'donor (biological replicate) column (required)')
    .option('--condition <col>', 'condition column (required)')
    .option('--contrast <B:A>', 'test level B against level A (required unless the condition has exactly two levels)')
    .option('--covariates <a,b>', 'comma-separated covariate columns (numeric, or categorical: treatment-coded), donor-level (age, sex) or cell-level (percent mitochondrial reads)')
    .addOption(
      new Option('--design <kind>', 'between: each donor in one condition; paired: each donor in both; auto: detect').choices(['auto', 'paired', 'between']).default('auto'),
    )
    .option('--random <col>', 'lmm: a second grouping factor (e.g. batch) with its own random intercept, crossed with donor: y ~ condition + covariates + (1|donor) + (1|col); other methods ignore it')
    .option('--celltype <col>', 'cell type column: one analysis per cell type')
    .option('--celltype-value <value>', 'analyse only this cell type')
    .option(
      '--method <method[,method]>',
      `${SCDE_METHODS.join(', ')}; several, comma-separated, come from one pass over the counts. lmm: y=log1p(1e4 c/L) ~ condition + covariates + (1|donor), REML, Satterthwaite t; pseudobulk: limma-voom on donor x condition sums; nbglmm: negative-binomial mixed model with log library-size offset, t reference with donor-level df (slow); welch: naive cell-level t (miscalibrated, for comparison)`,
      'lmm',
    )
    .option('--min-frac <share>', 'test genes with a non-zero count in at least this share of the analysed cells', String(DEFAULT_MIN_FRAC))
    .addOption(new Option('--pseudobulk-norm <norm>', 'pseudobulk sample normalisation: tmm (edgeR calcNormFactors) or none (library size)').choices(['tmm', 'none']).default('tmm'))
    .option('--max-memory <size>', 'memory budget (e.g. 3G, 512M): the counts are streamed; statistics beyond it are split over more passes, and a run that cannot fit is refused', DEFAULT_MAX_MEMORY)
    .option('--block-entries <n>', 'non-zeros read from the file per block', String(DEFAULT_BLOCK_ENTRIES))
    .option('--verbose', 'print the memory estimate and the time of each stage')
    .addOption(new Option('--backend <name>', 'kernel backend: a GPU (webgpu, gpujs; auto picks WebGPU on a hardware adapter) computes lmm\'s grid of REML deviances for all genes; cpu keeps everything on the CPU').choices(['auto', 'cpu', 'webgpu', 'gpujs']))
    .option('--out <path>', 'results as Arrow: DIR/ = IPC file dataset (DIR/celltype=T/part-0.arrow), FILE.arrow = one IPC file, FILE.arrows = IPC stream')
    .option('--tsv <file>', 'results as TSV')
    .option('--plot <prefix>', 'volcano plot per cell type: <prefix>.<celltype>.volcano.png (.<celltype>.<method>.volcano.png with several methods)')
    .addOption(new Option('--plot-format <fmt>', 'png | svg | pdf (points as a raster, axes and text as vectors in svg/pdf)').choices([...PLOT_FORMATS]).default('png'))
    .option('--plan <plan.json>', 'run one shard (cell type x gene chunk) of a plan made by gpulmm plan (analysis options come from the plan; with --shard, --out)')
    .option('--shard <k>', 'the shard of --plan to run (0-based)', numberOption('--shard', SHARD_NUMBER))
    .action(
      action('scde', async (opts: ScdeCliOptions, cmd?: Command) => {
        try {
          if (opts.plan !== undefined || opts.shard !== undefined) await (await import('./scde-shard.js')).runScdeShard(opts, cmd);
          else await runScdeCommand(opts);
        } catch (err) {
          throw asUserError(err);
        }
      }),
    );
}

/** A run's input opened, its analyses planned from the metadata, and its memory fitted to --max-memory. */
export interface ScdeRun {
  input: Awaited<ReturnType<typeof openScdeInput>>;
  plan: ReturnType<typeof planScde>;
  estimate: ReturnType<typeof fitScdeMemory>;
  blockEntries: number;
  log: (m: string) => void;
  stage: (what: string) => void;
}

/**
 * Checks the options (UsageError naming the flag), opens the counts and the cell metadata, plans the analyses
 * and fits the memory budget. The caller closes `input`.
 */
export async function prepareScdeRun(opts: ScdeCliOptions): Promise<ScdeRun> {
  // Required, but checked here rather than by commander: a shard (--plan) takes them from its plan.
  for (const [flag, v] of [['--donor <col>', opts.donor], ['--condition <col>', opts.condition]] as const) {
    if (v === undefined) throw new UsageError(`required option '${flag}' not specified`);
  }
  if ([opts.counts, opts.h5, opts.h5ad].filter((x) => x !== undefined).length !== 1) throw new UsageError('give exactly one of --counts DIR, --h5 FILE or --h5ad FILE');
  if (opts.h5ad === undefined && opts.cells === undefined) throw new UsageError(`${opts.counts !== undefined ? '--counts' : '--h5'} needs --cells FILE (cell metadata with a barcode column)`);
  const minFrac = parseNumberOption(opts.minFrac, '--min-frac', PROBABILITY);
  const maxMemory = parseByteSize(opts.maxMemory);
  if (!(maxMemory > 0)) throw new UsageError(`--max-memory ${opts.maxMemory}: expected a size such as 3G or 512M`);
  const blockEntries = parseNumberOption(opts.blockEntries, '--block-entries', POSITIVE_INT);
  const methodList = opts.method.split(',').map((m) => m.trim()) as ScdeMethod[];
  const bad = methodList.filter((m) => !(SCDE_METHODS as readonly string[]).includes(m));
  if (bad.length > 0) throw new UsageError(`--method: unknown ${bad.join(', ')} (expected ${SCDE_METHODS.join(', ')})`);
  const log = (m: string) => process.stderr.write(`scde: ${m}\n`);
  const t0 = performance.now();
  const stage = (what: string) => {
    if (opts.verbose) log(`${what} at ${((performance.now() - t0) / 1000).toFixed(2)} s, resident ${gib(process.memoryUsage().rss)}`);
  };
  const input = await openScdeInput({
    countsDir: opts.counts,
    tenxH5: opts.h5,
    h5ad: opts.h5ad,
    h5adMatrix: opts.h5adMatrix,
    cellsFile: opts.cells,
    barcodeColumn: opts.barcodeColumn,
    onMissing: opts.missingCells,
  });
  try {
    const { source } = input;
    log(`${source.nGenes} genes x ${source.nCells} cells${source.nnz !== null ? `, ${source.nnz} non-zeros` : ''} in ${source.file} (${source.major}-major, read in blocks)`);
    if (input.droppedFeatures > 0) log(`${input.droppedFeatures} features that are not Gene Expression left out`);
    if (input.missing > 0) log(`${input.missing} barcodes of the matrix are not in ${opts.cells}: dropped (--missing-cells drop)`);
    const covariates = opts.covariates ? opts.covariates.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
    const scdeOpts = {
      donor: opts.donor,
      condition: opts.condition,
      contrast: opts.contrast,
      covariates,
      random: opts.random,
      design: opts.design,
      celltype: opts.celltype,
      celltypeValue: opts.celltypeValue,
      method: scdeMethods({ donor: opts.donor, condition: opts.condition, method: methodList }),
      minFrac,
      pseudobulkNorm: opts.pseudobulkNorm,
      onProgress: log,
    };
    const plan = planScde(input.cells, input.genes, scdeOpts);
    stage('metadata read and analyses planned');
    const estimate = fitScdeMemory(plan, source, maxMemory, { held: process.memoryUsage().rss, blockEntries });
    if (opts.verbose) for (const line of describeScdeMemory(estimate, maxMemory)) log(line);
    return { input, plan, estimate, blockEntries, log, stage };
  } catch (err) {
    input.close();
    throw err;
  }
}

async function runScdeCommand(opts: ScdeCliOptions): Promise<void> {
  if (!opts.out && !opts.tsv) throw new UsageError('give --out DIR/ (or FILE.arrow, FILE.arrows) and/or --tsv FILE');
  if (opts.out) await checkArrowOutput(opts.out, ['celltype'], '--out');
  const { input, plan, estimate, blockEntries, log, stage } = await prepareScdeRun(opts);
  let backend: Backend | null = null;
  try {
    const { source } = input;
    setFlags({ backend: opts.backend });
    backend = plan.methods.includes('lmm') ? await createBackend(getFlag('backend')) : null;
    if (backend && backend.name !== 'cpu') {
      const info = await backend.info();
      log(`lmm deviance grid on ${backend.name} (${info.adapter ? `${info.adapter.vendor} ${info.adapter.device} ${info.adapter.description}`.trim() : 'adapter unknown'}, ${backend.precision})`);
    }
    // nbglmm is slow enough to tick per gene; the other methods tick per block read.
    const perGene = plan.methods.includes('nbglmm');
    const progress = createProgress({ label: 'scde', unit: perGene ? 'genes' : 'entries', total: perGene ? 0 : (source.nnz ?? 0) * estimate.passes });
    const blocks = runScdeStream(input, plan, {
      blockEntries,
      stateBudget: estimate.stateBudget,
      backend: backend && backend.name !== 'cpu' ? backend : undefined,
      onProgress: log,
      onBlock: perGene ? undefined : (n) => progress.tick(n),
      onGene: perGene ? () => progress.tick() : undefined,
    });
    const writer = await ScdeResultWriter.open(
      { tsv: opts.tsv, arrow: opts.out },
      { tool: `gpulmm ${VERSION}`, command: 'scde', method: plan.methods.join(','), argv: process.argv.slice(2).join(' ') },
    );
    try {
      let first = true;
      for await (const block of blocks) {
        if (first) {
          stage('counts read (statistics of the first pass complete)');
          first = false;
        }
        await writer.write(block);
        if (opts.plot) await writeVolcano(opts.plot, block, plan.methods.length > 1, opts.plotFormat);
        const tested = block.status.filter((s) => s === 'ok' || s === 'singular').length;
        let hits = 0;
        for (const q of block.fdr) if (q < 0.05) hits++;
        log(`${block.celltype}: ${block.method}: ${tested} of ${block.gene.length} genes tested, ${hits} at FDR < 0.05`);
      }
      await writer.close();
      progress.done();
      stage('results written');
    } catch (err) {
      await writer.abort();
      throw err;
    }
  } finally {
    input.close();
    await backend?.dispose();
  }
}

/** Writes `<prefix>.<celltype>[.<method>].volcano.<format>` (cell type name made file-safe), atomically. */
export async function writeVolcano(prefix: string, block: ScdeBlock, withMethod: boolean, format: PlotFormat): Promise<void> {
  const plot = volcanoPlot({
    format,
    beta: block.beta,
    log10p: block.log10p,
    fdr: block.fdr,
    title: `${block.celltype}: ${block.design ? `${block.design.levels.b} vs ${block.design.levels.a}` : ''} (${block.method})`,
  });
  await writeFileAtomic(`${prefix}.${block.celltype.replace(/[^A-Za-z0-9._+-]+/g, '_')}${withMethod ? `.${block.method}` : ''}.volcano.${format}`, plot);
}
