import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readH5ad } from '../../src/io/h5ad.js';
import { InputError } from '../../src/errors.js';
import { loadScdeInput } from '../../src/sc/load-input.js';
import { runScde } from '../../src/sc/scde.js';
import { FIXTURE_DIR, loadFixture } from './fixture.js';

const DATA = path.join(FIXTURE_DIR, '..');

describe('.h5ad reader (fixtures written by h5py in data/sc/make-h5ad.py)', async () => {
  const { tenx, cells } = await loadFixture();
  for (const layout of ['csr', 'dense', 'csc']) {
    it(`${layout}: same counts, genes, barcodes and obs as the 10x fixture`, async () => {
      const h = await readH5ad(path.join(DATA, `fixture-${layout}.h5ad`));
      expect(h.counts.nGenes).toBe(tenx.counts.nGenes);
      expect(h.counts.nCells).toBe(tenx.counts.nCells);
      expect([...h.counts.colPtr]).toEqual([...tenx.counts.colPtr]);
      expect([...h.counts.rowIdx]).toEqual([...tenx.counts.rowIdx]);
      expect([...h.counts.values]).toEqual([...tenx.counts.values]);
      expect(h.counts.integer).toBe(true);
      expect(h.genes).toEqual(tenx.geneNames);
      expect(h.barcodes).toEqual(tenx.barcodes);
      for (const col of ['donor', 'group', 'treat', 'batch']) expect(h.obs.get(col), col).toEqual(cells.table.columns.get(col));
      expect(h.obs.get('score')!.map(Number)).toEqual(cells.table.columns.get('score')!.map(Number));
    });
  }

  it('an analysis from the .h5ad obs equals the one from 10x + cells.csv', async () => {
    const fromH5 = await loadScdeInput({ h5ad: path.join(DATA, 'fixture-csr.h5ad') });
    const opts = { donor: 'donor', condition: 'group', covariates: ['batch'] };
    const [a] = [...runScde(fromH5, opts)];
    const [b] = [...runScde({ counts: tenx.counts, genes: tenx.geneNames, cells }, opts)];
    expect(a!.status).toEqual(b!.status);
    a!.p.forEach((p, g) => expect(p).toBe(b!.p[g]));
  });

  it('errors name the file and the HDF5 path', async () => {
    await expect(readH5ad(path.join(DATA, 'fixture-csr.h5ad'), { matrix: 'layers/counts' })).rejects.toThrow(/fixture-csr.h5ad: \/?layers\/counts not found/);
    await expect(readH5ad(path.join(DATA, 'golden-lmm.json'))).rejects.toThrow(InputError);
    await expect(readH5ad(path.join(DATA, 'golden-lmm.json'))).rejects.toThrow(/golden-lmm.json: not an HDF5 file/);
    expect(readFileSync(path.join(DATA, 'fixture-csr.h5ad')).subarray(1, 4).toString()).toBe('HDF');
  });
});
