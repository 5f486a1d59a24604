/**
 * Exact syrk for small-integer data (e.g. genotype dosages 0/1/2): C = X X^T for X n x k stored as bytes,
 * column-major (element (i, p) at data[i + p * ld]), the GWAS kinship product before centring/scaling.
 * Not a Backend op: cpu-only entry points for callers whose data are integers: {@link cpuSyrkInt8} (one
 * product, on the calling thread) and {@link SyrkInt8Accumulator} (C += X_b X_b^T over streamed blocks, on
 * the worker threads of a {@link GemmPool} while the caller prepares the next block).
 *
 * Every product and sum is an exact integer (int32 accumulation in the WebAssembly SIMD kernel
 * kernels/cpu/wasm/syrk-int8-kernel.ts), so the result equals the f64 syrk of the same values exactly, whatever
 * the thread count or block split, provided (sum of k) max|x|^2 < 2^31 (checked). Cost n^2 k / 2
 * multiply-adds at eight per SIMD instruction, plus an O(n k) repacking of X into row panels.
 *
 * Centred kinship from it (X with per-column means mu, W = X - 1 mu^T):
 *   W W^T = X X^T - (X mu) 1^T - 1 (X mu)^T + (mu . mu) 1 1^T.
 */
import { KernelError } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import type { GemmPool } from './pool.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm/runtime.js';
import { PANEL_ROWS, syrkInt8KernelBytes } from './wasm/syrk-int8-kernel.js';

/** A column-major matrix of bytes: Int8Array values in [-127, 127], or Uint8Array values in [0, 127]. */
export interface Int8Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly ld: number;
  readonly data: Int8Array | Uint8Array;
}

/** The kernel entry point: syrk8(pPtr, kPad, g0, groups, qi0, qi1, qj0, qj1, cPtr, ldcBytes). */
export type Syrk8Kernel = (p: number, kPad: number, g0: number, groups: number, qi0: number, qi1: number, qj0: number, qj1: number, c: number, ldc: number) => void;

/** The arguments of {@link syrk8Slice} after the kernel. */
export type Syrk8SliceArgs = [pPtr: number, kPad: number, panels: number, qjA: number, qjB: number, cPtr: number, ldcBytes: number, groupBlock: number, panelBlock: number];

/** Cache blocking: 256 groups of 8 values (one panel slice: 6 KiB, L1) x 32 panels (192 KiB, L2). */
const GROUP_BLOCK = 256;
const PANEL_BLOCK = 32;

let module: WasmModule | undefined;

/** The compiled kernel over a shared memory (structured-cloneable: worker threads instantiate it too). */
export function syrkInt8Module(): WasmModule {
  return (module ??= new wasm.Module(syrkInt8KernelBytes(true)));
}

/**
 * C[R qi + r, R qj + c] += sum_p X[R qi + r, p] X[R qj + c, p] for the lower-triangle panel pairs with
 * qj in [qjA, qjB) (all qi >= qj), blocked over groups (L1) and qj (L2). Self-contained: the worker pool
 * ships its source text to its threads.
 */
export function syrk8Slice(syrk8: Syrk8Kernel, pPtr: number, kPad: number, panels: number, qjA: number, qjB: number, cPtr: number, ldcBytes: number, groupBlock: number, panelBlock: number): void {
  const groups = kPad / 8;
  for (let g0 = 0; g0 < groups; g0 += groupBlock) {
    const gl = Math.min(groupBlock, groups - g0);
    for (let qj0 = qjA; qj0 < qjB; qj0 += panelBlock) syrk8(pPtr, kPad, g0, gl, qj0, panels, qj0, Math.min(qjB, qj0 + panelBlock), cPtr, ldcBytes);
  }
}

/**
 * Accumulates C = sum_b X_b X_b^T (n x n) over blocks X_b (n x k_b bytes) exactly, in int32 held in one
 * shared WebAssembly memory: [C (nPad^2 int32) | two packed-block buffers]. With a pool of T threads, each
 * block's lower-triangle panel columns are cut into T - 1 slices of equal work, and slice t always runs on
 * helper thread t (its message queue keeps the blocks in order), so {@link add} returns as soon as the
 * block is packed and the caller prepares the next block while the helpers multiply (double buffering).
 * Without a pool (or with one thread) every block is multiplied on the calling thread.
 * Results are identical either way: integer sums. Memory 4 nPad^2 + 2 nPad kPad bytes.
 */
