/**
 * Symmetric rank-k update on the cpu, f64: C = alpha A A^T + beta C (A n x k) or alpha A^T A + beta C
 * (trans, A k x n). Only the lower triangle is computed (n(n+1)k flops) and only the lower triangle of a
 * given C is read; the result is then mirrored, so both triangles are filled and exactly symmetric.
 */
import type { SyrkOptions } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { checkSyrk } from '../validate.js';
import { gemmStrided } from './gemm-core.js';

/** Copies the lower triangle of the packed n x n `c` onto its upper triangle. O(n^2). */
export function mirrorLower(c: Float64Array, off: number, ld: number, n: number): void {
  for (let j = 0; j < n; j++) {
    for (let i = j + 1; i < n; i++) c[off + j + i * ld] = c[off + i + j * ld]!;
  }
}

/** Returns the fresh n x n symmetric C; throws KernelError (op 'syrk', backend 'cpu') on bad input. */
export function cpuSyrk(a: F64Matrix, opts: SyrkOptions = {}): F64Matrix {
  const { n, k } = checkSyrk('cpu', a, opts);
  const out = f64Matrix(n, n);
  const ldo = Math.max(1, n);
  const beta = opts.c ? (opts.beta ?? 0) : 0;
  if (opts.c && beta !== 0) {
    const c = opts.c;
    for (let j = 0; j < n; j++) for (let i = j; i < n; i++) out.data[i + j * ldo] = beta * c.data[i + j * c.ld]!;
  }
  const trans = opts.trans ?? false;
  // Lower triangle of op(A) op(A)^T, then mirror.
  gemmStrided(n, n, k, opts.alpha ?? 1, a.data, 0, a.ld, trans, a.data, 0, a.ld, !trans, out.data, 0, ldo, true);
  mirrorLower(out.data, 0, ldo, n);
  return out;
}
