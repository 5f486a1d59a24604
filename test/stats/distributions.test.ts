import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  chi2Log10Survival,
  chi2Quantile,
  chi2Survival,
  fLog10Survival,
  fSurvival,
  logGamma,
  normalQuantile,
  normalSurvival,
  tLog10Survival2,
  tSurvival2,
} from '../../src/stats/distributions.js';

/** Goldens from R (data/stats/make-golden.R). */
interface TailCase {
  fn: 'f' | 'chi2' | 't2' | 'normal' | 'qnorm' | 'qchisq';
  args: number[];
  p: number | null;
  lnp: number | null;
}
const golden = JSON.parse(readFileSync(new URL('../../data/stats/golden.json', import.meta.url), 'utf8')) as {
  tails: TailCase[];
};

const tails: Record<string, [(...a: number[]) => number, ((...a: number[]) => number) | null]> = {
  f: [(x, d1, d2) => fSurvival(x, d1, d2), (x, d1, d2) => fLog10Survival(x, d1, d2)],
  chi2: [(x, df) => chi2Survival(x, df), (x, df) => chi2Log10Survival(x, df)],
  t2: [(t, df) => tSurvival2(t, df), (t, df) => tLog10Survival2(t, df)],
  normal: [(z) => normalSurvival(z), null],
  qnorm: [(p) => normalQuantile(p), null],
  qchisq: [(p, df, lower) => chi2Quantile(p, df, lower === 1), null],
};

function relErr(got: number, want: number): number {
  return want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
}

describe('distribution tails against R', () => {
  for (const fn of Object.keys(tails)) {
    const cases = golden.tails.filter((c) => c.fn === fn);
    it(`${fn}: ${cases.length} cases, relative error <= 1e-10 where p > 1e-300`, () => {
      const [value] = tails[fn]!;
      let checked = 0;
      for (const c of cases) {
        if (c.p === null || (fn !== 'qnorm' && fn !== 'qchisq' && c.p <= 1e-300)) continue;
        const got = value(...c.args);
        expect(relErr(got, c.p), `${fn}(${c.args.join(', ')}) = ${got}, R ${c.p}`).toBeLessThanOrEqual(1e-10);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
    if (tails[fn]![1] || fn === 'normal') {
      it(`${fn}: |log10 p| error <= 1e-8 including tails below the f64 range`, () => {
        let deep = 0;
        for (const c of cases) {
          if (c.lnp === null) continue;
          const got = fn === 'normal' ? Math.log10(normalSurvival(c.args[0]!)) : tails[fn]![1]!(...c.args);
          if (fn === 'normal' && c.lnp < -700) continue; // normalSurvival has no log form
          const want = c.lnp / Math.LN10;
          expect(Math.abs(got - want), `log10 ${fn}(${c.args.join(', ')}) = ${got}, R ${want}`).toBeLessThanOrEqual(1e-8);
          if (want < -308) deep++;
        }
        if (fn !== 'normal') expect(deep).toBeGreaterThan(0);
      });
    }
  }
});

describe('distribution edge cases', () => {
  it('chi2 = 5000 on 1 df and F(1, 1400) = 1e5 stay finite in log10', () => {
    const l = chi2Log10Survival(5000, 1);
    expect(Number.isFinite(l) && l < -1000).toBe(true);
    expect(chi2Survival(5000, 1)).toBe(0);
    expect(Number.isFinite(fLog10Survival(1e5, 1, 1400))).toBe(true);
  });
  it('limits: x <= 0, Infinity, infinite df', () => {
    expect(fSurvival(0, 3, 4)).toBe(1);
    expect(chi2Survival(-1, 2)).toBe(1);
    expect(chi2Survival(Infinity, 2)).toBe(0);
    expect(tSurvival2(0, 7)).toBeCloseTo(1, 15);
    expect(relErr(tSurvival2(2.5, Infinity), 2 * normalSurvival(2.5))).toBeLessThan(1e-14);
    expect(relErr(fSurvival(2.5, 3, Infinity), chi2Survival(7.5, 3))).toBeLessThan(1e-14);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(chi2Quantile(0, 3)).toBe(0);
    expect(chi2Quantile(1, 3)).toBe(Infinity);
  });
  it('quantiles invert the tails', () => {
    for (const df of [0.5, 1, 4.2, 50]) {
      for (const x of [1e-6, 0.3, 2, 40, 1000]) {
        const q = chi2Survival(x, df);
        if (q > 0 && q < 0.999) expect(relErr(chi2Quantile(q, df, false), x)).toBeLessThan(1e-12);
        const p = 1 - q;
        if (q > 1e-3 && q < 0.999) expect(relErr(chi2Quantile(p, df), x)).toBeLessThan(1e-12);
      }
    }
    for (const z of [-30, -5, -0.1, 0.7, 2.5]) expect(relErr(normalQuantile(normalSurvival(-z)), z)).toBeLessThan(1e-13);
  });
  it('NaN statistic gives NaN; invalid parameters throw', () => {
    expect(fSurvival(NaN, 1, 2)).toBeNaN();
    expect(tLog10Survival2(NaN, 2)).toBeNaN();
    expect(() => fSurvival(1, 0, 2)).toThrow(RangeError);
    expect(() => chi2Survival(1, -1)).toThrow(/degrees of freedom/);
    expect(() => chi2Log10Survival(1, NaN)).toThrow(RangeError);
    expect(() => tSurvival2(1, 0)).toThrow(RangeError);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => chi2Quantile(-0.1, 1)).toThrow(RangeError);
    expect(() => logGamma(0)).toThrow(RangeError);
  });
  it('logGamma matches factorials', () => {
    expect(relErr(logGamma(11), Math.log(3628800))).toBeLessThan(1e-14);
    expect(relErr(logGamma(0.5), 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
  });
});

/** mpmath goldens (data/stats/make-golden-mpmath.py) where R 4.2 itself is inaccurate. */
const mp = JSON.parse(readFileSync(new URL('../../data/stats/golden-mpmath.json', import.meta.url), 'utf8')) as {
  f_log10: { args: [number, number, number]; log10p: string }[];
  qchisq_upper: { args: [number, number]; x: string }[];
};

describe('against mpmath where R loses accuracy', () => {
  it(`F log10 tails (${mp.f_log10.length} cases, |error| <= 1e-8)`, () => {
    for (const c of mp.f_log10) {
      const got = fLog10Survival(...c.args);
      expect(Math.abs(got - Number(c.log10p)), `F(${c.args.join(', ')}): ${got} vs ${c.log10p}`).toBeLessThanOrEqual(1e-8);
    }
  });
  it(`chi-square upper quantiles at tiny q (${mp.qchisq_upper.length} cases, relative error <= 1e-13)`, () => {
    for (const c of mp.qchisq_upper) {
      const got = chi2Quantile(c.args[0], c.args[1], false);
      expect(relErr(got, Number(c.x)), `qchisq(${c.args.join(', ')}, upper): ${got} vs ${c.x}`).toBeLessThanOrEqual(1e-13);
    }
  });
});
