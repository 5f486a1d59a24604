import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { registerGrm } from '../../../src/cli/grm.js';
import { registerGwas } from '../../../src/cli/gwas.js';
import { runCommand } from '../../helpers/cli.js';
import { SIM, SIM_PREFIX } from '../../gwas/input/sim-fixtures.js';
import { fx } from './fixtures.js';

/** Each hard-call conversion of data/sim, as command-line genotype options (phenotype from sim.pheno.txt). */
const HARD_CALL_INPUTS: Record<string, string[]> = {
  'BGEN v1.2 8-bit': ['--bgen', fx('sim.b8.bgen')],
  'BGEN v1.3 zstd': ['--bgen', fx('sim.b13.bgen')],
  'VCF.gz (bgzip)': ['--vcf', fx('sim.vcf.gz')],
  PGEN: ['--pfile', fx('sim')],
  BCF: ['--bcf', fx('sim.bcf')],
};

describe('every genotype format gives the .bed run (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-formats-'));
  const pheno = ['--pheno', join(SIM, 'sim.pheno.txt')];

  test('gwas --test all: byte-identical GEMMA tables; grm: identical kinship', async () => {
    const run = async (name: string, input: string[]): Promise<{ tsv: string; kin: string }> => {
      const tsv = join(dir, `${name}.assoc.txt`);
      const kin = join(dir, `${name}.cXX.txt`);
      const g = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', ...input, '--test', 'all', '--tsv', tsv]);
      expect(g.code, g.stderr).toBe(0);
      const k = await runCommand(registerGrm, 'grm', ['--backend', 'cpu', ...input, '--out', kin]);
      expect(k.code, k.stderr).toBe(0);
      return { tsv: readFileSync(tsv, 'utf8'), kin: readFileSync(kin, 'utf8') };
    };
    const bed = await run('bed', ['--bfile', SIM_PREFIX, ...pheno]);
    expect(bed.tsv.split('\n').length).toBe(1934 + 2);
    for (const [name, input] of Object.entries(HARD_CALL_INPUTS)) {
      const got = await run(name.replace(/\W+/g, '_'), [...input, ...pheno]);
      expect(got.tsv === bed.tsv, name).toBe(true);
      expect(got.kin === bed.kin, name).toBe(true);
    }
  });

  test('usage errors name the options', async () => {
    const none = await runCommand(registerGwas, 'gwas', ['--tsv', join(dir, 'x.txt')]);
    expect(none.stderr).toMatch(/no genotypes: give one of --bfile, --geno, --bgen, --pfile, --vcf, --bcf/);
    const sample = await runCommand(registerGwas, 'gwas', ['--bfile', SIM_PREFIX, '--sample', 'x.sample', '--tsv', join(dir, 'x.txt')]);
    expect(sample.stderr).toMatch(/--sample names the samples of a BGEN file: use it with --bgen/);
    const nopheno = await runCommand(registerGwas, 'gwas', ['--bgen', fx('sim.b8.bgen'), '--tsv', join(dir, 'x.txt')]);
    expect(nopheno.code).toBe(3);
    expect(nopheno.stderr).toMatch(/sim\.b8\.bgen: bgen genotypes carry no phenotype: give a phenotype file/);
  });
});
