/** `gpulmm fit --correlation / --weights` end to end: the summary's structure lines, the JSON record, errors. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerFit } from '../../../src/cli/fit.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCommand } from '../../helpers/cli.js';

const dir = new URL('../../../data/nlme/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { fits: { id: string; logLik: number; residual: { correlation?: Record<string, number>; varIdent?: Record<string, number> } }[] };
const run = (args: string[]) => runCommand(registerFit, 'fit', args);

describe('gpulmm fit with residual structures', () => {
  it('--correlation ar1 and --weights ident: summary lines and the JSON record', async () => {
    const ref = golden.fits.find((f) => f.id === 'arsim-ar1-varident')!;
    const json = join(mkdtempSync(join(tmpdir(), 'gpulmm-fit-')), 'fit.json');
    const r = await run(['--data', `${dir}arsim.csv`, '--formula', 'y ~ t + x + trt + (1 | id)', '--correlation', 'ar1(t | id)', '--weights', 'ident(| trt)', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Correlation structure: ar1\(t \| id\)\n Parameter estimate: Phi = 0\.398/);
    expect(r.stdout).toMatch(/Variance function: ident\(\| trt\)[^\n]*\n high: 1, ctl: 1\.61\d*, low: 2\.14\d*/);
    const rec = JSON.parse(readFileSync(json, 'utf8'));
    expect(rec.residual.correlation).toMatchObject({ structure: 'ar1(t | id)', name: 'Phi' });
    expect(rec.residual.correlation.value).toBeCloseTo(ref.residual.correlation!.Phi1!, 4);
    expect(Object.keys(rec.residual.weights.ratios)).toEqual(['high', 'ctl', 'low']);
    expect(rec.logLik).toBeCloseTo(ref.logLik, 3);
  });
  it('a malformed structure is a usage error naming the option; kenward-roger is refused', async () => {
    const base = ['--data', `${dir}Orthodont.csv`, '--formula', 'distance ~ age + (1 | Subject)'];
    const bad = await run([...base, '--correlation', 'ar(occasion | Subject)']);
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.stderr).toMatch(/--correlation: .*unknown correlation structure 'ar'/);
    const kr = await run([...base, '--weights', 'ident(| Sex)', '--df', 'kenward-roger']);
    expect(kr.code).toBe(EXIT_CODES.usage);
    expect(kr.stderr).toMatch(/--df kenward-roger/);
  });
  it('--simulate draws correlated residuals; --confint profile is refused, wald given', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gpulmm-fit-')), 'sim.csv');
    const base = ['--data', `${dir}Orthodont.csv`, '--formula', 'distance ~ age + Sex + (1 | Subject)', '--correlation', 'car1(age | Subject)'];
    const sim = await run([...base, '--simulate', '3', '--simulate-out', out, '--confint', 'wald']);
    expect(sim.code).toBe(0);
    expect(sim.stdout).toMatch(/Wald confidence intervals/);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('sim_1,sim_2,sim_3');
    const prof = await run([...base, '--confint', 'profile']);
    expect(prof.code).toBe(EXIT_CODES.usage);
    expect(prof.stderr).toMatch(/profile intervals are implemented for iid residuals/);
  });
});
