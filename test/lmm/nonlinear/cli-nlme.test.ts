/** `gpulmm nlme` end to end: the summary, the JSON record, the fitted values, and clear errors. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerNlme } from '../../../src/cli/nlme.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCommand } from '../../helpers/cli.js';

const dir = new URL('../../../data/nlme/', import.meta.url).pathname;
const run = (args: string[]) => runCommand(registerNlme, 'nlme', args);
const theoph = ['--data', `${dir}Theoph.csv`, '--model', 'conc ~ SSfol(Dose, Time, lKe, lKa, lCl)', '--random', 'lKa + lCl ~ 1 | Subject', '--cov', 'diag'];

describe('gpulmm nlme', () => {
  it('fits weight on clearance; writes the JSON record and the fitted values', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gpulmm-nlme-'));
    const r = await run([...theoph, '--fixed', 'lKe ~ 1', '--fixed', 'lKa ~ 1', '--fixed', 'lCl ~ Wt', '--start', 'lKe=-2.5,lKa=0.5,lCl=-3', '--json', join(tmp, 'fit.json'), '--fitted-out', join(tmp, 'fitted.csv')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Nonlinear mixed-effects model fit by maximum likelihood \(Lindstrom-Bates\)/);
    expect(r.stdout).toMatch(/lCl\.Wt +-0\.00725/);
    expect(r.stdout).toMatch(/Number of Groups: 12 \(Subject\)/);
    const rec = JSON.parse(readFileSync(join(tmp, 'fit.json'), 'utf8'));
    expect(rec.fixef.map((f: { term: string }) => f.term)).toEqual(['lKe', 'lKa', 'lCl.(Intercept)', 'lCl.Wt']);
    expect(rec.randomEffects.names).toEqual(['lKa', 'lCl.(Intercept)']);
    expect(rec.ranef).toHaveLength(12);
    const fitted = readFileSync(join(tmp, 'fitted.csv'), 'utf8').trim().split('\n');
    expect(fitted[0]).toBe('row,fitted,fitted_population,residual');
    expect(fitted).toHaveLength(133);
    const [row, f, , res] = fitted[1]!.split(',').map(Number);
    expect(row).toBe(1);
    expect(f! + res!).toBeCloseTo(0.74, 10); // Theoph row 1: conc 0.74 at time 0
  });
  it('bad options and models are usage errors naming the problem; nothing is written', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gpulmm-nlme-'));
    const json = join(tmp, 'fit.json');
    const cases: [string[], RegExp][] = [
      [[...theoph, '--fixed', 'lKe + lKa + lCl ~ 1', '--start', 'lKe=-2.5,lKa=oops'], /--start lKe=-2\.5,lKa=oops: 'lKa=oops' is not NAME=NUMBER/],
      [['--data', `${dir}Theoph.csv`, '--model', 'conc ~ SSfol(Dose, Time, lKe, lKa, lCl)', '--random', 'lKa ~ 1 | Subject', '--fixed', 'lKe + lKa ~ 1', '--start', '-2.5,0.5'], /'lCl' is neither a parameter \(lKe, lKa\) nor a data column/],
      [[...theoph, '--fixed', 'lKe + lKa + lCl ~ 1', '--start', '-2.5,0.5'], /2 starting values for 3 fixed effects/],
      [[...theoph, '--fixed', 'lKe + lKa + lCl ~ 1', '--start', 'lKe=-2.5,lKa=0.5'], /no starting value for parameter 'lCl'/],
      [[...theoph, '--fixed', 'lKe + lKa + lCl ~ 1', '--start', '-2.5,0.5,-3', '--cov', 'full'], /--cov full: expected symm or diag/],
      [['--data', `${dir}Theoph.csv`, '--model', 'conc ~ SSfol(Dose, Time, lKe, lKa, lCl)', '--random', 'lKa + lV ~ 1 | Subject', '--fixed', 'lKe + lKa + lCl ~ 1', '--start', '-2.5,0.5,-3'], /random effect on 'lV', which is not a parameter/],
    ];
    for (const [args, msg] of cases) {
      const r = await run([...args, '--json', json]);
      expect(r.code, r.stderr).toBe(EXIT_CODES.usage);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(json)).toBe(false);
    }
  });
});
