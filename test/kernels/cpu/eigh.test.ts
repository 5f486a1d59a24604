import { describe, expect, it } from 'vitest';
import { cpuEigh } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { randomMatrix } from '../../helpers/random.js';
import { get, maxAbs, orthonormalise, symmetricWithSpectrum } from './reference.js';

/** Symmetric part of a Gaussian matrix, upper triangle set to NaN (eigh reads the lower triangle only). */
function randomSymmetricLower(n: number, seed: number, ld = n): F64Matrix {
  const g = randomMatrix(n, n, seed);
  const a = f64Matrix(n, n, new Float64Array(ld * n).fill(Number.NaN), Math.max(1, ld));
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) a.data[i + j * a.ld] = (get(g, i, j) + get(g, j, i)) / 2;
  return a;
}

function lowerValue(a: F64Matrix, i: number, j: number): number {
  return get(a, Math.max(i, j), Math.min(i, j));
}

/** ||A V - V diag(w)||_max / ||A||_max and ||V^T V - I||_max (naive loops over dense packed copies). */
function residuals(a: F64Matrix, values: Float64Array, v: F64Matrix): { residual: number; orthogonality: number } {
  const n = a.rows;
  const full = new Float64Array(n * n);
  const vp = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      full[i + j * n] = lowerValue(a, i, j);
      vp[i + j * n] = get(v, i, j);
    }
  }
  let res = 0, orth = 0, norm = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      norm = Math.max(norm, Math.abs(full[i + j * n]!));
      let av = 0, vv = 0;
      for (let p = 0; p < n; p++) {
        av += full[p + i * n]! * vp[p + j * n]!; // A symmetric: A[i, p] = A[p, i]
        vv += vp[p + i * n]! * vp[p + j * n]!;
      }
      res = Math.max(res, Math.abs(av - vp[i + j * n]! * values[j]!));
      orth = Math.max(orth, Math.abs(vv - (i === j ? 1 : 0)));
    }
  }
  return { residual: res / Math.max(norm, Number.MIN_VALUE), orthogonality: orth };
}

function expectAscending(w: Float64Array): void {
  for (let i = 1; i < w.length; i++) expect(w[i]!).toBeGreaterThanOrEqual(w[i - 1]!);
}

