/** Loads data/sc/fixture (10x layout + cells.csv) for the single-cell tests. */
import path from 'node:path';
import { readTenx, type TenxCounts } from '../../src/io/mtx.js';
import { readTable } from '../../src/io/csv.js';
import { joinCells, type JoinedCells } from '../../src/sc/cell-table.js';

export const FIXTURE_DIR = path.join(new URL('../..', import.meta.url).pathname, 'data/sc/fixture');


export async function loadFixture(): Promise<{ tenx: TenxCounts; cells: JoinedCells }> {
  const tenx = await readTenx(FIXTURE_DIR);
  const file = path.join(FIXTURE_DIR, 'cells.csv');
  return { tenx, cells: joinCells(tenx.barcodes, await readTable(file), file) };
}
