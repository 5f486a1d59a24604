/**
 * Exact small-integer syrk micro-kernels as a WebAssembly SIMD128 module, in two variants over one packing:
 *
 * - `syrk8` (SIMD128 only): i32x4.dot_i16x8_s over int8 data sign-extended to i16 (v128.load8x8_s, each
 *   16-byte group in two halves), eight multiply-adds per instruction into i32 lanes. Exact for any int8 data
 *   while k max|x|^2 < 2^31.
 * - `syrk8r` (relaxed SIMD, only in a module built with `relaxed`): i16x8.relaxed_dot_i8x16_i7x16_s, sixteen
 *   multiply-adds per instruction into i16 lanes (x64: one pmaddubsw), added with i16x8.add and widened
 *   to i32 (i32x4.extadd_pairwise_i16x8_s) once per call. Exact only for data in [0, 127] with
 *   2 groups max|x|^2 <= 32767 (no i16 lane can overflow within the call): the caller checks both
 *   (genotype dosages 0..2 allow 4095 groups per call). Node 20's baseline compiler (Liftoff) miscompiles the
 *   accumulating i32x4.relaxed_dot_i8x16_i7x16_add_s (it drops the addend), so that instruction is not used.
 *
 * A third export, `unpack2`, packs 2-bit coded columns into that layout (see its comment).
 *
 * Export signature `(pPtr, kPad, g0, groups, qi0, qi1, qj0, qj1, cPtr, ldcBytes)`: rows of X (k values each,
 * zero padded to kPad, a multiple of 16) are packed in panels of R = 3 rows interleaved in 16-byte groups
 * (panel q, group g, row r at pPtr + q*R*kPad + g*16R + 16r). For every pair of panels qi in [qi0, qi1),
 * qj in [qj0, min(qj1, qi + 1)) it adds to the R x R int32 tile at cPtr (column-major, ldcBytes per column)
 * C[R qi + r, R qj + c] += sum over groups [g0, g0 + groups) of X[R qi + r, p] X[R qj + c, p].
 * The caller blocks over groups (L1) and qj (L2) so each call's operands stay in cache.
 * Registers: 9 accumulators + 3 row operands + 1 column operand + 1 product (14 of the 16 SIMD registers).
 */
import { assemble, Code, I32, V128, type ValType, type WasmFunction } from './assembler.js';

export const PANEL_ROWS = 3;
/** Bytes of one row's group (the packing's unit of depth). */
export const GROUP_BYTES = 16;

function syrk8(relaxed: boolean): Code {
  const R = PANEL_ROWS, G = GROUP_BYTES;
  const PPTR = 0, KPAD = 1, G0 = 2, GROUPS = 3, QI0 = 4, QI1 = 5, QJ0 = 6, QJ1 = 7, CPTR = 8, LDC = 9;
  const c = new Code(10);
  const qi = c.local(I32), qj = c.local(I32), a = c.local(I32), b = c.local(I32), cnt = c.local(I32), cp = c.local(I32), panelBytes = c.local(I32);
  const acc: number[] = [];
  for (let t = 0; t < R * R; t++) acc.push(c.local(V128));
  const av: number[] = [];
  for (let r = 0; r < R; r++) av.push(c.local(V128));
  const bv = c.local(V128);
  c.get(KPAD).i32(R).i32Mul().set(panelBytes);
  c.get(QI0).set(qi);
  c.block().loop(); // panel qi
  c.get(qi).get(QI1).i32GeS().brIf(1);
  c.get(QJ0).set(qj);
  c.block().loop(); // panel qj <= qi, qj < qj1
  c.get(qj).get(qi).i32GtS().brIf(1);
  c.get(qj).get(QJ1).i32GeS().brIf(1);
  for (const x of acc) c.v128Zero().set(x);
  c.get(PPTR).get(qi).get(panelBytes).i32Mul().i32Add().get(G0).i32(G * R).i32Mul().i32Add().set(a);
  c.get(PPTR).get(qj).get(panelBytes).i32Mul().i32Add().get(G0).i32(G * R).i32Mul().i32Add().set(b);
  c.get(GROUPS).set(cnt);
  c.block();
  c.get(cnt).i32Eqz().brIf(0);
  c.loop(); // 16-byte groups
  if (relaxed) {
    for (let r = 0; r < R; r++) c.get(a).v128Load(G * r).set(av[r]!);
    for (let col = 0; col < R; col++) {
      c.get(b).v128Load(G * col).set(bv);
      for (let r = 0; r < R; r++) {
        const x = acc[col * R + r]!;
        c.get(x).get(av[r]!).get(bv).i16x8RelaxedDotI8x16I7x16S().i16x8Add().set(x);
      }
    }
  } else {
    for (const half of [0, 8]) {
      for (let r = 0; r < R; r++) c.get(a).v128Load8x8S(G * r + half).set(av[r]!);
      for (let col = 0; col < R; col++) {
        c.get(b).v128Load8x8S(G * col + half).set(bv);
        for (let r = 0; r < R; r++) {
          const x = acc[col * R + r]!;
          c.get(x).get(av[r]!).get(bv).i32x4DotI16x8S().i32x4Add().set(x);
        }
      }
    }
  }
  c.get(a).i32(G * R).i32Add().set(a);
  c.get(b).i32(G * R).i32Add().set(b);
  c.get(cnt).i32(1).i32Sub().tee(cnt).brIf(0);
  c.end();
  c.end();
  // Tile update: C[R qi + r, R qj + col] += horizontal sum of the accumulator (i16 pairs widened first).
  for (let col = 0; col < R; col++) {
    c.get(CPTR).get(qi).i32(R * 4).i32Mul().i32Add().get(qj).i32(R).i32Mul().i32(col).i32Add().get(LDC).i32Mul().i32Add().set(cp);
    for (let r = 0; r < R; r++) {
      const x = acc[col * R + r]!;
      if (relaxed) c.get(x).i32x4ExtaddPairwiseI16x8S().set(x);
      c.get(cp);
      c.get(cp).i32Load(4 * r);
      c.get(x).i32x4ExtractLane(0).get(x).i32x4ExtractLane(1).i32Add().get(x).i32x4ExtractLane(2).i32Add().get(x).i32x4ExtractLane(3).i32Add().i32Add();
      c.i32Store(4 * r);
    }
  }
  c.get(qj).i32(1).i32Add().set(qj).br(0);
  c.end().end();
  c.get(qi).i32(1).i32Add().set(qi).br(0);
  c.end().end();
  return c;
}

