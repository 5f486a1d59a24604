/** Loads data/sc/fixture (10x layout + cells.csv) for the single-cell tests. */
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { readTenx, type TenxCounts } from '../../src/io/mtx.js';
import { readTable } from '../../src/io/csv.js';
import { joinCells, type JoinedCells } from '../../src/sc/cell-table.js';

export const FIXTURE_DIR = path.join(new URL('../..', import.meta.url).pathname, 'data/sc/fixture');


export async function loadFixture(): Promise<{ tenx: TenxCounts; cells: JoinedCells }> {
  const tenx = await readTenx(FIXTURE_DIR);
  const file = path.join(FIXTURE_DIR, 'cells.csv');
  return { tenx, cells: joinCells(tenx.barcodes, await readTable(file), file) };
}

/** Writes a tiny .h5ad: csr X of 4 cells x 2 genes (5 float32 entries `data`), `obsRows` obs names c0.., genes g0, g1. */
export async function tinyH5ad(file: string, obsRows = 4, data = [1, 2, 3, 4, 5]): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  const x = f.create_group('X');
  x.create_attribute('encoding-type', 'csr_matrix', null, 'S');
  x.create_attribute('shape', new BigInt64Array([4n, 2n]));
  x.create_dataset({ name: 'data', data: new Float32Array(data) });
  x.create_dataset({ name: 'indices', data: new Int32Array([0, 1, 1, 0, 1]) });
  x.create_dataset({ name: 'indptr', data: new BigInt64Array([0n, 2n, 3n, 4n, 5n]) });
  const obs = f.create_group('obs');
  obs.create_attribute('_index', '_index', null, 'S');
  obs.create_dataset({ name: '_index', data: Array.from({ length: obsRows }, (_, i) => `c${i}`), dtype: 'S' });
  const v = f.create_group('var');
  v.create_attribute('_index', '_index', null, 'S');
  v.create_dataset({ name: '_index', data: ['g0', 'g1'], dtype: 'S' });
  f.close();
}
