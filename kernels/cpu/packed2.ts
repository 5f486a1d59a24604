/**
 * The 2-bit packed products (kernels/packed2.ts) on the cpu, f64: both decode the codes straight into the packed
 * panels of the wasm macro-kernel (kernels/cpu/gemm-core.ts, kernels/cpu/wasm/gemm-kernel.ts) through a wasm
 * SIMD decoder (kernels/cpu/wasm/packed2-kernel.ts), a KC-deep slice at a time, so the codes stay 2 bits in
 * memory and each product reads them once. On {@link Packed2Pool} the work is split into chunks of columns
 * claimed from a shared counter by this thread and the helper threads: ztv chunks write their own rows of U
 * (bit-identical for any thread count); normal chunks add into per-thread sums, added up at the end.
 */
import { Worker } from 'node:worker_threads';
import { getFlag } from '../../src/flags.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkPacked2, type Packed2Matrix, type Packed2Products } from '../packed2.js';
import { BLOCKING, gemmKernelModule, kernelLayout, mainGemmKernel, packPanels, type GemmKernel } from './gemm-core.js';
import { sharedF64 } from './eigh-products.js';
import { MR, NR } from './wasm/gemm-kernel.js';
import { packed2KernelBytes } from './wasm/packed2-kernel.js';
import { wasm, type WasmModule } from './wasm/runtime.js';

/** Columns of Z per unit of work (at most the kernel's MC; multiple of 4). */
export const CHUNK = 64;

/** The wasm entry points a thread's units use: the product kernel and the decoder over the same memory. */
export interface Packed2Kernels {
  kern: GemmKernel;
  rowPanels: (codes: number, bpc: number, nib: number, depth: number, byte0: number, panels: number, dst: number) => void;
  colPanels: (codes: number, bpc: number, nib: number, panels: number, bytes: number, byte0: number, dst: number, depth: number) => void;
}

/**
 * The units of one op, run by whichever thread claims them (Atomics on next[0]); a unit is a chunk of `chunk`
 * columns of Z (multiple of 4, at most the kernel's MC). Per unit: the chunk's codes are copied into the kernel's
 * memory with a nibble table per column (kernels/cpu/wasm/packed2-kernel.ts), then
 *   ztv:    U_chunk = Z_chunk' V, KC rows at a time: codes decoded into 4-column panels, the macro-kernel against
 *           V packed once per call and thread; written to out[c - j0 + b m];
 *   normal: the same U_chunk, then U_chunk[c, b] *= scale[b], or 0 when groups[c] = exclude[b], packed, and
 *           Y_t += Z_chunk U_chunk, MC rows at a time (codes decoded into 4-row panels): Y_t is this thread's
 *           rows x B accumulator in its kernel memory, copied to out[slot rows B ..] after its last unit.
 * Self-contained (helpers come as arguments): the pool ships its source to the workers.
 */
