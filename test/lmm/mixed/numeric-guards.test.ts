/**
 * Numerical guards (issue 17): a constant response or one on an extreme scale is a NumericError (exit 4) before
 * the optimiser runs, and the optimiser stops on a function it cannot make progress on.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerFit } from '../../../src/cli/fit.js';
import { EXIT_CODES, NumericError } from '../../../src/errors.js';
import { minimizeModelBased } from '../../../src/lmm/mixed/optimizer.js';
import { checkModelVariable } from '../../../src/stats/numeric-guards.js';
import { runCommand } from '../../helpers/cli.js';

const dyestuff = new URL('../../../data/lme4/Dyestuff.csv', import.meta.url).pathname;

/** Dyestuff with Yield replaced by `yieldOf(original)` (as text), in a fresh directory. */
function variant(name: string, yieldOf: (v: string) => string): string {
  const lines = readFileSync(dyestuff, 'utf8').trim().split('\n');
  const body = lines.slice(1).map((l) => {
    const [batch, y] = l.split(',');
    return `${batch},${yieldOf(y!)}`;
  });
  const file = join(mkdtempSync(join(tmpdir(), 'gpulmm-guard-')), name);
  writeFileSync(file, [lines[0], ...body].join('\n') + '\n');
  return file;
}

describe('fit: numerical guards', () => {
  const cases: [string, (v: string) => string, RegExp][] = [
    ['constant response', () => '1500', /response Yield is constant \(every value is 1500\)/],
    ['response scaled by 1e300', (v) => `${v}e300`, /response Yield: values up to 1\.635e\+303 overflow.*divide by 1e303/],
    ['response scaled by 1e-300', (v) => `${v}e-300`, /response Yield: values no larger than 1\.635e-297 underflow.*multiply by 1e297/],
  ];
  for (const [what, yieldOf, message] of cases) {
    it(`${what}: NumericError (exit ${EXIT_CODES.numeric}) at once, no JSON written`, async () => {
      const data = variant('d.csv', yieldOf);
      const json = join(data, '..', 'fit.json');
      const t0 = Date.now();
      const r = await runCommand(registerFit, 'fit', ['--data', data, '--formula', 'Yield ~ 1 + (1 | Batch)', '--json', json]);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.code).toBe(EXIT_CODES.numeric);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(json)).toBe(false);
    });
  }
  it('a fixed-effect column beyond 1e100 is named', async () => {
    const data = variant('d.csv', (v) => v);
    const text = readFileSync(data, 'utf8').trim().split('\n');
    writeFileSync(data, [`${text[0]},x`, ...text.slice(1).map((l, i) => `${l},${(i + 1) * 1e200}`)].join('\n') + '\n');
    const r = await runCommand(registerFit, 'fit', ['--data', data, '--formula', 'Yield ~ x + (1 | Batch)']);
    expect(r.code).toBe(EXIT_CODES.numeric);
    expect(r.stderr).toMatch(/fixed-effect column x: values up to 3\.000e\+201 overflow/);
  });
});

describe('checkModelVariable', () => {
  it('accepts ordinary values and NaN (missing) entries; a constant predictor is allowed', () => {
    expect(() => checkModelVariable([1, 2, NaN, 3], 'y')).not.toThrow();
    expect(() => checkModelVariable([1, 1, 1], 'x', false)).not.toThrow();
    expect(() => checkModelVariable([NaN, NaN], 'y')).not.toThrow();
  });
  it('rejects infinite values, constants up to rounding, and extreme scales, naming the variable', () => {
    expect(() => checkModelVariable([1, Infinity], 'y')).toThrow(/y: value Infinity \(entry 2\) is not finite/);
    expect(() => checkModelVariable([1, 1 + 1e-15, 1], 'y')).toThrow(NumericError);
    expect(() => checkModelVariable([1e150, 2e150], 'y')).toThrow(/overflow/);
    expect(() => checkModelVariable([1e-150, 2e-150], 'y')).toThrow(/underflow/);
  });
});

describe('minimizeModelBased: bounded', () => {
  it('stops on a function that is infinite everywhere (no progress, no new points) instead of looping', () => {
    const r = minimizeModelBased(() => Infinity, [1, 1], { lower: [0, 0] });
    expect(r.converged).toBe(false);
    expect(r.evals).toBeLessThanOrEqual(1000);
  });
  it('stops within maxEval on a flat function', () => {
    const r = minimizeModelBased(() => 0, [1, 0.5, 2], { lower: [0, 0, 0], maxEval: 50 });
    expect(r.evals).toBeLessThanOrEqual(50);
  });
});
