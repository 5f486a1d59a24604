/**
 * Single-cell differential expression that respects donors: the library entry point behind `gpulmm scde`.
 *
 * cell metadata -> a plan (one analysis per cell type, its design; no count read yet) -> one pass over the
 * counts filling every analysis's statistics (src/sc/accumulate.ts) -> per-gene models -> a block of result
 * columns (gene celltype n_cells n_donors mean beta se df t p fdr var_donor var_random var_resid icc method status) per
 * cell type and method, yielded in turn so a writer can stream them. This module runs an in-memory matrix;
 * src/sc/scde-stream.ts runs the same plan over a file read block by block, with identical results.
 */
import { memoryBlock } from '../io/count-blocks.js';
import type { SparseCounts } from '../io/mtx.js';
import { tLog10Survival2 } from '../stats/distributions.js';
import { benjaminiHochberg } from '../stats/multiple-testing.js';
import { PassAccumulator, type CellGeneStats, type Pseudobulk } from './accumulate.js';
import { donorDesign } from './cell-stats.js';
import type { JoinedCells } from './cell-table.js';
import { buildDesign, DesignError, DonorLayoutError, sortedLevels, type AnalysisDesign, type DesignOptions } from './design.js';
import { fitCrossedLmm, crossedDesign } from './lmm-crossed.js';
import { fitDonorLmm, LMM_STATUS, type DevianceGrid } from './lmm-donor.js';
import { welchFromStats } from './naive.js';
import { fitNbGlmm, type NbFit } from './nbglmm.js';
import { voomLimma, type PseudobulkNormalisation } from './pseudobulk.js';

export const SCDE_METHODS = ['lmm', 'pseudobulk', 'nbglmm', 'welch'] as const;
/**
 * lmm: donor random-intercept LMM (default); pseudobulk: limma-voom on donor sums; nbglmm: negative-binomial
 * mixed model (Laplace, t reference with donor-level df); welch: naive cell-level t.
 */
export type ScdeMethod = (typeof SCDE_METHODS)[number];

/** Default gene filter: a gene is tested when at least 1% of the analysed cells have a non-zero count. */
export const DEFAULT_MIN_FRAC = 0.01;

export interface ScdeOptions extends DesignOptions {
  /** One method, or several fitted from the same pass over the counts (default lmm). */
  method?: ScdeMethod | readonly ScdeMethod[];
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
  'gene', 'celltype', 'n_cells', 'n_donors', 'mean', 'beta', 'se', 'df', 't', 'p', 'fdr', 'var_donor', 'var_random', 'var_resid', 'icc', 'method', 'status',
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
  /** lmm with a second grouping factor (--random): its variance; NaN otherwise. */
  readonly varRandom: Float64Array;
  readonly varResid: Float64Array;
  /** Donor share of the variance: var_donor / (var_donor + var_random + var_resid). */
  readonly icc: Float64Array;
  readonly method: ScdeMethod;
  readonly status: string[];
}

/** One planned analysis: a cell type (or "all") with its design, or the status all its genes get. */
export interface PlannedAnalysis {
  readonly name: string;
  /** Null when the design could not be built (status design_unusable). */
  readonly design: AnalysisDesign | null;
  /** Status of every gene when no model can be fitted (design_unusable, too_few_donors, too_few_cells); else null. */
  readonly status: string | null;
}

/** The analyses of a run, decided from the metadata alone (no count read). */
export interface ScdePlan {
  readonly genes: readonly string[];
  readonly methods: readonly ScdeMethod[];
  readonly analyses: readonly PlannedAnalysis[];
  readonly minFrac: number;
  readonly pseudobulkNorm: PseudobulkNormalisation;
  /**
   * A shard's genes [start, end): the models fitted gene by gene on their own pass (nbglmm) fit only these; the
   * others compute every gene (library sizes and pseudobulk moderation need them all) and the shard keeps these rows.
   */
  readonly fitGenes?: readonly [number, number];
}

