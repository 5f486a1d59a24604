/**
 * The matrix-vector steps of the Householder tridiagonalisation in eigh (kernels/cpu/eigh.ts), the part of
 * LAPACK dsytrd/dlatrd that cannot be blocked, as one WebAssembly SIMD128 module over the eigh workspace
 * (a shared memory, so that the workspace's trailing updates can also run on the worker pool). Matrices are
 * column-major f64 at byte addresses with leading dimension ldBytes; vectors are contiguous f64.
 *
 * - `symv(aPtr, ldBytes, s0, c1, n, xPtr, pPtr)` (BLAS dsymv, lower, over the columns [s0, c1)): for the
 *   lower-triangle entries A[i, j] with s0 <= j < c1, j <= i < n, p_i += A[i, j] x_j and (i > j) p_j += A[i, j] x_i;
 *   with c1 = n that is p[s0:n] += A[s0:n, s0:n] x[s0:n]. x and p are indexed like A's rows. One pass over each group of four columns
 *   j..j+3 (then single columns): the 4 x 4 diagonal block in scalar steps, then below it, two rows at a
 *   time, p[i:i+2] += A[i:i+2, j:j+4] x[j:j+4] (four fused axpys: p loaded and stored once per four columns)
 *   and dot_c += A[i:i+2, j+c] x[i:i+2] (four dots), multiply-adds fused where the runtime has relaxed SIMD
 *   (the `fma` module variant). Memory-bound on A: (n - s0)^2 / 2 entries read once. Cost 2 (n - s0)^2 flops.
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

/** Columns per pass of symv (A is read once per pass, p loaded and stored once per pass). */
const SYMV_COLS = 4;

/**
 * symv in passes of `width` columns j .. j + width - 1 (while they fit, then single columns): the diagonal
 * block in scalar steps, then the rows below it in pairs: p[i:i+2] += sum_c A[i:i+2, j+c] x_{j+c} and
 * dot_c += A[i:i+2, j+c] x[i:i+2], each multiply-add fused with `fma` (relaxed SIMD) or a multiply then an add.
 */
function symv(fma: boolean): Code {
  const APTR = 0, LD = 1, S0 = 2, C1 = 3, N = 4, XPTR = 5, PPTR = 6;
  const c = new Code(7);
  const j = c.local(I32), i = c.local(I32), o = c.local(I32), pAddr = c.local(I32);
  const col: number[] = [], xs: number[] = [], xsv: number[] = [], dot: number[] = [], dots: number[] = [];
  for (let k = 0; k < SYMV_COLS; k++) {
    col.push(c.local(I32));
    xs.push(c.local(F64));
    xsv.push(c.local(V128));
    dot.push(c.local(V128));
    dots.push(c.local(F64));
  }
  const av = c.local(V128), xv = c.local(V128), pv = c.local(V128), a = c.local(F64), xi = c.local(F64), pi = c.local(F64);
  /** Pushes x * y + acc (locals; v128 when `vec`). */
  const madd = (x: number, y: number, acc: number, vec: boolean): void => {
    if (vec && fma) c.get(x).get(y).get(acc).f64x2RelaxedMadd();
    else if (vec) c.get(acc).get(x).get(y).f64x2Mul().f64x2Add();
    else c.get(acc).get(x).get(y).f64Mul().f64Add();
  };
  c.get(S0).set(j);
  const pass = (width: number): void => {
    c.block().loop();
    c.get(j).i32(width).i32Add().get(C1).i32GtS().brIf(1);
    for (let k = 0; k < width; k++) {
      c.get(APTR).get(j).i32(k).i32Add().get(LD).i32Mul().i32Add().set(col[k]!);
      address(c, XPTR, j); c.f64Load(8 * k).set(xs[k]!);
      c.get(xs[k]!).f64x2Splat().set(xsv[k]!);
      c.v128Zero().set(dot[k]!);
      c.f64Const(0).set(dots[k]!);
    }
    // The diagonal block: entry (r, k), r >= k, adds a x_k to p_r and (off the diagonal) a x_r to p_k.
    for (let r = 0; r < width; r++) {
      for (let k = 0; k <= r; k++) {
        address(c, col[k]!, j); c.f64Load(8 * r).set(a);
        madd(a, xs[k]!, dots[r]!, false); c.set(dots[r]!);
        if (r !== k) { madd(a, xs[r]!, dots[k]!, false); c.set(dots[k]!); }
      }
    }
    c.get(j).i32(width).i32Add().tee(i).i32(3).i32Shl().set(o);
    c.block().loop(); // row pairs below the block
    c.get(i).i32(2).i32Add().get(N).i32GtS().brIf(1);
    c.get(XPTR).get(o).i32Add().v128Load().set(xv);
    c.get(PPTR).get(o).i32Add().tee(pAddr).v128Load().set(pv);
    for (let k = 0; k < width; k++) {
      c.get(col[k]!).get(o).i32Add().v128Load().set(av);
      madd(av, xsv[k]!, pv, true); c.set(pv);
      madd(av, xv, dot[k]!, true); c.set(dot[k]!);
    }
    c.get(pAddr).get(pv).v128Store();
    c.get(i).i32(2).i32Add().set(i);
    c.get(o).i32(16).i32Add().set(o).br(0);
    c.end().end();
    c.block(); // odd last row
    c.get(i).get(N).i32GeS().brIf(0);
    address(c, XPTR, i); c.f64Load().set(xi);
    address(c, PPTR, i); c.f64Load().set(pi);
    for (let k = 0; k < width; k++) {
      address(c, col[k]!, i); c.f64Load().set(a);
      madd(a, xs[k]!, pi, false); c.set(pi);
      madd(a, xi, dots[k]!, false); c.set(dots[k]!);
    }
    address(c, PPTR, i); c.get(pi).f64Store();
    c.end();
    // p_{j+k} += diagonal-block and odd-row terms + the two lanes of the row-pair dot.
    for (let k = 0; k < width; k++) {
      address(c, PPTR, j); address(c, PPTR, j); c.f64Load(8 * k);
      c.get(dots[k]!).get(dot[k]!).f64x2ExtractLane(0).f64Add().get(dot[k]!).f64x2ExtractLane(1).f64Add().f64Add().f64Store(8 * k);
    }
    c.get(j).i32(width).i32Add().set(j).br(0);
    c.end().end();
  };
  pass(SYMV_COLS);
  pass(1);
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

/** Module bytes (symv's multiply-adds fused with `fma`); it imports a shared `env.memory`. */
export function eighKernelBytes(fma: boolean): Uint8Array {
  const params: ValType[] = [I32, I32, I32, I32, I32, I32];
  return assemble(
    [
      { name: 'symv', params: [...params, I32], code: symv(fma) },
      { name: 'gemvT', params, code: gemvT() },
      { name: 'gemvN', params, code: gemvN() },
    ],
    { minPages: 1, maxPages: 65536, shared: true },
  );
}
