/**
 * The WebAssembly SIMD128 kernel of kernels/cpu/coded-sums.ts: one export,
 * `sums(codesPtr, ldCodes, k, tPtr, tuPtr, uPtr, startPtr, listPtr, q1, wPtr, tileBytes, scratchPtr, i0, i1)`,
 * over tiles of 16 rows [t, t + 16) for t = i0, i0 + 16, ... < i1 (byte addresses; i0, i1 multiples of 16):
 *   1. decode: A[r, j] = tA[4 j + c] and B[r, j] = tB[4 j + c], c = codes[t + r + j ldCodes] (bytes 0..3),
 *      into the scratch (A then B, 16 k f64 each; tA at tPtr, tB at tuPtr, 4 f64 per column);
 *   2. u[t + r] += B[r, 0] + ... + B[r, k-1], one addition at a time in column order;
 *   3. for every output column q < q1 with a non-empty list (int32 column indices
 *      list[start[q]] .. list[start[q+1] - 1]): W[t + r, q] += A[r, list[p]] for p in order, one addition at a
 *      time (the 16 entries in eight f64x2 registers, loaded and stored once per q). W is stored by tiles:
 *      entry (i, q) at wPtr + (i / 16) tileBytes + 128 q + 8 (i % 16), so a tile's pass over q is contiguous.
 * Every entry is summed left to right in f64 (no reassociation, no fused multiply-add), so the result is
 * identical to the scalar loops in that order. Cost O(16 k) per tile for steps 1-2, plus 16 additions per list
 * entry.
 */
import { assemble, Code, I32, V128, type ValType } from './assembler.js';

/** Rows per tile (eight f64x2 registers). */
export const TILE_ROWS = 16;

function sums(): Code {
  const CODES = 0, LDC = 1, K = 2, TA = 3, TB = 4, U = 5, START = 6, LIST = 7, Q1 = 8, W = 9, LDW = 10, SCR = 11, I0 = 12, I1 = 13;
  const T = TILE_ROWS;
  const c = new Code(14);
  const t = c.local(I32), j = c.local(I32), r = c.local(I32), q = c.local(I32), p = c.local(I32), e = c.local(I32);
  const src = c.local(I32), dst = c.local(I32), code = c.local(I32), scrB = c.local(I32), wq = c.local(I32);
  const acc: number[] = [];
  for (let h = 0; h < T / 2; h++) acc.push(c.local(V128));
  c.get(SCR).get(K).i32(T * 8).i32Mul().i32Add().set(scrB);
  c.get(I0).set(t);
  c.block().loop(); // tiles
  c.get(t).get(I1).i32GeS().brIf(1);
  // Step 1: decode the tile's codes through both tables, column by column.
  c.i32(0).set(j);
  c.block().loop();
  c.get(j).get(K).i32GeS().brIf(1);
  c.get(CODES).get(j).get(LDC).i32Mul().i32Add().get(t).i32Add().set(src);
  c.get(j).i32(T * 8).i32Mul().set(dst);
  c.i32(0).set(r);
  c.block().loop();
  c.get(r).i32(T).i32GeS().brIf(1);
  // code -> byte offset of the column's table entry: (4 j + c) 8.
  c.get(src).get(r).i32Add().i32Load8S().get(j).i32(2).i32Shl().i32Add().i32(3).i32Shl().set(code);
  c.get(SCR).get(dst).i32Add().get(TA).get(code).i32Add().f64Load().f64Store();
  c.get(scrB).get(dst).i32Add().get(TB).get(code).i32Add().f64Load().f64Store();
  c.get(dst).i32(8).i32Add().set(dst);
  c.get(r).i32(1).i32Add().set(r).br(0);
  c.end().end();
  c.get(j).i32(1).i32Add().set(j).br(0);
  c.end().end();
  // Step 2: u[t:t+16] += B[:, 0] + ... + B[:, k-1] in order.
  const loadAcc = (base: number): void => {
    for (let h = 0; h < T / 2; h++) c.get(base).v128Load(16 * h).set(acc[h]!);
  };
  const storeAcc = (base: number): void => {
    for (let h = 0; h < T / 2; h++) c.get(base).get(acc[h]!).v128Store(16 * h);
  };
  const addFrom = (base: number): void => {
    for (let h = 0; h < T / 2; h++) c.get(acc[h]!).get(base).v128Load(16 * h).f64x2Add().set(acc[h]!);
  };
  c.get(U).get(t).i32(3).i32Shl().i32Add().set(wq);
  loadAcc(wq);
  c.get(scrB).set(src);
  c.get(K).set(j);
  c.block().loop();
  c.get(j).i32Eqz().brIf(1);
  addFrom(src);
  c.get(src).i32(T * 8).i32Add().set(src);
  c.get(j).i32(1).i32Sub().set(j).br(0);
  c.end().end();
  storeAcc(wq);
  // Step 3: each output column's list, in order.
  c.i32(0).set(q);
  c.block().loop();
  c.get(q).get(Q1).i32GeS().brIf(1);
  c.get(START).get(q).i32(2).i32Shl().i32Add().i32Load().set(p);
  c.get(START).get(q).i32(2).i32Shl().i32Add().i32Load(4).set(e);
  c.block();
  c.get(p).get(e).i32GeS().brIf(0);
  c.get(W).get(t).i32(4).i32ShrU().get(LDW).i32Mul().i32Add().get(q).i32(T * 8).i32Mul().i32Add().set(wq);
  loadAcc(wq);
  c.loop();
  c.get(SCR).get(LIST).get(p).i32(2).i32Shl().i32Add().i32Load().i32(T * 8).i32Mul().i32Add().set(src);
  addFrom(src);
  c.get(p).i32(1).i32Add().tee(p).get(e).i32LtS().brIf(0);
  c.end();
  storeAcc(wq);
  c.end();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  c.get(t).i32(T).i32Add().set(t).br(0);
  c.end().end();
  return c;
}

/** Module bytes; it imports `env.memory` (shared, so worker threads may run tiles of the same sums). */
export function codedSumsKernelBytes(): Uint8Array {
  const params: ValType[] = Array.from({ length: 14 }, () => I32);
  return assemble([{ name: 'sums', params, code: sums() }], { minPages: 1, maxPages: 65536, shared: true });
}