/** The methods of `opts.method` as a list (default lmm); throws DesignError for an empty or repeated list. */
export function scdeMethods(opts: ScdeOptions): ScdeMethod[] {
  const m = opts.method ?? 'lmm';
  const list = typeof m === 'string' ? [m] : [...m];
  if (list.length === 0) throw new DesignError('method: give at least one method');
  if (new Set(list).size !== list.length) throw new DesignError(`method: ${list.join(', ')} repeats a method`);
  for (const x of list) if (!(SCDE_METHODS as readonly string[]).includes(x)) throw new DesignError(`method "${x}": expected one of ${SCDE_METHODS.join(', ')}`);
  return list;
}

/** True for the methods that model the counts themselves (integers needed). */
export const isCountModel = (m: ScdeMethod): boolean => m === 'pseudobulk' || m === 'nbglmm';

/** True for the methods that need the cell-level statistics (and library sizes). */
export const needsCellStats = (m: ScdeMethod): boolean => m !== 'pseudobulk';

/**
 * Plans the analyses from the cell metadata: for each cell type (or all cells), the design, or the status its
 * genes get when no model can be fitted. Throws DesignError for input that no analysis can use (bad contrast,
 * inconsistent donors, bad options); with several cell types, a cell type whose design fails is reported through
 * `onProgress` and planned as design_unusable. Cost O(cells p) per cell type.
 */
export function planScde(cells: JoinedCells, genes: readonly string[], opts: ScdeOptions): ScdePlan {
  const methods = scdeMethods(opts);
  const minFrac = opts.minFrac ?? DEFAULT_MIN_FRAC;
  if (!(minFrac >= 0 && minFrac <= 1)) throw new DesignError(`--min-frac ${minFrac}: expected a share in [0, 1]`);
  const progress = opts.onProgress ?? (() => {});
  const groups: { name: string; cells: Int32Array }[] = [];
  if (opts.celltype === undefined) {
    if (opts.celltypeValue !== undefined) throw new DesignError('--celltype-value needs --celltype COL');
    groups.push({ name: 'all', cells: cells.present });
  } else {
    const col = cells.table.columns.get(opts.celltype);
    if (!col) throw new DesignError(`${cells.table.source}: no column "${opts.celltype}"`);
    const byLevel = new Map<string, number[]>();
    for (const i of cells.present) {
      const v = col[i]!;
      if (v === '') continue;
      let list = byLevel.get(v);
      if (!list) byLevel.set(v, (list = []));
      list.push(i);
    }
    const levels = sortedLevels(byLevel.keys());
    if (opts.celltypeValue !== undefined && !levels.includes(opts.celltypeValue)) {
      throw new DesignError(`--celltype-value "${opts.celltypeValue}" not found in column ${opts.celltype} (levels: ${levels.join(', ')})`);
    }
    for (const lv of levels) {
      if (opts.celltypeValue !== undefined && lv !== opts.celltypeValue) continue;
      groups.push({ name: lv, cells: Int32Array.from(byLevel.get(lv)!) });
    }
  }
  const analyses: PlannedAnalysis[] = [];
  for (const grp of groups) {
    let design: AnalysisDesign;
    try {
      design = buildDesign(cells.table, grp.cells, opts);
    } catch (err) {
      // One cell type lacking a level is a per-analysis status; with a single analysis the user must know why.
      if ((err instanceof DesignError || err instanceof DonorLayoutError) && groups.length > 1) {
        progress(`${grp.name}: skipped (${err.message})`);
        analyses.push({ name: grp.name, design: null, status: 'design_unusable' });
        continue;
      }
      throw err;
    }
    progress(
      `${grp.name}: ${design.cells.length} cells, ${design.donors.length} donors (${design.kind}), ` +
        `${design.levels.b} vs ${design.levels.a}, method ${methods.join(', ')}`,
    );
    const minDonors = design.kind === 'between' ? Math.min(design.donorsA, design.donorsB) : design.donors.length;
    let status: string | null = null;
    if (minDonors < 2) {
      progress(`${grp.name}: fewer than 2 donors per condition: no gene tested`);
      status = 'too_few_donors';
    } else if (design.cells.length <= design.p + 1) {
      progress(`${grp.name}: ${design.cells.length} cells for ${design.p} fixed effects: no gene tested`);
      status = 'too_few_cells';
    }
    analyses.push({ name: grp.name, design, status });
  }
  return { genes, methods, analyses, minFrac, pseudobulkNorm: opts.pseudobulkNorm ?? 'tmm' };
}

