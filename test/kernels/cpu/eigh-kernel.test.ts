import { describe, expect, it } from 'vitest';
import { eighKernelBytes } from '../../../kernels/cpu/eigh-kernel.js';
import { relaxedSimdAvailable, wasm } from '../../../kernels/cpu/wasm/runtime.js';
import { rng } from '../../helpers/random.js';

type Kernel = (...args: number[]) => void;

/** A module instance over a fresh shared memory of `len` f64, filled with uniform values in [-1, 1). */
function instance(len: number, seed: number, fma = false): { f: Float64Array; k: Record<'symv' | 'gemvT' | 'gemvN', Kernel> } {
  const pages = Math.max(1, Math.ceil((len * 8) / 65536));
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  const ex = new wasm.Instance(new wasm.Module(eighKernelBytes(fma)), { env: { memory } }).exports;
  const f = new Float64Array(memory.buffer, 0, len);
  const r = rng(seed);
  for (let i = 0; i < len; i++) f[i] = 2 * r() - 1;
  return { f, k: ex as Record<'symv' | 'gemvT' | 'gemvN', Kernel> };
}

describe('eigh wasm kernels against plain loops', () => {
  const variants = relaxedSimdAvailable() ? [false, true] : [false];
  for (const fma of variants) {
    for (const n of [1, 2, 3, 4, 5, 8, 9, 13, 37]) {
      for (const s0 of [0, 1, 2].filter((s) => s < n)) {
        it(`symv${fma ? ' (fused)' : ''} n=${n} s0=${s0}: p[s0:n] += A[s0:n, s0:n] x from the lower triangle only`, () => {
          const ld = n + 3;
          const { f, k } = instance(ld * n + 3 * n, n * 10 + s0, fma);
          const x = ld * n, p = x + n, p2 = p + n;
          for (let j = 0; j < n; j++) for (let i = 0; i < j; i++) f[i + j * ld] = Number.NaN; // never read
          const before = f.slice(p, p + n);
          k.symv(0, 8 * ld, s0, n, n, 8 * x, 8 * p);
          const want = (i: number): number => {
            let s = i >= s0 ? before[i]! : 0;
            if (i >= s0) for (let j = s0; j < n; j++) s += f[Math.max(i, j) + Math.min(i, j) * ld]! * f[x + j]!;
            return i >= s0 ? s : before[i]!;
          };
          for (let i = 0; i < n; i++) expect(Math.abs(f[p + i]! - want(i))).toBeLessThan(1e-14);
          // The same as two column ranges [s0, mid) and [mid, n) summed.
          const mid = s0 + ((n - s0) >> 1);
          f.set(before, p);
          f.fill(0, p2, p2 + n);
          k.symv(0, 8 * ld, s0, mid, n, 8 * x, 8 * p);
          k.symv(0, 8 * ld, mid, n, n, 8 * x, 8 * p2);
          for (let i = 0; i < n; i++) expect(Math.abs(f[p + i]! + f[p2 + i]! - want(i))).toBeLessThan(1e-14);
        });
      }
    }
  }

  for (const [len, t] of [[1, 1], [2, 3], [7, 5], [40, 32], [41, 0]] as const) {
    it(`gemvT and gemvN len=${len} t=${t}`, () => {
      const ld = len + 1;
      const { f, k } = instance(ld * t + len + t + len + t, len * 100 + t);
      const xv = ld * t, out = xv + len, y = out + t, c = y + len;
      k.gemvT(0, 8 * ld, len, t, 8 * xv, 8 * out);
      for (let q = 0; q < t; q++) {
        let s = 0;
        for (let r = 0; r < len; r++) s += f[r + q * ld]! * f[xv + r]!;
        expect(Math.abs(f[out + q]! - s)).toBeLessThan(1e-14);
      }
      const before = f.slice(y, y + len);
      k.gemvN(0, 8 * ld, len, t, 8 * c, 8 * y);
      for (let r = 0; r < len; r++) {
        let s = before[r]!;
        for (let q = 0; q < t; q++) s += f[r + q * ld]! * f[c + q]!;
        expect(Math.abs(f[y + r]! - s)).toBeLessThan(1e-14);
      }
    });
  }
});
