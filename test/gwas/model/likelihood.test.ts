import { describe, expect, it } from 'vitest';
import { LAMBDA_GRID, optimiseLambda, type LambdaFunctions } from '../../../src/lmm/snp/lambda-optimiser.js';
import { LambdaObjective, logDetH } from '../../../src/lmm/snp/likelihood.js';
import { fixedProducts, fitNullModel, type RotatedInputs } from '../../../src/lmm/snp/null-model.js';
import { pairCount, pairIndex } from '../../../src/lmm/snp/projection.js';
import { normal, rng } from '../../helpers/random.js';

/** Synthetic rotated data: eigenvalues with one zero, c covariates, y with a genetic component, one SNP x. */
function synthetic(n: number, c: number, seed: number): { inputs: RotatedInputs; ux: Float64Array } {
  const u = rng(seed);
  const z = normal(u);
  const d = new Float64Array(n);
  for (let i = 1; i < n; i++) d[i] = 3 * u() ** 3;
  const uw = new Float64Array(n * c);
  for (let i = 0; i < n * c; i++) uw[i] = z();
  const uy = new Float64Array(n);
  for (let i = 0; i < n; i++) uy[i] = z() * Math.sqrt(1 + 1.5 * d[i]!) + 0.3 * uw[i]!;
  const ux = new Float64Array(n);
  for (let i = 0; i < n; i++) ux[i] = z() + 0.2 * uy[i]!;
  return { inputs: { d, uw, c, uy }, ux };
}

/** The alternative-model objective for one SNP. */
function altObjective(inputs: RotatedInputs, ux: Float64Array): LambdaObjective {
  const { c } = inputs;
  const n = inputs.d.length;
  const q = c + 2;
  const np = pairCount(q);
  const ab = fixedProducts(inputs, true);
  for (let i = 0; i < n; i++) {
    ab[i * np + pairIndex(c, c, q)] = ux[i]! * ux[i]!;
    ab[i * np + pairIndex(c, c + 1, q)] = ux[i]! * inputs.uy[i]!;
    for (let a = 0; a < c; a++) ab[i * np + pairIndex(a, c, q)] = ux[i]! * inputs.uw[i + a * n]!;
  }
  return new LambdaObjective(inputs.d, ab, q, c + 1);
}

/** Direct log-likelihoods from the definitions (dense GLS in the rotated basis, H = diag(lambda d + 1)). */
function directLogL(kind: 'ml' | 'reml', inputs: RotatedInputs, x: Float64Array | null, lambda: number): number {
  const n = inputs.d.length;
  const cols: Float64Array[] = [];
  for (let a = 0; a < inputs.c; a++) cols.push(inputs.uw.subarray(a * n, (a + 1) * n));
  if (x) cols.push(x);
  const k = cols.length;
  const h = Float64Array.from(inputs.d, (d) => 1 / (lambda * d + 1));
  const xtx = (w: Float64Array | null): number[][] => cols.map((a) => cols.map((b) => a.reduce((s, v, i) => s + (w ? w[i]! : 1) * v * b[i]!, 0)));
  const xhy = cols.map((a) => a.reduce((s, v, i) => s + h[i]! * v * inputs.uy[i]!, 0));
  const m = xtx(h);
  // Solve m beta = xhy by Gaussian elimination; log-determinants from the pivots.
  const aug = m.map((r, i) => [...r, xhy[i]!]);
  let logdet = 0;
  for (let p = 0; p < k; p++) {
    logdet += Math.log(aug[p]![p]!);
    for (let r = p + 1; r < k; r++) {
      const f = aug[r]![p]! / aug[p]![p]!;
      for (let j = p; j <= k; j++) aug[r]![j]! -= f * aug[p]![j]!;
    }
  }
  const beta = new Array<number>(k).fill(0);
  for (let p = k - 1; p >= 0; p--) {
    let s = aug[p]![k]!;
    for (let j = p + 1; j < k; j++) s -= aug[p]![j]! * beta[j]!;
    beta[p] = s / aug[p]![p]!;
  }
  let pyy = 0;
  for (let i = 0; i < n; i++) {
    let r = inputs.uy[i]!;
    for (let a = 0; a < k; a++) r -= cols[a]![i]! * beta[a]!;
    pyy += h[i]! * r * r;
  }
  const ldh = inputs.d.reduce((s, d) => s + Math.log(1 + lambda * d), 0);
  if (kind === 'ml') return 0.5 * n * (Math.log(n) - Math.log(2 * Math.PI) - 1) - 0.5 * ldh - 0.5 * n * Math.log(pyy);
  const w2 = xtx(null);
  let logdetWW = 0;
  for (let p = 0; p < k; p++) {
    logdetWW += Math.log(w2[p]![p]!);
    for (let r = p + 1; r < k; r++) {
      const f = w2[r]![p]! / w2[p]![p]!;
      for (let j = p; j < k; j++) w2[r]![j]! -= f * w2[p]![j]!;
    }
  }
  const df = n - k;
  return 0.5 * df * (Math.log(df) - Math.log(2 * Math.PI) - 1) - 0.5 * ldh - 0.5 * (logdet - logdetWW) - 0.5 * df * Math.log(pyy);
}

