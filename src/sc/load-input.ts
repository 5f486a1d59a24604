/**
 * Reads the inputs of a single-cell DE run: counts (10x directory, 10x HDF5 or .h5ad) and cell metadata (a table
 * joined on barcodes, or the .h5ad's obs). {@link openScdeInput} leaves the counts in the file, to be streamed
 * block by block; {@link loadScdeInput} reads them into memory.
 */
import { checkUniqueSampleIds } from '../io/sample-ids.js';
import { collectCounts, type CountSource } from '../io/count-blocks.js';
import { readTable } from '../io/csv.js';
import { openH5ad, readH5ad } from '../io/h5ad.js';
import { openTenx, readTenx, type SparseCounts } from '../io/mtx.js';
import { openTenxH5 } from '../io/tenx-h5.js';
import { joinCells, LazyColumns, type JoinedCells, type MissingBarcodePolicy } from './cell-table.js';
import type { ScdeInput } from './scde.js';
import type { ScdeStreamInput } from './scde-stream.js';

export interface LoadOptions {
  /** 10x directory (matrix.mtx[.gz], features.tsv[.gz] or genes.tsv[.gz], barcodes.tsv[.gz]). */
  countsDir?: string;
  /** Cell Ranger v3+ HDF5 feature-barcode matrix (alternative to countsDir). */
  tenxH5?: string;
  /** AnnData file (alternative to countsDir). */
  h5ad?: string;
  /** Matrix inside the .h5ad: X (default), raw/X or layers/NAME. */
  h5adMatrix?: string;
  /** Cell metadata table (csv or tsv, plain or gzip) with a barcode column; required with countsDir / tenxH5. */
  cellsFile?: string;
  barcodeColumn?: string;
  onMissing?: MissingBarcodePolicy;
}

/** An input opened for streaming. */
export interface OpenedScdeInput extends ScdeStreamInput {
  /** Matrix barcodes without metadata (dropped under onMissing 'drop'). */
  readonly missing: number;
  /** 10x features that are not genes (left out). */
  readonly droppedFeatures: number;
  close(): void;
}

function checkOne(opts: LoadOptions): void {
  const given = [opts.countsDir, opts.tenxH5, opts.h5ad].filter((x) => x !== undefined).length;
  if (given !== 1) throw new Error('give exactly one of a 10x directory (--counts), a 10x HDF5 file (--h5) or an .h5ad file (--h5ad)');
  if (opts.h5ad === undefined && opts.cellsFile === undefined) throw new Error('10x counts need cell metadata: --cells FILE with a barcode column');
}

/** Joins `cellsFile` onto the barcodes (which must then be unique: 10x files are checked when read). */
async function joinTable(barcodes: readonly string[], opts: LoadOptions): Promise<JoinedCells> {
  // An .h5ad's obs may repeat names (anndata allows it); joined by barcode they would be ambiguous.
  if (opts.h5ad !== undefined) checkUniqueSampleIds(barcodes, opts.h5ad, () => ({}), 'cell name in the obs index');
  return joinCells(barcodes, await readTable(opts.cellsFile!), opts.cellsFile!, { barcodeColumn: opts.barcodeColumn, onMissing: opts.onMissing });
}

/** The obs of an .h5ad as joined metadata (columns read on first use), the barcode column added. */
function obsCells(file: string, barcodes: string[], names: string[], load: (name: string) => string[], barcodeColumn = 'barcode'): JoinedCells {
  const columns = new LazyColumns(names, load, new Map([[barcodeColumn, barcodes]]));
  return { table: { columns, nCells: barcodes.length, source: file, columnPrefix: 'obs/' }, present: Int32Array.from(barcodes.keys()), missing: 0, missingExamples: [] };
}

/**
 * Opens counts and metadata for streaming (the counts stay in the file). Close the result when done.
 * Cost O(cells + genes) plus reading the metadata table.
 */
export async function openScdeInput(opts: LoadOptions): Promise<OpenedScdeInput> {
  checkOne(opts);
  let source: CountSource;
  let genes: string[];
  let barcodes: string[];
  let droppedFeatures = 0;
  let obs: JoinedCells | null = null;
  if (opts.h5ad !== undefined) {
    const h = await openH5ad(opts.h5ad, { matrix: opts.h5adMatrix });
    ({ source, genes, barcodes } = h);
    obs = obsCells(opts.h5ad, barcodes, h.obsNames, (n) => h.obsColumn(n), opts.barcodeColumn);
  } else if (opts.tenxH5 !== undefined) {
    const t = await openTenxH5(opts.tenxH5);
    ({ source, barcodes, droppedFeatures } = t);
    genes = t.geneNames;
  } else {
    const t = await openTenx(opts.countsDir!);
    ({ source, barcodes, droppedFeatures } = t);
    genes = t.geneNames;
  }
  try {
    const cells = opts.cellsFile !== undefined ? await joinTable(barcodes, opts) : obs!;
    return { source, genes, cells, missing: cells.missing, droppedFeatures, close: () => source.close() };
  } catch (err) {
    source.close();
    throw err;
  }
}

/** Loads counts and metadata into memory; `missing` reports matrix barcodes without metadata (dropped under 'drop'). */
export async function loadScdeInput(opts: LoadOptions): Promise<ScdeInput & { missing: number }> {
  checkOne(opts);
  let counts: SparseCounts;
  let genes: string[];
  let barcodes: string[];
  let obs: JoinedCells | null = null;
  if (opts.countsDir !== undefined) {
    const tenx = await readTenx(opts.countsDir);
    ({ counts, barcodes } = tenx);
    genes = tenx.geneNames;
  } else if (opts.tenxH5 !== undefined) {
    const t = await openTenxH5(opts.tenxH5);
    try {
      counts = await collectCounts(t.source);
    } finally {
      t.close();
    }
    ({ barcodes } = t);
    genes = t.geneNames;
  } else {
    const h = await readH5ad(opts.h5ad!, { matrix: opts.h5adMatrix });
    ({ counts, genes, barcodes } = h);
    obs = obsCells(opts.h5ad!, barcodes, [...h.obs.keys()], (n) => h.obs.get(n)!, opts.barcodeColumn);
  }
  const cells = opts.cellsFile !== undefined ? await joinTable(barcodes, opts) : obs!;
  return { counts, genes, cells, missing: cells.missing };
}
