// The gpujs backend against the f64 cpu oracle: every supported op, every variant, random and ragged shapes,
// strided views; tolerance 1e-4 relative (f32 storage and accumulation) on well-conditioned inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, NotPositiveDefiniteError, UnsupportedOpError, type Backend } from '../../../kernels/backend.js';
import { cpuBatchedWeightedDot, cpuGemm, cpuPotrf, cpuPotrs, cpuSyrk, cpuTrsm } from '../../../kernels/cpu/index.js';
import { createGpuJsBackend, gpuJsBackendInfo } from '../../../kernels/gpujs/backend.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { maxRelErr, randomMatrix, randomSpd, rng } from '../../helpers/random.js';

const TOL = 1e-4;
const info = await gpuJsBackendInfo();
if (!info.available) console.warn(`gpujs tests skipped: ${info.reason}`);

/** A well-conditioned triangular matrix: random off-diagonal entries scaled by 1/n, diagonal in [1, 2]. */
function triangular(n: number, seed: number, lower: boolean): F64Matrix {
  const t = randomMatrix(n, n, seed);
  const u = rng(seed + 1);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      if (i === j) t.data[i + j * n] = 1 + u();
      else if (lower ? i > j : i < j) t.data[i + j * n]! /= n;
      else t.data[i + j * n] = Number.NaN; // the other triangle must never be read
    }
  }
  return t;
}

