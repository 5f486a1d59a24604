/**
 * Reads the inputs of a single-cell DE run: a 10x directory and a cell metadata table joined on barcodes.
 */
import { readTable } from '../io/csv.js';
import { readTenx } from '../io/mtx.js';
import { joinCells, type MissingBarcodePolicy } from './cell-table.js';
import type { ScdeInput } from './scde.js';

export interface LoadOptions {
  /** 10x directory (matrix.mtx[.gz], features.tsv[.gz] or genes.tsv[.gz], barcodes.tsv[.gz]). */
  countsDir: string;
  /** Cell metadata table (csv or tsv, plain or gzip) with a barcode column. */
  cellsFile: string;
  barcodeColumn?: string;
  onMissing?: MissingBarcodePolicy;
}

/** Loads counts and metadata; `missing` reports matrix barcodes without metadata (dropped under 'drop'). */
export async function loadScdeInput(opts: LoadOptions): Promise<ScdeInput & { missing: number }> {
  const tenx = await readTenx(opts.countsDir);
  const cells = joinCells(tenx.barcodes, await readTable(opts.cellsFile), opts.cellsFile, {
    barcodeColumn: opts.barcodeColumn,
    onMissing: opts.onMissing,
  });
  return { counts: tenx.counts, genes: tenx.geneNames, cells, missing: cells.missing };
}
