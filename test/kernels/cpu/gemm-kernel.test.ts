import { describe, expect, it } from 'vitest';
import { gemmKernelBytes, MR, NR } from '../../../kernels/cpu/wasm/gemm-kernel.js';
import { relaxedSimdAvailable, wasm } from '../../../kernels/cpu/wasm/runtime.js';
import { rng } from '../../helpers/random.js';

type Exports = {
  macro: (mc: number, nc: number, kc: number, aPack: number, bPack: number, cPtr: number, ldcBytes: number, diag: number, scratch: number) => void;
  packRows: (src: number, ldBytes: number, panels: number, kc: number, dst: number, alpha: number) => void;
  packCols: (src: number, ldBytes: number, panels: number, kc: number, dst: number, alpha: number) => void;
};

/** The kernel module built both ways (the FMA build where this runtime compiles relaxed SIMD), over 1 MiB. */
function instances(): { fma: boolean; k: Exports; f: Float64Array }[] {
  return [false, ...(relaxedSimdAvailable() ? [true] : [])].map((fma) => {
    const memory = new wasm.Memory({ initial: 16, maximum: 65536, shared: true });
    const k = new wasm.Instance(new wasm.Module(gemmKernelBytes(fma)), { env: { memory } }).exports as unknown as Exports;
    return { fma, k, f: new Float64Array(memory.buffer) };
  });
}

describe('gemm micro-kernel module', () => {
  for (const { fma, k, f } of instances()) {
    for (const diag of [1 << 29, 0, -3]) {
      it(`macro (fma=${fma}, diag=${diag}): C += A B on a ragged 10 x 7 block, entries j - i > diag and outside untouched`, () => {
        const [mc, nc, kc, ldc] = [10, 7, 5, 13];
        const aPanels = Math.ceil(mc / MR), bPanels = Math.ceil(nc / NR);
        const A = 0, B = aPanels * MR * kc, C = B + bPanels * NR * kc, SCRATCH = C + ldc * (nc + 2);
        const u = rng(fma ? 3 : 4);
        const a = (i: number): number => (i < mc ? Math.round(u() * 64) / 8 - 4 : 1);
        const b = (j: number): number => (j < nc ? Math.round(u() * 64) / 8 - 4 : 1);
        // Packed panels of dyadic values (every sum exact); the padding past mc rows / nc columns is 1, not the
        // zeros the packers write, so any write outside the block would show.
        for (let q = 0; q < aPanels; q++) for (let p = 0; p < kc; p++) for (let r = 0; r < MR; r++) f[A + q * MR * kc + p * MR + r] = a(q * MR + r);
        for (let q = 0; q < bPanels; q++) for (let p = 0; p < kc; p++) for (let c = 0; c < NR; c++) f[B + q * NR * kc + p * NR + c] = b(q * NR + c);
        for (let t = C; t < SCRATCH; t++) f[t] = t % 3;
        const before = f.slice(C, SCRATCH);
        k.macro(mc, nc, kc, A * 8, B * 8, (C + 1) * 8, ldc * 8, diag, SCRATCH * 8);
        for (let t = C; t < SCRATCH; t++) {
          const i = (t - C - 1) % ldc, j = Math.floor((t - C - 1) / ldc);
          const inside = t > C && i < mc && j >= 0 && j < nc && j - i <= diag;
          let want = before[t - C]!;
          if (inside) for (let p = 0; p < kc; p++) want += f[A + Math.floor(i / MR) * MR * kc + p * MR + (i % MR)]! * f[B + Math.floor(j / NR) * NR * kc + p * NR + (j % NR)]!;
          expect(f[t]).toBe(want);
        }
      });
    }

    for (const kc of [6, 7]) {
      it(`packRows and packCols (fma build ${fma}, kc=${kc}): 4-wide panels of alpha X from either layout`, () => {
        const [panels, ld, alpha] = [3, 17, -0.5];
        const count = 4 * panels;
        const SRC = 0, DST = 4096;
        const u = rng(kc);
        for (let t = 0; t < ld * Math.max(kc, count); t++) f[SRC + t] = u();
        for (const depthContiguous of [false, true]) {
          f.fill(Number.NaN, DST, DST + count * kc);
          (depthContiguous ? k.packCols : k.packRows)(SRC * 8, ld * 8, panels, kc, DST * 8, alpha);
          for (let i = 0; i < count; i++) {
            for (let p = 0; p < kc; p++) {
              const x = f[SRC + (depthContiguous ? p + i * ld : i + p * ld)]!;
              expect(f[DST + Math.floor(i / 4) * 4 * kc + p * 4 + (i % 4)]).toBe(alpha * x);
            }
          }
        }
      });
    }
  }
});
