/**
 * One streaming pass over the counts for any number of analyses (one per cell type): every block of the file is
 * visited once and each of its entries is added to the statistics of the analysis its cell belongs to.
 *
 * State per analysis, independent of the number of cells:
 * - cell-level models (lmm, welch, nbglmm's filter): X^T y (genes x p), donor sums t_gd of y (donors x genes),
 *   with a second grouping factor also its level sums, y^T y and the sum of y^2 over condition-B cells, cells with
 *   a non-zero count per gene;
 *   y_gi = log1p(scale c_gi / L_i) with L_i the library size of cell i (all genes; scale = 1e4);
 * - pseudobulk: summed counts per (donor, condition) sample (samples x genes), cells with a non-zero count.
 * Library sizes come from the block itself when each block holds whole cells (cell-major files); otherwise
 * (gene-major files, unsorted Matrix Market) from a first pass, {@link librarySizesFromSource}.
 *
 * For one gene, entries are added in increasing cell order whatever the block size or the file layout (cell-major
 * blocks in cell order; a gene's cells ascending in a gene-major file), so the sums - and every result computed
 * from them - are bit-identical to a single in-memory block.
 */
import type { CountBlock, CountSource } from '../io/count-blocks.js';
import { InputError } from '../errors.js';
import type { AnalysisDesign } from './design.js';
import type { GeneSuffStats } from './lmm-donor.js';

/** Normalisation scale: counts per 10,000 (Seurat / scanpy convention). */
export const NORMALISE_SCALE = 1e4;

/** Counts up to this value get their y from a per-cell table (one log1p per value and cell, not per non-zero). */
const Y_TABLE_MAX = 16;

/** Per-gene statistics of a cell-level analysis (structure of arrays, gene-major). */
export interface CellGeneStats extends GeneSuffStats {
  /** Cells with a non-zero count. */
  readonly nonzero: Int32Array;
  /** Sum of y^2 over cells in condition B (with yy and the first two columns of xy: the naive cell-level test). */
  readonly yyB: Float64Array;
  /** With a second grouping factor (design.second): its level sums of y, uy[g * levels + b]. */
  readonly uy?: Float64Array;
}

/** Summed counts: genes x samples, column-major (gene fastest), and the sample design. */
export interface Pseudobulk {
  readonly nGenes: number;
  readonly nSamples: number;
  readonly counts: Float64Array;
  /** Sample design, row-major nSamples x q. */
  readonly x: Float64Array;
  readonly q: number;
  /** Column of x tested. */
  readonly coef: number;
  /** Cells of each gene with a non-zero count (for the expression filter). */
  readonly nonzeroCells: Int32Array;
}

/** What one analysis of a pass accumulates. */
export interface PassAnalysis {
  readonly design: AnalysisDesign;
  /** lmm / welch / nbglmm statistics. */
  readonly cellStats: boolean;
  /** pseudobulk sums. */
  readonly pseudobulk: boolean;
}

/** Which values a count model refuses (non-integer or negative) and where to say they are. */
export interface IntegerCheck {
  readonly file: string;
  readonly field: string;
  /** The model that needs integer counts (for the message). */
  readonly model: string;
}

/** Bytes of pass state one analysis holds (see the module comment). Cost O(1). */
export function analysisStateBytes(nGenes: number, a: { p: number; donors: number; levels?: number; samples: number; cellStats: boolean; pseudobulk: boolean }): number {
  let b = nGenes * 4;
  if (a.cellStats) b += nGenes * 8 * (a.p + 2 * (a.donors + (a.levels ?? 0)) + 3);
  if (a.pseudobulk) b += nGenes * 8 * 2 * a.samples;
  return b;
}

/** The (donor, condition) sample of every analysed cell of a design, numbered in order of first appearance. */
export function pseudobulkSamples(design: AnalysisDesign): { sampleOf: Int32Array; nSamples: number } {
  const G = design.donors.length;
  const first = new Int32Array(G * 2).fill(-1);
  const sampleOf = new Int32Array(design.cells.length);
  let nS = 0;
  for (let r = 0; r < design.cells.length; r++) {
    const key = design.donorOf[r]! * 2 + design.inB[r]!;
    if (first[key]! < 0) first[key] = nS++;
    sampleOf[r] = first[key]!;
  }
  return { sampleOf, nSamples: nS };
}

class CellState {
  readonly p: number;
  readonly G: number;
  readonly cellCols: Int32Array;
  readonly withinDonor: Uint8Array;
  readonly donorValue: Float64Array;
  readonly xy: Float64Array;
  /** Donor-major during the pass (a cell's entries stay within one row of nGenes values). */
  readonly tyDonorMajor: Float64Array;
  /** Level sums of y, level-major (second grouping factor; empty without one). */
  readonly uyLevelMajor: Float64Array;
  readonly yy: Float64Array;
  readonly yyB: Float64Array;
  readonly xCell: Float64Array;

