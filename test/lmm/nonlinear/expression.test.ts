/** The nonlinear model expression parser/evaluator: R's precedence, exact derivatives, macros, clear errors. */
import { describe, expect, it } from 'vitest';
import { CompiledExpression, ExpressionError, expressionVariables, parseExpression } from '../../../src/lmm/nonlinear/index.js';

const value = (text: string, vars: Record<string, number> = {}) => {
  const root = parseExpression(text);
  const params = Object.keys(vars);
  const e = new CompiledExpression(text, root, params, []);
  return e.evaluate(params.map((k) => Float64Array.of(vars[k]!)), new Map(), 1).value[0]!;
};

describe('expression parser', () => {
  it("follows R's precedence and associativity", () => {
    expect(value('-2^2')).toBe(-4);
    expect(value('2^3^2')).toBe(512);
    expect(value('2**3')).toBe(8);
    expect(value('1 - 2 - 3')).toBe(-4);
    expect(value('8 / 4 / 2')).toBe(1);
    expect(value('2 * 3 + 4 * 5')).toBe(26);
    expect(value('-(1 + 2) * +3')).toBe(-9);
    expect(value('1.5e1 + .5')).toBe(15.5);
    expect(value('exp(log(3)) + sqrt(16) + abs(-2) + expm1(0) + log1p(0)')).toBeCloseTo(9, 14);
  });
  it('expands SSfol and SSlogis to their formulas', () => {
    const v = { lKe: -2.4, lKa: 0.45, lCl: -3.2 };
    const byHand = 4.02 * Math.exp(v.lKe + v.lKa - v.lCl) * (Math.exp(-Math.exp(v.lKe) * 3) - Math.exp(-Math.exp(v.lKa) * 3)) / (Math.exp(v.lKa) - Math.exp(v.lKe));
    expect(value('SSfol(4.02, 3, lKe, lKa, lCl)', v)).toBeCloseTo(byHand, 13);
    expect(value('SSlogis(700, 190, 720, 340)')).toBeCloseTo(190 / (1 + Math.exp((720 - 700) / 340)), 13);
    expect(expressionVariables(parseExpression('SSfol(Dose, Time, a, b, c)'))).toEqual(['Dose', 'a', 'b', 'c', 'Time']);
  });
  it('derivatives are exact: forward mode against central differences on many rows', () => {
    const text = 'Dose * exp(lKe + lKa - lCl) * (exp(-exp(lKe) * t) - exp(-exp(lKa) * t)) / (exp(lKa) - exp(lKe)) + sin(lCl * t) ^ 2 / (1 + t ^ lKa) - log(abs(lKe)) + tan(0.1 * lKa) + sqrt(t + exp(lCl))';
    const params = ['lKe', 'lKa', 'lCl'];
    const e = new CompiledExpression(text, parseExpression(text), params, ['Dose', 't']);
    const n = 7;
    const at = [Float64Array.from({ length: n }, (_, i) => -2.5 + 0.1 * i), Float64Array.from({ length: n }, (_, i) => 0.4 + 0.05 * i), Float64Array.from({ length: n }, (_, i) => -3 - 0.1 * i)];
    const data = new Map([['Dose', Float64Array.from({ length: n }, (_, i) => 3 + i)], ['t', Float64Array.from({ length: n }, (_, i) => 0.25 + 2 * i)]]);
    const r = e.evaluate(at, data, n);
    for (let k = 0; k < 3; k++) {
      const h = 1e-6;
      const up = at.map((a, j) => (j === k ? a.map((v) => v + h) : a));
      const dn = at.map((a, j) => (j === k ? a.map((v) => v - h) : a));
      const fu = e.evaluate(up, data, n).value;
      const fd = e.evaluate(dn, data, n).value;
      for (let i = 0; i < n; i++) expect(r.gradient[k]![i]).toBeCloseTo((fu[i]! - fd[i]!) / (2 * h), 6);
    }
  });
  it('a parameter the expression does not use has a zero derivative', () => {
    const e = new CompiledExpression('a * x', parseExpression('a * x'), ['a', 'b'], ['x']);
    const r = e.evaluate([Float64Array.of(2), Float64Array.of(3)], new Map([['x', Float64Array.of(5)]]), 1);
    expect(Array.from(r.gradient[0]!)).toEqual([5]);
    expect(Array.from(r.gradient[1]!)).toEqual([0]);
  });
  it('rejects what it does not know, with the position', () => {
    expect(() => parseExpression('a + ')).toThrow(ExpressionError);
    expect(() => parseExpression('a + ')).toThrow(/ends too early/);
    expect(() => parseExpression('a $ b')).toThrow(/position 3: unexpected character '\$'/);
    expect(() => parseExpression('eval(a)')).toThrow(/unknown function 'eval'/);
    expect(() => parseExpression('SSfol(a, b)')).toThrow(/SSfol\(Dose, input, lKe, lKa, lCl\) takes 5 arguments, got 2/);
    expect(() => parseExpression('exp(a, b)')).toThrow(/exp\(\) takes one argument/);
    expect(() => parseExpression('(a + b')).toThrow(/expected '\)'/);
    expect(() => parseExpression('a b')).toThrow(/unexpected 'b'/);
    expect(() => new CompiledExpression('a * w', parseExpression('a * w'), ['a'], ['x', 'y'])).toThrow(/'w' is neither a parameter \(a\) nor a data column \(x, y\)/);
  });
});
