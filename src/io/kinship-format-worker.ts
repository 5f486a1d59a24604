/**
 * Helper-thread side of the text kinship writer (src/io/kinship-file.ts): an ES module that the process-wide
 * thread pool (kernels/cpu/pool.ts, GemmPool.runModuleTask) imports in each helper.
 */
import { MAX_G_BYTES, writeRowsG } from './format-g.js';

/**
 * Rows of a kinship as GEMMA text lines: `block` holds `rows` consecutive rows of an n x n kinship
 * column-major (entry (r, j) at block[r + j rows]). Returns their bytes (tabs, one newline per row).
 */
export function formatRows(block: Float64Array, rows: number, n: number): { bytes: Uint8Array } {
  const out = new Uint8Array(rows * n * MAX_G_BYTES);
  const len = writeRowsG(block, rows, n, 0, rows, out);
  return { bytes: out.slice(0, len) };
}
