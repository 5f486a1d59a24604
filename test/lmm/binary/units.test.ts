/** Binary-trait helpers: phenotype coding, the SPA's edge cases, Firth on separated data. */
import { describe, expect, it } from 'vitest';
import { f64Matrix } from '../../../kernels/matrix.js';
import { codeBinary, detectBinaryCoding } from '../../../src/lmm/binary/coding.js';
import { fitLogistic } from '../../../src/lmm/binary/logistic.js';
import { BernoulliCgf, spaPValue } from '../../../src/lmm/binary/spa.js';
import { chi2Log10Survival } from '../../../src/stats/distributions.js';
import { invertLower } from '../../../src/lmm/binary/null-model.js';
import { cpuBackendFor } from '../../helpers/cpu-backend.js';
import { maxRelErr, randomSpd } from '../../helpers/random.js';

describe('binary coding', () => {
  it('0/1, 1/2 and (.fam) 1/2 with 0 missing; anything else is not binary', () => {
    const f = (xs: number[], z = false) => detectBinaryCoding(Float64Array.from(xs), z);
    expect(f([0, 1, NaN, 1])).toBe('0/1');
    expect(f([2, 1, 1])).toBe('1/2');
    expect(f([0, 1, 2])).toBeUndefined();
    expect(f([0, 1, 2], true)).toBe('1/2, 0 missing');
    expect(f([1, 1, NaN])).toBeUndefined();
    expect(f([0.5, 1.5])).toBeUndefined();
    expect(Array.from(codeBinary(Float64Array.from([0, 1, 2, NaN]), '1/2, 0 missing'))).toEqual([NaN, 0, 1, NaN]);
    expect(Array.from(codeBinary(Float64Array.from([1, 2]), '1/2'))).toEqual([0, 1]);
  });
});

describe('saddle-point p-values', () => {
  /** Exact two-sided P(|S - m1| >= |q - m1|) for S = sum g_i Y_i by enumerating all 2^n outcomes. */
  function exactP(mu: number[], g: number[], q: number): number {
    const m1 = mu.reduce((s, m, i) => s + m * g[i]!, 0);
    let p = 0;
    for (let mask = 0; mask < 1 << mu.length; mask++) {
      let s = 0, pr = 1;
      for (let i = 0; i < mu.length; i++) {
        const y = (mask >> i) & 1;
        s += y * g[i]!;
        pr *= y ? mu[i]! : 1 - mu[i]!;
      }
      if (Math.abs(s - m1) >= Math.abs(q - m1) - 1e-12) p += pr;
    }
    return p;
  }

  it('tracks the exact tail of a skewed Bernoulli sum far better than the normal approximation', () => {
    // Non-lattice scores (as covariate-adjusted genotypes are), rare outcomes: 3 of the 4 high-score individuals cases.
    const n = 20;
    const mu = Array.from({ length: n }, (_, i) => 0.05 + 0.02 * (i % 5));
    const g = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 1.3 + (i < 4 ? 1.5 : 0));
    const q = g[0]! + g[1]! + g[2]!;
    const cgf = new BernoulliCgf(Float64Array.from(mu), Float64Array.from(g));
    const r = spaPValue(cgf, q);
    expect(r.method).toBe('spa');
    const exact = Math.log10(exactP(mu, g, q));
    const normal = chi2Log10Survival((q - cgf.m1) ** 2 / cgf.variance, 1);
    expect(Math.abs(r.log10p - exact)).toBeLessThan(0.02);
    expect(Math.abs(normal - exact)).toBeGreaterThan(0.5);
  });

  it('stays finite far beyond the f64 range and is symmetric in the sign of the score', () => {
    const n = 4000;
    const mu = new Float64Array(n).fill(0.02);
    const g = Float64Array.from({ length: n }, (_, i) => (i < 400 ? 1 : 0));
    const cgf = new BernoulliCgf(mu, g);
    const r = spaPValue(cgf, 400 - 1e-9); // every carrier a case
    expect(r.method).toBe('spa');
    expect(r.log10p).toBeLessThan(-400);
    expect(Number.isFinite(r.log10p)).toBe(true);
    const g2 = Float64Array.from(g, (v) => -v);
    const r2 = spaPValue(new BernoulliCgf(mu, g2), -(400 - 1e-9));
    expect(r2.log10p).toBeCloseTo(r.log10p, 8);
  });
});

describe('Firth logistic regression', () => {
  it('gives finite estimates under complete separation, where maximum likelihood diverges', () => {
    const n = 40;
    const x = f64Matrix(n, 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x.data[i] = 1;
      x.data[i + n] = i < 3 ? 1 : 0;
      y[i] = i < 3 || i % 5 === 0 ? 1 : 0;
    }
    const ml = fitLogistic(x, y);
    expect(ml.converged && Math.abs(ml.beta[1]!) < 20).toBe(false);
    const firth = fitLogistic(x, y, { firth: true });
    expect(firth.converged).toBe(true);
    expect(firth.beta[1]!).toBeGreaterThan(1);
    expect(firth.beta[1]!).toBeLessThan(10);
    expect(Number.isFinite(firth.se[1]!)).toBe(true);
  });
});

describe('invertLower', () => {
  const backend = cpuBackendFor(1);
  it('L^-1 by halves equals the solve against the identity (n = 1000, three levels)', async () => {
    const n = 1000;
    const l = await backend().potrf(randomSpd(n, 3));
    const inv = await invertLower(l, backend());
    const identity = f64Matrix(n, n);
    for (let i = 0; i < n; i++) identity.data[i + i * n] = 1;
    const ref = await backend().trsm(l, identity);
    expect(maxRelErr(inv, ref)).toBeLessThan(1e-12);
  });
});
