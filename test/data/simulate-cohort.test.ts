import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const script = new URL('../../data/simulate/cohort.mjs', import.meta.url).pathname;
const simulate = (prefix: string, ...args: string[]) => spawnSync(process.execPath, [script, '--out', prefix, ...args], { encoding: 'utf8' });

/** Dosage of the counted allele (NaN missing) of individual i at SNP j, from PLINK 1 .bed bytes. */
function dosage(bed: Buffer, n: number, i: number, j: number): number {
  const code = (bed[3 + j * Math.ceil(n / 4) + (i >> 2)]! >> ((i & 3) * 2)) & 3;
  return [2, Number.NaN, 1, 0][code]!;
}

describe('data/simulate/cohort.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-cohort-'));
  const n = 403;
  const m = 300;
  const a = simulate(join(dir, 'a'), '--n', String(n), '--m', String(m), '--seed', '7', '--miss', '0.05', '--prevalence', '0.2', '--pheno-miss', '0.1');
  const b = simulate(join(dir, 'b'), '--n', String(n), '--m', String(m), '--seed', '7', '--miss', '0.05', '--prevalence', '0.2', '--pheno-miss', '0.1');
  const c = simulate(join(dir, 'c'), '--n', String(n), '--m', String(m), '--seed', '8');

  test('is deterministic per seed and writes every file with consistent sizes', () => {
    expect([a.status, b.status, c.status]).toEqual([0, 0, 0]);
    for (const ext of ['bed', 'bim', 'fam', 'pheno.txt', 'phe', 'covar.txt', 'cov', 'causal.txt']) {
      expect(readFileSync(join(dir, `a.${ext}`)).equals(readFileSync(join(dir, `b.${ext}`)))).toBe(true);
    }
    expect(readFileSync(join(dir, 'a.bed')).equals(readFileSync(join(dir, 'c.bed')))).toBe(false);
    expect(readFileSync(join(dir, 'a.bed')).length).toBe(3 + m * Math.ceil(n / 4));
    expect(readFileSync(join(dir, 'a.bim'), 'utf8').trim().split('\n')).toHaveLength(m);
    expect(readFileSync(join(dir, 'a.fam'), 'utf8').trim().split('\n')).toHaveLength(n);
    expect(readFileSync(join(dir, 'a.phe'), 'utf8').trim().split('\n')).toHaveLength(n + 1);
  });

  test('genotypes: missing rate near the target, Mendelian inheritance within families', () => {
    const bed = readFileSync(join(dir, 'a.bed'));
    const fam = readFileSync(join(dir, 'a.fam'), 'utf8').trim().split('\n').map((l) => l.split(' '));
    const index = new Map(fam.map((r, i) => [r[1]!, i]));
    let missing = 0;
    let checked = 0;
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < n; i++) if (Number.isNaN(dosage(bed, n, i, j))) missing++;
      for (const [i, r] of fam.entries()) {
        if (r[2] === '0') continue;
        const kid = dosage(bed, n, i, j);
        for (const parent of [index.get(r[2]!)!, index.get(r[3]!)!]) {
          const p = dosage(bed, n, parent, j);
          if (Number.isNaN(kid) || Number.isNaN(p)) continue;
          checked++;
          expect(Math.abs(kid - p)).toBeLessThan(2); // a parent and child never carry opposite homozygotes
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(missing / (n * m)).toBeGreaterThan(0.04);
    expect(missing / (n * m)).toBeLessThan(0.06);
  });

  test('phenotypes: the binary trait has the prevalence among the non-missing; missing values are NA', () => {
    const rows = readFileSync(join(dir, 'a.pheno.txt'), 'utf8').trim().split('\n').map((l) => l.split(' '));
    const bin = rows.map((r) => r[1]!).filter((v) => v !== 'NA');
    expect(bin.length).toBeLessThan(n * 0.97);
    const cases = bin.filter((v) => v === '1').length;
    expect(cases / bin.length).toBeGreaterThan(0.14);
    expect(cases / bin.length).toBeLessThan(0.26);
    expect(bin.every((v) => v === '0' || v === '1')).toBe(true);
  });

  test('a bad option exits 2 naming it', () => {
    const r = simulate(join(dir, 'bad'), '--n', 'ten');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--n ten: expected an integer/);
    const s = simulate(join(dir, 'bad'), '--maf', '0.2-0.1');
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--maf 0.2-0.1: bin "0.2-0.1"/);
  });
});
