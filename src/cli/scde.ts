/**
 * `gpulmm scde`: donor-aware single-cell differential expression (see src/sc/scde.ts for the models).
 */
import { Command, Option } from 'commander';
import { DesignError } from '../sc/design.js';
import { CellJoinError } from '../sc/cell-table.js';
import { CountsInputError } from '../io/mtx.js';
import { loadScdeInput } from '../sc/load-input.js';
import { DEFAULT_MIN_FRAC, runScde, SCDE_METHODS, type ScdeMethod } from '../sc/scde.js';
import type { PseudobulkNormalisation } from '../sc/pseudobulk.js';
import { ScdeResultWriter } from '../sc/write-results.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { volcanoPng } from '../plot/index.js';
import type { ScdeBlock } from '../sc/scde.js';
import { VERSION } from '../version.js';
import { UsageError } from '../errors.js';
import { action } from './command.js';
import { createProgress } from './progress.js';

interface ScdeCliOptions {
  counts?: string;
  h5ad?: string;
  h5adMatrix?: string;
  cells?: string;
  barcodeColumn: string;
  missingCells: 'error' | 'drop';
  donor: string;
  condition: string;
  contrast?: string;
  covariates?: string;
  design: 'auto' | 'paired' | 'between';
  celltype?: string;
  celltypeValue?: string;
  method: ScdeMethod;
  minFrac: string;
  pseudobulkNorm: PseudobulkNormalisation;
  out?: string;
  tsv?: string;
  plot?: string;
}

/** Errors caused by the user's files or flags print without a stack. */
export function asUserError(err: unknown): unknown {
  if (err instanceof DesignError || err instanceof CellJoinError || err instanceof CountsInputError) {
    return new UsageError(err.message);
  }
  return err;
}

export function registerScde(program: Command): void {
  program
    .command('scde')
    .description('Single-cell differential expression between two conditions, respecting donors (cells are not replicates).')
    .option('--counts <dir>', '10x directory: matrix.mtx[.gz] (genes x cells), features.tsv[.gz] or genes.tsv[.gz], barcodes.tsv[.gz]')
    .option('--h5ad <file>', 'AnnData file instead of --counts (X dense, csr or csc; cell metadata from obs unless --cells)')
    .option('--h5ad-matrix <path>', 'matrix inside the .h5ad: X, raw/X or layers/NAME', 'X')
    .option('--cells <file>', 'cell metadata table (csv/tsv, may be gzipped) with a barcode column (required with --counts)')
    .option('--barcode-column <name>', 'barcode column of --cells', 'barcode')
    .addOption(new Option('--missing-cells <policy>', 'matrix barcodes absent from --cells: error, or drop them').choices(['error', 'drop']).default('error'))
    .requiredOption('--donor <col>', 'donor (biological replicate) column')
    .requiredOption('--condition <col>', 'condition column')
    .option('--contrast <B:A>', 'test level B against level A (required unless the condition has exactly two levels)')
    .option('--covariates <a,b>', 'comma-separated covariate columns (numeric, or categorical: treatment-coded)')
    .addOption(
      new Option('--design <kind>', 'between: each donor in one condition; paired: each donor in both; auto: detect').choices(['auto', 'paired', 'between']).default('auto'),
    )
    .option('--celltype <col>', 'cell type column: one analysis per cell type')
    .option('--celltype-value <value>', 'analyse only this cell type')
    .addOption(
      new Option('--method <method>', 'lmm: y=log1p(1e4 c/L) ~ condition + covariates + (1|donor), REML, Satterthwaite t; pseudobulk: limma-voom on donor x condition sums; nbglmm: negative-binomial mixed model with log library-size offset, t reference with donor-level df (slow); welch: naive cell-level t (miscalibrated, for comparison)')
        .choices([...SCDE_METHODS])
        .default('lmm'),
    )
    .option('--min-frac <share>', 'test genes with a non-zero count in at least this share of the analysed cells', String(DEFAULT_MIN_FRAC))
    .addOption(new Option('--pseudobulk-norm <norm>', 'pseudobulk sample normalisation: tmm (edgeR calcNormFactors) or none (library size)').choices(['tmm', 'none']).default('tmm'))
    .option('--out <path>', 'results as Arrow: DIR/ = IPC file dataset (DIR/celltype=T/part-0.arrow), FILE.arrow = one IPC file, FILE.arrows = IPC stream')
    .option('--tsv <file>', 'results as TSV')
    .option('--plot <prefix>', 'volcano plot per cell type: <prefix>.<celltype>.volcano.png')
    .action(
      action('scde', async (opts: ScdeCliOptions) => {
        try {
          await runScdeCommand(opts);
        } catch (err) {
          throw asUserError(err);
        }
      }),
    );
}

