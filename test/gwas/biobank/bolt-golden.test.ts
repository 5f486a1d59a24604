/**
 * The biobank scan against BOLT-LMM 2.4 `--lmmInfOnly` on the same cohort (golden outputs made by
 * data/biobank/make-bolt-golden.sh; the cohort is re-made by data/simulate/cohort.mjs, deterministically).
 * Both use the same SNPs (no MAF filter, missing rate <= 0.1), covariates and LOCO scheme. Asserted: the
 * chi-square statistics correlate >= 0.995, the strongest signals are the same SNPs, the calibrated means agree
 * within the calibrations' sampling error, and h2 agrees within BOLT-LMM's own Monte Carlo error (its secant
 * search on 15 random phenotypes, without the deflation of the population-structure eigenvalue that gpulmm
 * applies: on this cohort BOLT's 0.415 lies 0.027 below the exact REML, 0.442, and gpulmm's within 0.01 of it,
 * see test/gwas/biobank/scan-vs-exact.test.ts).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { biobankScan } from '../../../gwas/biobank/scan.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { simulateCohort } from './cohort.js';

const GOLDEN = new URL('../../../data/biobank/bolt/', import.meta.url).pathname;

describe('biobank scan vs BOLT-LMM 2.4 (goldens)', async () => {
  const golden = JSON.parse(readFileSync(`${GOLDEN}c1200.json`, 'utf8')) as { h2g: number; mean_and_lambda: string };
  const [head, ...lines] = gunzipSync(readFileSync(`${GOLDEN}c1200.stats.gz`)).toString('utf8').trimEnd().split('\n');
  const h = head!.split('\t');
  const bolt = new Map(lines.map((l) => {
    const f = l.split('\t');
    return [f[h.indexOf('SNP')]!, Number(f[h.indexOf('CHISQ_BOLT_LMM_INF')])];
  }));
  const prefix = simulateCohort('bolt', { n: 1200, m: 3000, chr: 6, seed: 5 });
  const inputs = await loadAnalysisInputs({ bfile: prefix, covar: `${prefix}.covar.txt` });

  it('gives the same statistics and top SNPs, h2 within BOLT-LMM\'s Monte Carlo error', async () => {
    const scan = await biobankScan({ source: inputs.source, phenotypes: [{ name: 'quant', values: inputs.phenotypes[0]! }], covariates: inputs.covariates!, maf: 0, miss: 0.1 });
    const ours = new Map<string, number>();
    for await (const b of scan.batches) b.snps.forEach((s, k) => ours.set(s.rs, (b.assoc.beta[k]! / b.assoc.se[k]!) ** 2));
    expect(ours.size).toBe(bolt.size);
    const keys = [...bolt.keys()];
    const x = keys.map((k) => ours.get(k)!);
    const y = keys.map((k) => bolt.get(k)!);
    const mean = (v: number[]): number => v.reduce((s, t) => s + t, 0) / v.length;
    const mx = mean(x);
    const my = mean(y);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < x.length; i++) {
      sxy += (x[i]! - mx) * (y[i]! - my);
      sxx += (x[i]! - mx) ** 2;
      syy += (y[i]! - my) ** 2;
    }
    const corr = sxy / Math.sqrt(sxx * syy);
    const top = (v: number[], k: number): Set<string> => new Set(keys.map((_, i) => i).sort((a, b) => v[b]! - v[a]!).slice(0, k).map((i) => keys[i]!));
    const topOurs = top(x, 10);
    const shared = [...top(y, 10)].filter((k) => topOurs.has(k)).length;
    const model = scan.models.get('quant')!;
    expect(corr).toBeGreaterThan(0.995);
    expect(shared).toBeGreaterThanOrEqual(9);
    expect(Math.abs(mx / my - 1)).toBeLessThan(0.05);
    expect(Math.abs(model.h2 - golden.h2g)).toBeLessThan(0.04);
  });
});
