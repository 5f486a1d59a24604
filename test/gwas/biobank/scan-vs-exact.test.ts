/**
 * The biobank scan against the exact mode as oracle on the same simulated cohort (structure, families, missing
 * genotypes, covariates): the exact mode with --grm standardized --loco --vc fixed is the same model (BOLT-LMM's
 * kinship up to the factor (n - 1) / n, LOCO kinships, variance components from the global REML), solved with
 * eigendecompositions and Cholesky factors.
 *  - h2 (REML) within Monte Carlo error of the exact REML estimate;
 *  - chi-square correlation >= 0.99 and lambda_GC within 0.02 (calibrated LOCO statistic vs exact GLS);
 *  - at a fixed h2 equal to the exact one, the calibration SNPs' prospective statistics equal the exact F
 *    statistics through F = chi2 (df / n') / (1 - chi2 / n') (GEMMA re-estimates the residual variance).
 */
import { describe, expect, it } from 'vitest';
import { biobankScan, type BiobankModel } from '../../../gwas/biobank/scan.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { gwasScan, type PhenotypeInput } from '../../../gwas/scan.js';
import { chi2Quantile, fLog10Survival } from '../../../src/stats/distributions.js';
import { genomicInflation } from '../../../src/stats/multiple-testing.js';
import { simulateCohort } from './cohort.js';

function correlation(a: number[], b: number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('biobank scan vs the exact mode', async () => {
  const prefix = simulateCohort('exact', { n: 900, m: 2000, chr: 5, seed: 5 });
  const inputs = await loadAnalysisInputs({ bfile: prefix, covar: `${prefix}.covar.txt` });
  const phenotypes: PhenotypeInput[] = [{ name: 'quant', values: inputs.phenotypes[0]! }];
  const common = { source: inputs.source, phenotypes, covariates: inputs.covariates!, maf: 0.01, miss: 0.05 };
  const exact = await gwasScan({ ...common, kinship: { mode: 'standardized' }, tests: { wald: true, lrt: false, score: false }, loco: true, vc: 'fixed' });
  const pExact = new Map<string, number>();
  const log10Exact = new Map<string, number>();
  for await (const b of exact.batches) {
    b.snps.forEach((s, k) => {
      pExact.set(s.rs, b.assoc.pWald[k]!);
      log10Exact.set(s.rs, b.assoc.log10pWald[k]!);
    });
  }
  const nm = [...exact.nullModels.values()][0]!;
  const n = inputs.samples.indices.length;
  const c = inputs.design.w.cols;
  /** BOLT-scale h2 of the exact REML: delta = (n - 1) / (n lambda) on K = Z Z' / M with |z_j|^2 = n - 1. */
  const h2Of = (m: BiobankModel): number => {
    const tbar = (m.h2 * m.delta) / (1 - m.h2);
    return tbar / (tbar + (n - 1) / (n * nm.lambdaRemle));
  };

  it('estimates h2 within Monte Carlo error of the exact REML and reproduces the exact statistics', async () => {
    const bb = await biobankScan(common);
    const pOurs = new Map<string, number>();
    for await (const b of bb.batches) {
      b.snps.forEach((s, k) => pOurs.set(s.rs, b.assoc.pWald[k]!));
      expect(b.assoc.status.every((st) => st === 'ok')).toBe(true);
    }
    const m = bb.models.get('quant')!;
    expect(m.boundary).toBe('none');
    expect(Math.abs(m.h2 - h2Of(m))).toBeLessThan(Math.max(0.015, 3 * m.h2SeMc));
    expect(m.h2SeMc).toBeLessThan(0.4 * m.h2SeReml);
    expect([...pOurs.keys()]).toEqual([...pExact.keys()]);
    const a = [...pExact.values()].map((p) => chi2Quantile(p, 1, false));
    const b = [...pOurs.values()].map((p) => chi2Quantile(p, 1, false));
    expect(correlation(a, b)).toBeGreaterThan(0.99);
    const lExact = genomicInflation(Float64Array.from(pExact.values()));
    const lOurs = genomicInflation(Float64Array.from(pOurs.values()));
    expect(Math.abs(lOurs - lExact)).toBeLessThan(0.02);
  });

  it('at the exact h2, the prospective statistics equal the exact GLS statistics', async () => {
    const probe = await biobankScan({ ...common, h2: 0.5, calibrationSnps: 2 });
    for await (const _ of probe.batches) break;
    const h2 = h2Of(probe.models.get('quant')!);
    const bb = await biobankScan({ ...common, h2, cgTol: 1e-9, calibrationSnps: 12 });
    for await (const _ of bb.batches) break;
    const cal = bb.models.get('quant')!.calibration;
    expect(cal.details.length).toBeGreaterThanOrEqual(10);
    const dim = n - c;
    for (const d of cal.details) {
      const f = (d.prospective * ((n - c - 1) / dim)) / (1 - d.prospective / dim);
      const want = log10Exact.get(d.rs)!;
      expect(Math.abs(fLog10Survival(f, 1, n - c - 1) - want)).toBeLessThan(1e-6 * (1 + Math.abs(want)));
    }
  });
});
