// The 2-bit packed products on WebGPU (kernels/webgpu/packed2.ts, f32) against the f64 plain-loop oracle on ragged
// shapes (rows not a multiple of 16 or 256, several column blocks, column groups left out), and the biobank scan
// with its products on WebGPU against the cpu one on the same cohort.
import { describe, expect, it } from 'vitest';
import { biobankScan } from '../../../gwas/biobank/scan.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { packed2FromCodes, packed2ZtvReference, packed2ZuReference } from '../../../kernels/packed2.js';
import { createWebGpuBackend } from '../../../kernels/webgpu/backend.js';
import { WebGpuPacked2 } from '../../../kernels/webgpu/packed2.js';
import { maxRelErr, randomMatrix, rng } from '../../helpers/random.js';
import { simulateCohort } from '../../gwas/biobank/cohort.js';
import { info, useGpuContext } from './setup.js';

describe.skipIf(!info.available)('webgpu packed2 products', () => {
  const context = useGpuContext();

  for (const [k, c] of [{ rows: 37, cols: 9, b: 1 }, { rows: 301, cols: 150, b: 6 }, { rows: 1030, cols: 70, b: 9 }].entries()) {
    it(`ztv and the masked normal product match the f64 oracle to f32 rounding (${c.rows} x ${c.cols}, B = ${c.b})`, async () => {
      const u = rng(40 + k);
      const codes = Uint8Array.from({ length: c.rows * c.cols }, () => Math.floor(u() * 4));
      const tables = Float64Array.from({ length: 4 * c.cols }, () => u() * 2 - 1);
      const z = packed2FromCodes(codes, c.rows, c.cols, 64);
      const gpu = new WebGpuPacked2(context(), z);
      const v = randomMatrix(c.rows, c.b, 50 + k);
      const ztv = packed2ZtvReference(z, tables, v);
      expect(maxRelErr(await gpu.ztv(tables, v), ztv)).toBeLessThan(1e-5);
      const j0 = Math.floor(c.cols / 3);
      expect(maxRelErr(await gpu.ztv(tables, v, j0, c.cols - 1), packed2ZtvReference(z, tables, v, j0, c.cols - 1))).toBeLessThan(1e-5);
      const groups = Int32Array.from({ length: c.cols }, (_, j) => j % 3);
      const exclude = Array.from({ length: c.b }, (_, b) => (b % 4 === 3 ? -1 : b % 4));
      const scale = Array.from({ length: c.b }, (_, b) => 1 / (b + 2));
      const masked = f64Matrix(c.cols, c.b);
      for (let b = 0; b < c.b; b++) for (let j = 0; j < c.cols; j++) masked.data[j + b * c.cols] = groups[j] === exclude[b] ? 0 : ztv.data[j + b * c.cols]! * scale[b]!;
      expect(maxRelErr(await gpu.normal(tables, v, groups, exclude, scale), packed2ZuReference(z, tables, masked))).toBeLessThan(1e-5);
      await gpu.dispose();
      await expect(gpu.ztv(tables, v)).rejects.toThrow(/after dispose/);
    });
  }

  it('the biobank scan with webgpu products gives the cpu scan\'s h2 and statistics', async () => {
    const prefix = simulateCohort('gpu', { n: 300, m: 600, chr: 3, seed: 4 });
    const inputs = await loadAnalysisInputs({ bfile: prefix, covar: `${prefix}.covar.txt` });
    const common = { source: inputs.source, phenotypes: [{ name: 'quant', values: inputs.phenotypes[0]! }], covariates: inputs.covariates!, maf: 0.01, miss: 0.05 };
    const collect = async (backend: 'cpu' | Awaited<ReturnType<typeof createWebGpuBackend>>) => {
      const scan = await biobankScan({ ...common, backend });
      const chi2: number[] = [];
      for await (const b of scan.batches) for (let k = 0; k < b.snps.length; k++) chi2.push((b.assoc.beta[k]! / b.assoc.se[k]!) ** 2);
      return { chi2, model: scan.models.get('quant')!, precision: scan.summary.precision };
    };
    const gpuBackend = await createWebGpuBackend();
    const g = await collect(gpuBackend);
    await gpuBackend.dispose();
    const c = await collect('cpu');
    expect(g.precision).toBe('f32');
    expect(c.precision).toBe('f64');
    expect(Math.abs(g.model.h2 - c.model.h2)).toBeLessThan(2e-3);
    expect(g.chi2.length).toBe(c.chi2.length);
    let worst = 0;
    for (let i = 0; i < c.chi2.length; i++) worst = Math.max(worst, Math.abs(g.chi2[i]! - c.chi2[i]!) / (1 + c.chi2[i]!));
    expect(worst).toBeLessThan(5e-3);
  });
});
