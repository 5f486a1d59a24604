/**
 * The f64 product micro-kernel as a WebAssembly SIMD128 module (f64x2 lanes), emitted from TypeScript.
 *
 * Export `macro(mc, nc, kc, aPack, bPack, cPtr, ldcBytes, diag, scratch)`: for every MR x NR tile of an
 * mc x nc block of C at byte address cPtr (column stride ldcBytes), C_tile += A_panel B_panel over kc, where
 * A is packed in MR-row panels (MR values per k step, rows past mc zero) and B in NR-column panels (NR
 * values per k step, columns past nc zero), both at byte addresses in the imported memory. Only entries
 * (i, j) of the block with j - i <= diag are updated (syrk triangle; pass a huge diag for a full product):
 * tiles wholly past it are skipped. Accumulators live in registers for the whole kc loop (MR/2 x NR f64x2
 * values), so each k step does MR/2 vector loads of A, NR splat loads of B and MR NR multiply-adds.
 * Whole tiles inside the block and the triangle add their accumulators to C as vectors; a tile crossing
 * the block's edge or the diagonal stores them at `scratch` (MR NR f64) and adds the entries inside one by
 * one, so C is never touched outside the block (it may lie inside a larger matrix).
 * f64 throughout; with `fma` each multiply-add is relaxed SIMD's f64x2.relaxed_madd (one rounding per step
 * where the host has FMA), otherwise a multiply then an add. Either way each entry of C is summed in the
 * same order whichever tile path or thread computes it.
 *
 * Exports `packRows` and `packCols` pack an operand X (count x kc, count a multiple of 4) into 4-wide
 * micro-panels, element (r, p) of panel q at dst + 8 (q 4 kc + 4 p + r), times alpha. packRows reads X with
 * its 4 panel entries contiguous (element (i, p) at src + 8 i + p ld: op(A) untransposed, op(B)
 * transposed); packCols reads it with depth contiguous (element (i, p) at src + i ld + 8 p: op(A)
 * transposed, op(B) untransposed), transposing 2 x 2 blocks of f64x2 by shuffles.
 */
import { assemble, Code, F64, I32, V128, type ValType, type WasmFunction } from './assembler.js';

/**
 * Micro-tile rows (multiple of 2) and columns. 4 x 4 keeps 8 accumulators + 3 operands in registers; tiles
 * with 12 accumulators (4 x 6, 6 x 4) need all of V8's 15 allocatable xmm registers on x64 and more, and
 * timed much slower here (spills); 4 x 4 with FMA runs near the 128-bit FMA units' peak.
 */
export const MR = 4;
export const NR = 4;
/** Width of the packing kernels' panels: MR for op(A), NR for op(B). */
const PANEL = 4;

function macro(mr: number, nr: number, fma: boolean): Code {
  // Parameters.
  const MC = 0, NC = 1, KC = 2, APACK = 3, BPACK = 4, CPTR = 5, LDC = 6, DIAG = 7, SCRATCH = 8;
  const c = new Code(9);
  const jr = c.local(I32), ir = c.local(I32), kk = c.local(I32);
  const ap = c.local(I32), bp = c.local(I32), cp = c.local(I32);
  const q = c.local(I32), r = c.local(I32), addr = c.local(I32);
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
  for (let v = 0; v < hv; v++) c.get(ap).v128Load(16 * v).set(av[v]!);
  for (let j = 0; j < nr; j++) {
    c.get(bp).v128Load64Splat(8 * j).set(bv);
    for (let v = 0; v < hv; v++) {
      const x = acc[j * hv + v]!;
      if (fma) c.get(av[v]!).get(bv).get(x).f64x2RelaxedMadd().set(x);
      else c.get(x).get(av[v]!).get(bv).f64x2Mul().f64x2Add().set(x);
    }
  }
  c.get(ap).i32(8 * mr).i32Add().set(ap);
  c.get(bp).i32(8 * nr).i32Add().set(bp);
  c.get(kk).i32(1).i32Sub().tee(kk).brIf(0);
  c.end();
  c.get(CPTR).get(ir).i32(3).i32Shl().i32Add().get(jr).get(LDC).i32Mul().i32Add().set(cp);
  c.block(); // partial tile
  // Partial when it crosses the bottom edge, the right edge or the diagonal (some j - i > diag).
  c.get(ir).i32(mr).i32Add().get(MC).i32GtS();
  c.get(jr).i32(nr).i32Add().get(NC).i32GtS().i32Or();
  c.get(jr).i32(nr - 1).i32Add().get(ir).i32Sub().get(DIAG).i32GtS().i32Or();
  c.brIf(0);
  // Whole tile: C_tile += accumulators, column by column.
  for (let j = 0; j < nr; j++) {
    for (let v = 0; v < hv; v++) {
      c.get(cp).get(cp).v128Load(16 * v).get(acc[j * hv + v]!).f64x2Add().v128Store(16 * v);
    }
    if (j + 1 < nr) c.get(cp).get(LDC).i32Add().set(cp);
  }
  c.br(1); // past the partial path, to the next tile
  c.end(); // partial tile
  // Accumulators to scratch (entry (r, q) at scratch + 8 (q MR + r)), then C[r, q] += entry where inside.
  for (let x = 0; x < acc.length; x++) c.get(SCRATCH).get(acc[x]!).v128Store(16 * x);
  c.i32(0).set(q);
  c.block().loop(); // over the tile's columns
  c.get(q).i32(nr).i32GeS().get(jr).get(q).i32Add().get(NC).i32GeS().i32Or().brIf(1);
  c.i32(0).set(r);
  c.block().loop(); // over the tile's rows
  c.get(r).i32(mr).i32GeS().get(ir).get(r).i32Add().get(MC).i32GeS().i32Or().brIf(1);
  c.block(); // entry past the diagonal
  c.get(jr).get(q).i32Add().get(ir).i32Sub().get(r).i32Sub().get(DIAG).i32GtS().brIf(0);
  c.get(cp).get(r).i32(3).i32Shl().i32Add().get(q).get(LDC).i32Mul().i32Add().set(addr);
  c.get(addr).get(addr).f64Load();
  c.get(SCRATCH).get(q).i32(mr).i32Mul().get(r).i32Add().i32(3).i32Shl().i32Add().f64Load();
  c.f64Add().f64Store();
  c.end(); // entry past the diagonal
  c.get(r).i32(1).i32Add().set(r).br(0);
  c.end().end();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  c.end(); // skippable tile
  c.get(ir).i32(mr).i32Add().set(ir).br(0);
  c.end().end();
  c.get(jr).i32(nr).i32Add().set(jr).br(0);
  c.end().end();
  return c;
}

