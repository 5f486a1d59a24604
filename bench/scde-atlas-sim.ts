/**
 * Writes a simulated atlas (src/sc/simulate-atlas.ts) for bench/scde-atlas.sh: the same cells as an AnnData
 * .h5ad (X csr_matrix, float32 counts, uncompressed as anndata writes by default), a Cell Ranger 3.0+ .h5
 * (int32 data, int64 indices, gzip level `--h5-gzip`) with its cells.csv, and the truth (DE genes per cell type).
 *
 *   node dist/bench/scde-atlas-sim.js --cells 1000000 --genes 10000 --donors 100 --seed 1 --out DIR [--h5-gzip 1]
 *
 * Output: DIR/atlas.h5ad, DIR/atlas_10x.h5, DIR/cells.csv, DIR/truth.tsv, DIR/params.json. Memory: one block of
 * cells plus the per-cell metadata. Progress on stderr.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { createH5adWriter, createTenxH5Writer } from '../src/io/h5-write.js';
import { atlasCellsCsv, simulateAtlas } from '../src/sc/simulate-atlas.js';
import { requiredArg } from './args.js';

const cells = Number(requiredArg('cells'));
const genes = Number(requiredArg('genes'));
const donors = Number(requiredArg('donors'));
const seed = Number(requiredArg('seed', '1'));
const gzip = Number(requiredArg('h5-gzip', '1'));
const out = requiredArg('out');
const blockCells = Number(requiredArg('block-cells', '20000'));
mkdirSync(out, { recursive: true });

const t0 = performance.now();
const atlas = simulateAtlas({ cells, genes, donors, seed });
const h5ad = await createH5adWriter(path.join(out, 'atlas.h5ad'), { genes: atlas.geneNames, geneIds: atlas.geneIds, barcodes: atlas.barcodes, obs: atlas.obs, dtype: 'float32' }, { chunk: 1 << 20 });
const tenx = await createTenxH5Writer(path.join(out, 'atlas_10x.h5'), { geneIds: atlas.geneIds, geneNames: atlas.geneNames, barcodes: atlas.barcodes }, { compression: gzip, chunk: 1 << 18 }).catch((err: unknown) => {
  h5ad.abort();
  throw err;
});
let nnz = 0;
let umis = 0;
let done = 0;
try {
  for (const block of atlas.blocks(blockCells)) {
    h5ad.write(block);
    tenx.write(block);
    const n = block.ptr[block.count]!;
    nnz += n;
    for (let k = 0; k < n; k++) umis += block.values[k]!;
    done += block.count;
    process.stderr.write(`\r${done} of ${cells} cells, ${(nnz / done).toFixed(0)} non-zeros per cell, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  h5ad.close();
  tenx.close();
} catch (err) {
  h5ad.abort();
  tenx.abort();
  throw err;
}
process.stderr.write('\n');
const csv = createWriteStream(path.join(out, 'cells.csv'));
for (const chunk of atlasCellsCsv(atlas)) if (!csv.write(chunk)) await once(csv, 'drain');
csv.end();
await once(csv, 'finish');
const truth = ['cell_type\tgene\tdelta'];
atlas.cellTypeNames.forEach((ct, k) => {
  for (let g = 0; g < genes; g++) if (atlas.delta[k * genes + g] !== 0) truth.push(`${ct}\t${atlas.geneNames[g]}\t${atlas.delta[k * genes + g]}`);
});
writeFileSync(path.join(out, 'truth.tsv'), `${truth.join('\n')}\n`);
const params = { cells, genes, donors, seed, h5Gzip: gzip, nnz, nnzPerCell: nnz / cells, umisPerCell: umis / cells, seconds: (performance.now() - t0) / 1000 };
writeFileSync(path.join(out, 'params.json'), `${JSON.stringify(params, null, 2)}\n`);
console.log(JSON.stringify(params));