export class SyrkInt8Accumulator {
  private readonly panels: number;
  private readonly nPad: number;
  private readonly cBytes: number;
  private readonly memory: WasmMemory;
  private readonly slices: number[];
  private bufferBytes = 0;
  private readonly inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
  private nextBuffer = 0;
  private k = 0;
  private maxAbs = 0;
  private mainKernel: Syrk8Kernel | undefined;

  constructor(
    readonly n: number,
    private readonly pool?: GemmPool,
  ) {
    if (!Number.isInteger(n) || n < 0) throw new KernelError('syrk', 'cpu', `C ${n}x${n}`, 'dimension must be a non-negative integer');
    this.panels = Math.ceil(n / PANEL_ROWS);
    this.nPad = this.panels * PANEL_ROWS;
    this.cBytes = this.nPad * this.nPad * 4;
    this.memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(this.cBytes / 65536)), maximum: 65536, shared: true });
    const helpers = pool ? pool.threads - 1 : 0;
    const parts = Math.max(1, Math.min(helpers, this.panels));
    // Panel column cuts for equal lower-triangle work (column panel q costs panels - q).
    this.slices = [0];
    for (let t = 1; t < parts; t++) this.slices.push(Math.round(this.panels * (1 - Math.sqrt(1 - t / parts))));
    this.slices.push(this.panels);
  }

  /** SNP columns added so far. */
  get cols(): number {
    return this.k;
  }

  /**
   * Adds X X^T for the n x k block `x`; `x` is copied before this resolves, so the caller may then reuse it.
   * Calls must not overlap (await each before the next). Rejects with KernelError (op 'syrk', backend 'cpu')
   * for a bad shape, a Uint8 value above 127, or an int32 overflow (the block is then not added).
   */
  async add(x: Int8Matrix): Promise<void> {
    const pool = this.pool;
    if (!pool || pool.threads < 2) return this.addOnThisThread(x);
    const kPad = this.check(x);
    if (kPad === 0) return;
    if (this.nPad * kPad > this.bufferBytes) {
      await Promise.all(this.inFlight); // the helpers must be done before the memory grows
      this.reserve(kPad);
    }
    const b = this.nextBuffer;
    this.nextBuffer ^= 1;
    await this.inFlight[b];
    const pPtr = this.pack(x, b, kPad);
    // Integer tiles of the lower triangle, slice t on helper thread t.
    const slices = Array.from({ length: this.slices.length - 1 }, (_, t) => pool.runSyrk8(t, syrkInt8Module(), this.memory, this.slice(t, pPtr, kPad)));
    const done = Promise.all(slices).then(() => undefined);
    done.catch(() => undefined); // reported by the next add() or result(), never as an unhandled rejection
    this.inFlight[b] = done;
  }

  /** {@link add} on the calling thread, synchronously (for callers without a pool). */
  addOnThisThread(x: Int8Matrix): void {
    if (this.inFlight.some((p) => p !== undefined)) throw new Error('SyrkInt8Accumulator: addOnThisThread after add() on helper threads');
    const kPad = this.check(x);
    if (kPad === 0) return;
    this.reserve(kPad);
    const pPtr = this.pack(x, 0, kPad);
    this.mainKernel ??= new wasm.Instance(syrkInt8Module(), { env: { memory: this.memory } }).exports.syrk8 as Syrk8Kernel;
    syrk8Slice(this.mainKernel, ...this.slice(0, pPtr, kPad, this.panels));
  }

  /** Validates `x` and returns its padded depth kPad (0: nothing to add). */
  private check(x: Int8Matrix): number {
    const { rows: n, cols: k, ld } = x;
    const fail = this.failure(x);
    if (n !== this.n) fail(`X must have ${this.n} rows`);
    if (!Number.isInteger(k) || k < 0) fail('dimensions must be non-negative integers');
    if (!(x.data instanceof Int8Array || x.data instanceof Uint8Array)) fail('data must be an Int8Array or Uint8Array');
    if (!Number.isInteger(ld) || ld < Math.max(1, n)) fail(`leading dimension ${ld} must be >= max(1, rows)`);
    if (k > 0 && x.data.length < ld * (k - 1) + n) fail(`buffer has ${x.data.length} elements, needs ${ld * (k - 1) + n}`);
    return n === 0 ? 0 : Math.ceil(k / 8) * 8;
  }

  private failure(x: Int8Matrix): (detail: string) => never {
    return (detail) => {
      throw new KernelError('syrk', 'cpu', `X ${x.rows}x${x.cols} int8`, detail);
    };
  }

  /** Grows the memory to hold two packed buffers of depth kPad (nothing may be in flight). */
  private reserve(kPad: number): void {
    const need = this.nPad * kPad;
    if (need <= this.bufferBytes) return;
    const pages = Math.ceil((this.cBytes + 2 * need) / 65536) - this.memory.buffer.byteLength / 65536;
    if (pages > 0) this.memory.grow(pages);
    this.bufferBytes = need;
  }

  /** Packs `x` into buffer b, checks the running int32 bound, returns the buffer's address. */
  private pack(x: Int8Matrix, b: number, kPad: number): number {
    const fail = this.failure(x);
    const pPtr = this.cBytes + b * this.bufferBytes;
    const maxAbs = Math.max(this.maxAbs, packPanels(x, new Int8Array(this.memory.buffer, pPtr, this.nPad * kPad), kPad, fail));
    const bound = (this.k + x.cols) * maxAbs * maxAbs;
    if (bound >= 2 ** 31) fail(`k * max|x|^2 = ${bound} over all blocks overflows int32 accumulation`);
    this.maxAbs = maxAbs;
    this.k += x.cols;
    return pPtr;
  }

  /** Kernel arguments for slice t (panel columns slices[t]..slices[t+1], or up to `qjB`). */
  private slice(t: number, pPtr: number, kPad: number, qjB = this.slices[t + 1]!): Syrk8SliceArgs {
    return [pPtr, kPad, this.panels, this.slices[t]!, qjB, 0, this.nPad * 4, GROUP_BLOCK, PANEL_BLOCK];
  }

  /** Waits for the helpers, then returns sum_b X_b X_b^T as an n x n f64 matrix (both triangles, exactly symmetric). */
  async result(): Promise<F64Matrix> {
    await Promise.all(this.inFlight);
    this.inFlight.fill(undefined);
    return this.resultOnThisThread();
  }

  /** {@link result} when nothing runs on helper threads (after {@link addOnThisThread} only). O(n^2). */
  resultOnThisThread(): F64Matrix {
    if (this.inFlight.some((p) => p !== undefined)) throw new Error('SyrkInt8Accumulator: resultOnThisThread while helper threads may still run');
    const n = this.n, nPad = this.nPad;
    const c32 = new Int32Array(this.memory.buffer, 0, nPad * nPad);
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
}