/** The analyses of a plan that read counts (a design and no blanket status), with their index in the plan. */
export function fittedAnalyses(plan: ScdePlan): { index: number; design: AnalysisDesign }[] {
  return plan.analyses.flatMap((a, index) => (a.design && a.status === null ? [{ index, design: a.design }] : []));
}

/** What the pass produced for one analysis; each method takes what it needs. */
export interface AnalysisData {
  readonly stats?: CellGeneStats;
  /** lmm's grid deviances from a GPU backend (src/sc/lmm-donor.ts devianceGridOnBackend); absent: the CPU's. */
  readonly lmmGrid?: DevianceGrid;
  readonly pseudobulk?: Pseudobulk;
  readonly nb?: NbFit;
}

/** nbglmm's gene filter: genes with a non-zero count in at least minFrac of the analysed cells. */
export function nbKeep(stats: CellGeneStats, nCells: number, minFrac: number): Uint8Array {
  return Uint8Array.from(stats.nonzero, (nz) => (nz > 0 && nz >= minFrac * nCells ? 1 : 0));
}

/**
 * Runs the analyses on an in-memory matrix: plans them, fills every analysis's statistics in one pass, then fits
 * each method. Genes never get a silent NaN: each unfitted gene carries a status (all_zero, low_expression,
 * too_few_donors, too_few_cells, no_variance, rank_deficient; singular marks a boundary fit that still has a p).
 * Throws DesignError for input that no analysis can use (bad contrast, inconsistent donors, non-integer counts
 * with a count model). Cost: one pass over the analysed non-zeros plus the models' per-gene cost.
 */
export function* runScde(input: ScdeInput, opts: ScdeOptions): Generator<ScdeBlock> {
  const { counts, genes, cells } = input;
  if (genes.length !== counts.nGenes) throw new DesignError(`${genes.length} gene names for ${counts.nGenes} matrix rows`);
  const methods = scdeMethods(opts);
  for (const m of methods) {
    if (isCountModel(m) && !counts.integer) throw new DesignError(`method ${m} needs integer counts, but the matrix has non-integer or negative values`);
  }
  const plan = planScde(cells, genes, opts);
  const fitted = fittedAnalyses(plan);
  const acc = new PassAccumulator(
    counts.nGenes,
    counts.nCells,
    fitted.map((f) => ({ design: f.design, cellStats: methods.some(needsCellStats), pseudobulk: methods.includes('pseudobulk') })),
    null,
    null,
  );
  acc.add(memoryBlock(counts));
  const dataOf = new Map<number, AnalysisData>();
  fitted.forEach((f, k) => {
    const stats = methods.some(needsCellStats) ? acc.cellStats(k) : undefined;
    const pb = methods.includes('pseudobulk') ? acc.pseudobulk(k) : undefined;
    const nb = methods.includes('nbglmm') ? fitNbGlmm(counts, acc.lib, f.design, nbKeep(stats!, f.design.cells.length, plan.minFrac), opts.onGene) : undefined;
    dataOf.set(f.index, { stats, pseudobulk: pb, nb });
  });
  for (let i = 0; i < plan.analyses.length; i++) {
    for (const method of methods) yield analysisBlock(plan, i, method, dataOf.get(i) ?? {});
  }
}

/**
 * The result block of analysis `i` of the plan under `method`, from its pass data (a blanket status when the
 * analysis was not fitted). Cost O(genes) plus the model's per-gene cost (lmm, welch, pseudobulk).
 */