describe('GEMMA likelihood maths', () => {
  for (const c of [1, 2]) {
    const { inputs, ux } = synthetic(120, c, 7 + c);
    const alt = altObjective(inputs, ux);
    const nul = new LambdaObjective(inputs.d, fixedProducts(inputs, false), c + 1, c);
    for (const kind of ['ml', 'reml'] as const) {
      it(`${kind} value equals the direct GLS likelihood (c = ${c}, with and without the SNP)`, () => {
        for (const lambda of [1e-3, 0.7, 25]) {
          expect(alt.value(kind, lambda)).toBeCloseTo(directLogL(kind, inputs, ux, lambda), 8);
          expect(nul.value(kind, lambda)).toBeCloseTo(directLogL(kind, inputs, null, lambda), 8);
        }
      });
      it(`${kind} first and second derivatives match central finite differences (c = ${c})`, () => {
        const out = new Float64Array(2);
        for (const lambda of [0.01, 0.5, 3, 80]) {
          const hstep = lambda * 1e-4;
          const fd1 = (alt.value(kind, lambda + hstep) - alt.value(kind, lambda - hstep)) / (2 * hstep);
          const fd2 = (alt.dev1(kind, lambda + hstep) - alt.dev1(kind, lambda - hstep)) / (2 * hstep);
          alt.dev12(kind, lambda, out);
          expect(Math.abs(out[0]! - fd1)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd1)));
          expect(Math.abs(alt.dev1(kind, lambda) - out[0]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(out[0]!)));
          expect(Math.abs(out[1]! - fd2)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd2)));
        }
      });
    }
  }
});

describe('lambda optimiser', () => {
  it('finds the root of a known derivative, keeps the iterate before the last Newton step, and compares the ends', () => {
    // f(l) = -(ln l - ln 2)^2 : maximum at l = 2; dev1 = -2 (ln l - ln 2) / l.
    const calls = { newton: 0 };
    const f: LambdaFunctions = {
      value: (_k, l) => -((Math.log(l) - Math.log(2)) ** 2),
      dev1: (_k, l) => (-2 * (Math.log(l) - Math.log(2))) / l,
      dev12: (_k, l, out) => {
        calls.newton++;
        out[0] = (-2 * (Math.log(l) - Math.log(2))) / l;
        out[1] = (-2 + 2 * (Math.log(l) - Math.log(2))) / (l * l);
      },
    };
    const grid = Array.from(LAMBDA_GRID, (l) => f.dev1('ml', l));
    const r = optimiseLambda(f, 'ml', grid);
    expect(r.status).toBe('ok');
    expect(Math.abs(r.lambda - 2)).toBeLessThan(2e-5 * 2);
    expect(r.lambda).not.toBe(2); // the iterate before the last step, not the converged root
    expect(calls.newton).toBeGreaterThan(0);
    // Monotone increasing likelihood: no sign change, the upper end wins.
    const up: LambdaFunctions = { value: (_k, l) => Math.log(l), dev1: (_k, l) => 1 / l, dev12: () => undefined };
    const e = optimiseLambda(up, 'reml', Array.from(LAMBDA_GRID, (l) => 1 / l));
    expect(e).toEqual({ lambda: 1e5, logl: Math.log(1e5), status: 'ok' });
  });

  it('reports a status instead of NaN when Newton cannot proceed', () => {
    const flat: LambdaFunctions = {
      value: () => 0,
      dev1: (_k, l) => 2 - l,
      dev12: (_k, l, out) => {
        out[0] = 2 - l;
        out[1] = 0; // zero second derivative: GSL's Newton fails (GEMMA prints nan)
      },
    };
    const r = optimiseLambda(flat, 'ml', Array.from(LAMBDA_GRID, (l) => 2 - l));
    expect(r.status).toBe('newton_failed');
    expect(Number.isNaN(r.lambda)).toBe(true);
  });

  it('null model: REML lambda is a stationary point and pve lies in (0, 1)', () => {
    const { inputs } = synthetic(200, 1, 3);
    const nm = fitNullModel(inputs);
    const obj = new LambdaObjective(inputs.d, fixedProducts(inputs, false), 2, 1);
    expect(Math.abs(obj.dev1('reml', nm.lambdaRemle))).toBeLessThan(1e-4);
    expect(nm.pve).toBeGreaterThan(0);
    expect(nm.pve).toBeLessThan(1);
    expect(nm.vg / nm.ve).toBeCloseTo(nm.lambdaRemle, 12);
  });
});

