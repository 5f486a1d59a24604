/**
 * Single-cell DE over a count file read block by block (src/io/count-blocks.ts): memory is bounded by one block
 * plus the per-analysis statistics (genes x donors x conditions), never by the number of cells or non-zeros.
 *
 * Passes over the file:
 * 1. (only for layouts whose blocks do not hold whole cells - gene-major .h5ad X, unsorted Matrix Market - and
 *    a method that normalises by library size) library sizes;
 * 2. every analysis (cell type) of a pass group filled at once (src/sc/accumulate.ts); the groups are as large
 *    as the state budget allows - normally all cell types in one pass;
 * 3. nbglmm only: its kept genes in chunks of at most `nbChunkEntries` non-zeros, one pass per chunk (a
 *    gene-major file reads just the chunk's genes).
 * Results are identical to the in-memory run (src/sc/scde.ts) on the same data: the same sums in the same order.
 */
import { MajorsIncompleteError, type CountBlock, type CountSource } from '../io/count-blocks.js';
import { analysisStateBytes, librarySizesFromSource, PassAccumulator, pseudobulkSamples, type IntegerCheck } from './accumulate.js';
import type { Backend } from '../../kernels/backend.js';
import { donorDesign } from './cell-stats.js';
import type { JoinedCells } from './cell-table.js';
import { devianceGridOnBackend } from './lmm-donor.js';
import { DesignError, type AnalysisDesign } from './design.js';
import { NbGlmmRun, type NbGeneChunk } from './nbglmm.js';
import { analysisBlock, fittedAnalyses, isCountModel, nbKeep, needsCellStats, type AnalysisData, type ScdeBlock, type ScdePlan } from './scde.js';

/** A count file opened for streaming, with gene names and the joined cell metadata. */
export interface ScdeStreamInput {
  readonly source: CountSource;
  readonly genes: readonly string[];
  readonly cells: JoinedCells;
}

/** Block and memory settings of a streaming run. */
export interface StreamOptions {
  /** Entries per block read from the file (default {@link DEFAULT_BLOCK_ENTRIES}). */
  blockEntries?: number;
  /** Bytes of statistics held at once; analyses beyond it go to further passes (default: unlimited, one pass). */
  stateBudget?: number;
  /** Non-zeros per nbglmm gene chunk (default {@link DEFAULT_NB_CHUNK_ENTRIES}). */
  nbChunkEntries?: number;
  /** Called after each block read, with its entries (progress). */
  onBlock?: (entries: number) => void;
  /** Called with one-line progress messages. */
  onProgress?: (message: string) => void;
  /** Called once per gene fitted by nbglmm. */
  onGene?: () => void;
  /**
   * A GPU kernel backend (f32): lmm's grid of profiled deviances for all genes goes through its matrix products
   * (src/sc/lmm-donor.ts devianceGridOnBackend; the f64 CPU confirms each gene's bracket and refines it). A cpu
   * backend is not used (the CPU loops are the f64 oracle).
   */
  backend?: Backend;
}

/** Default entries per block: 4 Mi (about 50 MB with the reader's copies). */
export const DEFAULT_BLOCK_ENTRIES = 1 << 22;
/** Default non-zeros per nbglmm gene chunk: 32 Mi (256 MB). */
export const DEFAULT_NB_CHUNK_ENTRIES = 1 << 25;

/** Pass state of one fitted analysis, in bytes. */
function stateBytes(plan: ScdePlan, design: AnalysisDesign): number {
  return analysisStateBytes(plan.genes.length, {
    p: design.p,
    donors: design.donors.length,
    levels: design.second?.levels.length ?? 0,
    samples: pseudobulkSamples(design).nSamples,
    cellStats: plan.methods.some(needsCellStats),
    pseudobulk: plan.methods.includes('pseudobulk'),
  });
}

/**
 * Groups the fitted analyses (indices into plan.analyses, in order) into passes whose statistics fit
 * `stateBudget` bytes (an analysis larger than the budget gets a pass alone). Cost O(analyses).
 */
