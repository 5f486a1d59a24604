/** The bounded model-based optimiser on functions with known minima, interior and on a bound. */
import { describe, expect, it } from 'vitest';
import { minimizeModelBased } from '../../../src/lmm/mixed/optimizer.js';

describe('minimizeModelBased', () => {
  it('finds an interior minimum of a non-quadratic function', () => {
    // Rosenbrock-like valley, minimum at (1, 1)
    const f = (x: number[]) => (1 - x[0]!) ** 2 + 10 * (x[1]! - x[0]! ** 2) ** 2 + 0.1 * (x[0]! - 1) ** 4;
    const r = minimizeModelBased(f, [-0.5, 1.5], { lower: [-Infinity, -Infinity], rhoEnd: 1e-8 });
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 5);
    expect(r.x[1]).toBeCloseTo(1, 5);
  });
  it('stops on the bound when the unconstrained minimum lies outside (a singular fit)', () => {
    const f = (x: number[]) => (x[0]! + 0.5) ** 2 + (x[1]! - 2) ** 2 + 0.5 * x[0]! * x[1]!;
    const r = minimizeModelBased(f, [1, 1], { lower: [0, -Infinity], rhoEnd: 1e-8 });
    expect(r.x[0]).toBe(0);
    expect(r.x[1]).toBeCloseTo(2, 6);
  });
});

describe('minimizeModelBased evaluations', () => {
  it('evaluates no point twice (clamped steps revisit bound points) and counts each evaluation', () => {
    const calls: string[] = [];
    const f = (x: number[]) => {
      calls.push(x.join(','));
      return (x[0]! + 0.5) ** 2 + (x[1]! + 2) ** 2 + (x[2]! - 1) ** 2;
    };
    const r = minimizeModelBased(f, [1, 1, 1], { lower: [0, 0, 0], rhoEnd: 1e-7 });
    expect(r.evals).toBe(calls.length);
    expect(new Set(calls).size).toBe(calls.length);
    expect(r.x[0]).toBe(0);
    expect(r.x[1]).toBe(0);
    expect(r.x[2]).toBeCloseTo(1, 6);
  });
});
