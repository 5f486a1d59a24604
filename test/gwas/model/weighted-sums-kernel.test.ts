import { describe, expect, it } from 'vitest';
import { LAMBDA_GRID } from '../../../src/lmm/snp/lambda-optimiser.js';
import { LambdaSums } from '../../../src/lmm/snp/weighted-sums-kernel.js';
import { normal, rng } from '../../helpers/random.js';

/** The scalar loop the kernel must reproduce bit for bit: sequential sums over i of Hi^o ab[i,k], traces. */
function reference(d: Float64Array, ab: Float64Array, np: number, lambda: number): { s: Float64Array[]; tr1: number; tr2: number } {
  const s = [new Float64Array(np), new Float64Array(np), new Float64Array(np)];
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < d.length; i++) {
    const h = 1 / (lambda * d[i]! + 1);
    const h2 = h * h;
    const h3 = h2 * h;
    tr1 += h;
    tr2 += h2;
    for (let k = 0; k < np; k++) {
      const v = ab[i * np + k]!;
      s[0]![k]! += h * v;
      s[1]![k]! += h2 * v;
      s[2]![k]! += h3 * v;
    }
  }
  return { s, tr1, tr2 };
}

function problem(n: number, np: number, seed: number): { d: Float64Array; ab: Float64Array } {
  const z = normal(rng(seed));
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = i % 7 === 0 ? 0 : Math.exp(2 * z());
  const ab = new Float64Array(n * np);
  for (let i = 0; i < ab.length; i++) ab[i] = z() * z();
  return { d, ab };
}

describe('weighted-sums kernel (wasm SIMD, pairs in lanes)', () => {
  // Odd and even n (the two-row step and its tail), odd and even pair counts (a half-used last lane).
  for (const [n, np] of [[101, 6], [100, 3], [57, 10], [1, 1]] as const) {
    it(`n=${n}, np=${np}: every order bit-identical to the scalar loop, at any lambda and at the grid`, () => {
      const { d, ab } = problem(n, np, 11 + n + np);
      const k = new LambdaSums(n, np, d, ab, LAMBDA_GRID);
      const L = k.lanes;
      for (const lambda of [0, 1e-5, 0.37, 12.5, 1e5]) {
        const ref = reference(d, ab, np, lambda);
        for (const order of [1, 2, 3] as const) {
          k.run(lambda, order);
          for (let o = 0; o < order; o++) expect(Array.from(k.out.subarray(2 * L * o, 2 * L * o + np))).toEqual(Array.from(ref.s[o]!));
          expect(k.out[6 * L]).toBe(ref.tr1);
          expect(k.out[6 * L + 1]).toBe(order === 3 ? ref.tr2 : ref.tr1);
        }
        // Order 2 then only the third-order sums and tr2: the same complete order-3 result.
        k.run(lambda, 2);
        k.runThirdOrder(lambda);
        for (let o = 0; o < 3; o++) expect(Array.from(k.out.subarray(2 * L * o, 2 * L * o + np))).toEqual(Array.from(ref.s[o]!));
        expect([k.out[6 * L], k.out[6 * L + 1]]).toEqual([ref.tr1, ref.tr2]);
      }
      for (let g = 0; g < LAMBDA_GRID.length; g++) {
        const ref = reference(d, ab, np, LAMBDA_GRID[g]!);
        k.runTabulated(g, 2);
        expect(Array.from(k.out.subarray(0, np))).toEqual(Array.from(ref.s[0]!));
        expect(Array.from(k.out.subarray(2 * L, 2 * L + np))).toEqual(Array.from(ref.s[1]!));
        expect(k.out[6 * L]).toBe(ref.tr1);
        k.runTabulated(g, 3);
        expect([k.out[6 * L], k.out[6 * L + 1]]).toEqual([ref.tr1, ref.tr2]);
        for (let pr = 0; pr < np; pr++) {
          k.runGridPair(pr);
          expect(k.gridOut[g]).toBe(ref.s[0]![pr]);
          expect(k.gridOut[k.gp + g]).toBe(ref.s[1]![pr]);
        }
      }
    });
  }

  it('reads the products written into its `ab` view and rejects bad shapes and indices', () => {
    const { d, ab } = problem(40, 6, 3);
    const k = new LambdaSums(40, 6, d, ab, LAMBDA_GRID);
    k.ab[5] = 1e3; // row 0, pair 5
    const ref = reference(d, k.ab, 6, 0.5);
    k.run(0.5, 1);
    expect(k.out[5]).toBe(ref.s[0]![5]);
    expect(() => new LambdaSums(40, 6, d.subarray(1), ab, LAMBDA_GRID)).toThrow(/d of length n/);
    expect(() => k.runTabulated(LAMBDA_GRID.length, 2)).toThrow(/table index/);
    expect(() => k.runGridPair(6)).toThrow(/pair 6/);
  });

  it('runProducts: x times each column at the spec pairs, others untouched; plain sums equal run(0, 1)', () => {
    for (const n of [57, 40]) {
      const np = 6;
      const { d, ab } = problem(n, np, 5 + n);
      const z = normal(rng(n));
      const w = Float64Array.from({ length: n }, () => z());
      const y = Float64Array.from({ length: n }, () => z());
      const pairs = [{ pair: 1, column: 0 }, { pair: 3, column: -1 }, { pair: 4, column: 1 }];
      const k = new LambdaSums(n, np, d, ab, LAMBDA_GRID, { columns: [w, y], pairs });
      for (let i = 0; i < n; i++) k.x[i] = z();
      k.runProducts();
      for (let i = 0; i < n; i++) {
        const x = k.x[i]!;
        expect([k.ab[i * np + 1], k.ab[i * np + 3], k.ab[i * np + 4]]).toEqual([x * w[i]!, x * x, x * y[i]!]);
        for (const fixed of [0, 2, 5]) expect(k.ab[i * np + fixed]).toBe(ab[i * np + fixed]);
      }
      const sums = Array.from(k.productSums);
      k.run(0, 1);
      expect(sums).toEqual([k.out[1], k.out[3], k.out[4]]);
    }
    const { d, ab } = problem(10, 6, 1);
    const col = new Float64Array(10);
    expect(() => new LambdaSums(10, 6, d, ab, LAMBDA_GRID, { columns: [col], pairs: [{ pair: 6, column: 0 }] })).toThrow(/pair 6/);
    expect(() => new LambdaSums(10, 6, d, ab, LAMBDA_GRID, { columns: [col], pairs: [{ pair: 1, column: 1 }] })).toThrow(/column 1/);
    expect(() => new LambdaSums(10, 6, d, ab, LAMBDA_GRID, { columns: [col.subarray(1)], pairs: [{ pair: 1, column: 0 }] })).toThrow(/length 9/);
    expect(() => new LambdaSums(10, 6, d, ab, LAMBDA_GRID).runProducts()).toThrow(/ProductSpec/);
  });
});
