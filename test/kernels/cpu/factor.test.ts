import { describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError } from '../../../kernels/backend.js';
import { cpuPotrf, cpuPotrs, cpuTrsm } from '../../../kernels/cpu/index.js';
import { f64FromRows, f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { maxRelErr, randomMatrix, randomSpd } from '../../helpers/random.js';
import { expectThrown } from '../../helpers/errors.js';
import { get, refGemm, withLd } from './reference.js';

/** Well-conditioned triangular test matrix: off-diagonal N(0, 1/n), diagonal |d| >= 2 (ignored by unit-diagonal solves), the
 *  other triangle NaN (never read). */
function triangle(n: number, lower: boolean, seed: number): F64Matrix {
  const t = randomMatrix(n, n, seed, n + 1);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      if (lower ? i < j : i > j) t.data[i + j * t.ld] = Number.NaN;
      else if (i === j) t.data[i + j * t.ld] = (t.data[i + j * t.ld]! >= 0 ? 1 : -1) * (2 + Math.abs(t.data[i + j * t.ld]!));
      else t.data[i + j * t.ld]! /= Math.sqrt(n);
    }
  }
  return t;
}

/** Dense op(T) with zeros outside the triangle (and ones on the diagonal when unit). */
function denseOp(t: F64Matrix, lower: boolean, trans: boolean, unit: boolean): F64Matrix {
  const n = t.rows;
  const out = f64Matrix(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const inside = lower ? i >= j : i <= j;
      const v = i === j && unit ? 1 : inside ? get(t, i, j) : 0;
      if (trans) out.data[j + i * n] = v;
      else out.data[i + j * n] = v;
    }
  }
  return out;
}

describe('cpuPotrf', () => {
  for (const [n, shift] of [[1, 1], [7, 1], [64, 1], [65, 0.5], [150, 1], [97, 1e-9], [301, 1]] as const) {
    it(`n=${n} shift=${shift}: L L^T = A, upper triangle zero`, () => {
      const a = withLd(randomSpd(n, n), n + 3);
      for (let j = 0; j < n; j++) for (let i = 0; i < j; i++) a.data[i + j * a.ld] = Number.NaN; // upper never read
      const l = cpuPotrf(a);
      for (let j = 0; j < n; j++) for (let i = 0; i < j; i++) expect(get(l, i, j)).toBe(0);
      const llt = refGemm(l, l, false, true);
      const sym = f64Matrix(n, n);
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) sym.data[i + j * n] = get(a, Math.max(i, j), Math.min(i, j));
      expect(maxRelErr(llt, sym)).toBeLessThan(1e-13);
    });
  }

  it('throws NotPositiveDefiniteError naming the column and pivot', () => {
    const a = f64FromRows([[4, 2, 0], [2, 1, 0], [0, 0, 1]]);
    const err = expectThrown(() => cpuPotrf(a), NotPositiveDefiniteError);
    expect(err.column).toBe(1);
    expect(err.pivot).toBe(0);
    expect(err.message).toMatch(/potrf on cpu \(A 3x3\): matrix is not positive definite: pivot 0 at column 1/);
    const big = randomSpd(90, 3);
    big.data[80 + 80 * 90] = -50;
    expect(() => cpuPotrf(big)).toThrow(/at column 80/);
    // Deep in the recursion (a right half's right half), after the panel solves and updates before it.
    const deep = randomSpd(300, 4);
    deep.data[257 + 257 * 300] = -50;
    expect(() => cpuPotrf(deep)).toThrow(/at column 257/);
  });

  it('rejects non-square and non-finite input, accepts 0x0', () => {
    expect(() => cpuPotrf(randomMatrix(3, 4, 1))).toThrow(/potrf on cpu \(A 3x4\): A must be square/);
    const a = randomSpd(4, 2);
    a.data[2] = Number.NaN;
    expect(() => cpuPotrf(a)).toThrow(/A\[2,0\] is NaN/);
    expect(cpuPotrf(f64Matrix(0, 0)).rows).toBe(0);
  });
});

describe('cpuTrsm', () => {
  for (const side of ['left', 'right'] as const) {
    for (const lower of [true, false]) {
      for (const trans of [false, true]) {
        for (const [unitDiagonal, n, r] of [[false, 37, 9], [true, 37, 9], [false, 150, 21], [true, 150, 21]] as const) {
          it(`side=${side} lower=${lower} trans=${trans} unit=${unitDiagonal} n=${n} (blocked above 64)`, () => {
            const t = triangle(n, lower, n + r + (lower ? 1 : 0));
            const b = side === 'left' ? randomMatrix(n, r, 5, n + 2) : randomMatrix(r, n, 5, r + 2);
            const alpha = -1.75;
            const x = cpuTrsm(t, b, { side, lower, trans, unitDiagonal, alpha });
            const op = denseOp(t, lower, trans, unitDiagonal);
            const back = side === 'left' ? refGemm(op, x, false, false) : refGemm(x, op, false, false);
            const want = f64Matrix(b.rows, b.cols);
            for (let j = 0; j < b.cols; j++) for (let i = 0; i < b.rows; i++) want.data[i + j * want.ld] = alpha * get(b, i, j);
            expect(maxRelErr(back, want)).toBeLessThan(1e-13);
          });
        }
      }
    }
  }

  it('rejects a singular or mis-shaped T', () => {
    const t = triangle(4, true, 1);
    t.data[2 + 2 * t.ld] = 0;
    expect(() => cpuTrsm(t, randomMatrix(4, 2, 1))).toThrow(/trsm on cpu \(T 4x4, B 4x2\): T is singular: zero diagonal at 2/);
    expect(() => cpuTrsm(triangle(4, true, 2), randomMatrix(3, 2, 1))).toThrow(/B must have 4 rows/);
    expect(() => cpuTrsm(triangle(4, true, 2), randomMatrix(3, 2, 1), { side: 'right' })).toThrow(/B must have 4 columns/);
  });
});

describe('cpuPotrs', () => {
  it('solves A X = B through the Cholesky factor', () => {
    const n = 83;
    const a = randomSpd(n, 11);
    const b = randomMatrix(n, 5, 12, n + 1);
    const x = cpuPotrs(cpuPotrf(a), b);
    expect(maxRelErr(refGemm(a, x, false, false), b)).toBeLessThan(1e-12);
    expect(() => cpuPotrs(cpuPotrf(a), randomMatrix(n - 1, 2, 1))).toThrow(/potrs on cpu .*B must have 83 rows/);
  });
});
