/**
 * Read time of a count file alone, for bench/scde-atlas.sh: streams every block (as `gpulmm scde` does, same
 * block size) and sums the values, nothing else.
 *
 *   node dist/bench/scde-read.js (--h5ad FILE | --h5 FILE | --counts DIR) [--block-entries N]
 *
 * Prints one JSON line: file, entries, blocks, sum of values, seconds.
 */
import { openH5ad } from '../src/io/h5ad.js';
import { openTenx } from '../src/io/mtx.js';
import { openTenxH5 } from '../src/io/tenx-h5.js';
import { DEFAULT_BLOCK_ENTRIES } from '../src/sc/scde-stream.js';
import { argValue } from './args.js';

const blockEntries = Number(argValue('block-entries', String(DEFAULT_BLOCK_ENTRIES)));
const h5ad = argValue('h5ad');
const h5 = argValue('h5');
const counts = argValue('counts');
const t0 = performance.now();
const source = h5ad ? (await openH5ad(h5ad)).source : h5 ? (await openTenxH5(h5)).source : (await openTenx(counts!)).source;
let entries = 0;
let blocks = 0;
let sum = 0;
for await (const block of source.blocks(blockEntries)) {
  const n = block.ptr[block.count]!;
  for (let k = 0; k < n; k++) sum += block.values[k]!;
  entries += n;
  blocks++;
}
source.close();
console.log(JSON.stringify({ file: source.file, entries, blocks, sum, seconds: (performance.now() - t0) / 1000 }));