export function packed2Units(
  k: Packed2Kernels, pack: typeof packPanels, layoutOf: typeof kernelLayout, op: 'ztv' | 'normal', next: Int32Array, slot: number,
  blocks: Uint8Array[], colStart: Int32Array, rows: number, bpc: number, tables: Float64Array,
  j0: number, j1: number, x: Float64Array, nb: number, out: Float64Array,
  groups: Int32Array | null, exclude: Int32Array | null, scale: Float64Array | null, chunk: number,
): void {
  const kern = k.kern;
  const m = j1 - j0;
  const KC = kern.kc;
  const MC = kern.mc;
  const nbp = Math.ceil(nb / 4) * 4;
  const slices = Math.ceil(rows / KC);
  const lay = layoutOf(kern);
  // Kernel memory past the product buffers (byte offsets, 16-aligned): V packed, codes, nibble tables, U_chunk,
  // U_chunk packed, Y_t.
  const vAt = lay.rest;
  const codesAt = vAt + slices * KC * nbp * 8;
  const nibAt = codesAt + Math.ceil((chunk * bpc) / 16) * 16;
  const uAt = nibAt + chunk * 256;
  const upAt = uAt + chunk * nb * 8;
  const yAt = upAt + chunk * nbp * 8;
  const need = yAt + (op === 'normal' ? rows * nb * 8 : 0);
  if (need > kern.memory.buffer.byteLength) kern.memory.grow(Math.ceil((need - kern.memory.buffer.byteLength) / 65536));
  const f = new Float64Array(kern.memory.buffer);
  const bytes = new Uint8Array(kern.memory.buffer);
  for (let sl = 0; sl < slices; sl++) pack(kern, f, vAt / 8 + sl * KC * nbp, nb, Math.min(KC, rows - sl * KC), 1, x, sl * KC, rows, true, lay.stageB / 8);
  if (op === 'normal') f.fill(0, yAt / 8, yAt / 8 + rows * nb);
  const units = Math.ceil(m / chunk);
  for (let u = Atomics.add(next, 0, 1); u < units; u = Atomics.add(next, 0, 1)) {
    const c0 = j0 + u * chunk;
    const c1 = Math.min(j1, c0 + chunk);
    const cw = c1 - c0;
    const panels = Math.ceil(cw / 4);
    // Step: codes and nibble tables of the chunk (padding columns: code 0, value 0).
    let b = 0;
    while (colStart[b + 1]! <= c0) b++;
    for (let q = 0; q < 4 * panels; q++) {
      const nib = nibAt / 8 + 32 * q;
      if (q >= cw) {
        bytes.fill(0, codesAt + q * bpc, codesAt + (q + 1) * bpc);
        f.fill(0, nib, nib + 32);
        continue;
      }
      const c = c0 + q;
      while (colStart[b + 1]! <= c) b++;
      const off = (c - colStart[b]!) * bpc;
      bytes.set(blocks[b]!.subarray(off, off + bpc), codesAt + q * bpc);
      for (let v = 0; v < 16; v++) {
        f[nib + 2 * v] = tables[4 * c + (v & 3)]!;
        f[nib + 2 * v + 1] = tables[4 * c + (v >> 2)]!;
      }
    }
    // Step: U_chunk = Z_chunk' V, KC rows at a time (the rows past whole bytes of the last slice in JS).
    const uf = uAt / 8;
    f.fill(0, uf, uf + cw * nb);
    for (let sl = 0; sl < slices; sl++) {
      const p0 = sl * KC;
      const kc = Math.min(KC, rows - p0);
      const whole = kc >> 2;
      k.colPanels(codesAt, bpc, nibAt, panels, whole, p0 >> 2, lay.a, kc);
      for (let p = 4 * whole; p < kc; p++) {
        const row = p0 + p;
        for (let q = 0; q < 4 * panels; q++) {
          const code = (bytes[codesAt + q * bpc + (row >> 2)]! >> (2 * (row & 3))) & 3;
          f[lay.a / 8 + (q >> 2) * 4 * kc + 4 * p + (q & 3)] = f[nibAt / 8 + 32 * q + 2 * code]!;
        }
      }
      kern.macro(cw, nb, kc, lay.a, vAt + sl * KC * nbp * 8, uAt, cw * 8, 1 << 29, lay.scratch);
    }
    if (op === 'ztv') {
      for (let bb = 0; bb < nb; bb++) out.set(f.subarray(uf + bb * cw, uf + (bb + 1) * cw), c0 - j0 + bb * m);
      continue;
    }
    // Step: mask and scale U_chunk per right-hand side, pack it, Y_t += Z_chunk U_chunk, MC rows at a time.
    for (let bb = 0; bb < nb; bb++) {
      const e = exclude![bb]!;
      const sc = scale![bb]!;
      for (let q = 0; q < cw; q++) f[uf + q + bb * cw] = groups![c0 + q] === e ? 0 : f[uf + q + bb * cw]! * sc;
    }
    pack(kern, f, upAt / 8, nb, cw, 1, f, uf, cw, true, lay.stageB / 8);
    for (let ic = 0; ic < rows; ic += MC) {
      const mc = Math.min(MC, rows - ic);
      k.rowPanels(codesAt, bpc, nibAt, cw, ic >> 2, Math.ceil(mc / 4), lay.a);
      kern.macro(mc, nb, cw, lay.a, upAt, yAt + ic * 8, rows * 8, 1 << 29, lay.scratch);
    }
  }
  if (op === 'normal') out.set(f.subarray(yAt / 8, yAt / 8 + rows * nb), slot * rows * nb);
}

