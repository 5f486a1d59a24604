/**
 * Parity with R's nlme on the nonlinear fits of data/nlme/make-golden.R (golden.json): Theoph with SSfol
 * (diagonal and general random-effects covariance, weight on clearance, the same model as a plain expression) and
 * Orange with a logistic expression. Against nlme's default run (tolerance 1e-5, the numbers a user sees) the
 * issue's targets: fixed effects within 1e-3 relative, se within 1e-3 relative, logLik within 1e-3. Against nlme
 * run to tight tolerances (the same fixed point, converged): fixed effects within 1e-6, se and sigma within
 * 1e-5, variance parameters within 1e-4 relative, logLik within 1e-5, random effects within 1e-4 of their SD;
 * nlme's containment df and summary standard errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { nlmeFit } from '../../../src/lmm/nonlinear/index.js';

const dir = new URL('../../../data/nlme/', import.meta.url).pathname;
interface NlmeNumbers {
  fixef: { term: string; estimate: number; se: number; summarySe: number; df: number; t: number; p: number }[];
  sigma: number;
  logLik: number;
  AIC: number;
  BIC: number;
  nobs: number;
  re: Record<string, { names: string | string[]; vcov: number[][] }>;
  ranef: Record<string, number[]>;
}
interface GoldenNlme extends NlmeNumbers {
  id: string;
  data: string;
  model: string;
  fixed: string[];
  random: string;
  start: Record<string, number>;
  tight: NlmeNumbers & { tolerance: number };
}
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { nlme: GoldenNlme[] };
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('nlme golden fits', () => {
  for (const g of golden.nlme) {
    it(`${g.id}: ${g.model}`, async () => {
      const [random, cov] = g.random.split(', ');
      const m = nlmeFit(await readTable(`${dir}${g.data}`), g.model, { fixed: g.fixed, random: random!, covariance: cov === 'symm' ? 'symm' : 'diag', start: g.start });
      expect(m.converged).toBe(true);
      expect(m.nobs).toBe(g.nobs);
      expect(m.fixef.map((r) => r.term)).toEqual(g.fixef.map((r) => r.term));
      const p = m.fixef.length;
      const se = m.fixef.map((_, j) => Math.sqrt(m.vcov[j + j * p]!));
      // nlme's default run: the targets
      m.fixef.forEach((r, j) => {
        expect(relErr(r.estimate, g.fixef[j]!.estimate)).toBeLessThan(1e-3);
        expect(relErr(se[j]!, g.fixef[j]!.se)).toBeLessThan(1e-3);
        expect(r.df).toBe(g.fixef[j]!.df);
      });
      expect(Math.abs(m.logLik - g.logLik)).toBeLessThan(1e-3);
      // the converged fixed point
      const t = g.tight;
      m.fixef.forEach((r, j) => {
        expect(relErr(r.estimate, t.fixef[j]!.estimate)).toBeLessThan(1e-6);
        expect(relErr(se[j]!, t.fixef[j]!.se)).toBeLessThan(1e-5);
        expect(relErr(r.se, t.fixef[j]!.summarySe)).toBeLessThan(1e-5);
        expect(r.df).toBe(t.fixef[j]!.df);
        expect(Math.abs(r.p - t.fixef[j]!.p)).toBeLessThan(1e-4 * Math.max(t.fixef[j]!.p, 1e-12) + 1e-12);
      });
      expect(relErr(m.sigma, t.sigma)).toBeLessThan(1e-5);
      expect(Math.abs(m.logLik - t.logLik)).toBeLessThan(1e-5);
      expect(Math.abs(m.AIC - t.AIC)).toBeLessThan(1e-5);
      expect(Math.abs(m.BIC - t.BIC)).toBeLessThan(1e-5);
      const re = Object.values(t.re)[0]!;
      const q = m.randomNames.length;
      expect(([] as string[]).concat(re.names)).toEqual(m.randomNames);
      for (let a = 0; a < q; a++) {
        for (let b = 0; b < q; b++) {
          const scale = Math.sqrt(re.vcov[a]![a]! * re.vcov[b]![b]!);
          expect(Math.abs(m.reCovariance[a + b * q]! - re.vcov[a]![b]!) / scale).toBeLessThan(1e-4);
        }
      }
      m.randomNames.forEach((nm, r) => {
        const sd = Math.sqrt(re.vcov[r]![r]!);
        t.ranef[nm]!.forEach((v, l) => expect(Math.abs(m.ranef.values[l * q + r]! - v) / sd).toBeLessThan(1e-4));
      });
    });
  }
});
