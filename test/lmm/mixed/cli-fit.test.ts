/** `gpulmm fit` end to end: the printed summary, the --json layout of issue 5, and clear errors. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerFit } from '../../../src/cli/fit.js';
import { runCommand } from '../../helpers/cli.js';
import { EXIT_CODES } from '../../../src/errors.js';

const dir = new URL('../../../data/lme4/', import.meta.url).pathname;

async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await runCommand(registerFit, 'fit', args);
  return { out: r.stdout, err: r.stderr, code: r.code };
}

describe('gpulmm fit', () => {
  it('prints an lme4-like summary and writes the issue-5 JSON layout', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'gpulmm-fit-')), 'fit.json');
    const { out } = await run(['--data', `${dir}sleepstudy.csv`, '--formula', 'Reaction ~ Days + (Days | Subject)', '--json', json]);
    expect(out).toMatch(/Linear mixed model fit by REML/);
    expect(out).toMatch(/REML criterion at convergence: 1743\.6/);
    expect(out).toMatch(/Subject\s+\(Intercept\)/);
    expect(out).toMatch(/Number of obs: 180, groups: +Subject, 18/);
    const rec = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(rec)).toEqual(['fixef', 'varcorr', 'REMLcrit', 'deviance', 'logLik', 'AIC', 'BIC', 'nobs', 'ngrps', 'theta', 'converged', 'singular']);
    expect(Object.keys(rec.fixef[0])).toEqual(['term', 'estimate', 'se', 'df', 't', 'p']);
    expect(rec.varcorr.map((r: { grp: string; var1: string | null; var2: string | null }) => [r.grp, r.var1, r.var2])).toEqual([
      ['Subject', '(Intercept)', null],
      ['Subject', 'Days', null],
      ['Subject', '(Intercept)', 'Days'],
      ['Residual', null, null],
    ]);
    expect(rec.ngrps).toEqual({ Subject: 18 });
    expect(rec.deviance).toBeNull();
    expect(rec.converged).toBe(true);
  });
  it('binomial with cbind and --ml / --df residual options', async () => {
    const { out } = await run(['--data', `${dir}cbpp.csv`, '--formula', 'cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)', '--family', 'binomial']);
    expect(out).toMatch(/Laplace Approximation/);
    expect(out).toMatch(/factor\(period\)2/);
    const ml = await run(['--data', `${dir}Dyestuff.csv`, '--formula', 'Yield ~ 1 + (1 | Batch)', '--ml', '--df', 'residual']);
    expect(ml.out).toMatch(/maximum likelihood/);
  });
  it('--laplace exact fits the exact Laplace deviance (glmmTMB golden); a bad mode is a clear error', async () => {
    const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8'));
    const ref = golden.fits.find((f: { id: string }) => f.id === 'cbpp').glmmTMB;
    const json = join(mkdtempSync(join(tmpdir(), 'gpulmm-fit-')), 'fit.json');
    const args = ['--data', `${dir}cbpp.csv`, '--formula', 'cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)', '--family', 'binomial'];
    await run([...args, '--laplace', 'exact', '--json', json]);
    const rec = JSON.parse(readFileSync(json, 'utf8'));
    rec.fixef.forEach((r: { estimate: number }, j: number) => expect(Math.abs(r.estimate - ref.fixef[j].estimate) / ref.fixef[j].se).toBeLessThan(1e-3));
    const bad = await run([...args, '--laplace', 'agq']);
    expect(bad.err).toMatch(/--laplace agq: expected glmer or exact/);
    expect(bad.code).toBe(EXIT_CODES.usage);
  });
  it('a bad formula points at the position and writes no JSON', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'gpulmm-fit-')), 'fit.json');
    const { err, code } = await run(['--data', `${dir}sleepstudy.csv`, '--formula', 'Reaction ~ Days + (Days | Subject', '--json', json]);
    expect(err).toMatch(/formula error at position 34/);
    expect(code).toBe(EXIT_CODES.usage);
    expect(existsSync(json)).toBe(false);
  });
  it('--contrasts sets the default contrasts; a bad value names the option', async () => {
    const ok = await run(['--data', `${dir}unbalanced.csv`, '--formula', 'y ~ x + trt + (1 | g)', '--contrasts', 'contr.sum,poly', '--df', 'residual']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/trt1 /);
    const bad = await run(['--data', `${dir}unbalanced.csv`, '--formula', 'y ~ x + trt + (1 | g)', '--contrasts', 'deviation']);
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.err).toMatch(/--contrasts deviation: expected UNORDERED\[,ORDERED\], each one of treatment, sum, helmert, poly/);
  });
  it('--anova prints the type III table and --compare the LRT table; both go to the JSON', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'gpulmm-fit-')), 'fit.json');
    const r = await run(['--data', `${dir}ChickWeight.csv`, '--formula', 'weight ~ Time * factor(Diet) + (1 | Chick)', '--anova', '--compare', 'weight ~ Time + factor(Diet) + (1 | Chick)', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Type III Analysis of Variance Table with Satterthwaite's method/);
    expect(r.out).toMatch(/refitting model\(s\) with ML/);
    const rec = JSON.parse(readFileSync(json, 'utf8'));
    expect(rec.anova.map((a: { term: string }) => a.term)).toEqual(['Time', 'factor(Diet)', 'Time:factor(Diet)']);
    expect(rec.comparison).toHaveLength(2);
    expect(rec.comparison[1].Df).toBe(3);
    const bad = await run(['--data', `${dir}cbpp.csv`, '--formula', 'cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)', '--family', 'binomial', '--anova']);
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.err).toMatch(/--anova: F tests need --family gaussian/);
  });
  it('--confint, --predict and --simulate write their tables; their options are checked', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gpulmm-fit-'));
    const base = ['--data', `${dir}sleepstudy.csv`, '--formula', 'Reaction ~ Days + (Days | Subject)'];
    const r = await run([...base, '--confint', 'wald', '--predict', `${dir}newdata-sleepstudy.csv`, '--predict-out', join(work, 'p.csv'), '--simulate', '4', '--simulate-out', join(work, 's.csv'), '--seed', '3', '--json', join(work, 'f.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Wald confidence intervals\n +2\.5 % +97\.5 %\n\.sig01 +NA +NA/);
    const p = readFileSync(join(work, 'p.csv'), 'utf8').trim().split('\n');
    expect(p[0]).toBe('fit,population,se_population,new_levels');
    expect(p).toHaveLength(6);
    expect(p[5]).toMatch(/,Subject$/);
    const s = readFileSync(join(work, 's.csv'), 'utf8').trim().split('\n');
    expect(s[0]).toBe('sim_1,sim_2,sim_3,sim_4');
    expect(s).toHaveLength(181);
    const rec = JSON.parse(readFileSync(join(work, 'f.json'), 'utf8'));
    expect(rec.confint.method).toBe('Wald');
    expect(rec.confint.rows[0].lower).toBeNull();
    const cases: [string[], RegExp][] = [
      [['--predict', `${dir}newdata-sleepstudy.csv`], /--predict NEWDATA and --predict-out FILE go together/],
      [['--simulate', '0', '--simulate-out', join(work, 'x.csv')], /--simulate 0: expected an integer in \[1, 1000000\]/],
      [['--confint', 'bootstrap'], /--confint bootstrap: expected profile or wald/],
      [['--confint', '--level', '1.5'], /--level 1.5: expected a number in \(0, 1\)/],
    ];
    for (const [extra, msg] of cases) {
      const bad = await run([...base, ...extra]);
      expect(bad.code, extra.join(' ')).toBe(EXIT_CODES.usage);
      expect(bad.err, extra.join(' ')).toMatch(msg);
    }
    expect(existsSync(join(work, 'x.csv'))).toBe(false);
  });
});