const WORKER_MAIN = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
const inst = new WebAssembly.Instance(workerData.module, { env: { memory } });
const kern = Object.assign({ memory }, inst.exports, workerData.blocking);
const dec = new WebAssembly.Instance(workerData.decoder, { env: { memory } }).exports;
const k = { kern, rowPanels: dec.rowPanels, colPanels: dec.colPanels };
let matrix;
parentPort.on('message', (task) => {
  if (task.matrix) { matrix = task.matrix; return; }
  let error;
  try {
    packed2Units(k, packPanels, kernelLayout, task.op, task.next, task.slot, matrix.blocks, matrix.colStart, matrix.rows, matrix.bytesPerCol, task.tables, task.j0, task.j1, task.x, task.nb, task.out, task.groups, task.exclude, task.scale, task.chunk);
  } catch (e) {
    error = String(e && e.stack || e);
  }
  parentPort.postMessage({ id: task.id, error });
});
`;

function workerSource(): string {
  return [packPanels, kernelLayout, packed2Units].map((f) => f.toString()).join('\n') + WORKER_MAIN;
}

let decoderModule: WasmModule | undefined;
let mainK: Packed2Kernels | undefined;

/** The compiled decoder (structured-cloneable to the workers). */
function decoder(): WasmModule {
  return (decoderModule ??= new wasm.Module(packed2KernelBytes()));
}

/** This thread's kernels: the shared product kernel and a decoder over its memory. */
function mainKernels(): Packed2Kernels {
  const kern = mainGemmKernel();
  if (!mainK || mainK.kern !== kern) {
    const dec = new wasm.Instance(decoder(), { env: { memory: kern.memory } }).exports as unknown as Omit<Packed2Kernels, 'kern'>;
    mainK = { kern, rowPanels: dec.rowPanels, colPanels: dec.colPanels };
  }
  return mainK;
}

/**
 * Runs {@link packed2Units} for one packed matrix on this thread and `threads - 1` helper threads. The matrix's
 * blocks must live on SharedArrayBuffers (the helpers read them without copies). Helpers start on first use,
 * are unref'd while idle, and stop at dispose().
 */
export class Packed2Pool implements Packed2Products {
  readonly precision = 'f64' as const;
  private workers: Worker[] = [];
  private pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  readonly threads: number;

  constructor(readonly matrix: Packed2Matrix, threads = getFlag('threads')) {
    this.threads = Math.max(1, threads);
    for (const b of matrix.blocks) {
      if (!(b.buffer instanceof SharedArrayBuffer) && this.threads > 1) throw new RangeError('Packed2Pool: the blocks must live on SharedArrayBuffers');
    }
  }

  private start(): void {
    if (this.workers.length > 0 || this.threads <= 1) return;
    const src = workerSource();
    const workerData = { module: gemmKernelModule(), decoder: decoder(), blocking: { mr: MR, nr: NR, ...BLOCKING } };
    const { rows, bytesPerCol, blocks, colStart } = this.matrix;
    for (let t = 0; t < this.threads - 1; t++) {
      const w = new Worker(src, { eval: true, workerData });
      w.on('message', (msg: { id: number; error?: string }) => this.settle(msg.id, msg.error));
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => this.failAll(new Error(`packed2 worker exited with code ${code}`)));
      w.postMessage({ matrix: { rows, bytesPerCol, blocks: [...blocks], colStart } });
      w.unref();
      this.workers.push(w);
    }
  }

  private settle(id: number, error?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if (error) p.reject(new Error(`packed2 worker failed: ${error}`));
    else p.resolve();
  }

  private failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, e.message);
  }

  private async run(op: 'ztv' | 'normal', tables: Float64Array, j0: number, j1: number, x: Float64Array, nb: number, out: Float64Array, masks: { groups: Int32Array; exclude: Int32Array; scale: Float64Array } | null): Promise<void> {
    this.start();
    const next = new Int32Array(new SharedArrayBuffer(4));
    const task = { op, next, tables, j0, j1, x, nb, out, groups: masks?.groups ?? null, exclude: masks?.exclude ?? null, scale: masks?.scale ?? null, chunk: CHUNK };
    for (const w of this.workers) w.ref();
    const helpers = this.workers.map((w, t) => {
      const id = this.nextId++;
      return new Promise<void>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        w.postMessage({ id, slot: t + 1, ...task });
      });
    });
    const { rows, bytesPerCol, blocks, colStart } = this.matrix;
    let first: unknown;
    try {
      packed2Units(mainKernels(), packPanels, kernelLayout, op, next, 0, blocks as Uint8Array[], colStart, rows, bytesPerCol, tables, j0, j1, x, nb, out, task.groups, task.exclude, task.scale, CHUNK);
    } catch (e) {
      first = e;
      Atomics.store(next, 0, 1 << 30);
    }
    const settled = await Promise.allSettled(helpers);
    if (first) throw first;
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  }

  /**
   * U = Z[:, j0:j1]' V ((j1 - j0) x B). `tables` (4 f64 per column) and V may be plain or shared arrays; they
   * are copied to shared memory when helpers run. Cost 2 rows (j1 - j0) B flops plus one decode of the range.
   */
  async ztv(tables: Float64Array, v: F64Matrix, j0 = 0, j1 = this.matrix.cols): Promise<F64Matrix> {
    const m = checkPacked2(this.matrix, tables, j0, j1, 'Packed2Pool.ztv');
    const rows = this.matrix.rows;
    if (v.rows !== rows) throw new RangeError(`Packed2Pool.ztv: V is ${shapeOf(v)}, expected ${rows} rows`);
    const out = sharedF64(m * v.cols);
    if (m > 0 && v.cols > 0) await this.run('ztv', this.share(tables), j0, j1, this.packed(v), v.cols, out, null);
    return f64Matrix(m, v.cols, out);
  }

  /**
   * Y = Z (M o (Z' V)) with M[c, b] = scale[b], or 0 where groups[c] = exclude[b] (columns of Z left out per
   * right-hand side, e.g. a group of columns), over all columns of Z: one pass over the codes, each chunk decoded
   * for both products. Cost 4 rows cols B flops plus two decodes; each thread sums into its own rows x B block,
   * added up here (threads x rows x B more memory).
   */
  async normal(tables: Float64Array, v: F64Matrix, groups: Int32Array, exclude: ArrayLike<number>, scale: ArrayLike<number>): Promise<F64Matrix> {
    checkPacked2(this.matrix, tables, 0, this.matrix.cols, 'Packed2Pool.normal');
    const rows = this.matrix.rows;
    const nb = v.cols;
    if (v.rows !== rows) throw new RangeError(`Packed2Pool.normal: V is ${shapeOf(v)}, expected ${rows} rows`);
    if (groups.length !== this.matrix.cols) throw new RangeError(`Packed2Pool.normal: ${groups.length} column groups, expected ${this.matrix.cols}`);
    if (exclude.length !== nb || scale.length !== nb) throw new RangeError(`Packed2Pool.normal: exclude and scale need ${nb} entries (one per column of V)`);
    const y = f64Matrix(rows, nb);
    if (this.matrix.cols === 0 || nb === 0) return y;
    const slots = this.threads;
    const out = sharedF64(slots * rows * nb);
    const shareI = (a: ArrayLike<number>): Int32Array => {
      const r = this.threads > 1 ? new Int32Array(new SharedArrayBuffer(Math.max(1, a.length) * 4), 0, a.length) : new Int32Array(a.length);
      for (let i = 0; i < a.length; i++) r[i] = a[i]!;
      return r;
    };
    const sc = this.threads > 1 ? sharedF64(nb) : new Float64Array(nb);
    for (let b = 0; b < nb; b++) sc[b] = scale[b]!;
    const g = groups.buffer instanceof SharedArrayBuffer || this.threads <= 1 ? groups : shareI(groups);
    await this.run('normal', this.share(tables), 0, this.matrix.cols, this.packed(v), nb, out, { groups: g, exclude: shareI(exclude), scale: sc });
    const len = rows * nb;
    y.data.set(out.subarray(0, len));
    for (let t = 1; t < slots; t++) for (let i = 0; i < len; i++) y.data[i]! += out[t * len + i]!;
    return y;
  }

  private share(a: Float64Array): Float64Array {
    if (this.threads <= 1 || a.buffer instanceof SharedArrayBuffer) return a;
    const s = sharedF64(a.length);
    s.set(a);
    return s;
  }

  /** The matrix's data with ld = rows, on shared memory when helpers run. */
  private packed(a: F64Matrix): Float64Array {
    if (a.ld === a.rows && (this.threads <= 1 || a.data.buffer instanceof SharedArrayBuffer)) return a.data.subarray(0, a.rows * a.cols);
    const s = this.threads <= 1 ? new Float64Array(a.rows * a.cols) : sharedF64(a.rows * a.cols);
    for (let j = 0; j < a.cols; j++) s.set(a.data.subarray(j * a.ld, j * a.ld + a.rows), j * a.rows);
    return s;
  }

  /** Stops the helper threads. */
  async dispose(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    this.failAll(new Error('Packed2Pool disposed'));
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