describe.skipIf(!info.available)('gpujs backend (gpu.js webgpu mode)', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createGpuJsBackend();
  });
  afterAll(async () => {
    await be?.dispose();
  });

  it('reports an f32 backend on a WebGPU adapter and which ops it supports', async () => {
    const i = await be.info();
    expect(i).toMatchObject({ name: 'gpujs', available: true, precision: 'f32' });
    expect(i.adapter?.vendor).toBeTruthy();
    expect(i.adapter?.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    for (const op of ['gemm', 'syrk', 'potrf', 'trsm', 'potrs', 'batchedWeightedDot'] as const) expect(be.supports(op)).toBe(true);
    expect(be.supports('eigh')).toBe(false);
  });

  it('gemm: all transpose variants, ragged shapes, strided views, alpha and beta', async () => {
    const [m, n, k] = [37, 23, 19];
    let seed = 10;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = transA ? randomMatrix(k, m, seed++, k + 3) : randomMatrix(m, k, seed++, m + 5);
        const b = transB ? randomMatrix(n, k, seed++) : randomMatrix(k, n, seed++, k + 1);
        const c = randomMatrix(m, n, seed++, m + 2);
        const opts = { transA, transB, alpha: -0.7, beta: 1.3, c };
        const got = await be.gemm(a, b, opts);
        expect(got.rows).toBe(m);
        expect(got.cols).toBe(n);
        expect(maxRelErr(got, cpuGemm(a, b, opts))).toBeLessThan(TOL);
        // without C (beta ignored)
        expect(maxRelErr(await be.gemm(a, b, { transA, transB }), cpuGemm(a, b, { transA, transB }))).toBeLessThan(TOL);
      }
    }
  });

  it('gemm: inner dimension beyond gpu.js default loop cap (1000) and larger squares', async () => {
    const a = randomMatrix(9, 1300, 1);
    const b = randomMatrix(1300, 5, 2);
    expect(maxRelErr(await be.gemm(a, b), cpuGemm(a, b))).toBeLessThan(TOL);
    const s = randomMatrix(130, 130, 3);
    expect(maxRelErr(await be.gemm(s, s, { transB: true }), cpuGemm(s, s, { transB: true }))).toBeLessThan(TOL);
    // fewer rows than one 4-row thread block
    for (const [m, k, n] of [[1, 1, 1], [2, 3, 5], [3, 7, 2]] as const) {
      const x = randomMatrix(k, m, 4 + m);
      const y = randomMatrix(n, k, 5 + m);
      const opts = { transA: true, transB: true };
      expect(maxRelErr(await be.gemm(x, y, opts), cpuGemm(x, y, opts))).toBeLessThan(TOL);
    }
  });

  it('gemm: empty operands give empty or beta*C results', async () => {
    const c = randomMatrix(3, 4, 5);
    const got = await be.gemm(f64Matrix(3, 0), f64Matrix(0, 4), { c, beta: 2 });
    expect(maxRelErr(got, cpuGemm(f64Matrix(3, 0), f64Matrix(0, 4), { c, beta: 2 }))).toBe(0);
    expect((await be.gemm(f64Matrix(0, 3), randomMatrix(3, 2, 6))).rows).toBe(0);
  });

  it('syrk: both orientations, strided, with and without C', async () => {
    for (const trans of [false, true]) {
      const a = trans ? randomMatrix(29, 41, 20, 31) : randomMatrix(41, 29, 21, 43);
      const c = cpuSyrk(randomMatrix(41, 3, 22));
      const opts = { trans, alpha: 0.5, beta: -2, c };
      expect(maxRelErr(await be.syrk(a, opts), cpuSyrk(a, opts))).toBeLessThan(TOL);
      const got = await be.syrk(a, { trans });
      expect(maxRelErr(got, cpuSyrk(a, { trans }))).toBeLessThan(TOL);
      expect(got.data[0 + 5 * got.ld]).toBe(got.data[5 + 0 * got.ld]); // both triangles filled
    }
  });

  it('batchedWeightedDot: full and broadcast weights and right operands', async () => {
    const [n, m] = [57, 33];
    const a = randomMatrix(n, m, 30, n + 4);
    for (const [wc, bc] of [[m, m], [1, m], [m, 1], [1, 1]] as const) {
      const w = randomMatrix(n, wc, 31 + wc);
      const b = randomMatrix(n, bc, 32 + bc, n + 1);
      expect(maxRelErr(await be.batchedWeightedDot(w, a, b), cpuBatchedWeightedDot(w, a, b))).toBeLessThan(TOL);
    }
  });

  it('potrf: matches the oracle and reconstructs A = L L^T', async () => {
    for (const n of [1, 19, 64, 70]) { // one panel, a ragged one, two whole panels, three panels
      const a = randomSpd(n, 40 + n);
      const l = await be.potrf(a);
      expect(maxRelErr(l, cpuPotrf(a))).toBeLessThan(TOL);
      expect(maxRelErr(cpuGemm(l, l, { transB: true }), a)).toBeLessThan(TOL);
      for (let j = 1; j < n; j++) expect(l.data[0 + j * n]).toBe(0); // upper triangle zero
    }
  });

  it('potrf: a matrix that is not positive definite names its failing column', async () => {
    const a = randomSpd(12, 50);
    a.data[7 + 7 * 12] = -5;
    await expect(be.potrf(a)).rejects.toThrow(NotPositiveDefiniteError);
    await expect(be.potrf(a)).rejects.toMatchObject({ column: 7, backend: 'gpujs' });
    const b = randomSpd(100, 51); // failing in the third panel
    b.data[77 + 77 * 100] = -1;
    await expect(be.potrf(b)).rejects.toMatchObject({ column: 77, backend: 'gpujs' });
    expect(maxRelErr(await be.potrf(randomSpd(5, 52)), cpuPotrf(randomSpd(5, 52)))).toBeLessThan(TOL); // still usable
  });

  it('trsm: every side, triangle, transpose and unit-diagonal variant', async () => {
    const [n, r] = [45, 6]; // two blocks of the blocked solve, the second ragged
    let seed = 60;
    for (const side of ['left', 'right'] as const) {
      for (const lower of [true, false]) {
        for (const trans of [false, true]) {
          for (const unitDiagonal of [false, true]) {
            const t = triangular(n, seed++, lower);
            const b = side === 'left' ? randomMatrix(n, r, seed++, n + 2) : randomMatrix(r, n, seed++);
            const opts = { side, lower, trans, unitDiagonal, alpha: 1.5 };
            const got = await be.trsm(t, b, opts);
            expect(maxRelErr(got, cpuTrsm(t, b, opts)), JSON.stringify(opts)).toBeLessThan(TOL);
          }
        }
      }
    }
  });

  it('potrs: solves (L L^T) X = B', async () => {
    const a = randomSpd(70, 70);
    const l = cpuPotrf(a);
    const b = randomMatrix(70, 4, 71);
    expect(maxRelErr(await be.potrs(l, b), cpuPotrs(l, b))).toBeLessThan(TOL);
  });

  it('ill-conditioned inputs: potrf and trsm stay backward stable (residuals small although cond ~ 1e4)', async () => {
    const n = 48;
    const a = randomSpd(n, 90, 1e-3); // eigenvalues from ~1e-3 to ~4
    const l = await be.potrf(a);
    expect(maxRelErr(cpuGemm(l, l, { transB: true }), a)).toBeLessThan(TOL);
    const lref = cpuPotrf(a);
    const b = randomMatrix(n, 3, 91);
    const x = await be.trsm(lref, b);
    expect(maxRelErr(cpuGemm(lref, x), b)).toBeLessThan(TOL);
  });

  it('backends share the device: disposing one leaves another working, a disposed one refuses work', async () => {
    const other = await createGpuJsBackend();
    const a = randomMatrix(5, 4, 95);
    expect(maxRelErr(await other.gemm(a, a, { transA: true }), cpuGemm(a, a, { transA: true }))).toBeLessThan(TOL);
    await other.dispose();
    await expect(other.gemm(a, a, { transA: true })).rejects.toThrow(/gemm on gpujs .*disposed/);
    expect(maxRelErr(await be.gemm(a, a, { transA: true }), cpuGemm(a, a, { transA: true }))).toBeLessThan(TOL);
  });

  it('hold uploads once: held operands are read from the device copy until release', async () => {
    const u = randomMatrix(31, 31, 100, 33);
    const x = randomMatrix(31, 4, 101);
    const before = cpuGemm(u, x, { transA: true });
    be.hold(u);
    expect(maxRelErr(await be.gemm(u, x, { transA: true }), before)).toBeLessThan(TOL);
    const t = triangular(31, 102, true);
    be.hold(t);
    expect(maxRelErr(await be.trsm(t, x), cpuTrsm(t, x))).toBeLessThan(TOL);
    // the contract forbids mutating a held matrix; doing it here shows the device copy is what ops read
    const saved = Float64Array.from(u.data);
    const [syrkBefore, asBBefore, dotBefore] = [cpuSyrk(u), cpuGemm(x, u, { transA: true }), cpuBatchedWeightedDot(u, u, u)];
    u.data.fill(0);
    expect(maxRelErr(await be.gemm(u, x, { transA: true }), before)).toBeLessThan(TOL);
    expect(maxRelErr(await be.syrk(u), syrkBefore)).toBeLessThan(TOL);
    expect(maxRelErr(await be.gemm(x, u, { transA: true }), asBBefore)).toBeLessThan(TOL);
    expect(maxRelErr(await be.batchedWeightedDot(u, u, u), dotBefore)).toBeLessThan(TOL);
    be.release(u);
    be.release(t);
    expect(maxRelErr(await be.gemm(u, x, { transA: true }), f64Matrix(31, 4))).toBe(0);
    u.data.set(saved);
  });

  it('eigh is unsupported and says so', async () => {
    await expect(be.eigh(randomSpd(4, 80))).rejects.toThrow(UnsupportedOpError);
    await expect(be.eigh(randomSpd(4, 80))).rejects.toThrow(/eigh on gpujs/);
  });

  it('rejects bad input with the shared validation messages', async () => {
    await expect(be.gemm(randomMatrix(3, 4, 1), randomMatrix(5, 2, 2))).rejects.toThrow(/gemm on gpujs \(A 3x4, B 5x2\): inner dimensions differ/);
    const bad = randomMatrix(3, 3, 3);
    bad.data[4] = Number.POSITIVE_INFINITY;
    await expect(be.syrk(bad)).rejects.toThrow(KernelError);
    await expect(be.potrf(randomMatrix(3, 4, 4))).rejects.toThrow(/must be square/);
  });
});
