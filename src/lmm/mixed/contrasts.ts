/**
 * Contrast matrices of a factor with k levels coded against the intercept, as R's contr.* functions build them,
 * with the column names model.matrix appends to the variable's label:
 * - treatment: indicators of levels 2..k (names: the levels);
 * - sum: column j is +1 at level j, -1 at level k (names 1..k-1);
 * - helmert: column j is -1 at levels 1..j, j at level j+1 (names 1..k-1);
 * - poly: orthonormal polynomials in the scores 1..k of degree 1..k-1 (names .L, .Q, .C, ^4, ...), contr.poly's
 *   columns: Gram-Schmidt of the Vandermonde columns (centred scores)^d, each normalised; R's QR route gives the
 *   same signs (Q diag(R) is invariant to the signs a Householder QR picks).
 * Cost O(k^3) for poly, O(k^2) otherwise.
 */
import type { ContrastKind } from './formula.js';

/** A k x (k - 1) contrast matrix (column-major) and the names of its columns. */
export interface ContrastMatrix {
  k: number;
  /** values[l + j * k]: column j at level l */
  values: Float64Array;
  names: string[];
}

export function contrastMatrix(kind: ContrastKind, levels: readonly string[]): ContrastMatrix {
  const k = levels.length;
  const q = Math.max(k - 1, 0);
  const values = new Float64Array(k * q);
  const names: string[] = [];
  for (let j = 0; j < q; j++) {
    switch (kind) {
      case 'treatment':
        values[j + 1 + j * k] = 1;
        names.push(levels[j + 1]!);
        break;
      case 'sum':
        values[j + j * k] = 1;
        values[k - 1 + j * k] = -1;
        names.push(String(j + 1));
        break;
      case 'helmert':
        for (let l = 0; l <= j; l++) values[l + j * k] = -1;
        values[j + 1 + j * k] = j + 1;
        names.push(String(j + 1));
        break;
      case 'poly':
        names.push(j === 0 ? '.L' : j === 1 ? '.Q' : j === 2 ? '.C' : `^${j + 1}`);
        break;
    }
  }
  if (kind === 'poly' && k > 1) {
    // Gram-Schmidt (twice, for orthogonality to rounding) of 1, s, s^2, ... with centred scores s = l - (k - 1)/2
    const basis: Float64Array[] = [];
    for (let d = 0; d < k; d++) {
      const v = Float64Array.from({ length: k }, (_, l) => (l - (k - 1) / 2) ** d);
      for (let pass = 0; pass < 2; pass++) {
        for (const b of basis) {
          let dot = 0;
          for (let l = 0; l < k; l++) dot += b[l]! * v[l]!;
          for (let l = 0; l < k; l++) v[l]! -= dot * b[l]!;
        }
      }
      let norm = 0;
      for (let l = 0; l < k; l++) norm += v[l]! * v[l]!;
      norm = Math.sqrt(norm);
      for (let l = 0; l < k; l++) v[l]! /= norm;
      basis.push(v);
      if (d > 0) values.set(v, (d - 1) * k);
    }
  }
  return { k, values, names };
}
