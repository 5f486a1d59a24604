/** Finite-difference Hessians: lme4's deriv12 stencil (centralHessian) on functions with known Hessians. */
import { describe, expect, it } from 'vitest';
import { centralHessian, invertSmall } from '../../../src/lmm/mixed/numeric-derivatives.js';

describe('centralHessian', () => {
  it('is exact up to rounding on a quadratic, with or without f(x) given', () => {
    // f(x) = x'Ax/2 + b'x with A symmetric: Hessian A
    const A = [4, 1, -0.5, 1, 3, 0.25, -0.5, 0.25, 2];
    const f = (x: number[]) => {
      let s = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += 0.5 * x[i]! * A[i + j * 3]! * x[j]!;
      return s + x[0]! - 2 * x[2]!;
    };
    const x = [0.3, -1.2, 2.5];
    for (const H of [centralHessian(f, x, 1e-4), centralHessian(f, x, 1e-4, f(x))]) {
      H.forEach((v, k) => expect(Math.abs(v - A[k]!)).toBeLessThan(1e-6));
    }
  });
  it('has O(delta^2) error on a smooth non-quadratic function', () => {
    // f(x, y) = exp(x) sin(y): Hessian [[e^x sin y, e^x cos y], [e^x cos y, -e^x sin y]]
    const f = (v: number[]) => Math.exp(v[0]!) * Math.sin(v[1]!);
    const [x, y] = [0.4, 0.9];
    const exact = [Math.exp(x) * Math.sin(y), Math.exp(x) * Math.cos(y), Math.exp(x) * Math.cos(y), -Math.exp(x) * Math.sin(y)];
    const err = (delta: number) => Math.max(...Array.from(centralHessian(f, [x, y], delta), (v, k) => Math.abs(v - exact[k]!)));
    expect(err(1e-2)).toBeLessThan(1e-4);
    // halving the step quarters the truncation error
    expect(err(1e-2) / err(5e-3)).toBeGreaterThan(3.5);
    expect(err(1e-2) / err(5e-3)).toBeLessThan(4.5);
  });
  it('rejects a non-positive step', () => {
    expect(() => centralHessian((v) => v[0]!, [1], 0)).toThrow(/step must be positive/);
  });
});

describe('invertSmall', () => {
  it('inverts a symmetric positive-definite matrix and reports a singular one', () => {
    const a = new Float64Array([4, 1, 1, 3]);
    const inv = invertSmall(a, 2);
    const det = 4 * 3 - 1;
    [3 / det, -1 / det, -1 / det, 4 / det].forEach((v, k) => expect(Math.abs(inv[k]! - v)).toBeLessThan(1e-15));
    expect(() => invertSmall(new Float64Array([1, 2, 2, 4]), 2)).toThrow(/singular/);
  });
});