  constructor(
    readonly design: AnalysisDesign,
    nG: number,
  ) {
    const { p, x, donorOf, cells } = design;
    const G = design.donors.length;
    this.p = p;
    this.G = G;
    // Which columns vary within a donor: only those are accumulated per non-zero.
    this.donorValue = new Float64Array(G * p).fill(Number.NaN);
    this.withinDonor = new Uint8Array(p);
    for (let r = 0; r < cells.length; r++) {
      const d = donorOf[r]!;
      for (let q = 0; q < p; q++) {
        const v = x[r * p + q]!;
        const seen = this.donorValue[d * p + q]!;
        if (Number.isNaN(seen)) this.donorValue[d * p + q] = v;
        else if (seen !== v) this.withinDonor[q] = 1;
      }
    }
    this.cellCols = Int32Array.from([...this.withinDonor.keys()].filter((q) => this.withinDonor[q]));
    this.xy = new Float64Array(nG * p);
    this.tyDonorMajor = new Float64Array(G * nG);
    this.uyLevelMajor = new Float64Array((design.second?.levels.length ?? 0) * nG);
    this.yy = new Float64Array(nG);
    this.yyB = new Float64Array(nG);
    this.xCell = new Float64Array(this.cellCols.length);
  }
}

class PbState {
  readonly sampleOf: Int32Array;
  readonly nSamples: number;
  readonly sums: Float64Array;
  constructor(
    readonly design: AnalysisDesign,
    nG: number,
  ) {
    ({ sampleOf: this.sampleOf, nSamples: this.nSamples } = pseudobulkSamples(design));
    this.sums = new Float64Array(this.nSamples * nG);
  }
}

/**
 * The statistics of several analyses, filled block by block (see the module comment). A cell belongs to at most
 * one analysis. Memory: {@link analysisStateBytes} per analysis plus 8 bytes per cell (routing), plus 8 per cell
 * for library sizes.
 */
export class PassAccumulator {
  private readonly analysisOf: Int32Array;
  private readonly rowOf: Int32Array;
  private readonly cell: (CellState | null)[];
  private readonly pb: (PbState | null)[];
  private readonly nonzero: Int32Array[];
  /** Library size per cell (given, or filled as complete cell-major blocks arrive; NaN until then). */
  readonly lib: Float64Array;
  private readonly libGiven: boolean;
  private readonly yTable = new Float64Array(Y_TABLE_MAX + 1);
  private done = false;

  /**
   * @param lib library sizes of all cells from a first pass; null to take them from complete cell-major blocks
   * @param integerCheck refuse non-integer or negative values of analysed cells (count models), naming the file
   */
  constructor(
    readonly nGenes: number,
    readonly nCells: number,
    readonly analyses: readonly PassAnalysis[],
    lib: Float64Array | null,
    private readonly integerCheck: IntegerCheck | null,
  ) {
    if (lib && lib.length !== nCells) throw new RangeError(`PassAccumulator: ${lib.length} library sizes for ${nCells} cells`);
    this.analysisOf = new Int32Array(nCells).fill(-1);
    this.rowOf = new Int32Array(nCells);
    analyses.forEach((a, k) => {
      a.design.cells.forEach((j, r) => {
        if (!(j >= 0 && j < nCells)) throw new RangeError(`PassAccumulator: cell ${j} outside 0..${nCells - 1}`);
        if (this.analysisOf[j]! >= 0) throw new RangeError(`PassAccumulator: cell ${j} in two analyses`);
        this.analysisOf[j] = k;
        this.rowOf[j] = r;
      });
    });
    this.cell = analyses.map((a) => (a.cellStats ? new CellState(a.design, nGenes) : null));
    this.pb = analyses.map((a) => (a.pseudobulk ? new PbState(a.design, nGenes) : null));
    this.nonzero = analyses.map(() => new Int32Array(nGenes));
    this.libGiven = lib !== null;
    this.lib = lib ?? new Float64Array(nCells).fill(Number.NaN);
  }

  /** True when some analysis needs library sizes (cell-level statistics). */
  get needsLibrarySizes(): boolean {
    return this.cell.some((c) => c !== null);
  }

  /** Adds one block. Cost O(entries of analysed cells x (3 + cell-level columns)). */
  add(block: CountBlock): void {
    if (this.done) throw new Error('PassAccumulator: add() after the statistics were taken');
    if (block.major === 'cell') this.addCellMajor(block);
    else this.addGeneMajor(block);
  }

