import { describe, expect, it } from 'vitest';
import { gemmKernelFma, gemmStrided, kernelWorkspace } from '../../../kernels/cpu/gemm-core.js';
import { relaxedSimdAvailable } from '../../../kernels/cpu/wasm/runtime.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { maxRelErr, randomMatrix } from '../../helpers/random.js';
import { get, refGemm } from './reference.js';

/** Sentinels around the C block: a negative zero (an added +0 would turn it positive) and a plain value. */
const SENTINEL = [-0, 12345.678];

/**
 * alpha op(A) op(B) added to an m x n block at row r0, column c0 of a (m + r0 + 3) x (n + c0 + 2) matrix
 * whose other entries are sentinels, once with the matrix in the kernel's workspace (updated in place) and
 * once as a plain array (panel copies); returns both matrices and the expected block.
 */
function bothPaths(m: number, n: number, k: number, transA: boolean, transB: boolean, lowerOnly: boolean, seed: number) {
  const a = transA ? randomMatrix(k, m, seed, k + 1) : randomMatrix(m, k, seed, m + 2);
  const b = transB ? randomMatrix(n, k, seed + 1, n + 3) : randomMatrix(k, n, seed + 1, k);
  const c0 = randomMatrix(m, n, seed + 2);
  const [r0, col0] = [5, 3];
  const rows = m + r0 + 3, cols = n + col0 + 2;
  const fill = (d: Float64Array): void => {
    for (let i = 0; i < d.length; i++) d[i] = SENTINEL[i % 2]!;
    for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) d[r0 + i + (col0 + j) * rows] = get(c0, i, j);
  };
  const plain = new Float64Array(rows * cols);
  fill(plain);
  const ws = kernelWorkspace(rows * cols);
  fill(ws);
  const args = [m, n, k, -0.75, a.data, 0, a.ld, transA, b.data, 0, b.ld, transB] as const;
  gemmStrided(...args, ws, r0 + col0 * rows, rows, lowerOnly);
  const inPlace = Float64Array.from(ws);
  gemmStrided(...args, plain, r0 + col0 * rows, rows, lowerOnly);
  const want = refGemm(a, b, transA, transB, -0.75, 1, c0);
  if (lowerOnly) for (let j = 0; j < n; j++) for (let i = 0; i < Math.min(j, m); i++) want.data[i + j * m] = get(c0, i, j);
  const block = (d: Float64Array): F64Matrix => f64Matrix(m, n, d.subarray(r0 + col0 * rows), rows);
  return { inPlace, plain, want, c0, rows, cols, r0, col0, block };
}

describe('gemmStrided with C in the kernel memory (updated in place)', () => {
  // Ragged edges (partial tiles), several row blocks (m > 128) and depth slices (k > 256), odd depth; the
  // last two are large enough for the blocked kernel on the copying path too (then both sum alike).
  const shapes: [number, number, number][] = [[9, 6, 9], [30, 17, 3], [131, 22, 259], [45, 70, 64]];
  const blockedBoth = (m: number, n: number, k: number): boolean => m * n * k >= 48 ** 3;
  for (const [m, n, k] of shapes) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const lowerOnly of m === n || m > 40 ? [false, true] : [false]) {
        it(`m=${m} n=${n} k=${k} transA=${transA} transB=${transB} lowerOnly=${lowerOnly}: the block (its triangle) only${blockedBoth(m, n, k) ? ', equal to the copying path bit for bit' : ''}`, () => {
          const r = bothPaths(m, n, k, transA, transB, lowerOnly, m + n + k);
          expect(maxRelErr(r.block(r.inPlace), r.want)).toBeLessThan(1e-13);
          expect(maxRelErr(r.block(r.plain), r.want)).toBeLessThan(1e-13);
          if (blockedBoth(m, n, k)) expect(r.inPlace).toEqual(r.plain);
          let untouched = true;
          for (let j = 0; j < r.cols; j++) {
            for (let i = 0; i < r.rows; i++) {
              const bi = i - r.r0, bj = j - r.col0;
              const inBlock = bi >= 0 && bi < m && bj >= 0 && bj < n;
              const x = r.inPlace[i + j * r.rows];
              if (!inBlock) untouched &&= Object.is(x, SENTINEL[(i + j * r.rows) % 2]);
              else if (lowerOnly && bi < bj) untouched &&= Object.is(x, get(r.c0, bi, bj));
            }
          }
          expect(untouched).toBe(true);
        });
      }
    }
  }
});

describe('fused multiply-add', () => {
  it('is available on this runtime (Node 20: behind the V8 flag the kernel switches on)', () => {
    expect(relaxedSimdAvailable()).toBe(true);
  });

  it('the product kernel rounds once per multiply-add exactly when it reports FMA', () => {
    // C = a0 b0 + a1 b1 with a0 b0 = 1 - 2^-60 (rounds to 1) and a1 b1 = -(1 - 2^-60): fused, the second
    // step keeps the first's rounding error (2^-60); multiply-then-add rounds a1 b1 to -1 and gives 0.
    const e = 2 ** -30;
    const n = 16, k = 2;
    const a = new Float64Array(n * k), b = new Float64Array(k * n);
    for (let i = 0; i < n; i++) {
      a[i] = 1 + e;
      a[i + n] = 1 + e;
      b[i * k] = 1 - e;
      b[1 + i * k] = -(1 - e);
    }
    const c = kernelWorkspace(n * n);
    c.fill(0);
    gemmStrided(n, n, k, 1, a, 0, n, false, b, 0, k, false, c, 0, n);
    expect(c[0]).toBe(gemmKernelFma() ? 2 ** -60 : 0);
    expect(new Set(c).size).toBe(1);
  });
});
