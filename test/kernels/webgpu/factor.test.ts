// WebGPU potrf, trsm and potrs against the f64 cpu oracle, plus reconstruction checks.
// Sizes cross the 32-row block of the blocked algorithms (n = 37, 70) and include 1 x 1.
// Tolerances: well-conditioned inputs (cond < 10) within 1e-4 relative of the f64 result (forward error
// about n u cond); reconstruction L L^T = A within 1e-5 relative to max |A| for any SPD input the f32
// factorisation completes (backward stability: about n u).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError, type Backend, type TrsmOptions } from '../../../kernels/backend.js';
import { cpuGemm, cpuPotrf, cpuPotrs, cpuTrsm } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { createWebGpuBackend } from '../../../kernels/webgpu/backend.js';
import { maxRelErr, randomMatrix, randomSpd } from '../../helpers/random.js';
import { info, maxAbs, triangular, U32 } from './setup.js';

const TOL = 1e-4;

describe.skipIf(!info.available)('webgpu factorisations and solves', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createWebGpuBackend();
  });
  afterAll(async () => {
    await be?.dispose();
  });

  it('potrf matches the cpu factor and reconstructs A; upper triangle is zero', async () => {
    for (const n of [1, 5, 37, 70]) {
      const a = randomSpd(n, n);
      const l = await be.potrf(a);
      expect(maxRelErr(l, cpuPotrf(a)), `n=${n}`).toBeLessThan(TOL);
      expect(maxRelErr(cpuGemm(l, l, { transB: true }), a)).toBeLessThan(1e-5);
      for (let j = 0; j < n; j++) for (let i = 0; i < j; i++) expect(l.data[i + j * n]).toBe(0);
    }
  });

  it('potrf reads only the lower triangle and respects ld', async () => {
    const n = 40;
    const spd = randomSpd(n, 3);
    const a = f64Matrix(n, n, new Float64Array(47 * n).fill(Number.NaN), 47);
    for (let j = 0; j < n; j++) for (let i = j; i < n; i++) a.data[i + j * 47] = spd.data[i + j * n]!;
    expect(maxRelErr(await be.potrf(a), cpuPotrf(spd))).toBeLessThan(TOL);
  });

  it('potrf on an ill-conditioned SPD matrix (cond about 4e4) still reconstructs A', async () => {
    const a = randomSpd(70, 11, 1e-4);
    const l = await be.potrf(a);
    expect(maxRelErr(cpuGemm(l, l, { transB: true }), a)).toBeLessThan(1e-5);
  });

  it('potrf throws NotPositiveDefiniteError with the first failing column', async () => {
    for (const col of [0, 5, 45]) {
      const a = randomSpd(70, 2);
      a.data[col + col * 70] = -1; // the pivot at `col` is then < -1 whatever the columns before it
      const err = await be.potrf(a).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotPositiveDefiniteError);
      expect((err as NotPositiveDefiniteError).column).toBe(col);
      expect((err as NotPositiveDefiniteError).pivot).toBeLessThan(0);
      expect((err as Error).message).toMatch(/potrf on webgpu \(A 70x70\): matrix is not positive definite/);
    }
    await expect(be.potrf(randomMatrix(3, 4, 1))).rejects.toThrow(/A must be square/);
  });

  it('trsm: every side, triangle, transpose and unit-diagonal variant on strided operands', async () => {
    let seed = 100;
    for (const side of ['left', 'right'] as const) {
      for (const lower of [true, false]) {
        for (const trans of [false, true]) {
          for (const unitDiagonal of [false, true]) {
            for (const [n, r] of [[1, 1], [37, 5]] as const) {
              const t = triangular(n, seed++, lower, n + 3);
              if (unitDiagonal) for (let i = 0; i < n; i++) t.data[i + i * t.ld] = 0; // must not be read
              const b = side === 'left' ? randomMatrix(n, r, seed++, n + 1) : randomMatrix(r, n, seed++, r + 2);
              const opts: TrsmOptions = { side, lower, trans, unitDiagonal, alpha: 1.5 };
              const got = await be.trsm(t, b, opts);
              expect(got.rows).toBe(b.rows);
              expect(maxRelErr(got, cpuTrsm(t, b, opts)), JSON.stringify({ ...opts, n, r })).toBeLessThan(TOL);
            }
          }
        }
      }
    }
  });

  it('trsm on ill-conditioned triangles is backward stable: |T X - alpha B| <= (n + 4) u (|T||X| + |alpha B|)', async () => {
    // Diagonal from 1 down to 1e-3: the solution grows to about 1e16 (cond(T) is huge), so the fair test is
    // componentwise backward stability, which substitution and its blocked form keep (Higham, Thm 8.5).
    const n = 70;
    for (const opts of [{}, { side: 'right', lower: false, trans: true }] as TrsmOptions[]) {
      const t = triangular(n, 31, opts.lower ?? true);
      for (let i = 0; i < n; i++) t.data[i + i * n] = 10 ** (-3 * (i / (n - 1)));
      const right = opts.side === 'right';
      const b = right ? randomMatrix(6, n, 32) : randomMatrix(n, 6, 32);
      const x = await be.trsm(t, b, { ...opts, alpha: 2 });
      const tt = f64Matrix(n, n);
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) tt.data[i + j * n] = Number.isFinite(t.data[i + j * n]!) ? t.data[i + j * n]! : 0;
      const op = { transA: !right && (opts.trans ?? false), transB: right && (opts.trans ?? false) };
      const tx = right ? cpuGemm(x, tt, op) : cpuGemm(tt, x, op);
      const abs = (m: typeof tt) => f64Matrix(m.rows, m.cols, m.data.map(Math.abs));
      const bound = right ? cpuGemm(abs(x), abs(tt), op) : cpuGemm(abs(tt), abs(x), op);
      let worst = 0;
      for (let k = 0; k < tx.data.length; k++) {
        worst = Math.max(worst, Math.abs(tx.data[k]! - 2 * b.data[k]!) / ((n + 4) * U32 * (bound.data[k]! + Math.abs(2 * b.data[k]!))));
      }
      expect(worst, JSON.stringify(opts)).toBeLessThan(1);
    }
  });

  it('trsm with many right-hand sides (more than one workgroup) and several blocks', async () => {
    const t = triangular(70, 5, true);
    const b = randomMatrix(70, 150, 6);
    expect(maxRelErr(await be.trsm(t, b), cpuTrsm(t, b))).toBeLessThan(TOL);
  });

  it('potrs solves A X = B through the Cholesky factor', async () => {
    for (const [n, r] of [[1, 1], [37, 3], [70, 66]] as const) {
      const a = randomSpd(n, 20 + n);
      const l = cpuPotrf(a);
      const b = randomMatrix(n, r, 30 + n);
      const x = await be.potrs(l, b);
      expect(maxRelErr(x, cpuPotrs(l, b))).toBeLessThan(TOL);
      expect(maxRelErr(cpuGemm(a, x), b)).toBeLessThan(TOL);
    }
  });

  it('trsm and potrs reject mismatched shapes and singular or non-finite triangles', async () => {
    const t = triangular(4, 1, true);
    await expect(be.trsm(t, randomMatrix(5, 2, 1))).rejects.toThrow(/trsm on webgpu \(T 4x4, B 5x2\): B must have 4 rows/);
    await expect(be.trsm(t, randomMatrix(2, 5, 1), { side: 'right' })).rejects.toThrow(/B must have 4 columns/);
    const singular = triangular(4, 2, true);
    singular.data[2 + 2 * 4] = 0;
    await expect(be.trsm(singular, randomMatrix(4, 1, 1))).rejects.toThrow(/singular: zero diagonal at 2/);
    const nan = triangular(4, 3, true);
    nan.data[3] = Number.NaN;
    await expect(be.potrs(nan, randomMatrix(4, 1, 1))).rejects.toThrow(/potrs on webgpu.*T\[3,0\] is NaN/);
    expect(maxAbs(await be.trsm(t, f64Matrix(4, 0)))).toBe(0);
  });
});
