/**
 * Normalisation and the per-gene sufficient statistics of the donor mixed model for an in-memory matrix (the
 * sparse-times-[X | donor indicator] product, done directly from the CSC columns on the CPU; the streaming pass
 * in src/sc/accumulate.ts does the work).
 *
 * Expression of gene g in cell i: y_gi = log1p(scale * c_gi / L_i), L_i = total count of cell i over all genes
 * of the input (library size), scale = 1e4. Zero counts give y = 0, so only non-zeros are visited.
 */
import { memoryBlock } from '../io/count-blocks.js';
import type { SparseCounts } from '../io/mtx.js';
import { PassAccumulator, type CellGeneStats } from './accumulate.js';
import type { AnalysisDesign } from './design.js';
import type { DonorDesign } from './lmm-donor.js';

export { NORMALISE_SCALE, type CellGeneStats } from './accumulate.js';

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

/**
 * Sufficient statistics of every gene over the analysed cells of an in-memory matrix: X^T y, donor sums,
 * y^T y, non-zero counts (see src/sc/accumulate.ts). `lib` are library sizes from {@link librarySizes}.
 * Precision f64. Cost O(nnz_analysed * (3 + cell-level columns)) plus O(genes * donors * p).
 */
export function cellGeneStats(counts: SparseCounts, lib: Float64Array, design: AnalysisDesign): CellGeneStats {
  if (lib.length !== counts.nCells) throw new Error(`cellGeneStats: ${lib.length} library sizes for ${counts.nCells} cells`);
  const acc = new PassAccumulator(counts.nGenes, counts.nCells, [{ design, cellStats: true, pseudobulk: false }], lib, null);
  acc.add(memoryBlock(counts));
  return acc.cellStats(0);
}
