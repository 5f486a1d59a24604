/** `gpulmm fit --method gee` end to end: the summary, the JSON record, clear errors. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerFit } from '../../../src/cli/fit.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCommand } from '../../helpers/cli.js';

const dir = new URL('../../../data/gee/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { fits: { name: string; tight: { coefficients: number[]; se: number[]; alpha: number } }[] };
const run = (args: string[]) => runCommand(registerFit, 'fit', args);
const ohio = ['--method', 'gee', '--data', `${dir}ohio.csv`, '--formula', 'resp ~ age + smoke + age:smoke', '--family', 'binomial'];

describe('gpulmm fit --method gee', () => {
  it('prints the geeglm-style summary and writes the JSON record', async () => {
    const ref = golden.fits.find((f) => f.name === 'ohio-exch')!.tight;
    const json = join(mkdtempSync(join(tmpdir(), 'gpulmm-gee-')), 'fit.json');
    const r = await run([...ohio, '--id', 'id', '--corstr', 'exchangeable', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Correlation structure = exchangeable/);
    expect(r.stdout).toMatch(/alpha\s+0\.354\d/);
    expect(r.stdout).toMatch(/Number of clusters:\s+537\s+Maximum cluster size: 4/);
    const rec = JSON.parse(readFileSync(json, 'utf8'));
    expect(rec.method).toBe('gee');
    rec.coefficients.forEach((c: { estimate: number; se: number }, j: number) => {
      expect(Math.abs(c.estimate - ref.coefficients[j]!) / ref.se[j]!).toBeLessThan(1e-3);
      expect(Math.abs(c.se / ref.se[j]! - 1)).toBeLessThan(1e-3);
    });
    expect(rec.vcov).toHaveLength(4);
    expect(rec.alpha).toBeCloseTo(ref.alpha, 6);
  });
  it('errors: no --id, unknown --corstr, unknown id column, random terms, mixed-model options, repeated waves', async () => {
    const noId = await run(ohio);
    expect(noId.code).toBe(EXIT_CODES.usage);
    expect(noId.stderr).toMatch(/--method gee needs --id/);
    const cs = await run([...ohio, '--id', 'id', '--corstr', 'unstructured']);
    expect(cs.code).toBe(EXIT_CODES.usage);
    expect(cs.stderr).toMatch(/--corstr unstructured: expected independence, exchangeable, ar1/);
    const col = await run([...ohio, '--id', 'subject']);
    expect(col.code).toBe(EXIT_CODES.usage);
    expect(col.stderr).toMatch(/id column 'subject' not found/);
    const re = await run(['--method', 'gee', '--data', `${dir}ohio.csv`, '--formula', 'resp ~ age + (1 | id)', '--family', 'binomial', '--id', 'id']);
    expect(re.code).toBe(EXIT_CODES.usage);
    expect(re.stderr).toMatch(/random-effects terms/);
    const anova = await run([...ohio, '--id', 'id', '--anova']);
    expect(anova.code).toBe(EXIT_CODES.usage);
    expect(anova.stderr).toMatch(/--anova: not available with --method gee/);
    const lmm = await run(['--data', `${dir}ohio.csv`, '--formula', 'resp ~ age + (1 | id)', '--family', 'binomial', '--corstr', 'ar1']);
    expect(lmm.code).toBe(EXIT_CODES.usage);
    expect(lmm.stderr).toMatch(/--corstr: only with --method gee/);
    const tmp = join(mkdtempSync(join(tmpdir(), 'gpulmm-gee-')), 'dup.csv');
    writeFileSync(tmp, 'y,x,id,t\n1,0.5,a,1\n2,0.1,a,1\n3,0.7,b,1\n2,0.2,b,2\n');
    const dup = await run(['--method', 'gee', '--data', tmp, '--formula', 'y ~ x', '--id', 'id', '--waves', 't', '--corstr', 'ar1']);
    expect(dup.code).toBe(EXIT_CODES.usage);
    expect(dup.stderr).toMatch(/id a: wave 1 occurs more than once/);
  });
});
