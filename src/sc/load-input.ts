/**
 * Reads the inputs of a single-cell DE run: counts (10x directory or .h5ad) and cell metadata (a table joined on
 * barcodes, or the .h5ad's obs).
 */
import { readTable } from '../io/csv.js';
import { readH5ad } from '../io/h5ad.js';
import { readTenx } from '../io/mtx.js';
import { joinCells, type JoinedCells, type MissingBarcodePolicy } from './cell-table.js';
import type { ScdeInput } from './scde.js';

export interface LoadOptions {
  /** 10x directory (matrix.mtx[.gz], features.tsv[.gz] or genes.tsv[.gz], barcodes.tsv[.gz]). */
  countsDir?: string;
  /** AnnData file (alternative to countsDir). */
  h5ad?: string;
  /** Matrix inside the .h5ad: X (default), raw/X or layers/NAME. */
  h5adMatrix?: string;
  /** Cell metadata table (csv or tsv, plain or gzip) with a barcode column; required with countsDir. */
  cellsFile?: string;
  barcodeColumn?: string;
  onMissing?: MissingBarcodePolicy;
}

/** Loads counts and metadata; `missing` reports matrix barcodes without metadata (dropped under 'drop'). */
export async function loadScdeInput(opts: LoadOptions): Promise<ScdeInput & { missing: number }> {
  if ((opts.countsDir === undefined) === (opts.h5ad === undefined)) throw new Error('give exactly one of a 10x directory (--counts) or an .h5ad file (--h5ad)');
  let counts;
  let genes: string[];
  let barcodes: string[];
  let obs: JoinedCells | null = null;
  if (opts.countsDir !== undefined) {
    if (opts.cellsFile === undefined) throw new Error('--counts needs cell metadata: --cells FILE with a barcode column');
    const tenx = await readTenx(opts.countsDir);
    ({ counts, barcodes } = tenx);
    genes = tenx.geneNames;
  } else {
    const h = await readH5ad(opts.h5ad!, { matrix: opts.h5adMatrix });
    ({ counts, genes, barcodes } = h);
    const columns = new Map(h.obs);
    columns.set(opts.barcodeColumn ?? 'barcode', barcodes);
    obs = { table: { columns, nCells: barcodes.length, source: `${opts.h5ad} obs` }, present: Int32Array.from(barcodes.keys()), missing: 0, missingExamples: [] };
  }
  const cells =
    opts.cellsFile !== undefined
      ? joinCells(barcodes, await readTable(opts.cellsFile), opts.cellsFile, { barcodeColumn: opts.barcodeColumn, onMissing: opts.onMissing })
      : obs!;
  return { counts, genes, cells, missing: cells.missing };
}
