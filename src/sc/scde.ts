/**
 * Single-cell differential expression that respects donors: the library entry point behind `gpulmm scde`.
 *
 * counts + joined cell metadata -> one analysis per cell type -> per-gene model -> a block of result columns
 * (gene celltype n_cells n_donors mean beta se df t p fdr var_donor var_resid icc method status), one block
 * per cell type, yielded in turn so a writer can stream them.
 */
import type { SparseCounts } from '../io/mtx.js';
import { tLog10Survival2 } from '../stats/distributions.js';
import { benjaminiHochberg } from '../stats/multiple-testing.js';
import { cellGeneStats, donorDesign, librarySizes } from './cell-stats.js';
import type { JoinedCells } from './cell-table.js';
import { buildDesign, DesignError, sortedLevels, type AnalysisDesign, type DesignOptions } from './design.js';
import { fitDonorLmm, LMM_STATUS } from './lmm-donor.js';
import { welchFromStats } from './naive.js';
import { fitNbGlmm } from './nbglmm.js';
import { pseudobulkCounts, voomLimma, type PseudobulkNormalisation } from './pseudobulk.js';

export const SCDE_METHODS = ['lmm', 'pseudobulk', 'nbglmm', 'welch'] as const;
/**
 * lmm: donor random-intercept LMM (default); pseudobulk: limma-voom on donor sums; nbglmm: negative-binomial
 * mixed model (Laplace, t reference with donor-level df); welch: naive cell-level t.
 */
export type ScdeMethod = (typeof SCDE_METHODS)[number];

/** Default gene filter: a gene is tested when at least 1% of the analysed cells have a non-zero count. */
export const DEFAULT_MIN_FRAC = 0.01;

export interface ScdeOptions extends DesignOptions {
  method?: ScdeMethod;
  /** Metadata column naming cell types: one analysis per level. Absent: one analysis of all cells ("all"). */
  celltype?: string;
  /** Run only this cell type. */
  celltypeValue?: string;
  /** Minimum share of analysed cells with a non-zero count (default {@link DEFAULT_MIN_FRAC}). */
  minFrac?: number;
  /** pseudobulk: sample normalisation, TMM (default, as edgeR calcNormFactors) or library size only. */
  pseudobulkNorm?: PseudobulkNormalisation;
  /** Called with one-line progress messages. */
  onProgress?: (message: string) => void;
  /** Called once per gene fitted by the slow per-gene methods (nbglmm), for progress bars. */
  onGene?: () => void;
}

export interface ScdeInput {
  readonly counts: SparseCounts;
  readonly genes: readonly string[];
  readonly cells: JoinedCells;
}

/** Column names of the result table, in output order. */
export const SCDE_COLUMNS = [
  'gene', 'celltype', 'n_cells', 'n_donors', 'mean', 'beta', 'se', 'df', 't', 'p', 'fdr', 'var_donor', 'var_resid', 'icc', 'method', 'status',
] as const;

/** One cell type's results, one entry per gene. */
export interface ScdeBlock {
  readonly celltype: string;
  readonly design: AnalysisDesign | null;
  readonly gene: readonly string[];
  readonly nCells: Int32Array;
  readonly nDonors: Int32Array;
  /** lmm / welch / nbglmm: mean of y over analysed cells; pseudobulk: mean log2-CPM over samples. */
  readonly mean: Float64Array;
  /** lmm / welch: difference in y (log1p scale); pseudobulk: log2 fold change; nbglmm: natural-log fold change. */
  readonly beta: Float64Array;
  readonly se: Float64Array;
  readonly df: Float64Array;
  readonly t: Float64Array;
  readonly p: Float64Array;
  /** log10 p from t and df (finite where p underflows; for plots). */
  readonly log10p: Float64Array;
  readonly fdr: Float64Array;
  readonly varDonor: Float64Array;
  readonly varResid: Float64Array;
  readonly icc: Float64Array;
  readonly method: ScdeMethod;
  readonly status: string[];
}

function emptyBlock(celltype: string, genes: readonly string[], method: ScdeMethod, design: AnalysisDesign | null): ScdeBlock {
  const nG = genes.length;
  const nan = () => new Float64Array(nG).fill(Number.NaN);
  return {
    celltype,
    design,
    gene: genes,
    nCells: new Int32Array(nG).fill(design ? design.cells.length : 0),
    nDonors: new Int32Array(nG).fill(design ? design.donors.length : 0),
    mean: nan(),
    beta: nan(),
    se: nan(),
    df: nan(),
    t: nan(),
    p: nan(),
    log10p: nan(),
    fdr: nan(),
    varDonor: nan(),
    varResid: nan(),
    icc: nan(),
    method,
    status: new Array<string>(nG).fill('ok'),
  };
}

