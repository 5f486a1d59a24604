/**
 * The large products of the cpu eigendecomposition as data, so that one algorithm serves both the
 * synchronous cpuEigh and the cpu backend's worker pool: each stage of eigh (kernels/cpu/eigh.ts,
 * kernels/cpu/tridiagonal-eigen.ts) is a generator that yields every product it needs, as the arguments of
 * {@link gemmStrided}, and resumes once a driver has run it. Everything else runs inline on the calling thread.
 * Operands that a driver may hand to worker threads are allocated with {@link sharedF64}.
 */
import { gemmStrided } from './gemm-core.js';

/** C[cOff..] += alpha op(A) op(B): the arguments of {@link gemmStrided} (lower triangle only when asked). */
export type StridedProduct = Parameters<typeof gemmStrided>;

/** A computation that yields its products and returns T. */
export type Products<T> = Generator<StridedProduct, T, undefined>;

/** Runs every product on this thread. */
export function runProducts<T>(steps: Products<T>): T {
  for (let s = steps.next(); ; s = steps.next()) {
    if (s.done) return s.value;
    gemmStrided(...s.value);
  }
}

/** Runs every product with `run` (which may split it over threads), one at a time, in order. */
export async function runProductsWith<T>(steps: Products<T>, run: (p: StridedProduct) => Promise<void>): Promise<T> {
  for (let s = steps.next(); ; s = steps.next()) {
    if (s.done) return s.value;
    await run(s.value);
  }
}

/** A zeroed f64 array on a SharedArrayBuffer (visible to worker threads without copying). */
export function sharedF64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * 8), 0, length);
}
