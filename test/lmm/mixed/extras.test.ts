/** anova (LRT with ML refits), Nakagawa R2 / ICC and the within/between split against lme4 golden values. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { anova, fit, r2Nakagawa, splitWithinBetween } from '../../../src/lmm/mixed/index.js';

const dir = new URL('../../../data/lme4/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8'));

describe('anova', () => {
  it('refits REML models with ML and matches lme4 anova(m0, m1)', async () => {
    const g = golden.anova[0];
    const table = await readTable(`${dir}${g.data}`);
    const m0 = fit(table, g.models[0]);
    const m1 = fit(table, g.models[1]);
    const a = anova(m1, m0);
    expect(a.refitted).toBe(true);
    expect(a.rows.map((r) => r.npar)).toEqual(g.npar);
    a.rows.forEach((r, i) => expect(Math.abs(r.logLik - g.logLik[i])).toBeLessThan(1e-2));
    expect(Math.abs(a.rows[1]!.Chisq! - g.Chisq)).toBeLessThan(2e-2);
    expect(a.rows[1]!.Df).toBe(g.Df);
    expect(Math.abs(Math.log(a.rows[1]!.p!) - Math.log(g.p))).toBeLessThan(1e-2);
  });
});

describe('r2Nakagawa', () => {
  for (const id of ['sleepstudy', 'penicillin', 'unbalanced']) {
    it(`${id}: marginal, conditional R2 and ICC`, async () => {
      const g = golden.fits.find((f: { id: string }) => f.id === id);
      const m = fit(await readTable(`${dir}${g.data}`), g.formula);
      const r = r2Nakagawa(m);
      expect(Math.abs(r.marginal - g.r2.marginal)).toBeLessThan(1e-4);
      expect(Math.abs(r.conditional - g.r2.conditional)).toBeLessThan(1e-4);
      expect(Math.abs(r.icc - g.r2.icc)).toBeLessThan(1e-4);
    });
  }
});

describe('splitWithinBetween', () => {
  it('group means and deviations, missing values excluded', () => {
    const { between, within } = splitWithinBetween([1, 3, null, 10, 20], ['a', 'a', 'a', 'b', 'b']);
    expect(Array.from(between)).toEqual([2, 2, NaN, 15, 15]);
    expect(Array.from(within)).toEqual([-1, 1, NaN, -5, 5]);
  });
  it('with the group mean as a predictor, the within coefficient is the within-group slope', () => {
    const g: string[] = [];
    const x: number[] = [];
    const y: number[] = [];
    for (let k = 0; k < 12; k++) for (let i = 0; i < 6; i++) {
      g.push(`g${k}`);
      const xv = k + 0.37 * i + ((k * 7 + i * 3) % 5) * 0.11;
      x.push(xv);
      y.push(2 + 0.5 * xv + 1.5 * k + Math.sin(k * 13 + i * 5));
    }
    const { between, within } = splitWithinBetween(x, g);
    const m = fit({ y, xb: between, xw: within, g }, 'y ~ xb + xw + (1 | g)');
    expect(m.fixef.map((r) => r.term)).toEqual(['(Intercept)', 'xb', 'xw']);
    // Mundlak: with the group mean in the model, the within coefficient is the within-group OLS slope
    const yw = splitWithinBetween(y, g).within;
    let sxy = 0;
    let sxx = 0;
    within.forEach((v, i) => {
      sxy += v * yw[i]!;
      sxx += v * v;
    });
    expect(m.fixef[2]!.estimate).toBeCloseTo(sxy / sxx, 8);
  });
});

describe('offset in a linear mixed model', () => {
  it('fits as the response minus the offset', async () => {
    const t = await readTable(`${dir}sleepstudy.csv`);
    const cols: Record<string, (string | number)[]> = {};
    t.header.forEach((h, j) => (cols[h] = t.rows.map((r) => r[j]!)));
    const off = cols.Days!.map((d) => 3 * Number(d) + 1);
    const a = fit({ ...cols, off }, 'Reaction ~ Days + offset(off) + (Days | Subject)');
    const b = fit({ ...cols, Reaction: cols.Reaction!.map((v, i) => Number(v) - off[i]!) }, 'Reaction ~ Days + (Days | Subject)');
    expect(a.REMLcrit).toBeCloseTo(b.REMLcrit!, 6);
    expect(a.fixef[1]!.estimate).toBeCloseTo(b.fixef[1]!.estimate, 6);
  });
});

describe('binomial factor response', () => {
  it('a two-level text response is 0 for its first level and 1 for the other, as glm; gaussian fits still need numbers', async () => {
    const t = await readTable(new URL('../../../data/lme4/binsim.csv', import.meta.url).pathname);
    const yi = t.header.indexOf('y');
    const words = { ...t, rows: t.rows.map((r) => r.map((v, j) => (j === yi ? (v === '1' ? 'yes' : 'no') : v))) };
    const a = fit(t, 'y ~ x + (1 | g)', { family: 'binomial' });
    const b = fit(words, 'y ~ x + (1 | g)', { family: 'binomial' });
    expect(b.fixef.map((r) => r.estimate)).toEqual(a.fixef.map((r) => r.estimate));
    expect(() => fit(words, 'y ~ x + (1 | g)')).toThrow(/response column 'y' must be numeric: found '(yes|no)'/);
  });
});

