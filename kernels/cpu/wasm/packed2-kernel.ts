/**
 * Decoding 2-bit codes straight into the f64 micro-panels of the product kernel (kernels/cpu/wasm/gemm-kernel.ts:
 * panels of 4, element (r, p) of panel q at dst + 8 (4 q depth + 4 p + r)), as a WebAssembly SIMD128 module over
 * the same imported memory as the product kernel. Each column c of the codes (one byte per 4 rows, byte i
 * holding rows 4i..4i+3 in bits 2t, 2t+1) comes with a nibble table at nib + 256 c: entry v (v = 0..15) holds the
 * two f64 values of the two codes in v, (table[v & 3], table[v >> 2]), so one byte is two 16-byte loads.
 *
 * rowPanels(codes, bpc, nib, depth, byte0, panels, dst): panels of 4 ROWS (op(A) = Z), depth = columns:
 *   element (r, p) of panel q = value of row 4 (byte0 + q) + r of column p (column p's codes at codes + p bpc).
 * colPanels(codes, bpc, nib, panels, bytes, byte0, dst, depth): panels of 4 COLUMNS (op(A) = Z'), depth = rows:
 *   element (r, p) of panel q = value of row 4 byte0 + p of column 4 q + r, for the 4 `bytes` x 4 rows decoded
 *   (depth >= 4 bytes is the panel stride; rows past 4 bytes are left to the caller).
 * Cost per value: one byte load per 4, a 16-byte load per 2 and, for colPanels, a lane shuffle per 2.
 */
import { assemble, Code, I32, V128, type WasmFunction } from './assembler.js';

const LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];

function rowPanels(): Code {
  const CODES = 0, BPC = 1, NIB = 2, DEPTH = 3, BYTE0 = 4, PANELS = 5, DST = 6;
  const c = new Code(7);
  const p = c.local(I32), q = c.local(I32), cp = c.local(I32), np = c.local(I32), d = c.local(I32), b = c.local(I32), stride = c.local(I32);
  c.get(DEPTH).i32(5).i32Shl().set(stride); // 32 depth bytes between panels
  c.i32(0).set(p);
  c.block().loop(); // over columns (depth)
  c.get(p).get(DEPTH).i32GeS().brIf(1);
  c.get(CODES).get(p).get(BPC).i32Mul().i32Add().get(BYTE0).i32Add().set(cp);
  c.get(NIB).get(p).i32(8).i32Shl().i32Add().set(np);
  c.get(DST).get(p).i32(5).i32Shl().i32Add().set(d);
  c.i32(0).set(q);
  c.block().loop(); // over panels (bytes of the column)
  c.get(q).get(PANELS).i32GeS().brIf(1);
  c.get(cp).get(q).i32Add().i32Load8U().set(b);
  c.get(d).get(np).get(b).i32(15).i32And().i32(4).i32Shl().i32Add().v128Load().v128Store(0);
  c.get(d).get(np).get(b).i32(4).i32ShrU().i32(4).i32Shl().i32Add().v128Load().v128Store(16);
  c.get(d).get(stride).i32Add().set(d);
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  c.get(p).i32(1).i32Add().set(p).br(0);
  c.end().end();
  return c;
}

function colPanels(): Code {
  const CODES = 0, BPC = 1, NIB = 2, PANELS = 3, BYTES = 4, BYTE0 = 5, DST = 6, DEPTH = 7;
  const c = new Code(8);
  const q = c.local(I32), i = c.local(I32), d = c.local(I32);
  const cc = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
  const nn = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
  const bb = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
  const x = [c.local(V128), c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(q);
  c.block().loop(); // over panels of 4 columns
  c.get(q).get(PANELS).i32GeS().brIf(1);
  for (let r = 0; r < 4; r++) {
    // column 4 q + r: codes from byte0, nibble table
    c.get(CODES).get(q).i32(2).i32Shl().i32(r).i32Add().get(BPC).i32Mul().i32Add().get(BYTE0).i32Add().set(cc[r]!);
    c.get(NIB).get(q).i32(2).i32Shl().i32(r).i32Add().i32(8).i32Shl().i32Add().set(nn[r]!);
  }
  c.get(DST).get(q).get(DEPTH).i32Mul().i32(5).i32Shl().i32Add().set(d);
  c.i32(0).set(i);
  c.block().loop(); // over row bytes
  c.get(i).get(BYTES).i32GeS().brIf(1);
  for (let r = 0; r < 4; r++) c.get(cc[r]!).get(i).i32Add().i32Load8U().set(bb[r]!);
  for (let half = 0; half < 2; half++) {
    // Rows 4i + 2 half, 4i + 2 half + 1 of each column: one nibble table entry per column.
    for (let r = 0; r < 4; r++) {
      c.get(nn[r]!).get(bb[r]!);
      if (half === 1) c.i32(4).i32ShrU();
      c.i32(15).i32And().i32(4).i32Shl().i32Add().v128Load().set(x[r]!);
    }
    const o = 64 * half;
    c.get(d).get(x[0]!).get(x[1]!).i8x16Shuffle(LOW).v128Store(o);
    c.get(d).get(x[2]!).get(x[3]!).i8x16Shuffle(LOW).v128Store(o + 16);
    c.get(d).get(x[0]!).get(x[1]!).i8x16Shuffle(HIGH).v128Store(o + 32);
    c.get(d).get(x[2]!).get(x[3]!).i8x16Shuffle(HIGH).v128Store(o + 48);
  }
  c.get(d).i32(128).i32Add().set(d);
  c.get(i).i32(1).i32Add().set(i).br(0);
  c.end().end();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  return c;
}

/** Module bytes; it imports a shared `env.memory` (instantiate it over the product kernel's memory). */
export function packed2KernelBytes(): Uint8Array {
  const functions: WasmFunction[] = [
    { name: 'rowPanels', params: [I32, I32, I32, I32, I32, I32, I32], code: rowPanels() },
    { name: 'colPanels', params: [I32, I32, I32, I32, I32, I32, I32, I32], code: colPanels() },
  ];
  return assemble(functions, { minPages: 1, maxPages: 65536, shared: true });
}