/**
 * `unpack2(src, colsPtr, groups, n, table, dst, kPad)`: packs 2-bit coded columns into the panels above.
 * Column p (p < 16 groups) is ceil(n / 4) bytes at src + cols[p] (cols: int32 at colsPtr), row i's code in bits
 * 2 (i & 3) of its byte i >> 2, and decodes to byte t of `table` (an i32: four int8 values, code 0 lowest).
 * For each group of 16 columns, one byte of each column is gathered into a vector (16 lane loads), and each of
 * its four rows is shifted, masked and looked up (i8x16.swizzle) into the row's 16-byte group: rows 0..n-1 of
 * the panels at dst are written (columns past the block's k and rows past n are left to the caller).
 * Cost per row and group: 10 instructions, plus 80 per four rows for the gather.
 */
function unpack2(): Code {
  const R = PANEL_ROWS, G = GROUP_BYTES;
  const SRC = 0, COLS = 1, GROUPS = 2, N = 3, TABLE = 4, DST = 5, KPAD = 6;
  const c = new Code(7);
  const g = c.local(I32), i = c.local(I32), d = c.local(I32), r3 = c.local(I32), b = c.local(I32), jump = c.local(I32);
  const v = c.local(V128), tbl = c.local(V128), three = c.local(V128);
  const ptr: number[] = [];
  for (let s = 0; s < G; s++) ptr.push(c.local(I32));
  c.get(TABLE).i32x4Splat().set(tbl);
  c.i32(3).i8x16Splat().set(three);
  c.get(KPAD).i32(R).i32Mul().i32(R * G).i32Sub().set(jump); // from past row R-1 of a panel to row 0 of the next
  c.i32(0).set(g);
  c.block().loop(); // groups
  c.get(g).get(GROUPS).i32GeS().brIf(1);
  for (let s = 0; s < G; s++) c.get(SRC).get(COLS).get(g).i32(6).i32Shl().i32Add().i32Load(4 * s).i32Add().set(ptr[s]!);
  c.get(DST).get(g).i32(R * G).i32Mul().i32Add().set(d);
  c.i32(0).set(r3);
  c.i32(0).set(i);
  c.block().loop(); // rows
  c.get(i).get(N).i32GeS().brIf(1);
  // Every fourth row: byte i / 4 of the 16 columns.
  c.block();
  c.get(i).i32(3).i32And().brIf(0);
  c.get(i).i32(2).i32ShrU().set(b);
  for (let s = 0; s < G; s++) c.get(ptr[s]!).get(b).i32Add().get(v).v128Load8Lane(s).set(v);
  c.end();
  c.get(d).get(tbl).get(v).get(i).i32(3).i32And().i32(1).i32Shl().i8x16ShrU().get(three).v128And().i8x16Swizzle().v128Store();
  c.get(d).i32(G).i32Add().set(d);
  c.get(r3).i32(1).i32Add().set(r3);
  c.block();
  c.get(r3).i32(R).i32LtS().brIf(0);
  c.i32(0).set(r3);
  c.get(d).get(jump).i32Add().set(d);
  c.end();
  c.get(i).i32(1).i32Add().set(i).br(0);
  c.end().end();
  c.get(g).i32(1).i32Add().set(g).br(0);
  c.end().end();
  return c;
}

/**
 * Module bytes exporting `syrk8`, and `syrk8r` when `relaxed` (the runtime must then accept relaxed SIMD);
 * it imports `env.memory` (a shared memory when `shared`, for worker threads).
 */
export function syrkInt8KernelBytes(shared: boolean, relaxed: boolean): Uint8Array {
  const params: ValType[] = [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32];
  const fns: WasmFunction[] = [{ name: 'syrk8', params, code: syrk8(false) }];
  if (relaxed) fns.push({ name: 'syrk8r', params, code: syrk8(true) });
  fns.push({ name: 'unpack2', params: [I32, I32, I32, I32, I32, I32, I32], code: unpack2() });
  return assemble(fns, { minPages: 1, maxPages: 65536, shared });
}