  private badValue(block: CountBlock, k: number, v: number): never {
    const c = this.integerCheck!;
    throw new InputError(c.file, undefined, undefined, `${c.field}[${block.firstEntry + k}] = ${v}: ${c.model} needs non-negative integer counts (give the raw counts, e.g. layers/counts or raw/X)`);
  }

  private addCellMajor(block: CountBlock): void {
    const { ptr, minor, values } = block;
    const nG = this.nGenes;
    const yTable = this.yTable;
    const check = this.integerCheck !== null;
    for (let m = 0; m < block.count; m++) {
      const j = block.start + m;
      const a = this.analysisOf[j]!;
      if (a < 0) continue;
      const r = this.rowOf[j]!;
      const k0 = ptr[m]!;
      const k1 = ptr[m + 1]!;
      const nz = this.nonzero[a]!;
      if (check) {
        for (let k = k0; k < k1; k++) {
          const v = values[k]!;
          if (!(v >= 0 && Number.isInteger(v))) this.badValue(block, k, v);
        }
      }
      const cs = this.cell[a];
      if (cs) {
        let lj: number;
        if (this.libGiven) lj = this.lib[j]!;
        else {
          lj = 0;
          for (let k = k0; k < k1; k++) lj += values[k]!;
          this.lib[j] = lj;
        }
        if (lj > 0) {
          const f = NORMALISE_SCALE / lj;
          for (let c = 1; c <= Y_TABLE_MAX; c++) yTable[c] = Math.log1p(f * c);
          const { p, cellCols, xCell, xy, yy, yyB } = cs;
          const nc = cellCols.length;
          const x = cs.design.x;
          for (let q = 0; q < nc; q++) xCell[q] = x[r * p + cellCols[q]!]!;
          const tyOff = cs.design.donorOf[r]! * nG;
          const ty = cs.tyDonorMajor;
          const uy = cs.uyLevelMajor;
          const uyOff = cs.design.second ? cs.design.second.of[r]! * nG : -1;
          const b = cs.design.inB[r]!;
          for (let k = k0; k < k1; k++) {
            const c = values[k]!;
            if (c === 0) continue;
            const g = minor[k]!;
            const y = c <= Y_TABLE_MAX && Number.isInteger(c) ? yTable[c]! : Math.log1p(f * c);
            const y2 = y * y;
            for (let q = 0; q < nc; q++) xy[g * p + cellCols[q]!]! += y * xCell[q]!;
            ty[tyOff + g]! += y;
            if (uyOff >= 0) uy[uyOff + g]! += y;
            yy[g]! += y2;
            if (b) yyB[g]! += y2;
            nz[g]!++;
          }
        }
      }
      const ps = this.pb[a];
      if (ps) {
        const off = ps.sampleOf[r]! * nG;
        const sums = ps.sums;
        for (let k = k0; k < k1; k++) {
          const v = values[k]!;
          if (v === 0) continue;
          const g = minor[k]!;
          sums[off + g]! += v;
          if (!cs) nz[g]!++;
        }
      }
    }
  }

  private addGeneMajor(block: CountBlock): void {
    if (!this.libGiven && this.needsLibrarySizes) throw new Error('PassAccumulator: gene-major blocks need library sizes from a first pass');
    const { ptr, minor, values } = block;
    const nG = this.nGenes;
    const check = this.integerCheck !== null;
    for (let m = 0; m < block.count; m++) {
      const g = block.start + m;
      for (let k = ptr[m]!; k < ptr[m + 1]!; k++) {
        const j = minor[k]!;
        const a = this.analysisOf[j]!;
        if (a < 0) continue;
        const v = values[k]!;
        if (check && !(v >= 0 && Number.isInteger(v))) this.badValue(block, k, v);
        if (v === 0) continue;
        const r = this.rowOf[j]!;
        const cs = this.cell[a];
        if (cs) {
          const lj = this.lib[j]!;
          if (lj > 0) {
            const f = NORMALISE_SCALE / lj;
            const y = Math.log1p(f * v);
            const y2 = y * y;
            const { p, cellCols } = cs;
            const x = cs.design.x;
            for (let q = 0; q < cellCols.length; q++) cs.xy[g * p + cellCols[q]!]! += y * x[r * p + cellCols[q]!]!;
            cs.tyDonorMajor[cs.design.donorOf[r]! * nG + g]! += y;
            if (cs.design.second) cs.uyLevelMajor[cs.design.second.of[r]! * nG + g]! += y;
            cs.yy[g]! += y2;
            if (cs.design.inB[r]) cs.yyB[g]! += y2;
            this.nonzero[a]![g]!++;
          }
        }
        const ps = this.pb[a];
        if (ps) {
          ps.sums[ps.sampleOf[r]! * nG + g]! += v;
          if (!cs) this.nonzero[a]![g]!++;
        }
      }
    }
  }

