import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Backend } from '../../../kernels/backend.js';
import { createCpuBackend } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { loadAnalysisInputs, type AnalysisInputOptions } from '../../../gwas/inputs.js';
import { computeKinship, locoKinship, restrictAndCenter, type KinshipMode } from '../../../gwas/kinship.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import type { GenotypeSource } from '../../../gwas/types.js';
import { maxRelErr } from '../../helpers/random.js';
import { GOLDEN, hasGemma, hasMouse, lastDigitUnits, logValue, MOUSE_PREFIX, readGemmaMatrix, runGemma, SIM, SIM_PREFIX } from './sim-fixtures.js';

let backend: Backend;
async function cpu(): Promise<Backend> {
  backend ??= await createCpuBackend();
  return backend;
}

async function kinshipOf(opts: AnalysisInputOptions, mode: KinshipMode, loco = false, blockSize = 300) {
  const inputs = await loadAnalysisInputs(opts);
  const filter = new SnpFilter({ covariates: inputs.design.w });
  return computeKinship(inputs.source, { mode, filter, filterRows: inputs.samples.indices, backend: await cpu(), blockSize, loco });
}

describe('kinship equals GEMMA 0.98.5 to its printed digits', () => {
  test('sim, centered (-gk 1): committed kin.cXX.txt', async () => {
    const k = await kinshipOf({ bfile: SIM_PREFIX }, 'centered');
    expect(k.nSnps).toBe(Number(logValue(join(GOLDEN, 'kin.log.txt.gz'), 'number of analyzed SNPs/var')));
    expect(k.k.rows).toBe(350);
    expect(lastDigitUnits(k.k, readGemmaMatrix(join(GOLDEN, 'kin.cXX.txt.gz')))).toBeLessThanOrEqual(1);
  });

  test('sim BIMBAM input gives the same K as PLINK (GEMMA checked the same for its own)', async () => {
    const k = await kinshipOf({ geno: join(SIM, 'sim.geno.txt.gz'), pheno: join(SIM, 'sim.pheno.txt') }, 'centered');
    expect(lastDigitUnits(k.k, readGemmaMatrix(join(GOLDEN, 'kin.cXX.txt.gz')))).toBeLessThanOrEqual(1);
  });

  test.skipIf(!hasGemma)('sim, standardized (-gk 2) and centered with covariates (r^2 filter): gemma rerun', async () => {
    const std = await kinshipOf({ bfile: SIM_PREFIX }, 'standardized');
    expect(std.nSnps).toBe(Number(logValue(join(GOLDEN, 'kin_std.log.txt.gz'), 'number of analyzed SNPs/var')));
    expect(lastDigitUnits(std.k, readGemmaMatrix(runGemma(['-bfile', SIM_PREFIX, '-gk', '2', '-o', 'k'], 'k.sXX.txt')))).toBeLessThanOrEqual(1);
    const cov = await kinshipOf({ bfile: SIM_PREFIX, covar: join(SIM, 'sim.covar.txt') }, 'centered');
    expect(cov.nSnps).toBe(Number(logValue(join(GOLDEN, 'kin_covar.log.txt.gz'), 'number of analyzed SNPs/var')));
    const gemmaCov = runGemma(['-bfile', SIM_PREFIX, '-c', join(SIM, 'sim.covar.txt'), '-gk', '1', '-o', 'k'], 'k.cXX.txt');
    expect(lastDigitUnits(cov.k, readGemmaMatrix(gemmaCov))).toBeLessThanOrEqual(1);
  });

  test.skipIf(!hasMouse || !hasGemma)('mouse_hs1940 (shared data), centered: gemma rerun', async () => {
    const k = await kinshipOf({ bfile: MOUSE_PREFIX }, 'centered', false, 4096);
    expect(k.nSnps).toBe(10768);
    const gemma = readGemmaMatrix(runGemma(['-bfile', MOUSE_PREFIX, '-gk', '1', '-o', 'k'], 'k.cXX.txt'));
    expect(lastDigitUnits(k.k, gemma)).toBeLessThanOrEqual(1);
  });
});

