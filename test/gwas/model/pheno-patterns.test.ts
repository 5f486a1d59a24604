import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { phenotypePatterns } from '../../../gwas/scan-samples.js';
import { gwasScan } from '../../../gwas/scan.js';
import { registerGwas } from '../../../src/cli/gwas.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCommand } from '../../helpers/cli.js';

const SIM = 'data/sim/';
const rows = (text: string): string[][] => text.trimEnd().split('\n').map((l) => l.split('\t'));

/** Our assoc.txt against GEMMA's: same SNPs in the same order, SNP columns exact, p-values within the tolerance. */
function expectGemmaRun(ours: string[][], gemma: string[][]): void {
  expect(ours[0]).toEqual(gemma[0]);
  expect(ours.length).toBe(gemma.length);
  const col = (name: string): number => gemma[0]!.indexOf(name);
  const worst = { wald: 0, lrt: 0, score: 0 };
  for (let i = 1; i < gemma.length; i++) {
    for (const name of ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af']) expect(ours[i]![col(name)], `${name} of row ${i}`).toBe(gemma[i]![col(name)]);
    for (const t of ['wald', 'lrt', 'score'] as const) {
      worst[t] = Math.max(worst[t], Math.abs(Math.log10(Number(ours[i]![col(`p_${t}`)])) - Math.log10(Number(gemma[i]![col(`p_${t}`)]))));
    }
  }
  expect(worst.wald).toBeLessThan(1e-3);
  expect(worst.score).toBeLessThan(1e-3);
  expect(worst.lrt).toBeLessThan(5e-3);
}

describe('phenotypes missing for different individuals (--pheno-missing separate)', () => {
  it('groups phenotypes by missingness pattern among the individuals with every covariate', () => {
    const n = 6;
    const p = (name: string, missing: number[]) => ({ name, values: Float64Array.from({ length: n }, (_, i) => (missing.includes(i) ? Number.NaN : i)) });
    const ids = Array.from({ length: n }, (_, i) => `i${i}`);
    const groups = phenotypePatterns({ ids, phenotypes: [p('a', [1]), p('b', [2]), p('c', [1]), p('d', [])] });
    expect(groups.map((g) => g.map((x) => x.name))).toEqual([['a', 'c'], ['b'], ['d']]);
    // Individual 2 lacks a covariate: b and d then have the same pattern.
    const covariates = { rows: n, cols: 1, ld: n, data: Float64Array.from({ length: n }, (_, i) => (i === 2 ? Number.NaN : 1)) };
    expect(phenotypePatterns({ ids, phenotypes: [p('a', [1]), p('b', [2]), p('d', [])], covariates }).map((g) => g.map((x) => x.name))).toEqual([['a'], ['b', 'd']]);
  });

  it('each phenotype equals GEMMA 0.98.5 run alone (-n 1, -n 2) on the same kinship file; the default intersects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-patterns-'));
    for (const f of ['sim.geno.txt.gz', 'sim.anno.txt', 'sim.pheno.txt', 'sim.covar.txt']) copyFileSync(`${SIM}${f}`, join(dir, f));
    writeFileSync(join(dir, 'kin.cXX.txt'), gunzipSync(readFileSync(`${SIM}gemma/kin.cXX.txt.gz`)));
    const args = ['--backend', 'cpu', '--geno', join(dir, 'sim.geno.txt.gz'), '--anno', join(dir, 'sim.anno.txt'), '--pheno', join(dir, 'sim.pheno.txt'), '--pheno-col', '1,2',
      '--covar', join(dir, 'sim.covar.txt'), '--kinship', join(dir, 'kin.cXX.txt'), '--test', 'all'];
    const r = await runCommand(registerGwas, 'gwas', [...args, '--pheno-missing', 'separate', '--tsv', join(dir, 'o.assoc.txt'), '--out', join(dir, 'o.arrows')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/p1: 335 individuals\n  p2: 333 individuals/);
    for (const k of [1, 2]) {
      const gemma = rows(gunzipSync(readFileSync(`${SIM}gemma/bimbam_lmm4_covar_n${k}.assoc.txt.gz`)).toString());
      expectGemmaRun(rows(readFileSync(join(dir, `o.p${k}.assoc.txt`), 'utf8')), gemma);
    }
    // The default: both on the individuals with both phenotypes (fewer than either alone).
    const both = await runCommand(registerGwas, 'gwas', [...args, '--tsv', join(dir, 'b.assoc.txt')]);
    expect(both.code).toBe(0);
    expect(both.stderr).toMatch(/analysed individuals: 324 of 350/);
    expect(both.stderr).toMatch(/--pheno-missing separate analyses each on its own/);
    const bad = await runCommand(registerGwas, 'gwas', [...args, '--pheno-missing', 'union', '--tsv', join(dir, 'x.txt')]);
    expect(bad.code).toBe(EXIT_CODES.usage);
  }, 60_000);

  it('with K computed from the genotypes and loco: one decomposition per pattern and chromosome, each on its own individuals', async () => {
    const inputs = await loadAnalysisInputs({ bfile: `${SIM}sim`, pheno: `${SIM}sim.pheno.txt`, phenoCols: [1, 2], covar: `${SIM}sim.covar.txt` });
    const scan = await gwasScan({
      source: inputs.source, phenotypes: inputs.phenotypes.map((values, k) => ({ name: `p${k + 1}`, values })), covariates: inputs.covariates!,
      kinship: { mode: 'centered' }, tests: { wald: true, lrt: false, score: false }, loco: true, phenotypeMissing: 'separate', backend: 'cpu',
    });
    const counts = new Map<string, number>();
    for await (const b of scan.batches) counts.set(b.pheno, (counts.get(b.pheno) ?? 0) + b.snps.length);
    expect(scan.summary.patterns!.map((q) => [q.phenotypes, q.nAnalysed])).toEqual([[['p1'], 335], [['p2'], 333]]);
    expect(scan.summary.nAnalysed).toBe(344); // K over the individuals with either phenotype
    for (const chr of ['1', '2', '3', '4', '5']) for (const p of ['p1', 'p2']) expect(scan.nullModels.get(`${p}:${chr}`)!.n).toBe(p === 'p1' ? 335 : 333);
    expect(counts.get('p1')).toBeGreaterThan(1900);
    expect(counts.get('p2')).toBeGreaterThan(1900);
  }, 60_000);
});
