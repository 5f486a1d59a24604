/** Seeded random inputs and error measures shared by the tests (deterministic across runs and machines). */
import { f64Matrix, type F64Matrix } from '../../kernels/matrix.js';
import { mulberry32, normal } from '../../src/stats/random.js';

/** Mulberry32 uniforms in [0, 1) and Box-Muller normals (src/stats/random.ts). */
export const rng = mulberry32;
export { normal };

/** rows x cols matrix of N(0,1) entries; `ld` > rows makes a strided view (padding filled with NaN to catch reads). */
export function randomMatrix(rows: number, cols: number, seed: number, ld = Math.max(1, rows)): F64Matrix {
  const z = normal(rng(seed));
  const data = new Float64Array(ld * cols).fill(Number.NaN);
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) data[i + j * ld] = z();
  return f64Matrix(rows, cols, data, ld);
}

/** Symmetric positive-definite n x n: G G^T / n + shift * I, condition number controlled by shift. */
export function randomSpd(n: number, seed: number, shift = 1): F64Matrix {
  const g = randomMatrix(n, n, seed);
  const a = f64Matrix(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += g.data[i + k * n]! * g.data[j + k * n]!;
      s /= n;
      if (i === j) s += shift;
      a.data[i + j * n] = s;
      a.data[j + i * n] = s;
    }
  }
  return a;
}

/** max_ij |x - ref| / max(max_ij |ref|, tiny): a relative error that is meaningful for matrices with zeros. */
export function maxRelErr(x: F64Matrix | Float64Array, ref: F64Matrix | Float64Array): number {
  const xs = flatten(x);
  const rs = flatten(ref);
  if (xs.length !== rs.length) throw new Error(`maxRelErr: sizes differ (${xs.length} vs ${rs.length})`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < rs.length; i++) {
    num = Math.max(num, Math.abs(xs[i]! - rs[i]!));
    den = Math.max(den, Math.abs(rs[i]!));
  }
  return num / Math.max(den, Number.MIN_VALUE);
}

function flatten(m: F64Matrix | Float64Array): Float64Array {
  if (m instanceof Float64Array) return m;
  const out = new Float64Array(m.rows * m.cols);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) out[i + j * m.rows] = m.data[i + j * m.ld]!;
  return out;
}
