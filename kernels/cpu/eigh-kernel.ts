/**
 * The matrix-vector steps of the Householder tridiagonalisation in eigh (kernels/cpu/eigh.ts), the part of
 * LAPACK dsytrd/dlatrd that cannot be blocked, as one WebAssembly SIMD128 module over the eigh workspace
 * (a shared memory, so that the workspace's trailing updates can also run on the worker pool). Matrices are
 * column-major f64 at byte addresses with leading dimension ldBytes; vectors are contiguous f64.
 *
 * - `symv(aPtr, ldBytes, s0, n, xPtr, pPtr)` (BLAS dsymv, lower): p[s0:n] += A[s0:n, s0:n] x[s0:n], reading
 *   only entries i >= j; x and p are indexed like A's rows. One pass over each pair of columns j, j+1: the
 *   2 x 2 diagonal block, then below it p[j+2:n] += A[j+2:n, j:j+2] x[j:j+2] (two axpys fused: p loaded and
 *   stored once) and p_j, p_j+1 += A[j+2:n, j:j+2]^T x[j+2:n] (two dots), four rows per step as two f64x2
 *   halves with their own dot accumulators; a last odd column is its diagonal entry alone. Memory-bound on A: (n - s0)^2 / 2 entries read once.
 *   Cost 2 (n - s0)^2 flops.
 * - `gemvT(xPtr, ldBytes, len, t, vPtr, outPtr)`: out[0:t] = X[0:len, 0:t]^T v[0:len]. Cost 2 len t flops.
 * - `gemvN(xPtr, ldBytes, len, t, cPtr, yPtr)`: y[0:len] += X[0:len, 0:t] c[0:t], column by column.
 *   Cost 2 len t flops.
 * Each dot product sums two interleaved f64x2 lanes (even and odd rows), then the lanes, then an odd last row.
 */
import { assemble, Code, F64, I32, V128, type ValType } from './wasm/assembler.js';

/** Pushes base + 8 idx (a byte address) on the stack. */
function address(c: Code, base: number, idx: number): void {
  c.get(base).get(idx).i32(3).i32Shl().i32Add();
}

function symv(): Code {
  const APTR = 0, LD = 1, S0 = 2, N = 3, XPTR = 4, PPTR = 5;
  const c = new Code(6);
  const j = c.local(I32), i = c.local(I32), col0 = c.local(I32), col1 = c.local(I32);
  const x0 = c.local(F64), x1 = c.local(F64), a10 = c.local(F64), acc0 = c.local(F64), acc1 = c.local(F64), aij = c.local(F64);
  const x0v = c.local(V128), x1v = c.local(V128), acc0v = c.local(V128), acc1v = c.local(V128), a0v = c.local(V128), a1v = c.local(V128), xv = c.local(V128);
  const acc0w = c.local(V128), acc1w = c.local(V128), o = c.local(I32), pAddr = c.local(I32);
  c.get(S0).set(j);
  c.block().loop(); // column pairs j, j+1
  c.get(j).i32(2).i32Add().get(N).i32GtS().brIf(1);
  c.get(APTR).get(j).get(LD).i32Mul().i32Add().set(col0);
  c.get(col0).get(LD).i32Add().set(col1);
  address(c, XPTR, j); c.f64Load().set(x0);
  address(c, XPTR, j); c.f64Load(8).set(x1);
  c.get(x0).f64x2Splat().set(x0v);
  c.get(x1).f64x2Splat().set(x1v);
  // The 2 x 2 diagonal block: p_j gets A_jj x_j (+ A_j+1,j x_j+1 below), p_j+1 gets A_j+1,j x_j + A_j+1,j+1 x_j+1.
  address(c, col0, j); c.f64Load(8).set(a10);
  address(c, col0, j); c.f64Load().get(x0).f64Mul().get(a10).get(x1).f64Mul().f64Add().set(acc0);
  c.get(a10).get(x0).f64Mul(); address(c, col1, j); c.f64Load(8).get(x1).f64Mul().f64Add().set(acc1);
  c.v128Zero().set(acc0v);
  c.v128Zero().set(acc1v);
  c.v128Zero().set(acc0w);
  c.v128Zero().set(acc1w);
  c.get(j).i32(2).i32Add().set(i);
  c.get(i).i32(3).i32Shl().set(o);
  // Two rows at byte offset o + off: p += A[:, j] x_j + A[:, j+1] x_j+1, and the two dots into (dot0, dot1).
  const rowPair = (off: number, dot0: number, dot1: number): void => {
    c.get(col0).get(o).i32Add().v128Load(off).set(a0v);
    c.get(col1).get(o).i32Add().v128Load(off).set(a1v);
    c.get(XPTR).get(o).i32Add().v128Load(off).set(xv);
    c.get(PPTR).get(o).i32Add().tee(pAddr).get(pAddr).v128Load(off).get(a0v).get(x0v).f64x2Mul().f64x2Add().get(a1v).get(x1v).f64x2Mul().f64x2Add().v128Store(off);
    c.get(dot0).get(a0v).get(xv).f64x2Mul().f64x2Add().set(dot0);
    c.get(dot1).get(a1v).get(xv).f64x2Mul().f64x2Add().set(dot1);
  };
  c.block().loop(); // row quads below the block (two independent accumulator pairs)
  c.get(i).i32(4).i32Add().get(N).i32GtS().brIf(1);
  rowPair(0, acc0v, acc1v);
  rowPair(16, acc0w, acc1w);
  c.get(i).i32(4).i32Add().set(i);
  c.get(o).i32(32).i32Add().set(o).br(0);
  c.end().end();
  c.block(); // a last row pair
  c.get(i).i32(2).i32Add().get(N).i32GtS().brIf(0);
  rowPair(0, acc0v, acc1v);
  c.get(i).i32(2).i32Add().set(i);
  c.end();
  c.get(acc0v).get(acc0w).f64x2Add().set(acc0v);
  c.get(acc1v).get(acc1w).f64x2Add().set(acc1v);
  // Odd last row.
  c.block();
  c.get(i).get(N).i32GeS().brIf(0);
  address(c, XPTR, i); c.f64Load().set(aij); // x_i
  c.get(acc0); address(c, col0, i); c.f64Load().get(aij).f64Mul().f64Add().set(acc0);
  c.get(acc1); address(c, col1, i); c.f64Load().get(aij).f64Mul().f64Add().set(acc1);
  address(c, PPTR, i); address(c, PPTR, i); c.f64Load();
  address(c, col0, i); c.f64Load().get(x0).f64Mul().f64Add();
  address(c, col1, i); c.f64Load().get(x1).f64Mul().f64Add().f64Store();
  c.end();
  address(c, PPTR, j); address(c, PPTR, j); c.f64Load().get(acc0).get(acc0v).f64x2ExtractLane(0).f64Add().get(acc0v).f64x2ExtractLane(1).f64Add().f64Add().f64Store();
  address(c, PPTR, j); address(c, PPTR, j); c.f64Load(8).get(acc1).get(acc1v).f64x2ExtractLane(0).f64Add().get(acc1v).f64x2ExtractLane(1).f64Add().f64Add().f64Store(8);
  c.get(j).i32(2).i32Add().set(j).br(0);
  c.end().end();
  // A last single column: p_j += A_jj x_j.
  c.block();
  c.get(j).get(N).i32GeS().brIf(0);
  address(c, PPTR, j); address(c, PPTR, j); c.f64Load();
  c.get(APTR).get(j).get(LD).i32Mul().i32Add().set(col0);
  address(c, col0, j); c.f64Load(); address(c, XPTR, j); c.f64Load().f64Mul().f64Add().f64Store();
  c.end();
  return c;
}

