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
import { anovaType3, fit, type ContrastKind, type Family } from '../../../src/lmm/mixed/index.js';

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
