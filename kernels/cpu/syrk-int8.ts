/**
 * Exact syrk for small-integer data (e.g. genotype dosages 0/1/2): C = X X^T for X n x k stored as bytes,
 * column-major (element (i, p) at data[i + p * ld]), the GWAS kinship product before centring/scaling.
 * Not a Backend op: cpu-only entry points for callers whose data are integers: {@link cpuSyrkInt8} (one
 * product, on the calling thread) and {@link SyrkInt8Accumulator} (C += X_b X_b^T over streamed blocks, on
 * the worker threads of a {@link GemmPool} while the caller prepares the next block).
 *
 * Every product and sum is an exact integer (int32 accumulation in the WebAssembly SIMD kernel
 * kernels/cpu/wasm/syrk-int8-kernel.ts), so the result equals the f64 syrk of the same values exactly, whatever
 * the thread count, block split or kernel variant, provided (sum of k) max|x|^2 < 2^31 (checked). Cost
 * n^2 k / 2 multiply-adds at sixteen per SIMD instruction (relaxed SIMD's i8 dot product, for a block whose
 * values are all in [0, 32], such as genotype dosages) or eight (any other block, or a runtime without
 * relaxed SIMD), plus an O(n k) repacking of X into row panels.
 *
 * Centred kinship from it (X with per-column means mu, W = X - 1 mu^T):
 *   W W^T = X X^T - (X mu) 1^T - 1 (X mu)^T + (mu . mu) 1 1^T.
 */
import { KernelError, type Coded2Block } from '../backend.js';
import { f64Matrix, type F64Matrix, type Int8Matrix } from '../matrix.js';
import type { GemmPool } from './pool.js';
import { relaxedSimdAvailable, wasm, type WasmMemory, type WasmModule } from './wasm/runtime.js';
import { GROUP_BYTES, PANEL_ROWS, syrkInt8KernelBytes } from './wasm/syrk-int8-kernel.js';

export type { Int8Matrix } from '../matrix.js';

/** A kernel entry point: (pPtr, kPad, g0, groups, qi0, qi1, qj0, qj1, cPtr, ldcBytes). */
export type Syrk8Kernel = (p: number, kPad: number, g0: number, groups: number, qi0: number, qi1: number, qj0: number, qj1: number, c: number, ldc: number) => void;

/** Which export of the kernel module multiplies a block: `syrk8r` (relaxed i8 dot) or `syrk8` (any int8). */
export type Syrk8Variant = 'syrk8' | 'syrk8r';

/** The arguments of {@link syrk8Slice} after the module's exports. */
export type Syrk8SliceArgs = [variant: Syrk8Variant, next: Int32Array, cuts: number[], pPtr: number, kPad: number, panels: number, cPtr: number, ldcBytes: number, groupBlock: number, panelBlock: number];

/** Cache blocking: 128 groups of 16 values (one panel slice: 6 KiB, L1) x 32 panels (192 KiB, L2). */
const GROUP_BLOCK = 128;
const PANEL_BLOCK = 32;
/**
 * Largest max|x| of a block the relaxed kernel takes: a call then sums at most 32767 / (2 * 32^2) = 15
 * groups before its i16 lanes could overflow; smaller values allow more (dosages 0..2: the whole GROUP_BLOCK).
 */
const RELAXED_MAX = 32;

let module: WasmModule | undefined;

/**
 * The compiled kernel module over a shared memory (structured-cloneable: worker threads instantiate it too);
 * it exports the relaxed variant where the runtime has relaxed SIMD.
 */
export function syrkInt8Module(): WasmModule {
  return (module ??= new wasm.Module(syrkInt8KernelBytes(true, relaxedSimdAvailable())));
}

/**
 * The kernel variant and groups per call for a block whose values lie in [min, max]: the relaxed i8 dot
 * product when the runtime has it, the values are non-negative and at most RELAXED_MAX (then at most
 * floor(32767 / (2 max^2)) groups per call keep every i16 lane exact), else the widening kernel.
 */
function variantFor(min: number, max: number): { variant: Syrk8Variant; groupBlock: number } {
  if (min >= 0 && max <= RELAXED_MAX && relaxedSimdAvailable()) {
    return { variant: 'syrk8r', groupBlock: max === 0 ? GROUP_BLOCK : Math.min(GROUP_BLOCK, Math.floor(32767 / (2 * max * max))) };
  }
  return { variant: 'syrk8', groupBlock: GROUP_BLOCK };
}