export function passGroups(plan: ScdePlan, stateBudget = Infinity): { groups: number[][]; maxStateBytes: number } {
  const groups: number[][] = [];
  let cur: number[] = [];
  let curBytes = 0;
  let maxStateBytes = 0;
  for (const { index, design } of fittedAnalyses(plan)) {
    const b = stateBytes(plan, design);
    if (cur.length > 0 && curBytes + b > stateBudget) {
      groups.push(cur);
      cur = [];
      curBytes = 0;
    }
    cur.push(index);
    curBytes += b;
    maxStateBytes = Math.max(maxStateBytes, curBytes);
  }
  if (cur.length > 0) groups.push(cur);
  return { groups, maxStateBytes };
}

/** True when the run needs library sizes before its main pass (see the module comment). */
export function needsLibraryPass(plan: ScdePlan, source: CountSource): boolean {
  return plan.methods.some(needsCellStats) && !(source.major === 'cell' && source.completeMajors);
}

/**
 * Runs a plan (src/sc/scde.ts planScde) over a streamed count file and yields one result block per analysis and
 * method, in plan order. Throws InputError for values a count model refuses (naming the file and the element)
 * before any block is yielded for the pass that met them. Cost: see the module comment.
 */
export async function* runScdeStream(input: ScdeStreamInput, plan: ScdePlan, opts: StreamOptions = {}): AsyncGenerator<ScdeBlock> {
  const { source } = input;
  if (input.genes.length !== source.nGenes) throw new DesignError(`${input.genes.length} gene names for ${source.nGenes} genes in ${source.file}`);
  if (input.cells.table.nCells !== source.nCells) throw new DesignError(`${input.cells.table.source}: ${input.cells.table.nCells} cells, but ${source.file} has ${source.nCells}`);
  const blockEntries = opts.blockEntries ?? DEFAULT_BLOCK_ENTRIES;
  const progress = opts.onProgress ?? (() => {});
  const { methods } = plan;
  const countModel = methods.find(isCountModel);
  const check: IntegerCheck | null = countModel ? { file: source.file, field: source.valuesField, model: countModel } : null;
  let lib: Float64Array | null = null;
  if (needsLibraryPass(plan, source)) {
    progress(`library sizes: a first pass over ${source.file} (${source.major}-major blocks do not hold whole cells)`);
    lib = await librarySizesFromSource(source, blockEntries, opts.onBlock);
  }
  const { groups } = passGroups(plan, opts.stateBudget);
  const groupOf = new Map<number, number>();
  groups.forEach((g, k) => g.forEach((i) => groupOf.set(i, k)));
  let data = new Map<number, AnalysisData>();
  let doneGroup = -1;
  for (let i = 0; i < plan.analyses.length; i++) {
    const k = groupOf.get(i);
    if (k !== undefined && k > doneGroup) {
      if (groups.length > 1) progress(`pass ${k + 1} of ${groups.length}: ${groups[k]!.map((a) => plan.analyses[a]!.name).join(', ')}`);
      const r = await runPass(input, plan, groups[k]!, lib, check, blockEntries, opts);
      lib = r.fullLib;
      data = r.data;
      doneGroup = k;
    }
    for (const method of methods) yield analysisBlock(plan, i, method, data.get(i) ?? {});
  }
}

/**
 * One pass filling the analyses `group`, then their per-analysis data (nbglmm fitted chunk by chunk). Returns the
 * library sizes of all cells when they came from a library pass (null when taken from the blocks).
 */
