/**
 * Symmetric matrix-vector product over the lower triangle (BLAS dsymv, lower) as a WebAssembly SIMD128
 * module, for the Householder tridiagonalisation in eigh, where it is the one step that cannot be blocked.
 *
 * Export `symv(aPtr, ldBytes, s0, n, xPtr, pPtr)`: p[s0:n] += A[s0:n, s0:n] x[s0:n] reading only entries
 * i >= j of the column-major A at byte address aPtr; x and p are f64 arrays at byte addresses xPtr, pPtr
 * indexed like A's rows. One pass over each column j: p[j+1:n] += A[j+1:n, j] x_j (axpy) and
 * p_j += A[j:n, j] . x[j:n] (dot), two rows per f64x2 step. Cost 2 (n - s0)^2 flops.
 */
import { assemble, Code, F64, I32, V128 } from './assembler.js';

function symv(): Code {
  const APTR = 0, LD = 1, S0 = 2, N = 3, XPTR = 4, PPTR = 5;
  const c = new Code(6);
  const j = c.local(I32), i = c.local(I32), col = c.local(I32);
  const xj = c.local(F64), acc = c.local(F64), aij = c.local(F64);
  const xjv = c.local(V128), accv = c.local(V128), av = c.local(V128);
  const addr = (base: number, idx: number): void => {
    c.get(base).get(idx).i32(3).i32Shl().i32Add();
  };
  c.get(S0).set(j);
  c.block().loop(); // columns
  c.get(j).get(N).i32GeS().brIf(1);
  c.get(APTR).get(j).get(LD).i32Mul().i32Add().set(col);
  addr(XPTR, j); c.f64Load().set(xj);
  c.get(xj).f64x2Splat().set(xjv);
  addr(col, j); c.f64Load().get(xj).f64Mul().set(acc);
  c.v128Zero().set(accv);
  c.get(j).i32(1).i32Add().set(i);
  c.block().loop(); // row pairs
  c.get(i).i32(2).i32Add().get(N).i32GtS().brIf(1);
  addr(col, i); c.v128Load().set(av);
  addr(PPTR, i); addr(PPTR, i); c.v128Load().get(av).get(xjv).f64x2Mul().f64x2Add().v128Store();
  c.get(accv).get(av); addr(XPTR, i); c.v128Load().f64x2Mul().f64x2Add().set(accv);
  c.get(i).i32(2).i32Add().set(i).br(0);
  c.end().end();
  // Odd last row.
  c.block();
  c.get(i).get(N).i32GeS().brIf(0);
  addr(col, i); c.f64Load().set(aij);
  addr(PPTR, i); addr(PPTR, i); c.f64Load().get(aij).get(xj).f64Mul().f64Add().f64Store();
  c.get(acc).get(aij); addr(XPTR, i); c.f64Load().f64Mul().f64Add().set(acc);
  c.end();
  addr(PPTR, j); addr(PPTR, j); c.f64Load().get(acc).get(accv).f64x2ExtractLane(0).f64Add().get(accv).f64x2ExtractLane(1).f64Add().f64Add().f64Store();
  c.get(j).i32(1).i32Add().set(j).br(0);
  c.end().end();
  return c;
}

/** Module bytes; it imports `env.memory`. */
export function symvKernelBytes(): Uint8Array {
  return assemble([{ name: 'symv', params: [I32, I32, I32, I32, I32, I32], code: symv() }], { minPages: 1, maxPages: 65536, shared: false });
}