function gemvT(): Code {
  const XPTR = 0, LD = 1, LEN = 2, T = 3, VPTR = 4, OUT = 5;
  const c = new Code(6);
  const q = c.local(I32), i = c.local(I32), col = c.local(I32);
  const acc = c.local(F64), accv = c.local(V128);
  c.i32(0).set(q);
  c.block().loop(); // columns
  c.get(q).get(T).i32GeS().brIf(1);
  c.get(XPTR).get(q).get(LD).i32Mul().i32Add().set(col);
  c.v128Zero().set(accv);
  c.f64Const(0).set(acc);
  c.i32(0).set(i);
  c.block().loop(); // row pairs
  c.get(i).i32(2).i32Add().get(LEN).i32GtS().brIf(1);
  c.get(accv); address(c, col, i); c.v128Load(); address(c, VPTR, i); c.v128Load().f64x2Mul().f64x2Add().set(accv);
  c.get(i).i32(2).i32Add().set(i).br(0);
  c.end().end();
  c.block(); // odd last row
  c.get(i).get(LEN).i32GeS().brIf(0);
  address(c, col, i); c.f64Load(); address(c, VPTR, i); c.f64Load().f64Mul().set(acc);
  c.end();
  address(c, OUT, q);
  c.get(accv).f64x2ExtractLane(0).get(accv).f64x2ExtractLane(1).f64Add().get(acc).f64Add().f64Store();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  return c;
}

function gemvN(): Code {
  const XPTR = 0, LD = 1, LEN = 2, T = 3, CPTR = 4, YPTR = 5;
  const c = new Code(6);
  const q = c.local(I32), i = c.local(I32), col = c.local(I32);
  const cq = c.local(F64), cqv = c.local(V128);
  c.i32(0).set(q);
  c.block().loop(); // columns
  c.get(q).get(T).i32GeS().brIf(1);
  c.get(XPTR).get(q).get(LD).i32Mul().i32Add().set(col);
  address(c, CPTR, q); c.f64Load().set(cq);
  c.get(cq).f64x2Splat().set(cqv);
  c.i32(0).set(i);
  c.block().loop(); // row pairs
  c.get(i).i32(2).i32Add().get(LEN).i32GtS().brIf(1);
  address(c, YPTR, i); address(c, YPTR, i); c.v128Load(); address(c, col, i); c.v128Load().get(cqv).f64x2Mul().f64x2Add().v128Store();
  c.get(i).i32(2).i32Add().set(i).br(0);
  c.end().end();
  c.block(); // odd last row
  c.get(i).get(LEN).i32GeS().brIf(0);
  address(c, YPTR, i); address(c, YPTR, i); c.f64Load(); address(c, col, i); c.f64Load().get(cq).f64Mul().f64Add().f64Store();
  c.end();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  return c;
}

/** Module bytes; it imports a shared `env.memory`. */
export function eighKernelBytes(): Uint8Array {
  const params: ValType[] = [I32, I32, I32, I32, I32, I32];
  return assemble(
    [
      { name: 'symv', params, code: symv() },
      { name: 'gemvT', params, code: gemvT() },
      { name: 'gemvN', params, code: gemvN() },
    ],
    { minPages: 1, maxPages: 65536, shared: true },
  );
}