/** The source with the SNPs of one chromosome removed (a reference for LOCO). */
function withoutChromosome(src: GenotypeSource, chr: string): GenotypeSource {
  const keepSnp = src.snps.map((s) => s.chr !== chr);
  return {
    describe: `${src.describe} without chr ${chr}`,
    samples: src.samples,
    snps: src.snps.filter((_, j) => keepSnp[j]),
    nSnps: keepSnp.filter(Boolean).length,
    async *blocks(blockSize, keep) {
      let start = 0;
      for await (const b of src.blocks(blockSize, keep)) {
        const cols = b.snps.map((_, j) => j).filter((j) => keepSnp[b.start + j]);
        const d = f64Matrix(b.dosages.rows, cols.length);
        cols.forEach((j, k) => d.data.set(b.dosages.data.subarray(j * b.dosages.ld, j * b.dosages.ld + b.dosages.rows), k * d.ld));
        yield { start, snps: cols.map((j) => b.snps[j]!), dosages: d };
        start += cols.length;
      }
    },
  };
}

describe('kinship for a subset of individuals', () => {
  test('K over `rows` is the same block of the full K (SNP moments still over all N), both modes', async () => {
    const inputs = await loadAnalysisInputs({ bfile: SIM_PREFIX });
    const rows = inputs.samples.indices;
    for (const mode of ['centered', 'standardized'] as const) {
      const be = await cpu();
      const run = (sub?: Int32Array) => computeKinship(inputs.source, { mode, filter: new SnpFilter(), filterRows: rows, backend: be, rows: sub });
      const full = (await run()).k;
      const part = await run(rows);
      expect(part.k.rows).toBe(rows.length);
      const block = f64Matrix(rows.length, rows.length);
      rows.forEach((i, a) => rows.forEach((j, b) => (block.data[a + b * rows.length] = full.data[i + j * full.ld]!)));
      expect(maxRelErr(part.k, block)).toBeLessThan(1e-13);
    }
  });
});

describe('LOCO and the pre-eigh transform', () => {
  test('K_{-c} from per-chromosome Grams equals K computed without chromosome c', async () => {
    const loco = await kinshipOf({ bfile: SIM_PREFIX }, 'centered', true);
    expect([...loco.chromosomes!.keys()]).toEqual(['1', '2', '3', '4', '5']);
    expect([...loco.chromosomes!.values()].reduce((s, g) => s + g.nSnps, 0)).toBe(loco.nSnps);
    expect(maxRelErr(loco.k, (await kinshipOf({ bfile: SIM_PREFIX }, 'centered')).k)).toBeLessThan(1e-13);
    const inputs = await loadAnalysisInputs({ bfile: SIM_PREFIX });
    const direct = await computeKinship(withoutChromosome(inputs.source, '3'), {
      mode: 'centered',
      filter: new SnpFilter(),
      filterRows: inputs.samples.indices,
      backend: await cpu(),
    });
    expect(direct.nSnps).toBe(loco.nSnps - loco.chromosomes!.get('3')!.nSnps);
    expect(maxRelErr(locoKinship(loco, '3'), direct.k)).toBeLessThan(1e-12);
    expect(() => locoKinship(loco, 'X')).toThrow(/no SNP on chromosome 'X'/);
  });

  test('restrictAndCenter = (I - 11\'/n) K[rows, rows] (I - 11\'/n)', () => {
    const N = 7;
    const k = f64Matrix(N, N);
    for (let j = 0; j < N; j++) for (let i = 0; i <= j; i++) k.data[i + j * N] = k.data[j + i * N] = Math.sin(i * 3 + j * 5 + 1);
    const rows = Int32Array.from([0, 2, 3, 6]);
    const n = rows.length;
    const c = f64Matrix(n, n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) c.data[i + j * n] = (i === j ? 1 : 0) - 1 / n;
    const mul = (a: F64Matrix, b: F64Matrix): F64Matrix => {
      const o = f64Matrix(a.rows, b.cols);
      for (let j = 0; j < b.cols; j++) for (let i = 0; i < a.rows; i++) for (let q = 0; q < a.cols; q++) o.data[i + j * o.rows]! += a.data[i + q * a.ld]! * b.data[q + j * b.ld]!;
      return o;
    };
    const sub = f64Matrix(n, n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) sub.data[i + j * n] = k.data[rows[i]! + rows[j]! * N]!;
    expect(maxRelErr(restrictAndCenter(k, rows), mul(mul(c, sub), c))).toBeLessThan(1e-14);
    // All rows of a packed K (copied at once) and of a strided one (gathered): the same bits.
    const all = Int32Array.from({ length: N }, (_, i) => i);
    const strided = { rows: N, cols: N, ld: N + 2, data: new Float64Array((N + 2) * N).fill(Number.NaN) };
    for (let j = 0; j < N; j++) strided.data.set(k.data.subarray(j * N, (j + 1) * N), j * (N + 2));
    expect(Array.from(restrictAndCenter(k, all).data)).toEqual(Array.from(restrictAndCenter(strided, all).data));
  });
});
