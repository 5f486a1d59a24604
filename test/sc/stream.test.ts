/**
 * The streaming run (src/sc/scde-stream.ts: counts read block by block, every cell type filled in one pass)
 * gives the same results as the in-memory run (src/sc/scde.ts), whatever the file layout, the block size, the
 * number of passes or the order of a Matrix Market file's entries.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openScdeInput, type LoadOptions } from '../../src/sc/load-input.js';
import { planScde, runScde, type ScdeBlock, type ScdeOptions } from '../../src/sc/scde.js';
import { runScdeStream, type StreamOptions } from '../../src/sc/scde-stream.js';
import { FIXTURE_DIR, loadFixture } from './fixture.js';

const DATA = path.join(FIXTURE_DIR, '..');
const CELLS = path.join(FIXTURE_DIR, 'cells.csv');
const COLUMNS = ['mean', 'beta', 'se', 'df', 't', 'p', 'log10p', 'fdr', 'varDonor', 'varResid', 'icc'] as const;

async function streamed(load: LoadOptions, opts: ScdeOptions, stream: StreamOptions = {}): Promise<ScdeBlock[]> {
  const input = await openScdeInput(load);
  try {
    const out: ScdeBlock[] = [];
    for await (const b of runScdeStream(input, planScde(input.cells, input.genes, opts), stream)) out.push(b);
    return out;
  } finally {
    input.close();
  }
}

async function inMemory(opts: ScdeOptions): Promise<ScdeBlock[]> {
  const { tenx, cells } = await loadFixture();
  return [...runScde({ counts: tenx.counts, genes: tenx.geneNames, cells }, opts)];
}

/** Every column identical (NaN where NaN), or within `tol` relative when tol > 0. */
function expectSame(a: ScdeBlock[], b: ScdeBlock[], tol = 0): void {
  expect(a.map((x) => `${x.celltype}/${x.method}`)).toEqual(b.map((x) => `${x.celltype}/${x.method}`));
  a.forEach((x, i) => {
    const y = b[i]!;
    expect(x.status).toEqual(y.status);
    expect([...x.nCells]).toEqual([...y.nCells]);
    for (const col of COLUMNS) {
      x[col].forEach((v, g) => {
        const w = y[col][g]!;
        if (tol === 0 || Number.isNaN(v)) expect(Object.is(v, w) || v === w, `${x.celltype} ${x.method} ${col}[${g}]: ${v} vs ${w}`).toBe(true);
        else expect(Math.abs(v - w), `${x.celltype} ${x.method} ${col}[${g}]`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
      });
    }
  });
}

const between: ScdeOptions = { donor: 'donor', condition: 'group', covariates: ['score'], celltype: 'batch' };
const paired: ScdeOptions = { donor: 'donor', condition: 'treat', contrast: 'trt:untr', covariates: ['score', 'batch'] };

describe('streamed = in-memory, bit for bit', () => {
  it('.h5ad csr / csc / dense in blocks of 37 entries: lmm, pseudobulk, welch from one pass, all cell types', async () => {
    const opts = { ...between, method: ['lmm', 'pseudobulk', 'welch'] as const };
    const want = await inMemory(opts);
    for (const layout of ['csr', 'csc', 'dense']) {
      expectSame(await streamed({ h5ad: path.join(DATA, `fixture-${layout}.h5ad`) }, opts, { blockEntries: 37 }), want);
    }
  });

  it('paired design with cell-level covariates, 10x directory in blocks of 100 entries', async () => {
    const opts = { ...paired, method: ['lmm', 'pseudobulk'] as const };
    expectSame(await streamed({ countsDir: FIXTURE_DIR, cellsFile: CELLS }, opts, { blockEntries: 100 }), await inMemory(opts));
  });

  it('one pass per cell type under a small state budget = one pass for all', async () => {
    const opts = { ...between, method: ['lmm', 'pseudobulk'] as const };
    const progress: string[] = [];
    const split = await streamed({ h5ad: path.join(DATA, 'fixture-csr.h5ad') }, opts, { stateBudget: 1, onProgress: (m) => progress.push(m) });
    expect(progress.filter((m) => m.startsWith('pass '))).toEqual(['pass 1 of 3: b1', 'pass 2 of 3: b2', 'pass 3 of 3: b3']);
    expectSame(split, await inMemory(opts));
  });

  it('nbglmm on gene chunks (several passes over a cell-major and a gene-major file)', async () => {
    const opts: ScdeOptions = { donor: 'donor', condition: 'group', method: 'nbglmm' };
    const want = await inMemory(opts);
    for (const layout of ['csr', 'csc']) {
      expectSame(await streamed({ h5ad: path.join(DATA, `fixture-${layout}.h5ad`) }, opts, { blockEntries: 500, nbChunkEntries: 2000 }), want);
    }
  });

  it('Cell Ranger .h5 (written by h5py, with two antibody features left out) = the 10x directory', async () => {
    const input = await openScdeInput({ tenxH5: path.join(DATA, 'fixture-10x.h5'), cellsFile: CELLS });
    expect(input.droppedFeatures).toBe(2);
    expect(input.genes).toEqual((await loadFixture()).tenx.geneNames);
    input.close();
    const opts = { ...between, method: ['lmm', 'pseudobulk'] as const };
    expectSame(await streamed({ tenxH5: path.join(DATA, 'fixture-10x.h5'), cellsFile: CELLS }, opts, { blockEntries: 64 }), await inMemory(opts));
  });
});

describe('a Matrix Market file not sorted by cell', () => {
  it('is read again with library sizes from a first pass; sums in another order: pseudobulk identical, welch within 1e-10, lmm at its optimiser resolution', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-unsorted-'));
    const lines = readFileSync(path.join(FIXTURE_DIR, 'matrix.mtx'), 'utf8').trimEnd().split('\n');
    const body = lines.filter((l) => !l.startsWith('%')).slice(1);
    // A fixed interleaving: entries taken from the front and the back alternately.
    const shuffled = body.map((_, i) => body[i % 2 === 0 ? i / 2 : body.length - 1 - (i - 1) / 2]!);
    writeFileSync(path.join(dir, 'matrix.mtx'), [lines[0], lines.find((l) => !l.startsWith('%')), ...shuffled, ''].join('\n'));
    for (const f of ['features.tsv', 'barcodes.tsv']) writeFileSync(path.join(dir, f), readFileSync(path.join(FIXTURE_DIR, f)));
    const progress: string[] = [];
    const run = (method: ScdeOptions['method'], onProgress?: (m: string) => void) =>
      Promise.all([streamed({ countsDir: dir, cellsFile: CELLS }, { ...between, method }, { blockEntries: 1000, onProgress }), inMemory({ ...between, method })]);
    const [pb, pbWant] = await run('pseudobulk');
    expectSame(pb, pbWant);
    const [welch, welchWant] = await run('welch');
    expectSame(welch, welchWant, 1e-10);
    // The per-gene REML optimum (Brent on theta) moves with the last bits of the sums: compare p and beta.
    const [lmm, lmmWant] = await run('lmm', (m) => progress.push(m));
    expect(progress.some((m) => /not sorted by cell .* reading it again, library sizes from a first pass/.test(m))).toBe(true);
    lmm.forEach((b, i) => {
      const w = lmmWant[i]!;
      expect(b.status).toEqual(w.status);
      b.p.forEach((p, g) => {
        if (Number.isNaN(p)) return expect(w.p[g]).toBeNaN();
        expect(Math.abs(b.log10p[g]! - w.log10p[g]!)).toBeLessThan(1e-4);
        expect(Math.abs(b.beta[g]! - w.beta[g]!) / w.se[g]!).toBeLessThan(1e-4);
      });
    });
  });
});