export function analysisBlock(plan: ScdePlan, i: number, method: ScdeMethod, data: AnalysisData): ScdeBlock {
  const a = plan.analyses[i]!;
  const block = emptyBlock(a.name, plan.genes, method, a.design);
  if (a.status !== null || !a.design) {
    block.status.fill(a.status ?? 'design_unusable');
    return block;
  }
  if (method === 'pseudobulk') pseudobulkInto(data.pseudobulk!, a.design, plan.minFrac, plan.pseudobulkNorm, block);
  else if (method === 'nbglmm') nbglmmInto(data.stats!, data.nb!, a.design, plan.minFrac, block);
  else cellLevelInto(data.stats!, a.design, plan.minFrac, method, block, data.lmmGrid);
  block.fdr.set(benjaminiHochberg(block.p));
  for (let g = 0; g < plan.genes.length; g++) {
    if (!Number.isNaN(block.p[g]!)) block.log10p[g] = tLog10Survival2(block.t[g]!, block.df[g]!);
  }
  return block;
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
    varRandom: nan(),
    varResid: nan(),
    icc: nan(),
    method,
    status: new Array<string>(nG).fill('ok'),
  };
}

/** lmm and welch: the model on the per-gene statistics; fills `block`. */
function cellLevelInto(stats: CellGeneStats, design: AnalysisDesign, minFrac: number, method: ScdeMethod, block: ScdeBlock, grid?: DevianceGrid): void {
  const n = design.cells.length;
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
    const second = design.second;
    // Genes below the expression filter are not fitted (applyGeneFilter gives them their status).
    const fitGene = Uint8Array.from(stats.nonzero, (nz) => (nz > 0 && nz >= minFrac * n ? 1 : 0));
    const fit = second
      ? fitCrossedLmm(crossedDesign(design.x, p, design.coef, design.donorOf, design.donors.length, second.of, second.levels.length), { ...stats, uy: stats.uy! }, fitGene)
      : fitDonorLmm(donorDesign(design), stats, grid, fitGene);
    setTestColumns(block, fit.beta, fit);
    block.varDonor.set(fit.varDonor);
    block.varResid.set(fit.varResid);
    const varSecond = 'varSecond' in fit ? (fit.varSecond as Float64Array) : null;
    if (varSecond) block.varRandom.set(varSecond);
    for (let g = 0; g < stats.nGenes; g++) {
      const extra = varSecond ? varSecond[g]! : 0;
      block.icc[g] = fit.varDonor[g]! / (fit.varDonor[g]! + extra + fit.varResid[g]!);
      block.status[g] = LMM_STATUS[fit.code[g]!]!;
    }
  }
  applyGeneFilter(stats.nonzero, n, minFrac, block);
}

/** nbglmm: the fitted per-gene negative-binomial mixed models of the genes passing the filter; fills `block`. */
function nbglmmInto(stats: CellGeneStats, fit: NbFit, design: AnalysisDesign, minFrac: number, block: ScdeBlock): void {
  const n = design.cells.length;
  for (let g = 0; g < stats.nGenes; g++) block.mean[g] = stats.xy[g * design.p]! / n;
  setTestColumns(block, fit.beta, fit);
  block.varDonor.set(fit.varDonor);
  for (let g = 0; g < stats.nGenes; g++) {
    block.varResid[g] = 1 / fit.theta[g]!;
    block.status[g] = fit.status[g]!;
  }
  applyGeneFilter(stats.nonzero, n, minFrac, block);
}

/** pseudobulk: limma-voom on the donor x condition sums; fills `block`. */
function pseudobulkInto(pb: Pseudobulk, design: AnalysisDesign, minFrac: number, norm: PseudobulkNormalisation, block: ScdeBlock): void {
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
    for (const col of [block.beta, block.se, block.df, block.t, block.p, block.varDonor, block.varRandom, block.varResid, block.icc]) col[g] = Number.NaN;
  }
}
