import { describe, expect, it } from 'vitest';
import { KernelError } from '../../../kernels/backend.js';
import { cpuBatchedWeightedDot, cpuGemm, cpuSyrk } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { maxRelErr, randomMatrix, rng } from '../../helpers/random.js';
import { get, refGemm } from './reference.js';

const TOL = 1e-13;

describe('cpuGemm', () => {
  // Ragged sizes around micro-tile and cache-block edges, plus a product large enough to use every level.
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [7, 1, 9], [17, 13, 31], [65, 33, 70], [130, 67, 257]];
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`m=${m} n=${n} k=${k} transA=${transA} transB=${transB} on strided views`, () => {
          const s = m * 1000 + n * 10 + k;
          const a = transA ? randomMatrix(k, m, s, k + 3) : randomMatrix(m, k, s, m + 2);
          const b = transB ? randomMatrix(n, k, s + 1, n + 1) : randomMatrix(k, n, s + 1, k + 4);
          const got = cpuGemm(a, b, { transA, transB });
          expect(got.rows).toBe(m);
          expect(got.cols).toBe(n);
          expect(maxRelErr(got, refGemm(a, b, transA, transB))).toBeLessThan(TOL);
        });
      }
    }
  }

  it('matrix-vector shapes (U^T y, y^T X) in every transpose variant', () => {
    for (const [m, n, k] of [[260, 1, 250], [1, 260, 250], [300, 5, 7]] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = transA ? randomMatrix(k, m, m + k, k + 1) : randomMatrix(m, k, m + k, m + 1);
          const b = transB ? randomMatrix(n, k, n + k, n + 2) : randomMatrix(k, n, n + k, k + 2);
          expect(maxRelErr(cpuGemm(a, b, { transA, transB, alpha: 0.5 }), refGemm(a, b, transA, transB, 0.5))).toBeLessThan(TOL);
        }
      }
    }
  });

  it('applies alpha and beta to a strided C without mutating it', () => {
    const a = randomMatrix(19, 23, 1);
    const b = randomMatrix(21, 23, 2, 25);
    const c = randomMatrix(19, 21, 3, 20);
    const before = Float64Array.from(c.data);
    const got = cpuGemm(a, b, { transB: true, alpha: -0.5, beta: 2.5, c });
    expect(maxRelErr(got, refGemm(a, b, false, true, -0.5, 2.5, c))).toBeLessThan(TOL);
    expect(c.data).toEqual(before);
  });

  it('ignores beta without C, returns zeros for k = 0 and handles empty outputs', () => {
    const a = randomMatrix(4, 3, 4);
    const b = randomMatrix(3, 2, 5);
    expect(maxRelErr(cpuGemm(a, b, { beta: 7 }), refGemm(a, b, false, false))).toBeLessThan(TOL);
    const z = cpuGemm(f64Matrix(3, 0), f64Matrix(0, 2));
    expect(Array.from(z.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(cpuGemm(f64Matrix(0, 4), randomMatrix(4, 5, 6)).rows).toBe(0);
  });

  it('rejects mismatched shapes and non-finite input naming op, backend and shapes', () => {
    expect(() => cpuGemm(randomMatrix(3, 4, 1), randomMatrix(5, 2, 2))).toThrow(/gemm on cpu \(A 3x4, B 5x2\): inner dimensions differ/);
    const bad = randomMatrix(3, 3, 3);
    bad.data[4] = Number.NaN;
    expect(() => cpuGemm(bad, randomMatrix(3, 3, 4))).toThrow(KernelError);
    expect(() => cpuGemm(bad, randomMatrix(3, 3, 4))).toThrow(/A\[1,1\] is NaN/);
    expect(() => cpuGemm(randomMatrix(2, 2, 1), randomMatrix(2, 2, 2), { c: f64Matrix(3, 2) })).toThrow(/C must be 2x2/);
  });
});