/**
 * Packs X (n x k bytes) into `packed` (nPad x kPad, zero padded): panel q, group g, row r at
 * q R kPad + g 8 R + 8 r + (p & 7), written in order (8 columns read side by side). Returns max |x|; fails on
 * a Uint8 value above 127. O(n k).
 */
function packPanels(x: Int8Matrix, packed: Int8Array, kPad: number, fail: (detail: string) => never): number {
  const { rows: n, cols: k, ld, data: src } = x;
  const R = PANEL_ROWS;
  packed.fill(0);
  let max = 0;
  let min = 0;
  for (let p0 = 0; p0 < k; p0 += 8) {
    const cols = Math.min(8, k - p0);
    for (let i0 = 0, dst = p0 * R; i0 < n; i0 += R, dst += R * kPad) {
      const rows = Math.min(R, n - i0);
      for (let r = 0; r < rows; r++) {
        const at = dst + 8 * r;
        for (let c = 0, from = p0 * ld + i0 + r; c < cols; c++, from += ld) {
          const v = src[from]!;
          if (v > max) max = v;
          else if (v < min) min = v;
          packed[at + c] = v;
        }
      }
    }
  }
  if (max > 127) {
    for (let p = 0; p < k; p++) for (let i = 0; i < n; i++) if (src[i + p * ld]! > 127) fail(`X[${i},${p}] is ${src[i + p * ld]}; Uint8 data must be <= 127`);
  }
  return Math.max(max, -min);
}

/**
 * Returns the n x n f64 matrix X X^T (both triangles, exactly symmetric), computed on the calling thread.
 * Throws KernelError (op 'syrk', backend 'cpu') for a bad shape, a Uint8 value above 127, or
 * k max|x|^2 >= 2^31 (int32 overflow).
 */
export function cpuSyrkInt8(x: Int8Matrix): F64Matrix {
  const { rows: n, cols: k } = x;
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0) {
    throw new KernelError('syrk', 'cpu', `X ${n}x${k} int8`, 'dimensions must be non-negative integers');
  }
  const acc = new SyrkInt8Accumulator(n);
  acc.addOnThisThread(x);
  return acc.resultOnThisThread();
}
