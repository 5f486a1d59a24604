/**
 * Population-averaged (marginal) effects of GLMM fits against direct numerical integration in R on lme4's fits
 * (data/marginal/make-golden.R): the quadrature alone on a grid of (eta, v), marginal coefficients (delta-method
 * se) for scalar and vector random effects, binomial (0/1 and cbind) and Poisson with an offset; the CLI.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerFit } from '../../../src/cli/fit.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { readTable } from '../../../src/io/csv.js';
import { fit, marginalEffects, marginalMeans } from '../../../src/lmm/mixed/index.js';
import { runCommand } from '../../helpers/cli.js';

interface Golden {
  fits: { name: string; data: string; formula: string; family: 'binomial' | 'poisson'; names: string[]; marginal: number[]; marginal_se: number[]; mu_marginal_head: number[] }[];
  grid: { eta: number; v: number; logit_mu: number; logit_dmu: number }[];
}
const golden = JSON.parse(readFileSync(new URL('../../../data/marginal/golden.json', import.meta.url), 'utf8')) as Golden;
const lme4 = new URL('../../../data/lme4/', import.meta.url).pathname;

describe('marginal effects of GLMMs', () => {
  it('the logit quadrature equals R integrate() to 1e-12 relative, v from 0.01 to 25', () => {
    const eta = Float64Array.from(golden.grid.map((g) => g.eta));
    const v = Float64Array.from(golden.grid.map((g) => g.v));
    const { mu, dmu } = marginalMeans('binomial', eta, v);
    golden.grid.forEach((g, i) => {
      expect(Math.abs(mu[i]! / g.logit_mu - 1)).toBeLessThan(1e-12);
      expect(Math.abs(dmu[i]! / g.logit_dmu - 1)).toBeLessThan(1e-12);
    });
    const pois = marginalMeans('poisson', Float64Array.of(0.3), Float64Array.of(2));
    expect(pois.mu[0]).toBeCloseTo(Math.exp(1.3), 14);
  });
  for (const f of golden.fits) {
    it(`${f.name}: marginal coefficients within 1e-3 se, se within 1e-3 relative`, async () => {
      const m = fit(await readTable(`${lme4}${f.data}`), f.formula, { family: f.family });
      const me = marginalEffects(m);
      expect(me.rows.map((r) => r.term)).toEqual(f.names);
      me.rows.forEach((r, j) => {
        expect(Math.abs(r.marginal - f.marginal[j]!) / f.marginal_se[j]!).toBeLessThan(1e-3);
        expect(Math.abs(r.se / f.marginal_se[j]! - 1)).toBeLessThan(1e-3);
      });
      f.mu_marginal_head.forEach((mu, i) => expect(Math.abs(me.mu[i]! / mu - 1)).toBeLessThan(1e-4));
    });
  }
  it('gpulmm fit --marginal: the table, the JSON record and mu_marginal in --predict-out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-marginal-'));
    const f = golden.fits.find((x) => x.name === 'cbpp')!;
    const r = await runCommand(registerFit, 'fit', ['--data', `${lme4}cbpp.csv`, '--formula', f.formula, '--family', 'binomial', '--marginal',
      '--json', join(dir, 'fit.json'), '--predict', `${lme4}newdata-cbpp.csv`, '--predict-out', join(dir, 'p.csv')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Marginal \(population-averaged\) effects/);
    const rec = JSON.parse(readFileSync(join(dir, 'fit.json'), 'utf8'));
    rec.marginal.forEach((row: { marginal: number }, j: number) => expect(Math.abs(row.marginal - f.marginal[j]!) / f.marginal_se[j]!).toBeLessThan(1e-3));
    const [header, first] = readFileSync(join(dir, 'p.csv'), 'utf8').split('\n');
    const cols = header!.split(',');
    expect(cols).toContain('mu_marginal');
    const row = first!.split(',').map(Number);
    // a scalar random intercept: v = theta^2
    const expected = marginalMeans('binomial', Float64Array.of(row[cols.indexOf('population')]!), Float64Array.of(rec.theta[0] ** 2)).mu[0]!;
    expect(row[cols.indexOf('mu_marginal')]).toBeCloseTo(expected, 12);
    expect(row[cols.indexOf('mu_marginal')]).toBeGreaterThan(row[cols.indexOf('mu_population')]!);
    const gauss = await runCommand(registerFit, 'fit', ['--data', `${lme4}sleepstudy.csv`, '--formula', 'Reaction ~ Days + (1 | Subject)', '--marginal']);
    expect(gauss.code).toBe(EXIT_CODES.usage);
    expect(gauss.stderr).toMatch(/--marginal: population-averaged effects are for --family binomial or poisson/);
  });
});
