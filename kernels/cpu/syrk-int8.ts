/**
 * Exact syrk for small-integer data (e.g. genotype dosages 0/1/2): C = X X^T for X n x k stored as bytes,
 * column-major (element (i, p) at data[i + p * ld]), the GWAS kinship product before centring/scaling.
 * Not a Backend op: a cpu-only entry point for callers whose data are integers.
 *
 * Every product and sum is an exact integer (int32 accumulation in the WebAssembly SIMD kernel
 * kernels/cpu/wasm/syrk-int8-kernel.ts), so the result equals the f64 syrk of the same values exactly,
 * provided k max|x|^2 < 2^31 (checked). Cost n^2 k / 2 multiply-adds at eight per SIMD instruction,
 * plus an O(n k) repacking of X into row panels.
 *
 * Centred kinship from it (X with per-column means mu, W = X - 1 mu^T):
 *   W W^T = X X^T - (X mu) 1^T - 1 (X mu)^T + (mu . mu) 1 1^T.
 */
import { KernelError } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { wasm, type WasmModule } from './wasm/runtime.js';
import { PANEL_ROWS, syrkInt8KernelBytes } from './wasm/syrk-int8-kernel.js';

/** A column-major matrix of bytes: Int8Array values in [-127, 127], or Uint8Array values in [0, 127]. */
export interface Int8Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly ld: number;
  readonly data: Int8Array | Uint8Array;
}

let module: WasmModule | undefined;

/** Cache blocking: 256 groups of 8 values (one panel slice: 6 KiB, L1) x 32 panels (192 KiB, L2). */
const GROUP_BLOCK = 256;
const PANEL_BLOCK = 32;

/**
 * Returns the n x n f64 matrix X X^T (both triangles, exactly symmetric). Throws KernelError (op 'syrk',
 * backend 'cpu') for a bad shape, a Uint8 value above 127, or k max|x|^2 >= 2^31 (int32 overflow).
 */
export function cpuSyrkInt8(x: Int8Matrix): F64Matrix {
  const { rows: n, cols: k, ld } = x;
  const shapes = `X ${n}x${k} int8`;
  const fail = (detail: string): never => {
    throw new KernelError('syrk', 'cpu', shapes, detail);
  };
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0) fail('dimensions must be non-negative integers');
  if (!(x.data instanceof Int8Array || x.data instanceof Uint8Array)) fail('data must be an Int8Array or Uint8Array');
  if (!Number.isInteger(ld) || ld < Math.max(1, n)) fail(`leading dimension ${ld} must be >= max(1, rows)`);
  if (k > 0 && x.data.length < ld * (k - 1) + n) fail(`buffer has ${x.data.length} elements, needs ${ld * (k - 1) + n}`);
  // Step 1: range check and repacking into interleaved panels of PANEL_ROWS rows, 8 values per group.
  const R = PANEL_ROWS;
  const panels = Math.ceil(n / R);
  const nPad = panels * R;
  const kPad = Math.ceil(k / 8) * 8;
  const packBytes = nPad * kPad;
  const cBytes = nPad * nPad * 4;
  module ??= new wasm.Module(syrkInt8KernelBytes());
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil((packBytes + cBytes) / 65536)), maximum: 65536 });
  const packed = new Int8Array(memory.buffer, 0, packBytes);
  const src = x.data;
  let maxAbs = 0;
  for (let p = 0; p < k; p++) {
    const col = p * ld;
    let dst = ((p >> 3) * 8 * R) + (p & 7);
    for (let i0 = 0; i0 < n; i0 += R, dst += R * kPad) {
      const rows = Math.min(R, n - i0);
      for (let r = 0; r < rows; r++) {
        const v = src[col + i0 + r]!;
        if (v > 127) fail(`X[${i0 + r},${p}] is ${v}; Uint8 data must be <= 127`);
        const a = v < 0 ? -v : v;
        if (a > maxAbs) maxAbs = a;
        packed[dst + 8 * r] = v;
      }
    }
  }
  if (k * maxAbs * maxAbs >= 2 ** 31) fail(`k * max|x|^2 = ${k * maxAbs * maxAbs} overflows int32 accumulation`);
  // Step 2: integer tiles of the lower triangle, then widen to f64 and mirror.
  const syrk8 = new wasm.Instance(module, { env: { memory } }).exports.syrk8 as (
    p: number, kPad: number, g0: number, groups: number, qi0: number, qi1: number, qj0: number, qj1: number, c: number, ldc: number) => void;
  const groups = kPad / 8;
  for (let g0 = 0; g0 < groups; g0 += GROUP_BLOCK) {
    const gl = Math.min(GROUP_BLOCK, groups - g0);
    for (let qj0 = 0; qj0 < panels; qj0 += PANEL_BLOCK) {
      syrk8(0, kPad, g0, gl, qj0, panels, qj0, Math.min(panels, qj0 + PANEL_BLOCK), packBytes, nPad * 4);
    }
  }
  const c32 = new Int32Array(memory.buffer, packBytes, nPad * nPad);
  const out = f64Matrix(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      const v = c32[i + j * nPad]!;
      out.data[i + j * n] = v;
      out.data[j + i * n] = v;
    }
  }
  return out;
}