/**
 * Runs the analyses: for each cell type (or all cells), builds the design, computes per-gene statistics and fits
 * `opts.method`. Genes never get a silent NaN: each unfitted gene carries a status (all_zero, low_expression,
 * too_few_donors, too_few_cells, no_variance, rank_deficient; singular marks a boundary fit that still has a p).
 * Throws DesignError for input that no analysis can use (bad contrast, inconsistent donors, non-integer counts
 * with a count model). Cost: one pass over the analysed non-zeros per cell type plus the model's per-gene cost.
 */
export function* runScde(input: ScdeInput, opts: ScdeOptions): Generator<ScdeBlock> {
  const method = opts.method ?? 'lmm';
  const minFrac = opts.minFrac ?? DEFAULT_MIN_FRAC;
  if (!(minFrac >= 0 && minFrac <= 1)) throw new DesignError(`--min-frac ${minFrac}: expected a share in [0, 1]`);
  const { counts, genes, cells } = input;
  if (genes.length !== counts.nGenes) throw new DesignError(`${genes.length} gene names for ${counts.nGenes} matrix rows`);
  if ((method === 'pseudobulk' || method === 'nbglmm') && !counts.integer) {
    throw new DesignError(`method ${method} needs integer counts, but the matrix has non-integer or negative values`);
  }
  const progress = opts.onProgress ?? (() => {});
  const lib = method === 'pseudobulk' ? null : librarySizes(counts);
  const geneTick = opts.onGene ?? (() => {});

  const groups: { name: string; cells: Int32Array }[] = [];
  if (opts.celltype === undefined) {
    if (opts.celltypeValue !== undefined) throw new DesignError('--celltype-value needs --celltype COL');
    groups.push({ name: 'all', cells: cells.present });
  } else {
    const col = cells.table.columns.get(opts.celltype);
    if (!col) throw new DesignError(`${cells.table.source}: no column "${opts.celltype}"`);
    const levels = sortedLevels([...cells.present].map((i) => col[i]!).filter((v) => v !== ''));
    if (opts.celltypeValue !== undefined && !levels.includes(opts.celltypeValue)) {
      throw new DesignError(`--celltype-value "${opts.celltypeValue}" not found in column ${opts.celltype} (levels: ${levels.join(', ')})`);
    }
    for (const lv of levels) {
      if (opts.celltypeValue !== undefined && lv !== opts.celltypeValue) continue;
      groups.push({ name: lv, cells: Int32Array.from([...cells.present].filter((i) => col[i] === lv)) });
    }
  }

  for (const grp of groups) {
    let design: AnalysisDesign;
    try {
      design = buildDesign(cells.table, grp.cells, opts);
    } catch (err) {
      // One cell type lacking a level is a per-analysis status; with a single analysis the user must know why.
      if (err instanceof DesignError && groups.length > 1) {
        progress(`${grp.name}: skipped (${err.message})`);
        const block = emptyBlock(grp.name, genes, method, null);
        block.status.fill('design_unusable');
        yield block;
        continue;
      }
      throw err;
    }
    progress(
      `${grp.name}: ${design.cells.length} cells, ${design.donors.length} donors (${design.kind}), ` +
        `${design.levels.b} vs ${design.levels.a}, method ${method}`,
    );
    const block = emptyBlock(grp.name, genes, method, design);
    const minDonors = design.kind === 'between' ? Math.min(design.donorsA, design.donorsB) : design.donors.length;
    if (minDonors < 2) {
      progress(`${grp.name}: fewer than 2 donors per condition: no gene tested`);
      block.status.fill('too_few_donors');
      yield block;
      continue;
    }
    if (design.cells.length <= design.p + 1) {
      progress(`${grp.name}: ${design.cells.length} cells for ${design.p} fixed effects: no gene tested`);
      block.status.fill('too_few_cells');
      yield block;
      continue;
    }
    if (method === 'pseudobulk') pseudobulkInto(input, design, minFrac, opts.pseudobulkNorm ?? 'tmm', block);
    else if (method === 'nbglmm') nbglmmInto(input, lib!, design, minFrac, block, geneTick);
    else cellLevelInto(input, lib!, design, minFrac, method, block);
    block.fdr.set(benjaminiHochberg(block.p));
    for (let g = 0; g < genes.length; g++) {
      if (!Number.isNaN(block.p[g]!)) block.log10p[g] = tLog10Survival2(block.t[g]!, block.df[g]!);
    }
    yield block;
  }
}

