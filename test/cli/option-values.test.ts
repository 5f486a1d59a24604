/**
 * Numeric options of every command go through one validator (src/cli/option-values.ts): zero, negative, NaN or
 * out-of-range values are a usage error (exit 2) naming the option and the allowed range, before any work.
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { describeRule, parseNumberOption, POSITIVE_INT } from '../../src/cli/option-values.js';
import { registerGwas } from '../../src/cli/gwas.js';
import { registerScdeCalibrate } from '../../src/cli/scde-calibrate.js';
import { registerScde } from '../../src/cli/scde.js';
import { registerNlme } from '../../src/cli/nlme.js';
import { runCommand } from '../helpers/cli.js';

describe('parseNumberOption', () => {
  test('accepts decimal numbers within the rule, refuses everything else with the option and the range', () => {
    expect(parseNumberOption('5e-4', '--cg-tol', { min: 0, minExclusive: true })).toBe(5e-4);
    expect(parseNumberOption(' 3 ', '--n', POSITIVE_INT)).toBe(3);
    expect(parseNumberOption('-1', '--maf', { min: 0, max: 0.5, special: [{ value: -1, meaning: 'no filter' }] })).toBe(-1);
    for (const raw of ['', 'abc', 'NaN', 'Infinity', '0x10', '1,5', '2.5', '0', '-3']) {
      expect(() => parseNumberOption(raw, '--max-splits', POSITIVE_INT)).toThrow(UsageError);
    }
    expect(() => parseNumberOption('0', '--max-splits', POSITIVE_INT)).toThrow('--max-splits 0: expected an integer >= 1');
    expect(describeRule({ min: 0, max: 1, minExclusive: true, maxExclusive: true })).toBe('a number in (0, 1)');
    expect(describeRule({ integer: true, min: 0, max: 10, maxExclusive: true })).toBe('an integer in [0, 10)');
  });
});

describe('bad numeric option values: exit 2 naming the option, nothing run', () => {
  const cases: [string, (p: import('commander').Command) => void, string[], RegExp][] = [
    ['scde-calibrate', registerScdeCalibrate, ['--counts', 'x', '--cells', 'y', '--donor', 'd', '--max-splits', '0'], /--max-splits 0: expected an integer >= 1/],
    ['scde-calibrate', registerScdeCalibrate, ['--counts', 'x', '--cells', 'y', '--donor', 'd', '--min-frac', '-0.1'], /--min-frac -0\.1: expected a number in \[0, 1\]/],
    ['scde-calibrate', registerScdeCalibrate, ['--counts', 'x', '--cells', 'y', '--donor', 'd', '--alpha', 'NaN'], /--alpha NaN: expected a number in \(0, 1\)/],
    ['scde', registerScde, ['--counts', 'x', '--cells', 'y', '--donor', 'd', '--condition', 'c', '--block-entries', '0', '--tsv', 'o.tsv'], /--block-entries 0: expected an integer >= 1/],
    ['gwas', registerGwas, ['--bfile', 'x', '--maf', '0.7', '--tsv', 'o.tsv'], /--maf 0\.7: expected a number in \[0, 0\.5\] \(or -1: no filter\)/],
    ['gwas', registerGwas, ['--bfile', 'x', '--miss', '-1', '--tsv', 'o.tsv'], /--miss -1: expected a number in \[0, 1\]/],
    ['gwas', registerGwas, ['--bfile', 'x', '--cg-tol', '0', '--tsv', 'o.tsv'], /--cg-tol 0: expected a number in \(0, 1\)/],
    ['gwas', registerGwas, ['--bfile', 'x', '--h2', '1', '--tsv', 'o.tsv'], /--h2 1: expected a number in \(0, 1\)/],
    ['gwas', registerGwas, ['--bfile', 'x', '--h2-probes', '0', '--tsv', 'o.tsv'], /--h2-probes 0: expected an integer >= 1/],
    ['nlme', registerNlme, ['--data', 'x', '--model', 'y ~ a', '--fixed', 'a ~ 1', '--random', 'a ~ 1 | g', '--start', '1', '--tolerance', '0'], /--tolerance 0: expected a number in \(0, 1\)/],
  ];
  for (const [name, register, args, message] of cases) {
    test(`${name} ${args.slice(-2).join(' ')}`, async () => {
      const r = await runCommand(register, name, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});
