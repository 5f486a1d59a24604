import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { registerGrm } from '../../../src/cli/grm.js';
import { runCommand, type CommandRun } from '../../helpers/cli.js';
import { readKinship } from '../../../src/io/kinship-file.js';
import { GOLDEN, lastDigitUnits, readGemmaMatrix, SIM, SIM_PREFIX, tempDir } from './sim-fixtures.js';

/** `gpulmm grm ...args` on the cpu backend. */
const grm = (args: string[]): Promise<CommandRun> => runCommand(registerGrm, 'grm', ['--backend', 'cpu', ...args]);

describe('gpulmm grm', () => {
  test('PLINK centered -> GEMMA text equal to kin.cXX; BIMBAM -> binary with the same values', async () => {
    const dir = tempDir();
    const r = await grm(['--bfile', SIM_PREFIX, '--out', join(dir, 'sim.cXX.txt')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/centered kinship \(GEMMA -gk 1\) of 350 individuals from 1934 of 2000 SNPs/);
    const gemma = readGemmaMatrix(join(GOLDEN, 'kin.cXX.txt.gz'));
    // Both sides printed with 10 digits: at most one last-digit step apart (a rounding tie), plus float fuzz.
    expect(lastDigitUnits(await readKinship(join(dir, 'sim.cXX.txt')), gemma)).toBeLessThanOrEqual(1 + 1e-6);
    const b = await grm(['--geno', join(SIM, 'sim.geno.txt.gz'), '--pheno', join(SIM, 'sim.pheno.txt'), '--format', 'binary', '--out', join(dir, 'sim.bin')]);
    expect(b.code).toBe(0);
    expect(lastDigitUnits(await readKinship(join(dir, 'sim.bin')), gemma)).toBeLessThanOrEqual(1);
    expect(readdirSync(dir).sort()).toEqual(['sim.bin', 'sim.cXX.txt']);
  });

  test('bad input: clear error, non-zero exit, no output file', async () => {
    const dir = tempDir();
    const out = join(dir, 'k.txt');
    const r = await grm(['--bfile', join(SIM, 'nothere'), '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gpulmm grm: error: .*nothere\.(bim|fam): cannot open/);
    const both = await grm(['--bfile', SIM_PREFIX, '--geno', 'x', '--out', out]);
    expect(both.stderr).toMatch(/give one genotype input, not --bfile and --geno/);
    const short = await grm(['--bfile', SIM_PREFIX, '--covar', join(SIM, 'sim.anno.txt'), '--out', out]);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toMatch(/sim\.anno\.txt:1:1: expected a number or NA as covariate, found 'snp0001'/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
