import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chi2Quantile } from '../../src/stats/distributions.js';
import { benjaminiHochberg, genomicInflation } from '../../src/stats/multiple-testing.js';
import { rng } from '../helpers/random.js';

/** Goldens from R's p.adjust and qchisq (data/stats/make-golden.R); JSON null stands for R's NA. */
const golden = JSON.parse(readFileSync(new URL('../../data/stats/golden.json', import.meta.url), 'utf8')) as {
  multiple: { p: (number | null)[]; bh: (number | null)[]; lambda: number }[];
};
const toF64 = (v: (number | null)[]) => Float64Array.from(v, (x) => (x === null ? NaN : x));

describe('multiple testing against R', () => {
  golden.multiple.forEach((c, k) => {
    it(`vector ${k} (n = ${c.p.length}): BH and lambda_GC`, () => {
      const adj = benjaminiHochberg(toF64(c.p));
      const want = toF64(c.bh);
      expect(adj.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        if (Number.isNaN(want[i]!)) expect(adj[i]).toBeNaN();
        else expect(Math.abs(adj[i]! - want[i]!)).toBeLessThanOrEqual(1e-15 * want[i]!);
      }
      expect(Math.abs(genomicInflation(toF64(c.p)) - c.lambda)).toBeLessThanOrEqual(1e-10 * c.lambda);
    });
  });
  it("lambda_GC by selection equals R's median of the sorted chi-squares: odd and even counts, ties, NaN", () => {
    const u = rng(11);
    for (const m of [1, 2, 3, 10, 11, 1000, 1001]) {
      for (const ties of [false, true]) {
        const p = Float64Array.from({ length: m + 3 }, (_, i) => (i < 3 ? Number.NaN : ties ? Math.round(u() * 8) / 8 : u()));
        const sorted = Float64Array.from(p.filter((v) => !Number.isNaN(v))).sort();
        const chi = (q: number) => chi2Quantile(q, 1, false);
        const want = (chi(sorted[(m - 1) >> 1]!) + chi(sorted[m >> 1]!)) / 2 / chi2Quantile(0.5, 1);
        expect(genomicInflation(p), `m ${m} ties ${ties}`).toBe(want);
      }
    }
  });
  it('rejects p outside [0, 1] and all-NaN input', () => {
    expect(() => benjaminiHochberg(Float64Array.of(0.1, 1.5))).toThrow(/p\[1\]/);
    expect(() => genomicInflation(Float64Array.of(NaN))).toThrow(RangeError);
    expect(benjaminiHochberg(new Float64Array(0)).length).toBe(0);
  });
});

describe('benjaminiHochberg order', () => {
  it('matches the definition on ties, zeros (incl. -0), ones and NaN in a shuffled vector', () => {
    const base = [0, -0, 1e-300, 0.01, 0.01, 0.02, 0.5, 0.5, 1, 1, NaN, 3e-8, 0.049, 0.2];
    const p = Float64Array.from({ length: 2000 }, (_, i) => base[(i * 7919) % base.length]! * (i % 5 === 0 ? 1 : 0.999 ** (i % 13)));
    const adj = benjaminiHochberg(p);
    // Reference: direct O(m^2) definition q_i = min(1, min_{j: p_j >= p_i} m p_j / rank_j), rank by a comparison sort.
    const kept = [...p].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const m = kept.length;
    const qSorted = kept.map((_, j) => Math.min(1, ...kept.slice(j).map((v, k) => (m / (j + k + 1)) * v)));
    for (let i = 0; i < p.length; i++) {
      if (Number.isNaN(p[i]!)) expect(adj[i]).toBeNaN();
      else expect(adj[i]).toBe(qSorted[kept.indexOf(p[i]!)]);
    }
  });
});
