/** `gpulmm meta --data` end to end: the summary, the JSON record and --predict-out against metafor; bad input. */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerMeta } from '../../src/cli/meta.js';
import { EXIT_CODES } from '../../src/errors.js';
import { tQuantile } from '../../src/stats/distributions.js';
import { runCommand } from '../helpers/cli.js';

const dir = new URL('../../data/meta/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as {
  fits: { id: string; tau2: number; coef: { estimate: number; se: number }[]; predict: Record<string, number | number[]>; logLik: { REML: number } }[];
  quantiles: { p: number; df: number; qt: number }[];
};
const byId = (id: string) => golden.fits.find((f) => f.id === id)!;
const run = (args: string[]) => runCommand(registerMeta, 'meta', args);
const tmp = () => mkdtempSync(join(tmpdir(), 'gpulmm-meta-'));

describe('gpulmm meta --data', () => {
  it('random-effects model: metafor layout, JSON and prediction interval', async () => {
    const json = join(tmp(), 'fit.json');
    const r = await run(['--data', `${dir}bcg.csv`, '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Random-Effects Model \(k = 13; tau\^2 estimator: REML\)/);
    expect(r.stdout).toMatch(/tau\^2 \(estimated amount of total heterogeneity\): +0\.3132 \(SE = 0\.1664\)/);
    expect(r.stdout).toMatch(/Q\(df = 12\) = 152\.2330, p-val < \.0001/);
    expect(r.stdout).toMatch(/intrcpt +-0\.7145 +0\.1798 +-3\.9744 +<\.0001 +-1\.0669 +-0\.3622 +\*\*\*/);
    const ref = byId('bcg-int-REML-z');
    const rec = JSON.parse(readFileSync(json, 'utf8'));
    expect(rec.tau2).toBeCloseTo(ref.tau2, 6);
    expect(rec.logLik.REML).toBeCloseTo(ref.logLik.REML, 6);
    expect(rec.predictions).toHaveLength(1);
    expect(rec.predictions[0].pi_lb).toBeCloseTo(ref.predict.pi_lb as number, 6);
  });
  it('meta-regression with Knapp-Hartung: moderators as a column list, --predict-out with study labels', async () => {
    const out = join(tmp(), 'pred.csv');
    const r = await run(['--data', `${dir}bcg.csv`, '--mods', 'ablat,year', '--test', 'knha', '--method', 'pm', '--slab', 'author', '--predict-out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Test of Moderators \(coefficients 2:3\):\nF\(df1 = 2, df2 = 10\)/);
    const ref = byId('bcg-ablatyear-PM-knha');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('study,pred,se,ci_lb,ci_ub,pi_lb,pi_ub');
    expect(lines).toHaveLength(14);
    expect(lines[1]!.startsWith('Aronson,')).toBe(true);
    const cells = lines[3]!.split(',').slice(1).map(Number);
    expect(cells[0]).toBeCloseTo((ref.predict.pred as number[])[2]!, 6);
    expect(cells[5]).toBeCloseTo((ref.predict.pi_ub as number[])[2]!, 6);
  });
  it('t quantiles (Knapp-Hartung intervals) match R qt', () => {
    for (const q of golden.quantiles) expect(Math.abs(tQuantile(q.p, q.df) - q.qt)).toBeLessThan(1e-10 * Math.max(1, Math.abs(q.qt)));
  });
  it('bad input: a non-positive variance names its line; unknown columns and options are usage errors; nothing written', async () => {
    const d = tmp();
    const bad = join(d, 'bad.csv');
    writeFileSync(bad, 'yi,vi,x\n0.1,0.02,1\n0.3,0,2\n0.2,0.05,3\n');
    const json = join(d, 'out.json');
    const r = await run(['--data', bad, '--json', json]);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/must hold positive numbers: found 0 at line 3/);
    expect(existsSync(json)).toBe(false);
    const text = join(d, 'text.csv');
    writeFileSync(text, 'yi,vi\n0.1,0.02\n0.3,abc\n');
    const t = await run(['--data', text]);
    expect(t.code).toBe(EXIT_CODES.input);
    expect(t.stderr).toMatch(/text\.csv:3:2: expected a number in column "vi", got "abc"/);
    expect((await run(['--data', bad, '--vi', 'v'])).stderr).toMatch(/--vi v: .* has no such column/);
    expect((await run(['--data', bad, '--method', 'XX'])).code).toBe(EXIT_CODES.usage);
    expect((await run(['--data', bad, '--mods', '~ nope'])).stderr).toMatch(/unknown column 'nope'/);
    expect((await run(['--data', bad, '--mods', '~ (1 | x'])).code).toBe(EXIT_CODES.usage);
  });
});