/**
 * Takes chunks c = next[0]++ (atomically) while c < cuts.length - 1 and, for each, adds to C (at cPtr)
 * C[R qi + r, R qj + c] += sum_p X[R qi + r, p] X[R qj + c, p] for the lower-triangle panel pairs with
 * qj in [cuts[c], cuts[c + 1]) (all qi >= qj), blocked over groups (L1) and qj (L2), with the export
 * `variant` of the kernel module instance `exports`. Threads sharing `next` split the chunks between them,
 * each computing a chunk once. Self-contained: the worker pool ships its source text to its threads.
 */
export function syrk8Slice(exports: Record<string, unknown>, variant: Syrk8Variant, next: Int32Array, cuts: number[], pPtr: number, kPad: number, panels: number, cPtr: number, ldcBytes: number, groupBlock: number, panelBlock: number): void {
  const syrk8 = exports[variant] as Syrk8Kernel;
  const groups = kPad / 16;
  for (let c = Atomics.add(next, 0, 1); c + 1 < cuts.length; c = Atomics.add(next, 0, 1)) {
    const qjA = cuts[c]!, qjB = cuts[c + 1]!;
    for (let g0 = 0; g0 < groups; g0 += groupBlock) {
      const gl = Math.min(groupBlock, groups - g0);
      for (let qj0 = qjA; qj0 < qjB; qj0 += panelBlock) syrk8(pPtr, kPad, g0, gl, qj0, panels, qj0, Math.min(qjB, qj0 + panelBlock), cPtr, ldcBytes);
    }
  }
}

/** Cuts of panel columns [a, b) into `parts` ranges of about equal lower-triangle work (column q costs panels - q). */
function triangleCuts(a: number, b: number, panels: number, parts: number): number[] {
  const work = (q: number): number => (q - a) * panels - (q * (q - 1) - a * (a - 1)) / 2; // sum over [a, q) of panels - q'
  const total = work(b);
  const cuts = [a];
  let q = a;
  for (let t = 1; t < parts; t++) {
    while (q < b && work(q) < (t * total) / parts) q++;
    if (q > cuts[cuts.length - 1]! && q < b) cuts.push(q);
  }
  cuts.push(b);
  return cuts;
}

/** A packed block: its address, padded depth, and the kernel variant and groups per call it takes. */
interface PackedBlock {
  pPtr: number;
  kPad: number;
  variant: Syrk8Variant;
  groupBlock: number;
}

/** A block handed to the helpers: the packed block, its chunk counters (one per helper) and completion. */
interface BlockInFlight extends PackedBlock {
  next: Int32Array;
  done: Promise<void>;
}

/**
 * Accumulates C = sum_b X_b X_b^T (n x n) over blocks X_b (n x k_b bytes) exactly, in int32 held in one
 * shared WebAssembly memory: [C_helpers | C_caller | two packed-block buffers] (C_caller only with a pool).
 * With a pool of T threads, each block's lower-triangle panel columns are cut into T - 1 slices of equal
 * work, slice t into chunks, and helper thread t takes its slice's chunks in order (its message queue keeps
 * the blocks in order, so no two threads ever add to the same C_helpers tile at once). {@link add} returns
 * as soon as the block is packed, so the caller prepares the next block while the helpers multiply (double
 * buffering); whenever the caller would wait for the helpers, it takes their remaining chunks of the oldest
 * block itself, into C_caller. Without a pool (or with one thread) every block is multiplied on the calling
 * thread. C = C_helpers + C_caller, identical whoever computed what: integer sums, each within int32 by
 * the k max|x|^2 bound. Memory 8 nPad^2 (4 without a pool) + 2 nPad kPad bytes.
 */
export class SyrkInt8Accumulator {
  private readonly panels: number;
  private readonly nPad: number;
  private readonly cBytes: number;
  /** Bytes before the packed buffers: one C, or two with helpers. */
  private readonly cRegions: number;
  private readonly memory: WasmMemory;
  /** Per helper t, the chunk cuts of its slice of panel columns. */
  private readonly chunkCuts: number[][];
  private bufferBytes = 0;
  private readonly inFlight: (BlockInFlight | undefined)[] = [undefined, undefined];
  private nextBuffer = 0;
  private k = 0;
  private maxAbs = 0;
  private mainExports: Record<string, unknown> | undefined;

