/** Formula parsing and term expansion against R's terms() / lme4's findbars conventions. */
import { describe, expect, it } from 'vitest';
import { FormulaError, parseFormula } from '../../../src/lmm/mixed/index.js';
import { expectThrown } from '../../helpers/errors.js';

const labels = (f: ReturnType<typeof parseFormula>) => f.fixed.terms.map((t) => t.map((v) => v.label).join(':'));

describe('parseFormula', () => {
  it('expands a*b, orders terms by degree and keeps the intercept', () => {
    const f = parseFormula('y ~ a:b + a*c');
    expect(f.fixed.intercept).toBe(true);
    expect(labels(f)).toEqual(['a', 'c', 'a:b', 'a:c']);
  });
  it('removes the intercept with 0 + or - 1', () => {
    expect(parseFormula('y ~ 0 + x').fixed.intercept).toBe(false);
    expect(parseFormula('y ~ x - 1').fixed.intercept).toBe(false);
    expect(parseFormula('y ~ -1 + x').fixed.intercept).toBe(false);
  });
  it('expands a/b to a + a:b and x - x removes a term', () => {
    expect(labels(parseFormula('y ~ a/b'))).toEqual(['a', 'a:b']);
    expect(labels(parseFormula('y ~ a*b - a:b'))).toEqual(['a', 'b']);
  });
  it('reads random terms: correlated, uncorrelated (||), nested and interaction grouping', () => {
    const f = parseFormula('y ~ x + (x | g) + (x || h) + (1 | a/b) + (1 | c:d)');
    expect(labels(f)).toEqual(['x']);
    expect(f.random.map((r) => [r.groupName, r.design.intercept, r.design.terms.length])).toEqual([
      ['g', true, 1],
      ['h', true, 0],
      ['h', false, 1],
      ['b:a', true, 0],
      ['a', true, 0],
      ['c:d', true, 0],
    ]);
  });
  it('reads offset(), factor() and cbind responses with differences', () => {
    const f = parseFormula('cbind(s, n - s) ~ factor(period) + offset(lt) + (1 | herd)');
    expect(f.response).toEqual({ kind: 'cbind', successes: [{ name: 's', sign: 1 }], failures: [{ name: 'n', sign: 1 }, { name: 's', sign: -1 }] });
    expect(labels(f)).toEqual(['factor(period)']);
    expect(f.fixed.terms[0]![0]!.forceFactor).toBe(true);
    expect(f.offsets).toEqual(['lt']);
  });
  it('points at the offending position', () => {
    const cases: [string, number][] = [
      ['y ~ x + (1 | g', 14],
      ['y ~ x + * z', 8],
      ['y ~ x $ z', 6],
      ['~ x', 0],
      ['y ~ log(x)', 4],
      ['y ~ 2 + x', 4],
    ];
    for (const [text, pos] of cases) {
      const err = expectThrown(() => parseFormula(text), FormulaError, text);
      expect(err.position, text).toBe(pos);
      expect(err.message).toContain(`position ${pos + 1}`);
    }
  });
});
