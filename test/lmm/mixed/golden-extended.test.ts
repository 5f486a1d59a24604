/**
 * Parity with lme4 1.1-31 / lmerTest on what an lme4 user reaches for after the fit (data/lme4/
 * make-golden-extended.R, golden-extended.json): factor coding (relevel, factor levels, ordered factors, C(),
 * options(contrasts)) with lme4's term names; fixed effects within 1e-3 se, se within 1e-3 relative,
 * Satterthwaite df within 1e-2 relative, logLik within 1e-2; type III F tests (lmerTest's anova): F and sums
 * of squares within 1e-3 relative, denominator df within 1e-2 relative.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { anovaType3, confint, fit, predict, simulate, type ContrastKind, type Family } from '../../../src/lmm/mixed/index.js';

const dir = new URL('../../../data/lme4/', import.meta.url).pathname;
interface CodingFit {
  id: string;
  data: string;
  formula: string;
  family: Family;
  contrasts: [ContrastKind, ContrastKind];
  fixef: { term: string; estimate: number; se: number; df?: number }[];
  logLik: number;
}
interface Type3Fit {
  id: string;
  data: string;
  formula: string;
  contrasts: [ContrastKind, ContrastKind];
  rows: { term: string; sumSq: number; meanSq: number; numDf: number; denDf: number; F: number; p: number }[];
}
const golden = JSON.parse(readFileSync(`${dir}golden-extended.json`, 'utf8')) as { coding: CodingFit[]; type3: Type3Fit[] };
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('factor coding against lme4 (relevel, factor levels, ordered, C(), contrasts option)', () => {
  for (const g of golden.coding) {
    it(`${g.id}: ${g.formula}${g.contrasts[0] !== 'treatment' ? ` [contrasts ${g.contrasts.join(', ')}]` : ''}`, async () => {
      const m = fit(await readTable(`${dir}${g.data}`), g.formula, { family: g.family, contrasts: { unordered: g.contrasts[0], ordered: g.contrasts[1] } });
      expect(m.fixef.map((r) => r.term)).toEqual(g.fixef.map((r) => r.term));
      g.fixef.forEach((ref, j) => {
        const r = m.fixef[j]!;
        expect(Math.abs(r.estimate - ref.estimate) / ref.se, r.term).toBeLessThan(1e-3);
        expect(relErr(r.se, ref.se), r.term).toBeLessThan(1e-3);
        if (ref.df !== undefined) expect(relErr(r.df, ref.df), r.term).toBeLessThan(1e-2);
      });
      expect(Math.abs(m.logLik - g.logLik)).toBeLessThan(1e-2);
    });
  }
});

describe("type III F tests with Satterthwaite df (lmerTest's anova(type = 3))", () => {
  for (const g of golden.type3) {
    it(`${g.id}: ${g.formula}${g.contrasts[0] !== 'treatment' ? ` [contrasts ${g.contrasts.join(', ')}]` : ''}`, async () => {
      const m = fit(await readTable(`${dir}${g.data}`), g.formula, { contrasts: { unordered: g.contrasts[0], ordered: g.contrasts[1] } });
      const rows = anovaType3(m);
      expect(rows.map((r) => [r.term, r.numDf])).toEqual(g.rows.map((r) => [r.term, r.numDf]));
      g.rows.forEach((ref, k) => {
        const r = rows[k]!;
        expect(relErr(r.F, ref.F), r.term).toBeLessThan(1e-3);
        expect(relErr(r.sumSq, ref.sumSq), r.term).toBeLessThan(1e-3);
        expect(relErr(r.denDf, ref.denDf), r.term).toBeLessThan(1e-2);
        expect(Math.abs(Math.log10(r.p) - Math.log10(ref.p)), r.term).toBeLessThan(1e-3 * Math.max(1, -Math.log10(ref.p)));
      });
    });
  }
});

interface PredictCase { id: string; data: string; newdata: string; formula: string; family: Family; fit: number[]; population: number[]; sePopulation: number[]; mu?: number[] }
interface SimCase { id: string; data: string; formula: string; family: Family; nsim: number; mean: number[]; var: number[]; exactMean?: number[]; exactVar?: number[] }
interface IntervalCase { id: string; data: string; formula: string; profile: { parm: string; lower: number | null; upper: number | null }[]; wald: { parm: string; lower: number | null; upper: number | null }[] }
const extra = golden as unknown as { predictions: PredictCase[]; simulations: SimCase[]; intervals: IntervalCase[] };

describe('predict for new data (re.form = NULL with new levels at the population, re.form = NA, se of the fixed part)', () => {
  for (const g of extra.predictions) {
    it(`${g.id}: ${g.formula}`, async () => {
      const m = fit(await readTable(`${dir}${g.data}`), g.formula, { family: g.family });
      const pr = predict(m, await readTable(`${dir}${g.newdata}`));
      g.fit.forEach((ref, i) => {
        // the fit matches lme4 to 1e-3 se in beta (and the BLUPs as closely): predictions to 2e-3 of the fixed part's se
        const tol = 2e-3 * g.sePopulation[i]!;
        expect(Math.abs(pr.fit[i]! - ref), `fit ${i}`).toBeLessThan(tol);
        expect(Math.abs(pr.population[i]! - g.population[i]!), `population ${i}`).toBeLessThan(tol);
        expect(relErr(pr.sePopulation[i]!, g.sePopulation[i]!), `se ${i}`).toBeLessThan(1e-3);
        if (g.mu) expect(Math.abs(pr.mu![i]! - g.mu[i]!), `mu ${i}`).toBeLessThan(tol);
      });
    });
  }
  it('a level the fit has not seen: population prediction, reported per row; an unknown fixed-effect level is an error', async () => {
    const m = fit(await readTable(`${dir}sleepstudy.csv`), 'Reaction ~ Days + (Days | Subject)');
    const pr = predict(m, { Days: [1, 1], Subject: ['308', 'nobody'] });
    expect(pr.newLevels).toEqual([[], ['Subject']]);
    expect(pr.fit[1]).toBe(pr.population[1]);
    const o = fit(await readTable(`${dir}Orthodont.csv`), 'distance ~ age * Sex + (1 | Subject)');
    expect(() => predict(o, { age: [8], Sex: ['Other'], Subject: ['M01'] })).toThrow(/Sex has the level 'Other' at row 1, which the fit did not have \(levels: Female, Male\)/);
  });
});

describe('simulate: moments of simulated responses (re.form = NA)', () => {
  for (const g of extra.simulations) {
    it(`${g.id}: ${g.formula} (${g.nsim} draws)`, async () => {
      const m = fit(await readTable(`${dir}${g.data}`), g.formula, { family: g.family });
      const sims = simulate(m, g.nsim, 7);
      const n = m.nobs;
      for (let i = 0; i < n; i++) {
        let s = 0;
        let ss = 0;
        for (const y of sims) {
          s += y[i]!;
          ss += y[i]! * y[i]!;
        }
        const mean = s / g.nsim;
        const v = (ss - g.nsim * mean * mean) / (g.nsim - 1);
        // 5 Monte Carlo standard errors: against the exact moments (gaussian) or R's simulated ones
        const refMean = g.exactMean?.[i] ?? g.mean[i]!;
        const refVar = g.exactVar?.[i] ?? g.var[i]!;
        const k = g.exactMean ? 1 : 2;
        expect(Math.abs(mean - refMean), `mean ${i}`).toBeLessThan(5 * Math.sqrt((k * Math.max(refVar, 1e-12)) / g.nsim) + 1e-9);
        expect(Math.abs(v - refVar), `var ${i}`).toBeLessThan(5 * refVar * Math.sqrt((2 * k) / (g.nsim - 1)) + 1e-9);
      }
      expect(simulate(m, 2, 7)[1]).toEqual(sims[1]);
    });
  }
});

describe('confidence intervals: profile likelihood and Wald (confint.merMod)', () => {
  for (const g of extra.intervals) {
    it(`${g.id}: ${g.formula}`, async () => {
      const m = fit(await readTable(`${dir}${g.data}`), g.formula);
      for (const [method, rows] of [['profile', g.profile], ['Wald', g.wald]] as const) {
        const ours = confint(m, method);
        expect(ours.map((r) => r.parm)).toEqual(rows.map((r) => r.parm));
        rows.forEach((ref, k) => {
          for (const end of ['lower', 'upper'] as const) {
            const v = ours[k]![end];
            if (ref[end] === null) expect(v, `${method} ${ref.parm} ${end}`).toBeNaN();
            else expect(Math.abs(v - ref[end]!), `${method} ${ref.parm} ${end}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref[end]!)));
          }
        });
      }
    });
  }
});
