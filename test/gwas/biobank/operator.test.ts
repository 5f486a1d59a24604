/**
 * The biobank kinship operator (gwas/biobank/kinship-operator.ts) and its 2-bit store against a dense oracle
 * built from the decoded dosages: Z standardised as BOLT-LMM does, K_{-c} = Z_{-c} Z_{-c}' / M_{-c}, and the
 * covariate projector S = I - W (W'W)^-1 W'.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpuGemm, cpuPotrf, cpuPotrs } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { ALL_CHROMOSOMES, KinshipOperator } from '../../../gwas/biobank/kinship-operator.js';
import { packGenotypes } from '../../../gwas/biobank/packed-genotypes.js';
import { orthonormalBasis } from '../../../gwas/biobank/scan.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import { maxRelErr, randomMatrix } from '../../helpers/random.js';
import { simulateCohort } from './cohort.js';

describe('KinshipOperator', async () => {
  const prefix = simulateCohort('op', { n: 203, m: 260, chr: 3, seed: 3, miss: 0.05 });
  const inputs = await loadAnalysisInputs({ bfile: prefix, covar: `${prefix}.covar.txt` });
  const rows = inputs.samples.indices;
  const n = rows.length;
  const w = inputs.design.w;
  const filter = new SnpFilter({ maf: 0.02, miss: 0.1, covariates: w });
  const store = await packGenotypes(inputs.source, rows, filter);
  const op = await KinshipOperator.create(store, orthonormalBasis(w), { threads: 2 });
  afterAll(() => op.dispose());

  // Dense oracle: dosages of the kept SNPs, standardised over the analysed rows (missing -> mean -> 0).
  const x = f64Matrix(n, store.matrix.cols);
  let k = 0;
  for await (const b of inputs.source.blocks(4096)) {
    const v = filter.apply(b.dosages, rows, { impute: false });
    for (const j of v.keptIndex) {
      let s = 0;
      let c = 0;
      for (let r = 0; r < n; r++) {
        const d = b.dosages.data[rows[r]! + j * b.dosages.ld]!;
        if (d === d) {
          s += d;
          c++;
        }
      }
      const mu = s / c;
      let ss = 0;
      for (let r = 0; r < n; r++) {
        const d = b.dosages.data[rows[r]! + j * b.dosages.ld]!;
        const z = d === d ? d - mu : 0;
        x.data[r + k * n] = z;
        ss += z * z;
      }
      const sc = Math.sqrt((n - 1) / ss);
      for (let r = 0; r < n; r++) x.data[r + k * n]! *= sc;
      k++;
    }
  }
  /** S V = V - W (W'W)^-1 W'V. */
  const project = (v: F64Matrix): F64Matrix => {
    const coef = cpuPotrs(cpuPotrf(cpuGemm(w, w, { transA: true })), cpuGemm(w, v, { transA: true }));
    const out = cpuGemm(w, coef, { alpha: -1 });
    for (let i = 0; i < out.data.length; i++) out.data[i]! += v.data[i]!;
    return out;
  };
  const kernelWithout = (chr: number): F64Matrix => {
    const cols = Array.from({ length: store.matrix.cols }, (_, j) => j).filter((j) => store.chr[j] !== chr && op.inModel[j]);
    const zc = f64Matrix(n, cols.length);
    cols.forEach((j, q) => zc.data.set(x.data.subarray(j * n, (j + 1) * n), q * n));
    return cpuGemm(zc, zc, { transB: true, alpha: 1 / cols.length });
  };

  it('packs the filtered SNPs with their chromosome and code counts', () => {
    expect(store.matrix.rows).toBe(n);
    expect(store.matrix.cols).toBe(k);
    expect(store.chromosomes).toEqual(['1', '2', '3']);
    for (let j = 0; j < store.matrix.cols; j++) {
      expect(store.counts[4 * j]! + store.counts[4 * j + 1]! + store.counts[4 * j + 2]! + store.counts[4 * j + 3]!).toBe(n);
      expect(store.counts[4 * j + 1]).toBe(store.nMiss[j]);
    }
    expect(op.m).toBe(store.matrix.cols);
  });

  it('packs the same codes, counts and frequencies from packed blocks (PLINK) as from the generic dosage path', async () => {
    const generic = { describe: 'generic', samples: inputs.source.samples, nSnps: inputs.source.nSnps, snps: inputs.source.snps, blocks: inputs.source.blocks.bind(inputs.source) };
    for (const sub of [rows, rows.filter((_, r) => r % 3 !== 1)]) {
      const f = new SnpFilter({ maf: 0.02, miss: 0.1 });
      const a = await packGenotypes(inputs.source, sub, f);
      const b = await packGenotypes(generic, sub, f);
      expect(a.matrix.cols).toBe(b.matrix.cols);
      expect(Array.from(a.fileIndex)).toEqual(Array.from(b.fileIndex));
      expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
      expect(Array.from(a.nMiss)).toEqual(Array.from(b.nMiss));
      for (let j = 0; j < a.af.length; j++) expect(a.af[j]).toBeCloseTo(b.af[j]!, 14);
      expect(a.dropped).toEqual(b.dropped);
      const bytes = (m: typeof a.matrix): number[] => m.blocks.flatMap((x) => Array.from(x.subarray(0, (m.colStart[m.blocks.indexOf(x) + 1]! - m.colStart[m.blocks.indexOf(x)]!) * m.bytesPerCol)));
      expect(bytes(a.matrix)).toEqual(bytes(b.matrix));
    }
  });

  it('applies S K_{-c} S to a batch with a different chromosome left out per column', async () => {
    const v = project(randomMatrix(n, 4, 11));
    const exclude = [ALL_CHROMOSOMES, 0, 1, 2];
    const got = await op.apply(v, exclude);
    for (let b = 0; b < 4; b++) {
      const kd = kernelWithout(exclude[b] === ALL_CHROMOSOMES ? -1 : exclude[b]!);
      const want = project(cpuGemm(kd, f64Matrix(n, 1, v.data.slice(b * n, (b + 1) * n))));
      expect(maxRelErr(f64Matrix(n, 1, got.data.slice(b * n, (b + 1) * n)), want)).toBeLessThan(1e-12);
    }
  });

  it('knows tr(S K S), the projected SNP norms and the projected SNP columns exactly', () => {
    const sks = project(kernelWithout(-1));
    let tr = 0;
    for (let i = 0; i < n; i++) tr += sks.data[i + i * n]!;
    expect(op.traceA).toBeCloseTo(tr, 9);
    for (const j of [0, 57, store.matrix.cols - 1]) {
      const sz = project(f64Matrix(n, 1, x.data.slice(j * n, (j + 1) * n)));
      const got = op.snpColumn(j);
      expect(maxRelErr(got, sz)).toBeLessThan(1e-12);
      expect(op.projNorm2[j]).toBeCloseTo(sz.data.reduce((s, v) => s + v * v, 0), 9);
    }
  });
});
