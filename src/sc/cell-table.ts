/**
 * Joins cell metadata (a table with a barcode column) onto the columns of a count matrix.
 */
import { InputError } from '../errors.js';
import type { CellTable } from './design.js';

/** A parsed delimited table, as src/io/csv.ts `readTable` returns it. */
export interface ParsedTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly lineNos: readonly number[];
}

export type MissingBarcodePolicy = 'error' | 'drop';

export interface JoinedCells {
  readonly table: CellTable;
  /** Count-matrix columns that have metadata (all of them unless some were dropped). */
  readonly present: Int32Array;
  /** Barcodes of the matrix absent from the metadata. */
  readonly missing: number;
  /** A few of the missing barcodes, for messages. */
  readonly missingExamples: readonly string[];
}

/** Thrown when the metadata cannot be joined (no barcode column, missing barcodes under 'error'); a duplicate barcode is an InputError. */
export class CellJoinError extends Error {
  override name = 'CellJoinError';
}

/**
 * Aligns metadata rows with `barcodes` (the count-matrix columns) through column `barcodeColumn`.
 * Matrix barcodes without metadata: `onMissing` 'error' throws (naming how many and a few examples);
 * 'drop' leaves those cells out of `present` and gives them empty values. Metadata rows without a
 * matrix column are ignored. Duplicate barcodes in the metadata are an InputError naming both lines. Cost O(cells).
 */
export function joinCells(
  barcodes: readonly string[],
  parsed: ParsedTable,
  source: string,
  opts: { barcodeColumn?: string; onMissing?: MissingBarcodePolicy } = {},
): JoinedCells {
  const key = opts.barcodeColumn ?? 'barcode';
  const kc = parsed.header.indexOf(key);
  if (kc < 0) throw new CellJoinError(`${source}: no "${key}" column (columns: ${parsed.header.join(', ')})`);
  const rowOf = new Map<string, number>();
  parsed.rows.forEach((row, r) => {
    const b = row[kc] ?? '';
    const prev = rowOf.get(b);
    if (prev !== undefined) {
      throw new InputError(source, parsed.lineNos[r], undefined, `barcode "${b}" already on line ${parsed.lineNos[prev]}`);
    }
    rowOf.set(b, r);
  });
  const rowForCell = barcodes.map((b) => rowOf.get(b) ?? -1);
  const missingIdx = rowForCell.flatMap((r, j) => (r < 0 ? [j] : []));
  const missingExamples = missingIdx.slice(0, 3).map((j) => barcodes[j]!);
  if (missingIdx.length > 0 && (opts.onMissing ?? 'error') === 'error') {
    throw new CellJoinError(
      `${missingIdx.length} of ${barcodes.length} barcodes of the count matrix are not in ${source} ` +
        `(e.g. ${missingExamples.join(', ')}); pass --missing-cells drop to leave them out`,
    );
  }
  const columns = new Map<string, string[]>();
  parsed.header.forEach((name, c) => {
    if (c !== kc) columns.set(name, rowForCell.map((r) => (r < 0 ? '' : (parsed.rows[r]![c] ?? ''))));
  });
  columns.set(key, [...barcodes]);
  return {
    table: { columns, nCells: barcodes.length, source, lineOf: (cell) => parsed.lineNos[rowForCell[cell] ?? -1] },
    present: Int32Array.from(rowForCell.flatMap((r, j) => (r < 0 ? [] : [j]))),
    missing: missingIdx.length,
    missingExamples,
  };
}

/**
 * Metadata columns read on first use (an .h5ad obs may hold dozens of columns of a million cells each, of which
 * an analysis needs a few). Iterating the map reads every column.
 */
export class LazyColumns implements ReadonlyMap<string, readonly string[]> {
  private readonly loaded = new Map<string, readonly string[]>();

  /** @param names column names in order; `load` reads one (called at most once per name) */
  constructor(
    private readonly names: readonly string[],
    private readonly load: (name: string) => readonly string[],
    extra: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {
    for (const [k, v] of extra) this.loaded.set(k, v);
    this.names = [...names.filter((n) => !extra.has(n)), ...extra.keys()];
  }

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  get(name: string): readonly string[] | undefined {
    if (!this.has(name)) return undefined;
    let v = this.loaded.get(name);
    if (!v) this.loaded.set(name, (v = this.load(name)));
    return v;
  }

  keys(): MapIterator<string> {
    return this.names[Symbol.iterator]() as MapIterator<string>;
  }

  *values(): MapIterator<readonly string[]> {
    for (const n of this.names) yield this.get(n)!;
  }

  *entries(): MapIterator<[string, readonly string[]]> {
    for (const n of this.names) yield [n, this.get(n)!];
  }

  [Symbol.iterator](): MapIterator<[string, readonly string[]]> {
    return this.entries();
  }

  forEach(fn: (value: readonly string[], key: string, map: ReadonlyMap<string, readonly string[]>) => void): void {
    for (const n of this.names) fn(this.get(n)!, n, this);
  }
}
