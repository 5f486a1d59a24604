/** Factor codings: contrast matrices as R's contr.* build them, formula syntax, labels (R's deparse) and errors. */
import { describe, expect, it } from 'vitest';
import { contrastMatrix, DataError, fit, FormulaError, parseFormula } from '../../../src/lmm/mixed/index.js';
import { expectThrown } from '../../helpers/errors.js';

const cols = (kind: Parameters<typeof contrastMatrix>[0], k: number) => {
  const m = contrastMatrix(kind, Array.from({ length: k }, (_, i) => `l${i + 1}`));
  return m.names.map((name, j) => [name, Array.from(m.values.subarray(j * k, (j + 1) * k))] as const);
};

describe('contrast matrices (R 4.2 contr.treatment / contr.sum / contr.helmert / contr.poly, k = 4)', () => {
  it('treatment, sum and helmert', () => {
    expect(cols('treatment', 4)).toEqual([['l2', [0, 1, 0, 0]], ['l3', [0, 0, 1, 0]], ['l4', [0, 0, 0, 1]]]);
    expect(cols('sum', 4)).toEqual([['1', [1, 0, 0, -1]], ['2', [0, 1, 0, -1]], ['3', [0, 0, 1, -1]]]);
    expect(cols('helmert', 4)).toEqual([['1', [-1, 1, 0, 0]], ['2', [-1, -1, 2, 0]], ['3', [-1, -1, -1, 3]]]);
  });
  it('poly: R prints contr.poly(4) to 7 digits as these', () => {
    const ref: [string, number[]][] = [
      ['.L', [-0.6708204, -0.2236068, 0.2236068, 0.6708204]],
      ['.Q', [0.5, -0.5, -0.5, 0.5]],
      ['.C', [-0.2236068, 0.6708204, -0.6708204, 0.2236068]],
    ];
    cols('poly', 4).forEach(([name, v], j) => {
      expect(name).toBe(ref[j]![0]);
      v.forEach((x, l) => expect(Math.abs(x - ref[j]![1][l]!)).toBeLessThan(5e-8));
    });
    expect(cols('poly', 6).map(([name]) => name)).toEqual(['.L', '.Q', '.C', '^4', '^5']);
  });
});

describe('factor-coding syntax', () => {
  const label = (text: string) => parseFormula(text).fixed.terms[0]![0]!.label;
  it("labels coded variables with R's deparse (double quotes, ', ' and ' = ')", () => {
    expect(label(`y ~ relevel(Sex,'Male') + (1 | g)`)).toBe('relevel(Sex, "Male")');
    expect(label('y ~ relevel(Sex, ref="Male") + (1 | g)')).toBe('relevel(Sex, ref = "Male")');
    expect(label('y ~ factor(dose, levels=c(10,5, 1.50)) + (1 | g)')).toBe('factor(dose, levels = c(10, 5, 1.5))');
    expect(label('y ~ C(relevel(factor(x), "b"), contr.sum) + (1 | g)')).toBe('C(relevel(factor(x), "b"), contr.sum)');
    expect(parseFormula('y ~ C(relevel(factor(x), "b"), sum) + (1 | g)').fixed.terms[0]![0]!.coding).toEqual([
      { kind: 'relevel', ref: 'b' },
      { kind: 'contrasts', contrasts: 'sum' },
    ]);
  });
  it('points at bad codings', () => {
    const cases: [string, number, RegExp][] = [
      ['y ~ C(x, fancy) + (1 | g)', 9, /contrasts must be one of/],
      ['y ~ relevel(x) + (1 | g)', 4, /needs the reference level/],
      ['y ~ factor(x, levels = c("a", "a")) + (1 | g)', 14, /lists "a" twice/],
      ['y ~ factor(x, labels = c("a")) + (1 | g)', 14, /no argument 'labels'/],
      ['y ~ relevel(x, "a) + (1 | g)', 15, /unterminated string/],
      ['y ~ factor("x") + (1 | g)', 11, /needs a column name/],
    ];
    for (const [text, pos, msg] of cases) {
      const err = expectThrown(() => parseFormula(text), FormulaError, text);
      expect(err.position, text).toBe(pos);
      expect(err.message, text).toMatch(msg);
    }
  });
  it('data errors: an unknown reference level, relevel of an ordered factor', () => {
    const data = { y: [1, 2, 3, 4, 5, 6], x: ['a', 'b', 'a', 'b', 'a', 'b'], g: ['1', '1', '2', '2', '3', '3'] };
    expect(() => fit(data, 'y ~ relevel(x, "c") + (1 | g)')).toThrow(DataError);
    expect(() => fit(data, 'y ~ relevel(x, "c") + (1 | g)')).toThrow(/'c' is not a level of x \(levels: a, b\)/);
    expect(() => fit(data, 'y ~ relevel(ordered(x), "b") + (1 | g)')).toThrow(/only applies to unordered factors/);
  });
  it('values outside factor(x, levels = ...) are missing, with a message', () => {
    const data = { y: [1, 2, 3, 4, 5, 6, 7, 8], x: ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b'], g: ['1', '1', '2', '2', '3', '3', '4', '4'] };
    const m = fit(data, 'y ~ factor(x, levels = c("b", "a")) + (1 | g)');
    expect(m.nobs).toBe(6);
    expect(m.messages.join('\n')).toMatch(/2 rows of factor\(x, levels = c\("b", "a"\)\) have a value outside its levels/);
    expect(m.fixef.map((r) => r.term)).toEqual(['(Intercept)', 'factor(x, levels = c("b", "a"))a']);
  });
});
