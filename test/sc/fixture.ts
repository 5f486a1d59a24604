/** Loads data/sc/fixture (10x layout + cells.csv) for the single-cell tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readTenx, type TenxCounts } from '../../src/io/mtx.js';
import { joinCells, type JoinedCells, type ParsedTable } from '../../src/sc/cell-table.js';

export const FIXTURE_DIR = path.join(new URL('../..', import.meta.url).pathname, 'data/sc/fixture');

/** The fixture's cells.csv has no quoting: a plain split is enough here. */
export function parseSimpleCsv(file: string): ParsedTable {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')), lineNos: lines.slice(1).map((_, i) => i + 2) };
}

export async function loadFixture(): Promise<{ tenx: TenxCounts; cells: JoinedCells }> {
  const tenx = await readTenx(FIXTURE_DIR);
  const file = path.join(FIXTURE_DIR, 'cells.csv');
  return { tenx, cells: joinCells(tenx.barcodes, parseSimpleCsv(file), file) };
}