/** packRows(src, ldBytes, panels, kc, dst, alpha): see the file comment. Cost 4 panels kc loads and stores. */
function packRows(): Code {
  const SRC = 0, LD = 1, PANELS = 2, KC = 3, DST = 4, ALPHA = 5;
  const c = new Code(6);
  const q = c.local(I32), p = c.local(I32), s = c.local(I32), d = c.local(I32);
  const av = c.local(V128);
  c.get(ALPHA).f64x2Splat().set(av);
  c.get(DST).set(d);
  c.i32(0).set(q);
  c.block().loop(); // over panels
  c.get(q).get(PANELS).i32GeS().brIf(1);
  c.get(SRC).get(q).i32(8 * PANEL).i32Mul().i32Add().set(s);
  c.get(KC).set(p);
  c.block().loop(); // over depth
  c.get(p).i32Eqz().brIf(1);
  for (let h = 0; h < PANEL / 2; h++) c.get(d).get(s).v128Load(16 * h).get(av).f64x2Mul().v128Store(16 * h);
  c.get(s).get(LD).i32Add().set(s);
  c.get(d).i32(8 * PANEL).i32Add().set(d);
  c.get(p).i32(1).i32Sub().set(p).br(0);
  c.end().end();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  return c;
}

/** packCols(src, ldBytes, panels, kc, dst, alpha): see the file comment. Cost 4 panels kc loads and stores. */
function packCols(): Code {
  const SRC = 0, LD = 1, PANELS = 2, KC = 3, DST = 4, ALPHA = 5;
  const c = new Code(6);
  const q = c.local(I32), e = c.local(I32), d = c.local(I32), end = c.local(I32);
  const row: number[] = [];
  for (let r = 0; r < PANEL; r++) row.push(c.local(I32));
  const v: number[] = [];
  for (let r = 0; r < PANEL; r++) v.push(c.local(V128));
  const av = c.local(V128);
  const LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  c.get(ALPHA).f64x2Splat().set(av);
  c.get(DST).set(d);
  c.i32(0).set(q);
  c.block().loop(); // over panels
  c.get(q).get(PANELS).i32GeS().brIf(1);
  c.get(SRC).get(q).i32(PANEL).i32Mul().get(LD).i32Mul().i32Add().set(row[0]!);
  for (let r = 1; r < PANEL; r++) c.get(row[r - 1]!).get(LD).i32Add().set(row[r]!);
  c.i32(0).set(e);
  c.get(KC).i32(1).i32Sub().i32(3).i32Shl().set(end); // byte offset of the last depth index
  c.block().loop(); // over depth pairs (p, p + 1)
  c.get(e).get(end).i32GeS().brIf(1);
  for (let r = 0; r < PANEL; r++) c.get(row[r]!).get(e).i32Add().v128Load().set(v[r]!);
  for (let h = 0; h < PANEL / 2; h++) {
    c.get(d).get(v[2 * h]!).get(v[2 * h + 1]!).i8x16Shuffle(LOW).get(av).f64x2Mul().v128Store(16 * h);
    c.get(d).get(v[2 * h]!).get(v[2 * h + 1]!).i8x16Shuffle(HIGH).get(av).f64x2Mul().v128Store(8 * PANEL + 16 * h);
  }
  c.get(d).i32(16 * PANEL).i32Add().set(d);
  c.get(e).i32(16).i32Add().set(e).br(0);
  c.end().end();
  c.block(); // an odd last depth index
  c.get(e).get(end).i32GtS().brIf(0);
  for (let r = 0; r < PANEL; r++) c.get(d).get(row[r]!).get(e).i32Add().f64Load().get(ALPHA).f64Mul().f64Store(8 * r);
  c.get(d).i32(8 * PANEL).i32Add().set(d);
  c.end();
  c.get(q).i32(1).i32Add().set(q).br(0);
  c.end().end();
  return c;
}

/**
 * Module bytes; it imports a shared `env.memory` (each thread instantiates it over its own). With `fma` the module
 * uses relaxed SIMD: check `relaxedSimdAvailable()` (./runtime.ts) first.
 */
export function gemmKernelBytes(fma: boolean): Uint8Array {
  const pack: ValType[] = [I32, I32, I32, I32, I32, F64];
  const functions: WasmFunction[] = [
    { name: 'macro', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], code: macro(MR, NR, fma) },
    { name: 'packRows', params: pack, code: packRows() },
    { name: 'packCols', params: pack, code: packCols() },
  ];
  return assemble(functions, {
    minPages: 1,
    maxPages: 65536,
    shared: true,
  });
}