async function runPass(
  input: ScdeStreamInput,
  plan: ScdePlan,
  group: number[],
  libIn: Float64Array | null,
  check: IntegerCheck | null,
  blockEntries: number,
  opts: StreamOptions,
): Promise<{ data: Map<number, AnalysisData>; fullLib: Float64Array | null }> {
  const { source } = input;
  const { methods } = plan;
  const cellStats = methods.some(needsCellStats);
  const analyses = group.map((i) => ({ design: plan.analyses[i]!.design!, cellStats, pseudobulk: methods.includes('pseudobulk') }));
  let lib = libIn;
  let acc: PassAccumulator;
  for (;;) {
    acc = new PassAccumulator(source.nGenes, source.nCells, analyses, lib, check);
    try {
      for await (const block of source.blocks(blockEntries)) {
        acc.add(block);
        opts.onBlock?.(block.ptr[block.count]!);
      }
      break;
    } catch (err) {
      // The source found its entries out of cell order and now yields incomplete blocks: read again, with
      // library sizes from a pass of their own when a method needs them.
      if (!(err instanceof MajorsIncompleteError)) throw err;
      opts.onProgress?.(`${err.message}: reading it again${cellStats && lib === null ? ', library sizes from a first pass' : ''}`);
      if (cellStats && lib === null) lib = await librarySizesFromSource(source, blockEntries, opts.onBlock);
    }
  }
  const data = new Map<number, AnalysisData>();
  for (let k = 0; k < group.length; k++) {
    const i = group[k]!;
    const design = analyses[k]!.design;
    const stats = cellStats ? acc.cellStats(k) : undefined;
    const pb = methods.includes('pseudobulk') ? acc.pseudobulk(k) : undefined;
    let nb;
    if (methods.includes('nbglmm')) {
      const keep = nbKeep(stats!, design.cells.length, plan.minFrac);
      if (plan.fitGenes) keep.fill(0, 0, plan.fitGenes[0]).fill(0, plan.fitGenes[1]);
      const run = new NbGlmmRun(source.nGenes, acc.lib, design, keep);
      for await (const chunk of nbGeneChunks(source, run, stats!.nonzero, blockEntries, opts.nbChunkEntries ?? DEFAULT_NB_CHUNK_ENTRIES)) {
        run.fitChunk(chunk, opts.onGene);
      }
      nb = run.fit;
    }
    const gpu = opts.backend && opts.backend.precision !== 'f64' && methods.includes('lmm') && !design.second ? opts.backend : null;
    const lmmGrid = gpu ? await devianceGridOnBackend(gpu, donorDesign(design), stats!) : undefined;
    data.set(i, { stats, pseudobulk: pb, nb, lmmGrid });
  }
  return { data, fullLib: lib };
}

/**
 * The kept genes of an nbglmm run in chunks of at most `chunkEntries` non-zeros over its used cells (a gene with
 * more comes alone), each gathered by one pass over the source (only the chunk's genes of a gene-major source).
 * `nonzero[g]` (from the statistics pass) sizes each chunk exactly. Entries come in increasing cell order, as in
 * the in-memory copy. Memory: the chunk (8 bytes per entry) plus 4 bytes per cell.
 */
async function* nbGeneChunks(
  source: CountSource,
  run: NbGlmmRun,
  nonzero: Int32Array,
  blockEntries: number,
  chunkEntries: number,
): AsyncGenerator<NbGeneChunk> {
  const nG = source.nGenes;
  const rowOf = new Int32Array(source.nCells).fill(-1);
  run.usedCells.forEach((j, r) => (rowOf[j] = r));
  let g0 = 0;
  while (g0 < nG) {
    while (g0 < nG && !run.keep[g0]) g0++;
    if (g0 >= nG) return;
    let g1 = g0;
    let total = 0;
    while (g1 < nG && (g1 === g0 || total + (run.keep[g1] ? nonzero[g1]! : 0) <= chunkEntries)) {
      if (run.keep[g1]) total += nonzero[g1]!;
      g1++;
    }
    const ptr = new Int32Array(g1 - g0 + 1);
    for (let g = g0; g < g1; g++) ptr[g - g0 + 1] = ptr[g - g0]! + (run.keep[g] ? nonzero[g]! : 0);
    const fill = ptr.slice(0, g1 - g0);
    const cell = new Int32Array(total);
    const val = new Int32Array(total);
    const put = (g: number, j: number, v: number) => {
      if (g < g0 || g >= g1 || !run.keep[g] || v === 0) return;
      const r = rowOf[j]!;
      if (r < 0) return;
      const dst = fill[g - g0]!++;
      cell[dst] = r;
      val[dst] = v;
    };
    for await (const block of source.blocks(blockEntries, [g0, g1])) addChunkEntries(block, put);
    yield { g0, g1, ptr, cell, val };
    g0 = g1;
  }
}

/** Calls put(gene, cell, value) for every entry of a block. */
function addChunkEntries(block: CountBlock, put: (g: number, j: number, v: number) => void): void {
  const { ptr, minor, values } = block;
  for (let m = 0; m < block.count; m++) {
    const major = block.start + m;
    for (let k = ptr[m]!; k < ptr[m + 1]!; k++) {
      if (block.major === 'cell') put(minor[k]!, major, values[k]!);
      else put(major, minor[k]!, values[k]!);
    }
  }
}