describe('cpuEigh', () => {
  for (const n of [2, 3, 10, 64, 129, 200]) {
    it(`random symmetric n=${n} (strided, lower only): A V = V diag(w), V^T V = I, ascending`, () => {
      const a = randomSymmetricLower(n, n, n + 2);
      const { values, vectors } = cpuEigh(a);
      expectAscending(values);
      const { residual, orthogonality } = residuals(a, values, vectors);
      expect(residual).toBeLessThan(1e-13);
      expect(orthogonality).toBeLessThan(1e-13);
    });
  }

  it('recovers a known spectrum with repeated eigenvalues', () => {
    const spectrum = [3, 3, 3, -1, -1, 0, 5, 5, 5, 5, 2, 0.5];
    const q = orthonormalise(randomMatrix(spectrum.length, spectrum.length, 7));
    const a = symmetricWithSpectrum(spectrum, q);
    const { values, vectors } = cpuEigh(a);
    const sorted = [...spectrum].sort((x, y) => x - y);
    for (let i = 0; i < sorted.length; i++) expect(Math.abs(values[i]! - sorted[i]!)).toBeLessThan(1e-13 * 5);
    const { residual, orthogonality } = residuals(a, values, vectors);
    expect(residual).toBeLessThan(1e-13);
    expect(orthogonality).toBeLessThan(1e-13);
  });

  // Sizes above the divide-and-conquer leaf (32) exercise both kinds of deflation and the secular solver.
  it('divide and conquer: heavily repeated spectrum (n=150, 5 distinct values)', () => {
    const n = 150;
    const spectrum = Array.from({ length: n }, (_, i) => [-2, 0, 1, 1 + 1e-15, 4][i % 5]!);
    const a = symmetricWithSpectrum(spectrum, orthonormalise(randomMatrix(n, n, 21)));
    const { values, vectors } = cpuEigh(a);
    const sorted = [...spectrum].sort((x, y) => x - y);
    for (let i = 0; i < n; i++) expect(Math.abs(values[i]! - sorted[i]!)).toBeLessThan(1e-13 * 4);
    const { residual, orthogonality } = residuals(a, values, vectors);
    expect(residual).toBeLessThan(1e-13);
    expect(orthogonality).toBeLessThan(1e-13);
  });

  it('divide and conquer: low-rank kinship-like G G^T / k (n=140, rank 20) and a block-diagonal matrix', () => {
    const n = 140, k = 20;
    const g = randomMatrix(n, k, 22);
    const a = f64Matrix(n, n);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += get(g, i, p) * get(g, j, p);
        a.data[i + j * n] = s / k;
      }
    }
    const r = cpuEigh(a);
    expectAscending(r.values);
    for (let i = 0; i < n - k; i++) expect(Math.abs(r.values[i]!)).toBeLessThan(1e-13 * r.values[n - 1]!);
    let res = residuals(a, r.values, r.vectors);
    expect(res.residual).toBeLessThan(1e-13);
    expect(res.orthogonality).toBeLessThan(1e-13);
    // Two uncoupled random blocks: the tridiagonal splits exactly (a zero off-diagonal at the tear).
    const b = f64Matrix(n, n);
    const top = randomSymmetricLower(70, 23), bottom = randomSymmetricLower(70, 24);
    for (let j = 0; j < 70; j++) {
      for (let i = j; i < 70; i++) {
        b.data[i + j * n] = b.data[j + i * n] = get(top, i, j);
        b.data[70 + i + (70 + j) * n] = b.data[70 + j + (70 + i) * n] = get(bottom, i, j);
      }
    }
    const rb = cpuEigh(b);
    res = residuals(b, rb.values, rb.vectors);
    expect(res.residual).toBeLessThan(1e-13);
    expect(res.orthogonality).toBeLessThan(1e-13);
  });

  it('divide and conquer: a diagonal matrix of size 100 returns its sorted diagonal and a permutation', () => {
    const n = 100;
    const d = f64Matrix(n, n);
    for (let i = 0; i < n; i++) d.data[i * (n + 1)] = ((i * 37) % 11) - 5;
    const { values, vectors } = cpuEigh(d);
    const sorted = Array.from({ length: n }, (_, i) => ((i * 37) % 11) - 5).sort((x, y) => x - y);
    expect(Array.from(values)).toEqual(sorted);
    const { residual, orthogonality } = residuals(d, values, vectors);
    expect(residual).toBe(0);
    expect(orthogonality).toBe(0);
  });

  it('is accurate on an ill-conditioned spectrum (1 down to 1e-14)', () => {
    const n = 40;
    const spectrum = Array.from({ length: n }, (_, i) => 10 ** (-14 * i / (n - 1)));
    const a = symmetricWithSpectrum(spectrum, orthonormalise(randomMatrix(n, n, 8)));
    const { values, vectors } = cpuEigh(a);
    expect(Math.abs(values[n - 1]! - 1)).toBeLessThan(1e-13);
    for (const v of values) expect(Math.abs(v)).toBeLessThan(1 + 1e-13);
    const { residual, orthogonality } = residuals(a, values, vectors);
    expect(residual).toBeLessThan(1e-13);
    expect(orthogonality).toBeLessThan(1e-13);
  });

  it('diagonal, zero, 1x1 and 0x0 matrices', () => {
    const d = f64Matrix(4, 4);
    [2, -7, 0, 2].forEach((x, i) => (d.data[i * 5] = x));
    const rd = cpuEigh(d);
    expect(Array.from(rd.values)).toEqual([-7, 0, 2, 2]);
    expect(residuals(d, rd.values, rd.vectors).orthogonality).toBe(0);
    const z = cpuEigh(f64Matrix(3, 3));
    expect(Array.from(z.values)).toEqual([0, 0, 0]);
    expect(residuals(z.vectors, new Float64Array(3).fill(1), z.vectors).orthogonality).toBe(0);
    const one = cpuEigh(f64Matrix(1, 1, Float64Array.from([-3.5])));
    expect(Array.from(one.values)).toEqual([-3.5]);
    expect(Array.from(one.vectors.data)).toEqual([1]);
    const empty = cpuEigh(f64Matrix(0, 0));
    expect(empty.values.length).toBe(0);
    expect(empty.vectors.rows).toBe(0);
  });

  it('scales: tiny and huge magnitudes give the scaled spectrum', () => {
    const a = randomSymmetricLower(30, 5);
    const base = cpuEigh(a).values;
    for (const s of [1e-150, 1e150, 1e-300, 1e-310, 1e306]) {
      const scaled = f64Matrix(30, 30, a.data.map((x) => x * s), a.ld);
      const w = cpuEigh(scaled).values;
      for (let i = 0; i < 30; i++) expect(Math.abs(w[i]! / s - base[i]!)).toBeLessThan(1e-13 * maxAbs(f64Matrix(30, 1, base)));
    }
  });

  it('says so when an eigenvalue is outside the f64 range', () => {
    const big = f64Matrix(2, 2, Float64Array.from([1.7e308, 1.7e308, 0, 1.7e308]));
    expect(() => cpuEigh(big)).toThrow(/eigh on cpu \(A 2x2\): eigenvalue 1 exceeds the f64 range/);
  });

  it('rejects non-square and non-finite input', () => {
    expect(() => cpuEigh(randomMatrix(3, 2, 1))).toThrow(/eigh on cpu \(A 3x2\): A must be square/);
    const a = randomSymmetricLower(3, 1);
    a.data[1] = Number.NaN;
    expect(() => cpuEigh(a)).toThrow(/A\[1,0\] is NaN/);
  });
});

