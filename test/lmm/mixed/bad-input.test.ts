/** Bad input gives a clear error (or a message), never a crash or a silent NaN. */
import { describe, expect, it } from 'vitest';
import { DataError, fit } from '../../../src/lmm/mixed/index.js';
import { normal, rng } from '../../helpers/random.js';

function simulated(n = 60, groups = 6) {
  const z = normal(rng(11));
  const g = Array.from({ length: n }, (_, i) => `g${i % groups}`);
  const x = Array.from({ length: n }, () => z());
  const y = x.map((v, i) => 1 + 0.5 * v + (i % groups) * 0.3 + z());
  return { y, x, g };
}

describe('bad input', () => {
  it('unknown column names the column and lists the available ones', () => {
    expect(() => fit(simulated(), 'y ~ w + (1 | g)')).toThrow(/unknown column 'w'.*columns are: y, x, g/);
  });
  it('a grouping factor with one level', () => {
    const d = { ...simulated(), g: Array(60).fill('only') };
    expect(() => fit(d, 'y ~ x + (1 | g)')).toThrow(/grouping factor 'g' has 1 level/);
  });
  it('a non-numeric response names the value and the row', () => {
    const d = simulated();
    const y: (number | string)[] = d.y.slice();
    y[4] = 'high';
    expect(() => fit({ ...d, y }, 'y ~ x + (1 | g)')).toThrow(/response column 'y' must be numeric: found 'high' at row 5/);
  });
  it('binomial response outside [0, 1]', () => {
    expect(() => fit(simulated(), 'y ~ x + (1 | g)', { family: 'binomial' })).toThrow(DataError);
    expect(() => fit(simulated(), 'y ~ x + (1 | g)', { family: 'binomial' })).toThrow(/binomial response must lie in \[0, 1\]/);
  });
  it('rank-deficient fixed effects drop the aliased column with a message, as lme4', () => {
    const d = simulated();
    const x2 = d.x.map((v) => 2 * v);
    const m = fit({ ...d, x2 }, 'y ~ x + x2 + (1 | g)');
    expect(m.fixef.map((r) => r.term)).toEqual(['(Intercept)', 'x']);
    expect(m.messages.join('\n')).toMatch(/rank deficient so dropping 1 column \/ coefficient \(x2\)/);
    const ref = fit(d, 'y ~ x + (1 | g)');
    expect(m.REMLcrit).toBeCloseTo(ref.REMLcrit!, 8);
  });
  it('missing values drop rows with a message', () => {
    const d = simulated();
    const x: (number | null)[] = d.x.slice();
    x[0] = null;
    x[7] = Number.NaN;
    const m = fit({ ...d, x }, 'y ~ x + (1 | g)');
    expect(m.nobs).toBe(58);
    expect(m.messages[0]).toMatch(/dropped 2 rows with missing values/);
  });
  it('a formula without random effects', () => {
    expect(() => fit(simulated(), 'y ~ x')).toThrow(/no random-effects terms/);
  });
});
