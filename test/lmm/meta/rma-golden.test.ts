/**
 * Parity with metafor's rma() on the fits of data/meta/make-golden.R (golden.json): REML, ML, DL, PM and FE, z and
 * Knapp-Hartung tests, no moderators, numeric and factor moderators, a dataset where tau^2 truncates at 0, and
 * standard errors instead of variances. Tolerances are issue 15's: estimates within 1e-3 se, se within 1e-3
 * relative, tau^2 within 1e-4 relative, log-likelihoods within 1e-3; the heterogeneity and moderator statistics,
 * p-values and intervals are held to the same relative 1e-4 (they are closed forms of the above).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { rma, rmaPredict, studyData, type MetaTest, type Tau2Method } from '../../../src/lmm/meta/index.js';

const dir = new URL('../../../data/meta/', import.meta.url).pathname;
type PerLl = { ML: number; REML: number };
interface GoldenRma {
  id: string;
  data: string;
  mods: string | null;
  method: Tau2Method;
  test: MetaTest;
  k: number;
  p: number;
  coef: { term: string; estimate: number; se: number; stat: number; p: number; ci_lb: number; ci_ub: number }[];
  tau2: number;
  se_tau2: number | null;
  I2: number;
  H2: number;
  R2: number | null;
  QE: number;
  QEp: number;
  QM: number;
  QMp: number;
  QMdf: number | number[];
  logLik: PerLl;
  deviance: PerLl;
  AIC: PerLl;
  BIC: PerLl;
  AICc: PerLl;
  predict: Record<'pred' | 'se' | 'ci_lb' | 'ci_ub' | 'pi_lb' | 'pi_ub', number | number[]>;
}
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { fits: GoldenRma[] };
const close = (a: number, b: number, rel: number, what: string) =>
  expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(b), 1e-12));
const arr = (v: number | number[]) => ([] as number[]).concat(v);

describe('metafor rma golden fits', () => {
  for (const g of golden.fits) {
    it(`${g.id}`, async () => {
      const table = await readTable(`${dir}${g.data}`);
      const cols = g.id.includes('-sei-') ? { yi: 'yi', sei: 'sei' } : { yi: 'yi', vi: 'vi' };
      const s = studyData(table, { ...cols, mods: g.mods });
      const f = rma(s.data, { method: g.method, test: g.test });
      expect(f.k).toBe(g.k);
      expect(f.p).toBe(g.p);
      expect(f.coefficients.map((c) => c.term.replace('(Intercept)', 'intrcpt'))).toEqual(g.coef.map((c) => c.term));
      f.coefficients.forEach((c, j) => {
        const r = g.coef[j]!;
        expect(Math.abs(c.estimate - r.estimate) / r.se, `${r.term} estimate`).toBeLessThan(1e-3);
        close(c.se, r.se, 1e-3, `${r.term} se`);
        close(c.stat, r.stat, 1e-4, `${r.term} stat`);
        close(c.p, r.p, 1e-4, `${r.term} p`);
        expect(Math.abs(c.ciLower - r.ci_lb) / r.se).toBeLessThan(1e-3);
        expect(Math.abs(c.ciUpper - r.ci_ub) / r.se).toBeLessThan(1e-3);
      });
      if (g.tau2 === 0) expect(f.tau2).toBeLessThan(1e-10);
      else close(f.tau2, g.tau2, 1e-4, 'tau2');
      if (g.se_tau2 === null) expect(f.seTau2).toBeNull();
      else close(f.seTau2!, g.se_tau2, 1e-4, 'se(tau2)');
      close(f.I2, g.I2, 1e-4, 'I2');
      close(f.H2, g.H2, 1e-4, 'H2');
      if (g.R2 === null) expect(f.R2).toBeNull();
      else expect(Math.abs(f.R2! - g.R2)).toBeLessThan(1e-2);
      close(f.QE, g.QE, 1e-4, 'QE');
      close(f.QEp, g.QEp, 1e-4, 'QEp');
      close(f.QMdf[1] === null ? f.QM : f.QM / f.QMdf[0], g.QM, 1e-4, 'QM');
      close(f.QMp, g.QMp, 1e-4, 'QMp');
      expect([f.QMdf[0], ...(f.QMdf[1] === null ? [] : [f.QMdf[1]])]).toEqual(arr(g.QMdf));
      for (const ll of ['ML', 'REML'] as const) {
        expect(Math.abs(f.logLik[ll] - g.logLik[ll]), `logLik ${ll}`).toBeLessThan(1e-3);
        expect(Math.abs(f.deviance[ll] - g.deviance[ll]), `deviance ${ll}`).toBeLessThan(1e-3);
        expect(Math.abs(f.AIC[ll] - g.AIC[ll])).toBeLessThan(1e-3);
        expect(Math.abs(f.BIC[ll] - g.BIC[ll])).toBeLessThan(1e-3);
        expect(Math.abs(f.AICc[ll] - g.AICc[ll])).toBeLessThan(1e-3);
      }
      const pred = rmaPredict(f);
      const ref = arr(g.predict.pred);
      ref.forEach((v, i) => {
        const se = arr(g.predict.se)[i]!;
        const p = pred[i]!;
        expect(Math.abs(p.pred - v) / se).toBeLessThan(1e-3);
        close(p.se, se, 1e-3, 'pred se');
        if (arr(g.predict.pi_lb).length > 0) expect(Math.abs(p.piLower - arr(g.predict.pi_lb)[i]!) / se).toBeLessThan(1e-3);
        if (arr(g.predict.pi_ub).length > 0) expect(Math.abs(p.piUpper - arr(g.predict.pi_ub)[i]!) / se).toBeLessThan(1e-3);
        expect(Math.abs(p.ciLower - arr(g.predict.ci_lb)[i]!) / se).toBeLessThan(1e-3);
      });
    });
  }
});
