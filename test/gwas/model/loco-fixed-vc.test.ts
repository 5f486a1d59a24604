import { describe, expect, it } from 'vitest';
import { computeKinship, locoKinship } from '../../../gwas/kinship.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import { selectSamples } from '../../../gwas/samples.js';
import { createCpuBackend, cpuEigh, cpuGemm, cpuPotrf, cpuTrsm } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { famPhenotype, openPlink } from '../../../src/io/plink.js';
import { allocAssocColumns } from '../../../src/lmm/snp/assoc.js';
import { FixedVcWald } from '../../../src/lmm/snp/fixed-vc.js';
import { LambdaObjective } from '../../../src/lmm/snp/likelihood.js';
import { fitNullModel, fixedProducts } from '../../../src/lmm/snp/null-model.js';
import { pairCount, pairIndex } from '../../../src/lmm/snp/projection.js';
import { normal, randomSpd, rng } from '../../helpers/random.js';
import { scanPlink } from './parity.js';

const SIM = new URL('../../../data/sim/', import.meta.url).pathname;

describe('--loco', () => {
  it("tests each chromosome's SNPs exactly as a scan with the kinship that leaves that chromosome out", async () => {
    const loco = await scanPlink(`${SIM}sim`, { loco: true });
    // The same K_{-3} built by hand, given as a kinship matrix to an ordinary scan.
    const source = await openPlink(`${SIM}sim`);
    const samples = selectSamples({ ids: source.samples, phenotypes: [famPhenotype(source.fam, 1)] });
    const kin = await computeKinship(source, { mode: 'centered', filter: new SnpFilter(), filterRows: samples.indices, backend: await createCpuBackend(), loco: true });
    const plain = await scanPlink(`${SIM}sim`, { kinship: { matrix: locoKinship(kin, '3'), describe: 'K_-3' } });
    const chr3 = [...plain.rows.keys()].filter((rs) => source.snps.find((s) => s.rs === rs)!.chr === '3');
    expect(chr3.length).toBeGreaterThan(300);
    for (const rs of chr3) {
      const a = loco.rows.get(rs)!;
      const b = plain.rows.get(rs)!;
      expect(a.l10).toEqual(b.l10);
      expect(a.beta).toBe(b.beta);
    }
    // Another chromosome's SNPs were tested against a different kinship.
    const chr1 = [...plain.rows.keys()].find((rs) => source.snps.find((s) => s.rs === rs)!.chr === '1')!;
    expect(loco.rows.get(chr1)!.l10[0]).not.toBe(plain.rows.get(chr1)!.l10[0]);
  });
});

describe('--vc fixed', () => {
  it('whitening by chol(vg K + ve I) gives the Wald statistic of the eigen path at the null REML lambda', () => {
    const n = 80;
    const k = randomSpd(n, 11, 0.05);
    const z = normal(rng(5));
    const w = f64Matrix(n, 2);
    for (let i = 0; i < n; i++) {
      w.data[i] = 1;
      w.data[n + i] = z();
    }
    const y = f64Matrix(n, 1);
    for (let i = 0; i < n; i++) y.data[i] = z() + 0.5 * w.data[n + i]!;
    const x = f64Matrix(n, 5);
    for (let i = 0; i < 5 * n; i++) x.data[i] = Math.floor(3 * rng(i + 1)());
    const { values, vectors } = cpuEigh(k);
    const rot = (m: typeof w) => cpuGemm(vectors, m, { transA: true });
    const inputs = { d: values, uw: rot(w).data, c: 2, uy: rot(y).data };
    const nm = fitNullModel(inputs);
    // Fixed VC path.
    const v = f64Matrix(n, n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) v.data[i + j * n] = nm.vg * k.data[i + j * n]! + (i === j ? nm.ve : 0);
    const l = cpuPotrf(v);
    const wh = (m: typeof w) => cpuTrsm(l, m, { side: 'left', lower: true });
    const out = allocAssocColumns(5);
    new FixedVcWald(wh(w), wh(y).data, nm).testInto(wh(x), out, 0);
    // Eigen path at lambda = vg / ve.
    const ux = rot(x);
    const q = 4;
    const np = pairCount(q);
    for (let j = 0; j < 5; j++) {
      const ab = fixedProducts(inputs, true);
      for (let i = 0; i < n; i++) {
        const xi = ux.data[i + j * n]!;
        ab[i * np + pairIndex(2, 2, q)] = xi * xi;
        ab[i * np + pairIndex(2, 3, q)] = xi * inputs.uy[i]!;
        for (let a = 0; a < 2; a++) ab[i * np + pairIndex(a, 2, q)] = xi * inputs.uw[i + a * n]!;
      }
      const obj = new LambdaObjective(inputs.d, ab, q, 3);
      obj.project(nm.lambdaRemle);
      const pxx = obj.pAt(2, 2, 2);
      const pxy = obj.pAt(2, 2, 3);
      const tau = (n - 3) / obj.pAt(3, 3, 3);
      expect(out.status[j]).toBe('ok');
      expect(out.beta[j]).toBeCloseTo(pxy / pxx, 9);
      expect(out.se[j]).toBeCloseTo(Math.sqrt(1 / (tau * pxx)), 9);
      expect(out.lRemle[j]).toBe(nm.lambdaRemle);
    }
  });
});
