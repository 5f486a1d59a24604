/**
 * The atlas simulator (src/sc/simulate-atlas.ts) and the HDF5 writers (src/io/h5-write.ts): a small atlas
 * written as .h5ad and Cell Ranger .h5 reads back to the same matrix, both stream to results identical to the
 * in-memory run, and the simulated DE genes are found.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createH5adWriter, createTenxH5Writer } from '../../src/io/h5-write.js';
import { loadScdeInput, openScdeInput, type LoadOptions } from '../../src/sc/load-input.js';
import { planScde, runScde, type ScdeBlock, type ScdeOptions } from '../../src/sc/scde.js';
import { runScdeStream } from '../../src/sc/scde-stream.js';
import { atlasCellsCsv, simulateAtlas } from '../../src/sc/simulate-atlas.js';

const atlas = simulateAtlas({ cells: 3000, genes: 500, donors: 20, cellTypes: 3, seed: 5, nnzPerCell: 80 });

function digest(blocks: Iterable<{ ptr: ArrayLike<number>; count: number; minor: Int32Array; values: ArrayLike<number> }>): number {
  let h = 0;
  for (const b of blocks) for (let k = 0; k < b.ptr[b.count]!; k++) h = (h * 31 + b.minor[k]! * 7 + b.values[k]!) % 1000000007;
  return h;
}

async function streamed(load: LoadOptions, opts: ScdeOptions): Promise<ScdeBlock[]> {
  const input = await openScdeInput(load);
  try {
    const out: ScdeBlock[] = [];
    for await (const b of runScdeStream(input, planScde(input.cells, input.genes, opts), { blockEntries: 5000 })) out.push(b);
    return out;
  } finally {
    input.close();
  }
}

describe('simulated atlas written as .h5ad and Cell Ranger .h5', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-atlas-'));
  const h5ad = path.join(dir, 'atlas.h5ad');
  const h5 = path.join(dir, 'atlas.h5');
  const cells = path.join(dir, 'cells.csv');
  const a = await createH5adWriter(h5ad, { genes: atlas.geneNames, geneIds: atlas.geneIds, barcodes: atlas.barcodes, obs: atlas.obs, dtype: 'float32' }, { compression: 1, chunk: 4096 });
  const b = await createTenxH5Writer(h5, { geneIds: atlas.geneIds, geneNames: atlas.geneNames, barcodes: atlas.barcodes }, { chunk: 4096 });
  for (const block of atlas.blocks(700)) {
    a.write(block);
    b.write(block);
  }
  a.close();
  b.close();
  writeFileSync(cells, [...atlasCellsCsv(atlas)].join(''));

  it('the matrix does not depend on the block size; no temporary file is left', () => {
    expect(digest(atlas.blocks(97))).toBe(digest(atlas.blocks(3000)));
    expect(readdirSync(dir).sort()).toEqual(['atlas.h5', 'atlas.h5ad', 'cells.csv']);
  });

  const opts: ScdeOptions = { donor: 'donor', condition: 'condition', contrast: 'stim:ctrl', celltype: 'cell_type', covariates: ['pct_mito'], method: ['lmm', 'pseudobulk'] };

  it('both files stream to the in-memory results, bit for bit', async () => {
    const mem = await loadScdeInput({ h5ad });
    const want = [...runScde(mem, opts)];
    for (const got of [await streamed({ h5ad }, opts), await streamed({ tenxH5: h5, cellsFile: cells }, opts)]) {
      expect(got.map((x) => `${x.celltype}/${x.method}`)).toEqual(want.map((x) => `${x.celltype}/${x.method}`));
      got.forEach((x, i) => {
        expect(x.status).toEqual(want[i]!.status);
        x.p.forEach((p, g) => expect(Object.is(p, want[i]!.p[g]) || p === want[i]!.p[g]).toBe(true));
        x.beta.forEach((v, g) => expect(Object.is(v, want[i]!.beta[g]) || v === want[i]!.beta[g]).toBe(true));
      });
    }
  });

  it('a second grouping factor (--random batch): streamed = in-memory, batch variance found', async () => {
    const ropts: ScdeOptions = { ...opts, method: 'lmm', random: 'batch', celltypeValue: 'type1' };
    const mem = await loadScdeInput({ h5ad });
    const [want] = [...runScde(mem, ropts)];
    const [got] = await streamed({ tenxH5: h5, cellsFile: cells }, ropts);
    got!.p.forEach((p, g) => expect(Object.is(p, want!.p[g]) || p === want!.p[g]).toBe(true));
    const positive = [...got!.varRandom].filter((v) => v > 0).length;
    expect(positive).toBeGreaterThan(got!.varRandom.length / 4);
  });

  it('finds the simulated DE genes of the largest cell type and keeps null genes near alpha', async () => {
    const blocks = await streamed({ h5ad }, { ...opts, celltypeValue: 'type1' });
    for (const block of blocks) {
      let deHit = 0;
      let de = 0;
      let nullHit = 0;
      let nulls = 0;
      block.p.forEach((p, g) => {
        if (Number.isNaN(p)) return;
        const d = Math.abs(atlas.delta[g]!);
        if (d >= 0.8) {
          de++;
          if (p < 0.05) deHit++;
        } else if (d === 0) {
          nulls++;
          if (p < 0.05) nullHit++;
        }
      });
      expect(de, block.method).toBeGreaterThan(10);
      expect(deHit / de, block.method).toBeGreaterThan(0.6);
      expect(nullHit / nulls, block.method).toBeLessThan(0.12);
    }
  });
});
