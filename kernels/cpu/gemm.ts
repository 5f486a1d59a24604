/**
 * General matrix product on the cpu, f64: C = alpha op(A) op(B) + beta C.
 * Cost 2mnk flops; accumulation in f64 (exact IEEE products, summation order blocked over k).
 */
import type { GemmOptions } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { checkGemm } from '../validate.js';
import { gemmStrided } from './gemm-core.js';

/**
 * C = alpha op(A) op(B) + beta C (C read only when `opts.c` is given) as a fresh packed m x n matrix.
 * Throws KernelError (op 'gemm', backend 'cpu') on shape mismatch or non-finite input.
 */
export function cpuGemm(a: F64Matrix, b: F64Matrix, opts: GemmOptions = {}): F64Matrix {
  const { m, n, k } = checkGemm('cpu', a, b, opts);
  const out = f64Matrix(m, n);
  const beta = opts.c ? (opts.beta ?? 0) : 0;
  if (opts.c && beta !== 0) {
    const c = opts.c;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < m; i++) out.data[i + j * m] = beta * c.data[i + j * c.ld]!;
    }
  }
  gemmStrided(m, n, k, opts.alpha ?? 1, a.data, 0, a.ld, opts.transA ?? false, b.data, 0, b.ld, opts.transB ?? false, out.data, 0, Math.max(1, m));
  return out;
}