  constructor(
    readonly n: number,
    private readonly pool?: GemmPool,
  ) {
    if (!Number.isInteger(n) || n < 0) throw new KernelError('syrk', 'cpu', `C ${n}x${n}`, 'dimension must be a non-negative integer');
    this.panels = Math.ceil(n / PANEL_ROWS);
    this.nPad = this.panels * PANEL_ROWS;
    this.cBytes = this.nPad * this.nPad * 4;
    const helpers = pool && pool.threads > 1 ? Math.max(1, Math.min(pool.threads - 1, this.panels)) : 0;
    this.cRegions = helpers > 0 ? 2 : 1;
    this.memory = new wasm.Memory({ initial: Math.max(1, Math.ceil((this.cRegions * this.cBytes) / 65536)), maximum: 65536, shared: true });
    // Slices of equal work per helper, each cut into 8 chunks the caller can take over (one chunk alone).
    const slices = triangleCuts(0, this.panels, this.panels, Math.max(1, helpers));
    this.chunkCuts = slices.slice(0, -1).map((a, t) => triangleCuts(a, slices[t + 1]!, this.panels, helpers > 0 ? 8 : 1));
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
    if (this.cRegions === 1 || !this.pool) return this.addOnThisThread(x);
    const kPad = this.check(x);
    if (kPad === 0) return;
    await this.enqueue(kPad, 0, (pPtr) => packPanels(x, new Int8Array(this.memory.buffer, pPtr, this.nPad * kPad), kPad, this.failure(x)), x.cols, this.failure(x));
  }

  /**
   * {@link add} for X given as 2-bit codes (the same sums as adding the decoded X): the codes are copied into
   * this accumulator's memory and decoded straight into the row panels by the kernel's `unpack2` (a table
   * lookup per 16 values), with no int8 copy of X. Rejects with KernelError for a bad shape or table.
   */
  async addCodes(x: Coded2Block): Promise<void> {
    const { rows: n, bytesPerCol: bpc, data, cols, table } = x;
    const k = cols.length;
    const fail = (detail: string): never => {
      throw new KernelError('syrk', 'cpu', `X ${n}x${k} 2-bit`, detail);
    };
    if (n !== this.n) fail(`X must have ${this.n} rows`);
    if (!(Number.isInteger(bpc) && bpc >= Math.ceil(n / 4))) fail(`${bpc} bytes per column cannot hold ${n} 2-bit codes`);
    if (table.length !== 4 || !table.every((v) => Number.isInteger(v) && v >= -128 && v <= 127)) fail(`table must hold four integers in [-128, 127], got ${table.join(', ')}`);
    for (let p = 0; p < k; p++) if (!(Number.isInteger(cols[p]) && cols[p]! >= 0 && (cols[p]! + 1) * bpc <= data.length)) fail(`column ${cols[p]} is not in data (${data.length} bytes)`);
    const kPad = n === 0 ? 0 : Math.ceil(k / GROUP_BYTES) * GROUP_BYTES;
    if (kPad === 0) return;
    const colsAt = align16(data.length);
    const staging = colsAt + 4 * kPad;
    const fill = (pPtr: number): { min: number; max: number } => {
      const buf = this.memory.buffer;
      const src = this.stagingPtr();
      new Uint8Array(buf, src, data.length).set(data);
      const offsets = new Int32Array(buf, src + colsAt, kPad);
      for (let p = 0; p < kPad; p++) offsets[p] = cols[p < k ? p : 0]! * bpc;
      const R = PANEL_ROWS, G = GROUP_BYTES;
      const packed = new Int8Array(buf, pPtr, this.nPad * kPad);
      packed.fill(0, (this.panels - 1) * R * kPad); // rows past n (in the last panel) stay 0
      const word = (table[0]! & 255) | ((table[1]! & 255) << 8) | ((table[2]! & 255) << 16) | ((table[3]! & 255) << 24);
      (this.exportsHere().unpack2 as (...a: number[]) => void)(src, src + colsAt, kPad / G, n, word, pPtr, kPad);
      if (k < kPad) {
        // The padding columns of the last group (decoded from column 0) back to 0.
        const g = kPad / G - 1;
        for (let i = 0; i < n; i++) packed.fill(0, Math.floor(i / R) * R * kPad + g * G * R + G * (i % R) + (k % G), Math.floor(i / R) * R * kPad + g * G * R + G * (i % R) + G);
      }
      return { min: Math.min(0, ...table), max: Math.max(0, ...table) };
    };
    if (this.cRegions === 1 || !this.pool) {
      if (this.inFlight.some((p) => p !== undefined)) throw new Error('SyrkInt8Accumulator: addCodes without helpers after add() on helper threads');
      this.reserve(kPad, staging);
      const packed = this.packWith(0, kPad, k, fill, fail);
      const cPtr = (this.cRegions - 1) * this.cBytes;
      for (const cuts of this.chunkCuts) syrk8Slice(this.exportsHere(), ...this.args(packed, new Int32Array(1), cuts, cPtr));
      return;
    }
    await this.enqueue(kPad, staging, fill, k, fail);
  }

