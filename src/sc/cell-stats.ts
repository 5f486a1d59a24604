/**
 * Normalisation and the per-gene sufficient statistics of the donor mixed model, computed in one pass over the
 * sparse counts (the sparse-times-[X | donor indicator] product, done directly from the CSC columns on the CPU).
 *
 * Expression of gene g in cell i: y_gi = log1p(scale * c_gi / L_i), L_i = total count of cell i over all genes
 * of the input (library size), scale = 1e4. Zero counts give y = 0, so only non-zeros are visited.
 */
import type { SparseCounts } from '../io/mtx.js';
import type { AnalysisDesign } from './design.js';
import type { DonorDesign, GeneSuffStats } from './lmm-donor.js';

/** Normalisation scale: counts per 10,000 (Seurat / scanpy convention). */
export const NORMALISE_SCALE = 1e4;

/** Library size of every cell: column sums of the counts. Cost O(nnz). */
export function librarySizes(counts: SparseCounts): Float64Array {
  const lib = new Float64Array(counts.nCells);
  for (let j = 0; j < counts.nCells; j++) {
    let s = 0;
    for (let k = counts.colPtr[j]!; k < counts.colPtr[j + 1]!; k++) s += counts.values[k]!;
    lib[j] = s;
  }
  return lib;
}

/** The donor-level summary of X for the mixed model: X^T X, per-donor column sums, cells per donor. Cost O(n p^2). */
export function donorDesign(design: AnalysisDesign): DonorDesign {
  const { p, x, donorOf } = design;
  const n = design.cells.length;
  const G = design.donors.length;
  const xtx = new Float64Array(p * p);
  const donorX = new Float64Array(G * p);
  const donorN = new Float64Array(G);
  for (let r = 0; r < n; r++) {
    const d = donorOf[r]!;
    donorN[d]!++;
    for (let i = 0; i < p; i++) {
      const xi = x[r * p + i]!;
      donorX[d * p + i]! += xi;
      for (let j = 0; j < p; j++) xtx[i * p + j]! += xi * x[r * p + j]!;
    }
  }
  return { n, p, nDonors: G, xtx, donorX, donorN, coef: design.coef };
}

/** Per-gene statistics of one analysis. */
export interface CellGeneStats extends GeneSuffStats {
  /** Cells with a non-zero count. */
  readonly nonzero: Int32Array;
  /** Sum of y^2 over cells in condition B (with yy and the first two columns of xy: the naive cell-level test). */
  readonly yyB: Float64Array;
}

/** Counts up to this value get their y from a per-cell table (one log1p per value and cell, not per non-zero). */
const Y_TABLE_MAX = 16;

/**
 * Sufficient statistics of every gene over the analysed cells: X^T y, donor sums, y^T y, non-zero counts.
 * `lib` are library sizes from {@link librarySizes} (over all genes, all cells). Columns of X that are constant
 * within each donor (intercept, a between-donor condition, donor-level covariates) are not accumulated per
 * non-zero: their X^T y is sum_d x_d t_d from the donor sums. Precision f64.
 * Cost O(nnz_analysed * (3 + cell-level columns)) plus O(genes * donors * p); memory O(genes * (p + donors)).
 */
export function cellGeneStats(counts: SparseCounts, lib: Float64Array, design: AnalysisDesign): CellGeneStats {
  const { p, x, donorOf, inB, cells } = design;
  const G = design.donors.length;
  const nG = counts.nGenes;
  if (lib.length !== counts.nCells) throw new Error(`cellGeneStats: ${lib.length} library sizes for ${counts.nCells} cells`);
  // Step 1: which columns vary within a donor.
  const donorValue = new Float64Array(G * p).fill(Number.NaN);
  const withinDonor = new Uint8Array(p);
  for (let r = 0; r < cells.length; r++) {
    const d = donorOf[r]!;
    for (let q = 0; q < p; q++) {
      const v = x[r * p + q]!;
      const seen = donorValue[d * p + q]!;
      if (Number.isNaN(seen)) donorValue[d * p + q] = v;
      else if (seen !== v) withinDonor[q] = 1;
    }
  }
  const cellCols = Int32Array.from([...withinDonor.keys()].filter((q) => withinDonor[q]));
  const nc = cellCols.length;
  // Step 2: one pass over the non-zeros.
  const xy = new Float64Array(nG * p);
  const ty = new Float64Array(nG * G);
  const yy = new Float64Array(nG);
  const yyB = new Float64Array(nG);
  const nonzero = new Int32Array(nG);
  const yTable = new Float64Array(Y_TABLE_MAX + 1);
  const xCell = new Float64Array(nc);
  const { colPtr, rowIdx, values } = counts;
  for (let r = 0; r < cells.length; r++) {
    const j = cells[r]!;
    const lj = lib[j]!;
    if (!(lj > 0)) continue;
    const f = NORMALISE_SCALE / lj;
    for (let c = 1; c <= Y_TABLE_MAX; c++) yTable[c] = Math.log1p(f * c);
    for (let q = 0; q < nc; q++) xCell[q] = x[r * p + cellCols[q]!]!;
    const d = donorOf[r]!;
    const b = inB[r]!;
    for (let k = colPtr[j]!; k < colPtr[j + 1]!; k++) {
      const c = values[k]!;
      if (c === 0) continue;
      const g = rowIdx[k]!;
      const y = c <= Y_TABLE_MAX && Number.isInteger(c) ? yTable[c]! : Math.log1p(f * c);
      const y2 = y * y;
      for (let q = 0; q < nc; q++) xy[g * p + cellCols[q]!]! += y * xCell[q]!;
      ty[g * G + d]! += y;
      yy[g]! += y2;
      if (b) yyB[g]! += y2;
      nonzero[g]!++;
    }
  }
  // Step 3: donor-level columns from the donor sums.
  for (let q = 0; q < p; q++) {
    if (withinDonor[q]) continue;
    for (let g = 0; g < nG; g++) {
      let s = 0;
      for (let d = 0; d < G; d++) s += donorValue[d * p + q]! * ty[g * G + d]!;
      xy[g * p + q] = s;
    }
  }
  return { nGenes: nG, xy, ty, yy, yyB, nonzero };
}
