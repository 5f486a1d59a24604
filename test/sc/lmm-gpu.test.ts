/**
 * lmm's grid of REML deviances through a GPU backend (WebGPU, f32; lavapipe here): the f64 CPU confirms each
 * gene's bracket and refines it, so the fits equal the CPU's (the f64 oracle) to the optimiser's tolerance.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../kernels/backend.js';
import { createBackend } from '../../kernels/select.js';
import { webGpuBackendInfo } from '../../kernels/webgpu/backend.js';
import { cellGeneStats, donorDesign, librarySizes } from '../../src/sc/cell-stats.js';
import { buildDesign } from '../../src/sc/design.js';
import { devianceGridOnBackend, fitDonorLmm } from '../../src/sc/lmm-donor.js';
import { simulateAtlas } from '../../src/sc/simulate-atlas.js';
import { registerScde } from '../../src/cli/scde.js';
import { setFlags } from '../../src/flags.js';
import { FIXTURE_DIR, loadFixture } from './fixture.js';

const info = await webGpuBackendInfo();
if (!info.available) console.warn(`lmm GPU grid tests skipped: ${info.reason}`);

describe.skipIf(!info.available)('lmm deviance grid on WebGPU = CPU', () => {
  let gpu: Backend;
  let cpu: Backend;
  afterAll(async () => {
    await gpu?.dispose();
    await cpu?.dispose();
  });

  const compare = async (name: string, counts: Parameters<typeof librarySizes>[0], table: Parameters<typeof buildDesign>[0], present: Int32Array, opts: Parameters<typeof buildDesign>[2]) => {
    gpu ??= await createBackend('webgpu');
    cpu ??= await createBackend('cpu');
    const design = buildDesign(table, present, opts);
    const dd = donorDesign(design);
    const stats = cellGeneStats(counts, librarySizes(counts), design);
    const oracle = fitDonorLmm(dd, stats);
    // The grid itself: f32 products against the f64 loops (a cpu backend gives the same numbers as the loops).
    const g32 = await devianceGridOnBackend(gpu, dd, stats);
    const g64 = await devianceGridOnBackend(cpu, dd, stats);
    let worst = 0;
    g64.dev.forEach((v, k) => {
      if (Number.isFinite(v)) worst = Math.max(worst, Math.abs(g32.dev[k]! - v) / Math.max(1, Math.abs(v)));
    });
    expect(worst, `${name}: grid f32 vs f64`).toBeLessThan(1e-3);
    expect(g32.precision).toBe('f32');
    const fit = fitDonorLmm(dd, stats, g32);
    expect([...fit.code]).toEqual([...oracle.code]);
    oracle.p.forEach((p, g) => {
      if (Number.isNaN(p)) return expect(fit.p[g]).toBeNaN();
      expect(Math.abs(Math.log10(fit.p[g]!) - Math.log10(p)), `${name} gene ${g}`).toBeLessThan(1e-6);
      expect(Math.abs(fit.beta[g]! - oracle.beta[g]!) / oracle.se[g]!, `${name} gene ${g}`).toBeLessThan(1e-6);
    });
  };

  it('fixture: between-donor and paired designs with covariates', async () => {
    const { tenx, cells } = await loadFixture();
    await compare('between', tenx.counts, cells.table, cells.present, { donor: 'donor', condition: 'group', covariates: ['score'] });
    await compare('paired', tenx.counts, cells.table, cells.present, { donor: 'donor', condition: 'treat', contrast: 'trt:untr', covariates: ['score', 'batch'] });
  });

  it('simulated atlas: 40 donors, 400 genes', async () => {
    const atlas = simulateAtlas({ cells: 4000, genes: 400, donors: 40, cellTypes: 2, seed: 11, nnzPerCell: 80 });
    const [b] = [...atlas.blocks(4000)];
    const counts = { nGenes: 400, nCells: 4000, colPtr: Float64Array.from(b!.ptr), rowIdx: b!.minor, values: Float64Array.from(b!.values), integer: true };
    const columns = new Map(atlas.obs.map((c) => [c.name, 'numbers' in c ? Array.from(c.numbers, String) : Array.from(c.codes, (k) => c.categories[k]!)]));
    const table = { columns, nCells: 4000, source: 'simulated' };
    await compare('atlas', counts, table, Int32Array.from({ length: 4000 }, (_, i) => i), { donor: 'donor', condition: 'condition', contrast: 'stim:ctrl' });
  });
});

describe.skipIf(!info.available)('gpulmm scde --backend webgpu', () => {
  it('writes the same table as --backend cpu, and says which adapter computed the grid', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-scde-gpu-'));
    const run = async (backend: string) => {
      const program = new Command().exitOverride();
      registerScde(program);
      let err = '';
      const write = process.stderr.write;
      process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
      try {
        await program.parseAsync(['node', 'gpulmm', 'scde', '--counts', FIXTURE_DIR, '--cells', path.join(FIXTURE_DIR, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--celltype', 'batch', '--backend', backend, '--tsv', path.join(dir, `${backend}.tsv`)]);
      } finally {
        process.stderr.write = write;
        setFlags({ backend: 'auto' });
      }
      return err;
    };
    expect(await run('webgpu')).toMatch(/lmm deviance grid on webgpu \(.*f32\)/);
    expect(await run('cpu')).not.toMatch(/deviance grid on/);
    expect(readFileSync(path.join(dir, 'webgpu.tsv'), 'utf8')).toBe(readFileSync(path.join(dir, 'cpu.tsv'), 'utf8'));
  });
});