async function runScdeCommand(opts: ScdeCliOptions): Promise<void> {
  if (!opts.out && !opts.tsv) throw new UsageError('give --out DIR/ (or FILE.arrow, FILE.arrows) and/or --tsv FILE');
  if ((opts.counts === undefined) === (opts.h5ad === undefined)) throw new UsageError('give exactly one of --counts DIR or --h5ad FILE');
  if (opts.counts !== undefined && opts.cells === undefined) throw new UsageError('--counts needs --cells FILE (cell metadata with a barcode column)');
  const minFrac = Number(opts.minFrac);
  if (!(minFrac >= 0 && minFrac <= 1)) throw new UsageError(`--min-frac ${opts.minFrac}: expected a number in [0, 1]`);
  const log = (m: string) => process.stderr.write(`scde: ${m}\n`);
  const input = await loadScdeInput({
    countsDir: opts.counts,
    h5ad: opts.h5ad,
    h5adMatrix: opts.h5adMatrix,
    cellsFile: opts.cells,
    barcodeColumn: opts.barcodeColumn,
    onMissing: opts.missingCells,
  });
  log(`${input.counts.nGenes} genes x ${input.counts.nCells} cells, ${input.counts.rowIdx.length} non-zeros`);
  if (input.missing > 0) log(`${input.missing} barcodes of the matrix are not in ${opts.cells}: dropped (--missing-cells drop)`);
  // nbglmm is slow enough to tick per gene; the other methods tick per finished cell type.
  const perGene = opts.method === 'nbglmm';
  const progress = createProgress({ label: 'scde', unit: 'genes' });
  const covariates = opts.covariates ? opts.covariates.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
  const blocks = runScde(input, {
    donor: opts.donor,
    condition: opts.condition,
    contrast: opts.contrast,
    covariates,
    design: opts.design,
    celltype: opts.celltype,
    celltypeValue: opts.celltypeValue,
    method: opts.method,
    minFrac,
    pseudobulkNorm: opts.pseudobulkNorm,
    onProgress: log,
    onGene: perGene ? () => progress.tick() : undefined,
  });
  const writer = await ScdeResultWriter.open(
    { tsv: opts.tsv, arrow: opts.out },
    { tool: `gpulmm ${VERSION}`, command: 'scde', method: opts.method, argv: process.argv.slice(2).join(' ') },
  );

  try {
    for (const block of blocks) {
      await writer.write(block);
      if (opts.plot) await writeVolcano(opts.plot, block);
      if (!perGene) progress.tick(block.gene.length);
      const tested = block.status.filter((s) => s === 'ok' || s === 'singular').length;
      let hits = 0;
      for (const q of block.fdr) if (q < 0.05) hits++;
      log(`${block.celltype}: ${tested} of ${block.gene.length} genes tested, ${hits} at FDR < 0.05`);
    }
    await writer.close();
    progress.done();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Writes `<prefix>.<celltype>.volcano.png` (cell type name made file-safe), atomically. */
async function writeVolcano(prefix: string, block: ScdeBlock): Promise<void> {
  const png = volcanoPng({
    beta: block.beta,
    log10p: block.log10p,
    fdr: block.fdr,
    title: `${block.celltype}: ${block.design ? `${block.design.levels.b} vs ${block.design.levels.a}` : ''} (${block.method})`,
  });
  await writeFileAtomic(`${prefix}.${block.celltype.replace(/[^A-Za-z0-9._+-]+/g, '_')}.volcano.png`, png);
}
