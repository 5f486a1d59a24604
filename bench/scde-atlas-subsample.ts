/**
 * The agreement subsample of bench/scde-atlas.sh: `--n-cells` cells of one cell type (seeded draw) and `--n-genes`
 * genes (seeded draw among those with a non-zero count in at least 5% of the drawn cells, so every method tests
 * them all), written as a 10x directory (matrix.mtx, features.tsv, barcodes.tsv) with cells.csv, for gpulmm and
 * for R (bench/scde-atlas-agreement.R) alike.
 *
 *   node dist/bench/scde-atlas-subsample.js --h5ad FILE --cell-type type1 --n-cells 5000 --n-genes 200 --seed 1 --out DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openH5ad } from '../src/io/h5ad.js';
import { mulberry32 } from '../src/stats/random.js';
import { requiredArg } from './args.js';

const file = requiredArg('h5ad');
const cellType = requiredArg('cell-type', 'type1');
const nCells = Number(requiredArg('n-cells', '5000'));
const nGenes = Number(requiredArg('n-genes', '200'));
const u = mulberry32(Number(requiredArg('seed', '1')));
const out = requiredArg('out');
mkdirSync(out, { recursive: true });

const h = await openH5ad(file);
const types = h.obsColumn('cell_type');
const pool = types.flatMap((t, i) => (t === cellType ? [i] : []));
// Partial Fisher-Yates: the first nCells of a seeded shuffle, then in file order.
for (let i = 0; i < Math.min(nCells, pool.length); i++) {
  const j = i + Math.floor(u() * (pool.length - i));
  [pool[i], pool[j]] = [pool[j]!, pool[i]!];
}
const picked = pool.slice(0, nCells).sort((a, b) => a - b);
const rowOf = new Int32Array(h.source.nCells).fill(-1);
picked.forEach((c, r) => (rowOf[c] = r));
// Counts of the picked cells, all genes, as (gene, cell, value) triples.
const genes: number[] = [];
const cells: number[] = [];
const vals: number[] = [];
const nonzero = new Int32Array(h.source.nGenes);
for await (const block of h.source.blocks(1 << 22)) {
  for (let m = 0; m < block.count; m++) {
    const r = rowOf[block.start + m]!;
    if (r < 0) continue;
    for (let k = block.ptr[m]!; k < block.ptr[m + 1]!; k++) {
      genes.push(block.minor[k]!);
      cells.push(r);
      vals.push(block.values[k]!);
      nonzero[block.minor[k]!]!++;
    }
  }
}
const candidates = [...nonzero.keys()].filter((g) => nonzero[g]! >= 0.05 * picked.length);
for (let i = 0; i < Math.min(nGenes, candidates.length); i++) {
  const j = i + Math.floor(u() * (candidates.length - i));
  [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
}
const keptGenes = candidates.slice(0, nGenes).sort((a, b) => a - b);
const newGene = new Int32Array(h.source.nGenes).fill(-1);
keptGenes.forEach((g, i) => (newGene[g] = i));
const lines: string[] = [];
for (let k = 0; k < vals.length; k++) if (newGene[genes[k]!]! >= 0) lines.push(`${newGene[genes[k]!]! + 1} ${cells[k]! + 1} ${vals[k]}`);
writeFileSync(path.join(out, 'matrix.mtx'), `%%MatrixMarket matrix coordinate integer general\n${keptGenes.length} ${picked.length} ${lines.length}\n${lines.join('\n')}\n`);
writeFileSync(path.join(out, 'features.tsv'), keptGenes.map((g) => `${g}\t${h.genes[g]}\tGene Expression\n`).join(''));
writeFileSync(path.join(out, 'barcodes.tsv'), picked.map((c) => `${h.barcodes[c]}\n`).join(''));
const cols = ['donor', 'condition', 'cell_type', 'batch'];
const values = cols.map((c) => h.obsColumn(c));
writeFileSync(path.join(out, 'cells.csv'), `barcode,${cols.join(',')}\n${picked.map((c) => `${h.barcodes[c]},${values.map((v) => v[c]).join(',')}`).join('\n')}\n`);
h.close();
console.log(JSON.stringify({ cells: picked.length, genes: keptGenes.length, entries: lines.length, cellType }));
