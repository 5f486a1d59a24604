import { describe, expect, it } from 'vitest';
import { betaQuantile, fSurvival } from '../../src/stats/distributions.js';

describe('betaQuantile', () => {
  it("matches R 4.2's qbeta (options(digits = 17); qbeta(p, a, b)) to 1e-9 relative (1e-13 for small shapes)", () => {
    const cases: [number, number, number, number][] = [
      [0.025, 1, 1e7, 2.5317807952240291e-9],
      [0.975, 1, 1e7, 3.6888787737224381e-7],
      [0.025, 5e6, 5e6 + 1, 0.49969005252137105],
      [0.975, 1000, 9e6, 0.0001180888229106604],
      [0.5, 2.5, 0.7, 0.84150217884148404],
      [1e-10, 3, 4, 0.00017101953023986434],
    ];
    for (const [p, a, b, want] of cases) expect(Math.abs(betaQuantile(p, a, b) / want - 1)).toBeLessThan(a + b > 1e3 ? 1e-9 : 1e-13);
  });
  it('inverts the incomplete beta: P(X <= x) through the F distribution (X/a)/((1-X)/b) ~ F(2a, 2b)', () => {
    for (const [a, b] of [[1, 50], [7, 3], [0.5, 0.5], [200, 1e5]] as const) {
      for (const p of [1e-6, 0.025, 0.3, 0.5, 0.975, 1 - 1e-6]) {
        const x = betaQuantile(p, a, b);
        const lower = 1 - fSurvival((x / a) / ((1 - x) / b), 2 * a, 2 * b);
        expect(Math.abs(lower - p)).toBeLessThan(1e-9 * Math.max(p, 1e-3));
      }
    }
  });
  it('edges and invalid shapes', () => {
    expect(betaQuantile(0, 2, 3)).toBe(0);
    expect(betaQuantile(1, 2, 3)).toBe(1);
    expect(betaQuantile(NaN, 2, 3)).toBeNaN();
    expect(() => betaQuantile(0.5, 0, 3)).toThrow(/shapes must be finite and > 0/);
    expect(() => betaQuantile(1.5, 1, 3)).toThrow(/p must be in \[0, 1\]/);
  });
});