describe('logDetH', () => {
  it('equals the one-group-at-a-time product of 16 factors per logarithm, bit for bit, for every tail length', () => {
    const u = rng(9);
    for (const n of [1, 15, 16, 63, 64, 65, 150, 1410]) {
      const d = Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 4 * u() ** 2));
      for (const lambda of [1e-5, 0.37, 1e5]) {
        let ref = 0;
        let i = 0;
        for (; i + 16 <= n; i += 16) {
          let prod = 1;
          for (let k = 0; k < 16; k++) prod *= Math.abs(1 + lambda * d[i + k]!);
          ref += Math.log(prod);
        }
        for (; i < n; i++) ref += Math.log(Math.abs(1 + lambda * d[i]!));
        expect(logDetH(d, lambda)).toBe(ref);
        const direct = d.reduce((s, v) => s + Math.log(1 + lambda * v), 0);
        expect(Math.abs(logDetH(d, lambda) - direct)).toBeLessThanOrEqual(1e-12 * (n + Math.abs(direct)));
      }
    }
  });
});

describe('per-SNP fast path (products formed in the kernel, tabulated lambdas)', () => {
  for (const c of [1, 3]) {
    it(`formProducts, grid and projectTabulated equal writing ab, refresh and project, bit for bit (c = ${c})`, () => {
      const { inputs } = synthetic(151, c, 20 + c);
      const n = inputs.d.length;
      const q = c + 2;
      const columns = [...Array.from({ length: c }, (_, a) => inputs.uw.subarray(a * n, (a + 1) * n)), inputs.uy];
      const pairs = Array.from({ length: q }, (_, a) => ({ pair: pairIndex(a, c, q), column: a === c ? -1 : a < c ? a : c }));
      const lambdaScore = 0.731;
      const fast = new LambdaObjective(inputs.d, fixedProducts(inputs, true), q, c + 1, { products: { columns, pairs }, tabulate: [lambdaScore] });
      fast.enableFastGrid(Int32Array.from(pairs, (e) => e.pair));
      const grid = (o: LambdaObjective): number[] => {
        const reml = new Float64Array(LAMBDA_GRID.length);
        const ml = new Float64Array(LAMBDA_GRID.length);
        const ends = new Float64Array(4);
        o.grid([1.5, 2.5], reml, ml, ends);
        return [...reml, ...ml, ...ends];
      };
      for (const seed of [1, 2]) {
        const { ux } = synthetic(151, c, 40 + seed);
        const plain = altObjective(inputs, ux);
        fast.x.set(ux);
        fast.formProducts();
        expect(fast.logDetWW).toBe(plain.logDetWW);
        expect(Array.from(fast.ab)).toEqual(Array.from(plain.ab));
        fast.projectTabulated(LAMBDA_GRID.length);
        plain.project(lambdaScore);
        expect(Array.from(fast.p)).toEqual(Array.from(plain.p));
        expect(grid(fast)).toEqual(grid(plain));
        expect(fast.value('reml', 0.2)).toBe(plain.value('reml', 0.2));
      }
      expect(() => fast.projectTabulated(LAMBDA_GRID.length + 1)).toThrow(/table index/);
      expect(() => altObjective(inputs, inputs.uy).projectTabulated(0)).toThrow(/enableFastGrid/);
    });
  }
});