  /**
   * The cell-level statistics of analysis `a` (after the last block). Columns of X constant within each donor
   * (intercept, a between-donor condition, donor-level covariates) get X^T y = sum_d x_d t_d from the donor sums.
   * Cost O(genes * donors * p).
   */
  cellStats(a: number): CellGeneStats {
    const cs = this.cell[a];
    if (!cs) throw new Error(`PassAccumulator: analysis ${a} has no cell-level statistics`);
    this.done = true;
    const nG = this.nGenes;
    const { p, G, withinDonor, donorValue, xy, tyDonorMajor } = cs;
    const ty = new Float64Array(nG * G);
    for (let d = 0; d < G; d++) for (let g = 0; g < nG; g++) ty[g * G + d] = tyDonorMajor[d * nG + g]!;
    for (let q = 0; q < p; q++) {
      if (withinDonor[q]) continue;
      for (let g = 0; g < nG; g++) {
        let s = 0;
        for (let d = 0; d < G; d++) s += donorValue[d * p + q]! * ty[g * G + d]!;
        xy[g * p + q] = s;
      }
    }
    const L = cs.design.second?.levels.length ?? 0;
    const uy = L > 0 ? new Float64Array(nG * L) : undefined;
    if (uy) for (let b = 0; b < L; b++) for (let g = 0; g < nG; g++) uy[g * L + b] = cs.uyLevelMajor[b * nG + g]!;
    return { nGenes: nG, xy, ty, yy: cs.yy, yyB: cs.yyB, nonzero: this.nonzero[a]!, ...(uy ? { uy } : {}) };
  }

  /**
   * The pseudobulk of analysis `a` (after the last block): sample sums and the sample design (intercept,
   * condition, covariates averaged over the sample's cells; paired designs add one blocking column per donor
   * beyond the first). Cost O(cells p + samples q).
   */
  pseudobulk(a: number): Pseudobulk {
    const ps = this.pb[a];
    if (!ps) throw new Error(`PassAccumulator: analysis ${a} has no pseudobulk sums`);
    this.done = true;
    return pseudobulkDesign(ps.design, ps.sampleOf, ps.nSamples, ps.sums, this.nonzero[a]!, this.nGenes);
  }
}

/** The sample design of a pseudobulk (see {@link PassAccumulator.pseudobulk}). */
function pseudobulkDesign(design: AnalysisDesign, sampleOf: Int32Array, nS: number, sums: Float64Array, nonzero: Int32Array, nG: number): Pseudobulk {
  const { p, x: cellX, donorOf } = design;
  const G = design.donors.length;
  const xMean = new Float64Array(nS * p);
  const nCells = new Float64Array(nS);
  const sampleDonor = new Int32Array(nS);
  for (let r = 0; r < design.cells.length; r++) {
    const s = sampleOf[r]!;
    sampleDonor[s] = donorOf[r]!;
    nCells[s]!++;
    for (let k = 0; k < p; k++) xMean[s * p + k]! += cellX[r * p + k]!;
  }
  const blocks = design.kind === 'paired' ? G - 1 : 0;
  const q = p + blocks;
  const x = new Float64Array(nS * q);
  for (let s = 0; s < nS; s++) {
    for (let k = 0; k < p; k++) x[s * q + k] = xMean[s * p + k]! / nCells[s]!;
    if (sampleDonor[s]! > 0 && blocks > 0) x[s * q + p + sampleDonor[s]! - 1] = 1;
  }
  return { nGenes: nG, nSamples: nS, counts: sums, x, q, coef: design.coef, nonzeroCells: nonzero };
}

/**
 * Library sizes (total count per cell over all genes) in one pass over a source, for layouts whose blocks do not
 * hold whole cells. Cost O(nnz) reading, 8 bytes per cell.
 */
export async function librarySizesFromSource(source: CountSource, maxEntries: number, onBlock?: (entries: number) => void): Promise<Float64Array> {
  const lib = new Float64Array(source.nCells);
  for await (const block of source.blocks(maxEntries)) {
    const { ptr, minor, values } = block;
    if (block.major === 'cell') {
      for (let m = 0; m < block.count; m++) {
        let s = lib[block.start + m]!;
        for (let k = ptr[m]!; k < ptr[m + 1]!; k++) s += values[k]!;
        lib[block.start + m] = s;
      }
    } else {
      const n = ptr[block.count]!;
      for (let k = 0; k < n; k++) lib[minor[k]!]! += values[k]!;
    }
    onBlock?.(ptr[block.count]!);
  }
  return lib;
}
