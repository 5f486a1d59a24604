/** Naive reference loops (textbook definitions, no blocking) that the cpu kernels are checked against. */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';

export function get(m: F64Matrix, i: number, j: number): number {
  return m.data[i + j * m.ld]!;
}

/** op(X)(i, j). */
export function getOp(m: F64Matrix, trans: boolean, i: number, j: number): number {
  return trans ? get(m, j, i) : get(m, i, j);
}

/** alpha op(A) op(B) + beta C by the triple loop. */
export function refGemm(a: F64Matrix, b: F64Matrix, transA: boolean, transB: boolean, alpha = 1, beta = 0, c?: F64Matrix): F64Matrix {
  const m = transA ? a.cols : a.rows;
  const k = transA ? a.rows : a.cols;
  const n = transB ? b.rows : b.cols;
  const out = f64Matrix(m, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += getOp(a, transA, i, p) * getOp(b, transB, p, j);
      out.data[i + j * out.ld] = alpha * s + (c ? beta * get(c, i, j) : 0);
    }
  }
  return out;
}

/** Transposed packed copy. */
export function transpose(m: F64Matrix): F64Matrix {
  const out = f64Matrix(m.cols, m.rows);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) out.data[j + i * out.ld] = get(m, i, j);
  return out;
}

/** Packed copy of the rows x cols view `m` placed in a buffer with leading dimension ld (padding NaN). */
export function withLd(m: F64Matrix, ld: number): F64Matrix {
  const data = new Float64Array(ld * m.cols).fill(Number.NaN);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) data[i + j * ld] = get(m, i, j);
  return f64Matrix(m.rows, m.cols, data, ld);
}

/** max |x_ij| over the view. */
export function maxAbs(m: F64Matrix): number {
  let s = 0;
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) s = Math.max(s, Math.abs(get(m, i, j)));
  return s;
}

/** Symmetric matrix Q diag(values) Q^T with a random orthogonal Q (Gram-Schmidt of a seeded Gaussian). */
export function symmetricWithSpectrum(values: readonly number[], q: F64Matrix): F64Matrix {
  const n = values.length;
  const out = f64Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += get(q, i, p) * values[p]! * get(q, j, p);
      out.data[i + j * n] = s;
    }
  }
  return out;
}

/** Orthonormalises the columns of a square matrix in place (modified Gram-Schmidt, twice for accuracy). */
export function orthonormalise(q: F64Matrix): F64Matrix {
  const n = q.rows;
  const d = q.data;
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < n; j++) {
      for (let p = 0; p < j; p++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += d[i + p * q.ld]! * d[i + j * q.ld]!;
        for (let i = 0; i < n; i++) d[i + j * q.ld]! -= s * d[i + p * q.ld]!;
      }
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm += d[i + j * q.ld]! ** 2;
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < n; i++) d[i + j * q.ld]! /= nrm;
    }
  }
  return q;
}
