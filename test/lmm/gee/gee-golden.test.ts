/**
 * GEE parity with geepack::geeglm (data/gee/make-golden.R, geepack 1.3.9): ohio (binomial; exchangeable, ar1,
 * independence), dietox (gaussian), seizure (poisson; ar1 by row order and by waves with gaps). Issue 15's
 * tolerances: coefficients within 1e-3 se, se within 1e-3 relative, phi and alpha within 1e-4 relative.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { fitGee, type CorStr, type GeeFamily, type GeeFit } from '../../../src/lmm/gee/index.js';

interface Ref {
  coefficients: number[];
  se: number[];
  se_naive: number[];
  wald: number[];
  p: number[];
  phi: number;
  phi_se: number;
  alpha: number | null;
  alpha_se: number | null;
  names: string[];
  clusters: number;
  max_cluster: number;
}
interface GoldenFit {
  name: string;
  data: string;
  formula: string;
  family: GeeFamily;
  id: string;
  corstr: CorStr;
  waves?: string;
  default: Ref;
  tight: Ref;
}
const dir = new URL('../../../data/gee/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { fits: GoldenFit[] };

const rel = (a: number, b: number) => Math.abs(a / b - 1);

function expectParity(m: GeeFit, r: Ref): void {
  expect(m.coefficients.map((c) => c.term)).toEqual(r.names);
  expect(m.clusters).toBe(r.clusters);
  expect(m.maxClusterSize).toBe(r.max_cluster);
  m.coefficients.forEach((c, j) => {
    expect(Math.abs(c.estimate - r.coefficients[j]!) / r.se[j]!).toBeLessThan(1e-3);
    expect(rel(c.se, r.se[j]!)).toBeLessThan(1e-3);
    expect(rel(c.seNaive, r.se_naive[j]!)).toBeLessThan(1e-3);
    expect(rel(c.wald, r.wald[j]!)).toBeLessThan(2e-3);
    expect(Math.abs(c.p - r.p[j]!)).toBeLessThan(1e-3 * Math.max(r.p[j]!, 1e-12) + 1e-15);
  });
  expect(rel(m.phi, r.phi)).toBeLessThan(1e-4);
  expect(rel(m.phiSe, r.phi_se)).toBeLessThan(1e-3);
  if (r.alpha === null) expect(m.alpha).toBeNull();
  else {
    expect(rel(m.alpha!, r.alpha)).toBeLessThan(1e-4);
    expect(rel(m.alphaSe!, r.alpha_se!)).toBeLessThan(1e-3);
  }
}

describe('gpulmm GEE vs geepack geeglm', async () => {
  const tables = new Map<string, Awaited<ReturnType<typeof readTable>>>();
  for (const f of golden.fits) if (!tables.has(f.data)) tables.set(f.data, await readTable(`${dir}${f.data}.csv`));
  for (const f of golden.fits) {
    const opts = { family: f.family, id: f.id, corstr: f.corstr, waves: f.waves ?? null };
    it(`${f.name}: solution of the estimating equations (geepack at epsilon 1e-12)`, () => {
      const m = fitGee(tables.get(f.data)!, f.formula, { ...opts, tolerance: 1e-12 });
      expect(m.converged).toBe(true);
      expectParity(m, f.tight);
    });
    it(`${f.name}: default tolerances (geepack's epsilon 1e-4, ours 1e-8)`, () => {
      expectParity(fitGee(tables.get(f.data)!, f.formula, opts), f.default);
    });
  }
  it('clusters need not be contiguous: shuffled rows give the same fit', () => {
    const f = golden.fits.find((x) => x.name === 'seizure-ar1-waves')!;
    const t = tables.get('seizure')!;
    // a deterministic shuffle (clusters interleaved; the waves restore the order within each)
    const perm = t.rows.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101) || a - b);
    const shuffled = { header: t.header, rows: perm.map((i) => t.rows[i]!) };
    expectParity(fitGee(shuffled, f.formula, { family: f.family, id: f.id, corstr: f.corstr, waves: 'visit', tolerance: 1e-12 }), f.tight);
  });
});
