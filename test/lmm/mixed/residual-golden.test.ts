/**
 * Parity with nlme's lme(correlation =, weights =) on the fits of data/nlme/make-golden.R (golden.json): AR(1)
 * on integer times (with gaps) and on the rows' order, continuous-time AR(1), compound symmetry, varIdent, and
 * combinations, REML and ML. Tolerances are issue 15's: fixed effects within 1e-3 se, se within 1e-3 relative,
 * variance and correlation parameters within 1e-4 relative, log-likelihoods within 1e-3. Satterthwaite df are
 * checked where a reference exists: compound symmetry with rho > 0 is a random intercept reparametrised, so its
 * df equal lmerTest's on the equivalent lmer fit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { fit } from '../../../src/lmm/mixed/index.js';

const dir = new URL('../../../data/nlme/', import.meta.url).pathname;
interface GoldenLme {
  id: string;
  data: string;
  formula: string;
  correlation: string | null;
  weights: string | null;
  REML: boolean;
  fixef: { term: string; estimate: number; se: number }[];
  sigma: number;
  logLik: number;
  AIC: number;
  BIC: number;
  nobs: number;
  npar: number;
  /** per grouping level: the random-effects covariance (a 1 x 1 matrix's name unboxed to a string) */
  re: Record<string, { names: string | string[]; vcov: number[][] }>;
  residual: { correlation?: Record<string, number>; varIdent?: Record<string, number> };
  satterthwaiteEquivalent?: { formula: string; logLik: number; df: number[] };
}
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { fits: GoldenLme[] };
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('nlme lme golden fits with residual structures', () => {
  for (const g of golden.fits) {
    it(`${g.id}: ${g.formula} ${g.correlation ?? ''} ${g.weights ?? ''}`, async () => {
      const table = await readTable(`${dir}${g.data}`);
      const m = fit(table, g.formula, { REML: g.REML, correlation: g.correlation, weights: g.weights });
      expect(m.converged).toBe(true);
      expect(m.nobs).toBe(g.nobs);
      expect(m.npar).toBe(g.npar);
      expect(m.fixef.map((r) => r.term)).toEqual(g.fixef.map((r) => r.term));
      m.fixef.forEach((r, j) => {
        const ref = g.fixef[j]!;
        expect(Math.abs(r.estimate - ref.estimate) / ref.se).toBeLessThan(1e-3);
        expect(relErr(r.se, ref.se)).toBeLessThan(1e-3);
      });
      expect(relErr(m.sigma, g.sigma)).toBeLessThan(1e-4);
      expect(Math.abs(m.logLik - g.logLik)).toBeLessThan(1e-3);
      expect(Math.abs(m.AIC - g.AIC)).toBeLessThan(1e-3);
      // nlme counts n - p observations in a REML fit's BIC; gpulmm keeps lme4's n
      const nlmeBIC = m.BIC - m.npar * (Math.log(m.nobs) - Math.log(g.REML ? m.nobs - m.fixef.length : m.nobs));
      expect(Math.abs(nlmeBIC - g.BIC)).toBeLessThan(1e-3);
      // random-effects variances (relative) and covariances (relative to sqrt(var var)), term by term; a
      // pdDiag (||) level is several scalar terms of the same factor
      const ours = new Map<string, number>();
      for (const r of m.varcorr) if (r.grp !== 'Residual') ours.set(`${r.grp.replace(/\.\d+$/, '')}|${r.var1}|${r.var2 ?? r.var1}`, r.vcov);
      for (const [grp, lev] of Object.entries(g.re)) {
        const names = ([] as string[]).concat(lev.names);
        names.forEach((a, i) => {
          names.forEach((b, j) => {
            const ref = lev.vcov[i]![j]!;
            const v = ours.get(`${grp}|${a}|${b}`) ?? ours.get(`${grp}|${b}|${a}`) ?? 0;
            const scale = i === j ? Math.abs(ref) : Math.sqrt(lev.vcov[i]![i]! * lev.vcov[j]![j]!);
            expect(Math.abs(v - ref) / scale, `${grp} ${a} ${b}`).toBeLessThan(1e-4);
          });
        });
      }
      const corr = g.residual.correlation ? Object.values(g.residual.correlation)[0]! : null;
      if (corr === null) expect(m.residual?.correlation ?? null).toBeNull();
      else expect(relErr(m.residual!.correlation!.value, corr)).toBeLessThan(1e-4);
      const ratios = g.residual.varIdent;
      if (ratios) {
        expect(m.residual!.ratios.map((r) => r.stratum)).toEqual(Object.keys(ratios));
        for (const r of m.residual!.ratios) expect(relErr(r.ratio, ratios[r.stratum]!)).toBeLessThan(1e-4);
      } else expect(m.residual?.ratios ?? []).toEqual([]);
      if (g.satterthwaiteEquivalent) {
        m.fixef.forEach((r, j) => expect(relErr(r.df, g.satterthwaiteEquivalent!.df[j]!)).toBeLessThan(1e-2));
      }
    });
  }
});