  /**
   * Packs a block of depth kPad (k real columns) with `fill` into the next buffer and hands it to the helpers
   * (growing the memory first when the buffers or `staging` bytes after them do not fit, with nothing in flight).
   */
  private async enqueue(kPad: number, staging: number, fill: (pPtr: number) => { min: number; max: number }, k: number, fail: (detail: string) => never): Promise<void> {
    const pool = this.pool!;
    if (this.nPad * kPad > this.bufferBytes || this.stagingPtr() + staging > this.memory.buffer.byteLength) {
      await this.drain(); // the helpers must be done before the memory grows
      this.reserve(kPad, staging);
    }
    const b = this.nextBuffer;
    this.nextBuffer ^= 1;
    await this.finish(b);
    const packed = this.packWith(b, kPad, k, fill, fail);
    // Chunks of slice t on helper thread t (the caller may take some over in finish()).
    const next = new Int32Array(new SharedArrayBuffer(4 * this.chunkCuts.length));
    const parts = this.chunkCuts.map((cuts, t) => pool.runSyrk8(t, syrkInt8Module(), this.memory, this.args(packed, next.subarray(t, t + 1), cuts, 0)));
    const done = Promise.all(parts).then(() => undefined);
    done.catch(() => undefined); // reported by the next add() or result(), never as an unhandled rejection
    this.inFlight[b] = { ...packed, next, done };
  }

  /** Where staged input goes: after the two packed buffers. */
  private stagingPtr(): number {
    return this.cRegions * this.cBytes + 2 * this.bufferBytes;
  }

  /** {@link add} on the calling thread, synchronously (for callers without a pool). */
  addOnThisThread(x: Int8Matrix): void {
    if (this.inFlight.some((p) => p !== undefined)) throw new Error('SyrkInt8Accumulator: addOnThisThread after add() on helper threads');
    const kPad = this.check(x);
    if (kPad === 0) return;
    this.reserve(kPad);
    const packed = this.packWith(0, kPad, x.cols, (pPtr) => packPanels(x, new Int8Array(this.memory.buffer, pPtr, this.nPad * kPad), kPad, this.failure(x)), this.failure(x));
    const cPtr = (this.cRegions - 1) * this.cBytes;
    for (const cuts of this.chunkCuts) syrk8Slice(this.exportsHere(), ...this.args(packed, new Int32Array(1), cuts, cPtr));
  }

  /** Takes over the helpers' remaining chunks of the block in buffer b (into C_caller), then waits for them. */
  private async finish(b: number): Promise<void> {
    const block = this.inFlight[b];
    if (!block) return;
    this.chunkCuts.forEach((cuts, t) => syrk8Slice(this.exportsHere(), ...this.args(block, block.next.subarray(t, t + 1), cuts, this.cBytes)));
    await block.done;
    this.inFlight[b] = undefined;
  }

  /** {@link finish} for every block in flight, oldest first. */
  private async drain(): Promise<void> {
    await this.finish(this.nextBuffer);
    await this.finish(this.nextBuffer ^ 1);
  }

  private exportsHere(): Record<string, unknown> {
    return (this.mainExports ??= new wasm.Instance(syrkInt8Module(), { env: { memory: this.memory } }).exports);
  }

  private args(block: PackedBlock, next: Int32Array, cuts: number[], cPtr: number): Syrk8SliceArgs {
    return [block.variant, next, cuts, block.pPtr, block.kPad, this.panels, cPtr, this.nPad * 4, block.groupBlock, PANEL_BLOCK];
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
    return n === 0 ? 0 : Math.ceil(k / GROUP_BYTES) * GROUP_BYTES;
  }

