/**
 * The f64 product micro-kernel as a WebAssembly SIMD128 module (f64x2 lanes), emitted from TypeScript.
 *
 * Export `macro(mc, nc, kc, aPack, bPack, cPtr, ldcBytes, diag)`: for every MR x NR tile of an mc x nc
 * block (mc, nc multiples of MR, NR), C_tile += A_panel B_panel over kc, where A is packed in MR-row
 * panels (MR values per k step) and B in NR-column panels (NR values per k step), both at byte addresses in
 * the imported memory. Tiles lying wholly above the diagonal `col - row > diag` are skipped (syrk triangle;
 * pass a huge diag for a full product). Accumulators live in registers for the whole kc loop
 * (MR/2 x NR f64x2 values), so each k step does MR/2 vector loads of A, NR splat loads of B and
 * MR NR multiply-adds. f64 throughout: products and sums round exactly as scalar f64 code would.
 */
import { assemble, Code, I32, V128 } from './assembler.js';

/** Micro-tile rows (multiple of 2) and columns. 4 x 4 keeps 8 accumulators + 3 operands in 16 registers. */
export const MR = 4;
export const NR = 4;

function macro(mr: number, nr: number): Code {
  // Parameters.
  const MC = 0, NC = 1, KC = 2, APACK = 3, BPACK = 4, CPTR = 5, LDC = 6, DIAG = 7;
  const c = new Code(8);
  const jr = c.local(I32), ir = c.local(I32), kk = c.local(I32);
  const ap = c.local(I32), bp = c.local(I32), cp = c.local(I32);
  const hv = mr / 2;
  const acc: number[] = [];
  for (let i = 0; i < hv * nr; i++) acc.push(c.local(V128));
  const av: number[] = [];
  for (let i = 0; i < hv; i++) av.push(c.local(V128));
  const bv = c.local(V128);

  c.i32(0).set(jr);
  c.block().loop(); // over jr
  c.get(jr).get(NC).i32GeS().brIf(1);
  c.i32(0).set(ir);
  c.block().loop(); // over ir
  c.get(ir).get(MC).i32GeS().brIf(1);
  c.block(); // skippable tile
  c.get(jr).get(ir).i32Sub().get(DIAG).i32Sub().i32(mr - 1).i32GtS().brIf(0);
  for (const x of acc) c.v128Zero().set(x);
  c.get(APACK).get(ir).get(KC).i32Mul().i32(3).i32Shl().i32Add().set(ap);
  c.get(BPACK).get(jr).get(KC).i32Mul().i32(3).i32Shl().i32Add().set(bp);
  c.get(KC).set(kk);
  c.loop(); // over k
  for (let r = 0; r < hv; r++) c.get(ap).v128Load(16 * r).set(av[r]!);
  for (let j = 0; j < nr; j++) {
    c.get(bp).v128Load64Splat(8 * j).set(bv);
    for (let r = 0; r < hv; r++) {
      const x = acc[j * hv + r]!;
      c.get(x).get(av[r]!).get(bv).f64x2Mul().f64x2Add().set(x);
    }
  }
  c.get(ap).i32(8 * mr).i32Add().set(ap);
  c.get(bp).i32(8 * nr).i32Add().set(bp);
  c.get(kk).i32(1).i32Sub().tee(kk).brIf(0);
  c.end();
  // C_tile += accumulators, column by column.
  c.get(CPTR).get(ir).i32(3).i32Shl().i32Add().get(jr).get(LDC).i32Mul().i32Add().set(cp);
  for (let j = 0; j < nr; j++) {
    for (let r = 0; r < hv; r++) {
      c.get(cp).get(cp).v128Load(16 * r).get(acc[j * hv + r]!).f64x2Add().v128Store(16 * r);
    }
    if (j + 1 < nr) c.get(cp).get(LDC).i32Add().set(cp);
  }
  c.end(); // skippable tile
  c.get(ir).i32(mr).i32Add().set(ir).br(0);
  c.end().end();
  c.get(jr).i32(nr).i32Add().set(jr).br(0);
  c.end().end();
  return c;
}

/** Module bytes; it imports `env.memory` (each thread instantiates it over a memory of its own). */
export function gemmKernelBytes(): Uint8Array {
  return assemble([{ name: 'macro', params: [I32, I32, I32, I32, I32, I32, I32, I32], code: macro(MR, NR) }], {
    minPages: 1,
    maxPages: 65536,
    shared: false,
  });
}
