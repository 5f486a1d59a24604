import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { registerGwas } from '../../../src/cli/gwas.js';
import { runCommand } from '../../helpers/cli.js';
import { fx } from './fixtures.js';

const rows = (text: string): string[][] => text.trimEnd().split('\n').map((l) => l.split('\t'));
const gemma = rows(gunzipSync(readFileSync(fx('gemma/dose_lmm4.assoc.txt.gz'))).toString());
const col = (name: string): number => gemma[0]!.indexOf(name);
const gemmaLog = gunzipSync(readFileSync(fx('gemma/dose_lmm4.log.txt.gz'))).toString();

/** Runs gwas --test all on a genotype input of the dosage cohort; returns its assoc.txt rows and stderr. */
async function scan(input: string[]): Promise<{ table: string[][]; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-dosage-'));
  const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', ...input, '--pheno', fx('dose.pheno.txt'), '--test', 'all', '--tsv', join(dir, 'o.txt'), '--out', join(dir, 'o.arrows')]);
  expect(r.code, r.stderr).toBe(0);
  return { table: rows(readFileSync(join(dir, 'o.txt'), 'utf8')), stderr: r.stderr };
}

/** Largest |delta log10 p| against GEMMA per test, after checking the SNP columns. */
function compare(table: string[][], exactAf: boolean): Record<string, number> {
  expect(table[0]).toEqual(gemma[0]);
  expect(table.length).toBe(gemma.length);
  const worst: Record<string, number> = { p_wald: 0, p_lrt: 0, p_score: 0, beta_se: 0 };
  for (let i = 1; i < gemma.length; i++) {
    for (const name of ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', ...(exactAf ? ['af'] : [])]) expect(table[i]![col(name)], `${name} row ${i}`).toBe(gemma[i]![col(name)]);
    for (const name of ['p_wald', 'p_lrt', 'p_score']) worst[name] = Math.max(worst[name]!, Math.abs(Math.log10(Number(table[i]![col(name)])) - Math.log10(Number(gemma[i]![col(name)]))));
    worst.beta_se = Math.max(worst.beta_se!, Math.abs(Number(table[i]![col('beta')]) - Number(gemma[i]![col('beta')])) / Number(gemma[i]![col('se')]));
  }
  return worst;
}

describe('dosage parity with GEMMA (BIMBAM copy of the same dosages)', () => {
  test('VCF DS: |delta log10 p| <= 1e-3 for Wald, LRT and score, beta within 1e-3 se, GEMMA null model', async () => {
    const { table, stderr } = await scan(['--vcf', fx('dose.vcf.gz')]);
    const worst = compare(table, true);
    for (const [name, w] of Object.entries(worst)) expect(w, name).toBeLessThanOrEqual(1e-3);
    for (const name of ['pve estimate', 'vg estimate', 've estimate', 'REMLE log-likelihood']) {
      const line = gemmaLog.split('\n').find((l) => l.startsWith(`## ${name}`))!.slice(3);
      expect(stderr).toContain(line);
    }
  });

  // Formats that store the dosages to 16 bits or better (plink2 rounds DS to 1/16384 first): the same tolerance
  // holds (measured 1.4e-4 for BGEN 16-bit, 1.6e-4 for v1.1; 8-bit BGEN is held to its precision in bgen.test.ts).
  const inputs: Record<string, string[]> = {
    'VCF GP': ['--vcf', fx('dose.vcf.gz'), '--vcf-field', 'GP'],
    'BGEN v1.2 16-bit ref-first': ['--bgen', fx('dose.b16rf.bgen'), '--bgen-ref', 'first'],
    'BGEN v1.3 zstd 16-bit': ['--bgen', fx('dose.b13.bgen')],
    'BGEN v1.1': ['--bgen', fx('dose.b11.bgen'), '--sample', fx('dose.b8.sample')],
    'PGEN (1/16384)': ['--pfile', fx('dose')],
  };
  for (const [name, input] of Object.entries(inputs)) {
    test(`${name}: |delta log10 p| <= 1e-3, beta within 1e-3 se`, async () => {
      const worst = compare((await scan(input)).table, false);
      for (const [what, w] of Object.entries(worst)) expect(w, what).toBeLessThanOrEqual(1e-3);
    });
  }
});