  private failure(x: Int8Matrix): (detail: string) => never {
    return (detail) => {
      throw new KernelError('syrk', 'cpu', `X ${x.rows}x${x.cols} int8`, detail);
    };
  }

  /** Grows the memory to hold two packed buffers of depth kPad and `staging` bytes after them (nothing may be in flight). */
  private reserve(kPad: number, staging = 0): void {
    this.bufferBytes = Math.max(this.bufferBytes, this.nPad * kPad);
    const pages = Math.ceil((this.stagingPtr() + staging) / 65536) - this.memory.buffer.byteLength / 65536;
    if (pages > 0) this.memory.grow(pages);
  }

  /** Packs a block into buffer b with `fill` (which returns its least and largest value), checks the running int32 bound, picks the block's kernel variant. */
  private packWith(b: number, kPad: number, k: number, fill: (pPtr: number) => { min: number; max: number }, fail: (detail: string) => never): PackedBlock {
    const pPtr = this.cRegions * this.cBytes + b * this.bufferBytes;
    const { min, max } = fill(pPtr);
    const maxAbs = Math.max(this.maxAbs, max, -min);
    const bound = (this.k + k) * maxAbs * maxAbs;
    if (bound >= 2 ** 31) fail(`k * max|x|^2 = ${bound} over all blocks overflows int32 accumulation`);
    this.maxAbs = maxAbs;
    this.k += k;
    return { pPtr, kPad, ...variantFor(min, max) };
  }

  /** Waits for the helpers (taking over their remaining chunks), then returns sum_b X_b X_b^T as an n x n f64 matrix (both triangles, exactly symmetric). */
  async result(): Promise<F64Matrix> {
    await this.drain();
    return this.resultOnThisThread();
  }

  /**
   * Waits for the helpers (as {@link result}), then returns the sums without copying them: for i >= j,
   * C[i, j] = sum over the parts p of parts[p][i + j ld] (int32 views of this accumulator's memory, valid
   * until the next {@link add}). For callers that combine C with other terms in one pass (no n x n f64 copy).
   */
  async lowerSums(): Promise<{ parts: Int32Array[]; ld: number }> {
    await this.drain();
    const nPad = this.nPad;
    const parts = [new Int32Array(this.memory.buffer, 0, nPad * nPad)];
    if (this.cRegions === 2) parts.push(new Int32Array(this.memory.buffer, this.cBytes, nPad * nPad));
    return { parts, ld: nPad };
  }

  /** {@link result} when nothing runs on helper threads (after {@link addOnThisThread} only). O(n^2). */
  resultOnThisThread(): F64Matrix {
    if (this.inFlight.some((p) => p !== undefined)) throw new Error('SyrkInt8Accumulator: resultOnThisThread while helper threads may still run');
    const n = this.n, nPad = this.nPad;
    const helpers = new Int32Array(this.memory.buffer, 0, nPad * nPad);
    const caller = this.cRegions === 2 ? new Int32Array(this.memory.buffer, this.cBytes, nPad * nPad) : undefined;
    const out = f64Matrix(n, n);
    for (let j = 0; j < n; j++) {
      for (let i = j; i < n; i++) {
        const v = helpers[i + j * nPad]! + (caller ? caller[i + j * nPad]! : 0);
        out.data[i + j * n] = v;
        out.data[j + i * n] = v;
      }
    }
    return out;
  }
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/**
 * Packs X (n x k bytes) into `packed` (nPad x kPad, zero padded): panel q, group g, row r at
 * q R kPad + g 16 R + 16 r + (p & 15), written in order (16 columns read side by side). Returns the least
 * and largest value; fails on a Uint8 value above 127. O(n k).
 */
function packPanels(x: Int8Matrix, packed: Int8Array, kPad: number, fail: (detail: string) => never): { min: number; max: number } {
  const { rows: n, cols: k, ld, data: src } = x;
  const R = PANEL_ROWS, G = GROUP_BYTES;
  packed.fill(0);
  let max = 0;
  let min = 0;
  for (let p0 = 0; p0 < k; p0 += G) {
    const cols = Math.min(G, k - p0);
    for (let i0 = 0, dst = p0 * R; i0 < n; i0 += R, dst += R * kPad) {
      const rows = Math.min(R, n - i0);
      for (let r = 0; r < rows; r++) {
        const at = dst + G * r;
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
  return { min, max };
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