describe('cpuSyrk', () => {
  for (const [n, k] of [[1, 1], [5, 3], [33, 17], [70, 129], [131, 40]] as const) {
    for (const trans of [false, true]) {
      it(`n=${n} k=${k} trans=${trans}: both triangles, exactly symmetric`, () => {
        const a = trans ? randomMatrix(k, n, n + k, k + 2) : randomMatrix(n, k, n + k, n + 1);
        const got = cpuSyrk(a, { trans });
        expect(maxRelErr(got, refGemm(a, a, trans, !trans))).toBeLessThan(TOL);
        for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) expect(get(got, i, j)).toBe(get(got, j, i));
      });
    }
  }

  it('applies alpha and beta C (lower triangle of C read)', () => {
    const a = randomMatrix(12, 7, 9);
    const c0 = randomMatrix(12, 12, 10);
    const c = f64Matrix(12, 12);
    for (let j = 0; j < 12; j++) for (let i = 0; i < 12; i++) c.data[i + j * 12] = get(c0, Math.max(i, j), Math.min(i, j));
    const got = cpuSyrk(a, { alpha: 0.25, beta: -1.5, c });
    expect(maxRelErr(got, refGemm(a, a, false, true, 0.25, -1.5, c))).toBeLessThan(TOL);
  });

  it('rejects a wrong C and non-finite input', () => {
    expect(() => cpuSyrk(randomMatrix(4, 3, 1), { c: f64Matrix(3, 3) })).toThrow(/syrk on cpu .*C must be 4x4/);
    const bad = randomMatrix(4, 3, 2);
    bad.data[5] = Number.POSITIVE_INFINITY;
    expect(() => cpuSyrk(bad)).toThrow(/A\[1,1\] is Infinity/);
  });
});

describe('cpuBatchedWeightedDot', () => {
  function ref(w: ReturnType<typeof randomMatrix>, a: ReturnType<typeof randomMatrix>, b: ReturnType<typeof randomMatrix>): Float64Array {
    const out = new Float64Array(a.cols);
    for (let j = 0; j < a.cols; j++) {
      for (let i = 0; i < a.rows; i++) out[j]! += get(w, i, w.cols === 1 ? 0 : j) * get(a, i, j) * get(b, i, b.cols === 1 ? 0 : j);
    }
    return out;
  }
  for (const wCols of ['full', 'broadcast'] as const) {
    for (const bCols of ['full', 'broadcast'] as const) {
      it(`w ${wCols}, b ${bCols}, odd n, strided`, () => {
        const n = 37, m = 11;
        const w = randomMatrix(n, wCols === 'full' ? m : 1, 1, n + 2);
        const a = randomMatrix(n, m, 2, n + 1);
        const b = randomMatrix(n, bCols === 'full' ? m : 1, 3, n + 3);
        expect(maxRelErr(cpuBatchedWeightedDot(w, a, b), ref(w, a, b))).toBeLessThan(TOL);
      });
    }
  }

  it('handles m = 1, n = 0 and rejects bad shapes', () => {
    const u = rng(4);
    const w = f64Matrix(3, 1, Float64Array.from([u(), u(), u()]));
    const a = f64Matrix(3, 1, Float64Array.from([1, 2, 3]));
    const got = cpuBatchedWeightedDot(w, a, a);
    expect(got[0]).toBeCloseTo(w.data[0]! + 4 * w.data[1]! + 9 * w.data[2]!, 14);
    expect(Array.from(cpuBatchedWeightedDot(f64Matrix(0, 1), f64Matrix(0, 3), f64Matrix(0, 3)))).toEqual([0, 0, 0]);
    expect(() => cpuBatchedWeightedDot(randomMatrix(4, 2, 1), randomMatrix(4, 3, 2), randomMatrix(4, 3, 3))).toThrow(/w must have 3 columns or 1/);
    expect(() => cpuBatchedWeightedDot(randomMatrix(4, 1, 1), randomMatrix(4, 3, 2), randomMatrix(5, 3, 3))).toThrow(/b must have 4 rows/);
  });
});