/** The symmetric tridiagonal matrix with diagonal d and subdiagonal e, dense. */
function tridiagonal(d: number[], e: number[]): F64Matrix {
  const n = d.length;
  const t = f64Matrix(n, n);
  for (let i = 0; i < n; i++) {
    t.data[i + i * n] = d[i]!;
    if (i + 1 < n) t.data[i + 1 + i * n] = t.data[i + (i + 1) * n] = e[i]!;
  }
  return t;
}

/** Wilkinson's W+_(2m+1): diagonal |m - i|, unit off-diagonal (eigenvalues in nearly equal pairs). */
function wilkinsonDiagonal(m: number): number[] {
  return Array.from({ length: 2 * m + 1 }, (_, i) => Math.abs(m - i));
}

// Already tridiagonal inputs go straight to divide and conquer (every reflector is the identity), so these
// exercise the merges, the deflation and the secular equation solver on their classic hard cases.
describe('cpuEigh on tridiagonal test matrices (divide and conquer)', () => {
  it('tridiag(1, 2, 1), n=300: eigenvalues 2 - 2 cos(k pi / (n + 1)) to working precision', () => {
    const n = 300;
    const t = tridiagonal(new Array<number>(n).fill(2), new Array<number>(n - 1).fill(1));
    const { values, vectors } = cpuEigh(t);
    for (let k = 1; k <= n; k++) expect(Math.abs(values[k - 1]! - (2 - 2 * Math.cos((k * Math.PI) / (n + 1))))).toBeLessThan(4 * 8 * Number.EPSILON);
    const { residual, orthogonality } = residuals(t, values, vectors);
    expect(residual).toBeLessThan(1e-13);
    expect(orthogonality).toBeLessThan(1e-13);
  });

  it("Wilkinson's W+ (n=201): close eigenvalue pairs, orthogonal vectors, trace and Frobenius norm kept", () => {
    const d = wilkinsonDiagonal(100);
    const t = tridiagonal(d, new Array<number>(d.length - 1).fill(1));
    const { values, vectors } = cpuEigh(t);
    expectAscending(values);
    // The two largest eigenvalues of W+_21 and larger agree to about 14 digits but stay distinct vectors.
    expect(values[200]! - values[199]!).toBeLessThan(1e-10);
    const { residual, orthogonality } = residuals(t, values, vectors);
    expect(residual).toBeLessThan(1e-13);
    expect(orthogonality).toBeLessThan(1e-13);
    const trace = d.reduce((s, x) => s + x, 0);
    const frob2 = d.reduce((s, x) => s + x * x, 0) + 2 * (d.length - 1);
    expect(Math.abs(values.reduce((s, x) => s + x, 0) - trace)).toBeLessThan(1e-10 * trace);
    expect(Math.abs(values.reduce((s, x) => s + x * x, 0) - frob2)).toBeLessThan(1e-10 * frob2);
  });

  it('glued Wilkinson matrices (10 copies of W+_21 joined by 1e-9): tight clusters of 10', () => {
    const block = wilkinsonDiagonal(10);
    const d: number[] = [], e: number[] = [];
    for (let b = 0; b < 10; b++) {
      d.push(...block);
      e.push(...new Array<number>(block.length - 1).fill(1));
      if (b < 9) e.push(1e-9);
    }
    const t = tridiagonal(d, e);
    const { values, vectors } = cpuEigh(t);
    expectAscending(values);
    const { residual, orthogonality } = residuals(t, values, vectors);
    expect(residual).toBeLessThan(1e-13);
    expect(orthogonality).toBeLessThan(1e-13);
  });
});