/** lmm and welch: per-gene statistics from the cells, then the model; fills `block`. */
function cellLevelInto(input: ScdeInput, lib: Float64Array, design: AnalysisDesign, minFrac: number, method: ScdeMethod, block: ScdeBlock): void {
  const n = design.cells.length;
  const stats = cellGeneStats(input.counts, lib, design);
  const { p } = design;
  for (let g = 0; g < stats.nGenes; g++) block.mean[g] = stats.xy[g * p]! / n;
  if (method === 'welch') {
    let nB = 0;
    for (const b of design.inB) nB += b;
    if (n - nB < 2 || nB < 2) {
      block.status.fill('too_few_cells');
      return;
    }
    const w = welchFromStats(stats, p, n - nB, nB);
    setTestColumns(block, w.diff, w);
    for (let g = 0; g < stats.nGenes; g++) if (Number.isNaN(w.p[g]!)) block.status[g] = 'no_variance';
  } else {
    const fit = fitDonorLmm(donorDesign(design), stats);
    setTestColumns(block, fit.beta, fit);
    block.varDonor.set(fit.varDonor);
    block.varResid.set(fit.varResid);
    for (let g = 0; g < stats.nGenes; g++) {
      block.icc[g] = fit.varDonor[g]! / (fit.varDonor[g]! + fit.varResid[g]!);
      block.status[g] = LMM_STATUS[fit.code[g]!]!;
    }
  }
  applyGeneFilter(stats.nonzero, n, minFrac, block);
}

/** nbglmm: per-gene negative-binomial mixed model on the genes passing the filter; fills `block`. */
function nbglmmInto(input: ScdeInput, lib: Float64Array, design: AnalysisDesign, minFrac: number, block: ScdeBlock, onGene: () => void): void {
  const n = design.cells.length;
  const stats = cellGeneStats(input.counts, lib, design);
  for (let g = 0; g < stats.nGenes; g++) block.mean[g] = stats.xy[g * design.p]! / n;
  const keep = Uint8Array.from(stats.nonzero, (nz) => (nz > 0 && nz >= minFrac * n ? 1 : 0));
  const fit = fitNbGlmm(input.counts, lib, design, keep, onGene);
  setTestColumns(block, fit.beta, fit);
  block.varDonor.set(fit.varDonor);
  for (let g = 0; g < stats.nGenes; g++) {
    block.varResid[g] = 1 / fit.theta[g]!;
    block.status[g] = fit.status[g]!;
  }
  applyGeneFilter(stats.nonzero, n, minFrac, block);
}

/** pseudobulk: donor x condition sums, then limma-voom; fills `block`. */
function pseudobulkInto(input: ScdeInput, design: AnalysisDesign, minFrac: number, norm: PseudobulkNormalisation, block: ScdeBlock): void {
  const pb = pseudobulkCounts(input.counts, design);
  const n = design.cells.length;
  const keep = Uint8Array.from(pb.nonzeroCells, (nz) => (nz > 0 && nz >= minFrac * n ? 1 : 0));
  const res = voomLimma(pb, keep, norm);
  block.mean.set(res.meanLogCpm);
  setTestColumns(block, res.logFc, res);
  block.varResid.set(res.s2Post);
  applyGeneFilter(res.nonzeroCells, n, minFrac, block);
  for (let g = 0; g < pb.nGenes; g++) if (block.status[g] === 'ok' && Number.isNaN(res.p[g]!)) block.status[g] = 'rank_deficient';
}

/** Copies one method's per-gene test statistics (beta, se, df, t, p) into the output block. */
function setTestColumns(block: ScdeBlock, beta: Float64Array, r: { se: Float64Array; df: Float64Array; t: Float64Array; p: Float64Array }): void {
  block.beta.set(beta);
  block.se.set(r.se);
  block.df.set(r.df);
  block.t.set(r.t);
  block.p.set(r.p);
}

/** Marks genes below the expression filter and clears their statistics (status, never a bare NaN). */
function applyGeneFilter(nonzero: Int32Array, n: number, minFrac: number, block: ScdeBlock): void {
  for (let g = 0; g < nonzero.length; g++) {
    const status = nonzero[g] === 0 ? 'all_zero' : nonzero[g]! < minFrac * n ? 'low_expression' : null;
    if (status === null) continue;
    block.status[g] = status;
    for (const col of [block.beta, block.se, block.df, block.t, block.p, block.varDonor, block.varResid, block.icc]) col[g] = Number.NaN;
  }
}
