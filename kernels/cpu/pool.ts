/**
 * Worker threads for large cpu products: operands travel as Float64Arrays over SharedArrayBuffers (no
 * copies between threads), each thread runs the same blocked product ({@link gemmBlocked}) on a slice of
 * C's columns with its own wasm kernel instance, and the calling thread computes the first slice itself.
 * The same threads run the slices of the exact int8 syrk ({@link syrk8Slice}, kernels/cpu/syrk-int8.ts) over a
 * shared WebAssembly memory, without the calling thread, and tasks from modules above the kernel layer
 * ({@link GemmPool.runModuleTask}); {@link commonPool} is the process's one owner of these threads.
 *
 * Synchronous callers (cpuPotrf, which must not return to the event loop) use {@link GemmPool.runChunksSync}
 * on the process-wide {@link commonPool} (or its two halves, {@link GemmPool.startChunks} and
 * {@link GemmPool.finishChunks}): the product is cut into chunks that the calling thread and the helpers
 * claim from a shared counter, and the caller blocks with Atomics.wait only while a helper finishes a chunk
 * it claimed. The product kernel's own memory is shared (kernels/cpu/gemm-core.ts), so a chunk's C
 * may lie in the caller's workspace.
 *
 * The worker source is assembled from the self-contained product functions' own text and loaded with
 * `eval: true`, so it runs identically from the TypeScript sources (vitest) and from compiled dist/ files.
 * Idle workers are unref'd (an undisposed pool never holds the process open); dispose() terminates them.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { getFlag } from '../../src/flags.js';
import type { StridedProduct } from './eigh-products.js';
import { BLOCKING, gemmBlocked, gemmKernelModule, kernelLayout, mainGemmKernel, packPanels } from './gemm-core.js';
import { syrk8Slice, type Syrk8SliceArgs } from './syrk-int8.js';
import { MR, NR } from './wasm/gemm-kernel.js';
import type { WasmMemory, WasmModule } from './wasm/runtime.js';

/**
 * Column boundaries splitting n columns into `parts` slices of equal work, multiples of `unit` (NR): equal
 * widths for a full product, widths growing to the right for a lower triangle (column j costs n - j).
 */
export function columnSplits(n: number, parts: number, triangle: boolean, unit = NR): number[] {
  const cuts = [0];
  for (let t = 1; t < parts; t++) {
    const f = triangle ? 1 - Math.sqrt(1 - t / parts) : t / parts;
    cuts.push(Math.min(n, Math.max(cuts[t - 1]!, Math.round((f * n) / unit) * unit)));
  }
  cuts.push(n);
  return cuts;
}

/**
 * A strided product (the arguments of gemmStrided) as at most `parts` slices, each the arguments of
 * {@link gemmBlocked}: slices of C's columns ({@link columnSplits}), or with `byRows` (not for a lower
 * triangle) of C's rows, multiples of MR (each slice then packs only its own rows of op(A): for tall
 * products). Every entry of C is summed in the same order by the same kernel whichever slice holds it (the
 * cuts fall on the micro-kernel's tile edges), so the split result equals the whole product's bit for bit.
 */
export function productSlices(p: StridedProduct, parts: number, byRows = false): GemmSliceArgs[] {
  const [m, n, k, alpha, a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc, lowerOnly = false] = p;
  const slices: GemmSliceArgs[] = [];
  if (byRows && !lowerOnly) {
    const cuts = columnSplits(m, Math.min(parts, Math.floor(m / MR)), false, MR);
    for (let t = 0; t + 1 < cuts.length; t++) {
      const i0 = cuts[t]!, i1 = cuts[t + 1]!;
      if (i1 > i0) slices.push([i1 - i0, n, k, alpha, a, aOff + (transA ? i0 * lda : i0), lda, transA, b, bOff, ldb, transB, c, cOff + i0, ldc, false, 0]);
    }
    return slices;
  }
  const cuts = columnSplits(n, Math.min(parts, Math.floor(n / NR)), lowerOnly);
  for (let t = 0; t + 1 < cuts.length; t++) {
    const j0 = cuts[t]!, j1 = cuts[t + 1]!;
    if (j1 > j0) slices.push([m, j1 - j0, k, alpha, a, aOff, lda, transA, b, bOff + (transB ? j0 : j0 * ldb), ldb, transB, c, cOff + j0 * ldc, ldc, lowerOnly, j0]);
  }
  return slices;
}

/** One slice of a product: the arguments of gemmBlocked after the kernel (C slice offsets already applied). */
export type GemmSliceArgs = [
  m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOff: number, lda: number, transA: boolean,
  b: Float64Array, bOff: number, ldb: number, transB: boolean,
  c: Float64Array, cOff: number, ldc: number,
  lowerOnly: boolean, col0: number,
];

const WORKER_MAIN = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
const inst = new WebAssembly.Instance(workerData.module, { env: { memory } });
const kern = Object.assign({ memory }, inst.exports, workerData.blocking);
const modules = new Map();
parentPort.on('message', (task) => {
  if (task.chunks) return runChunks(task.chunks);
  if (task.module) return runModuleTask(task);
  if (task.gc) {
    collectGarbage();
    return parentPort.postMessage({ id: task.id });
  }
  let error;
  try {
    if (task.syrk8) {
      const { module, memory, args } = task.syrk8;
      syrk8Slice(new WebAssembly.Instance(module, { env: { memory } }).exports, ...args);
    } else gemmBlocked(kern, ...task.args);
  } catch (e) {
    error = String(e && e.stack || e);
  }
  parentPort.postMessage({ id: task.id, error });
});
let fullGc;
function collectGarbage() {
  if (!fullGc) {
    require('node:v8').setFlagsFromString('--expose-gc');
    fullGc = require('node:vm').runInNewContext('gc');
  }
  fullGc();
}
async function runModuleTask({ id, module, fn, args }) {
  try {
    let m = modules.get(module);
    if (!m) modules.set(module, (m = import(module)));
    const result = await (await m)[fn](...args);
    const transfer = [];
    if (result && typeof result === 'object') {
      for (const v of Object.values(result)) if (ArrayBuffer.isView(v) && !(v.buffer instanceof SharedArrayBuffer)) transfer.push(v.buffer);
    }
    parentPort.postMessage({ id, result }, transfer);
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.stack || e) });
  }
}
const kernelInstances = new Map();
function runChunks({ chunks, calls, state, text }) {
  // Counted busy before claiming, so the caller waits for every chunk a helper claims.
  Atomics.add(state, 1, 1);
  try {
    if (calls) {
      // Kernel calls: one instance per (module, memory) key, kept while the key is the latest one.
      let inst = kernelInstances.get(calls.key);
      if (!inst) {
        kernelInstances.clear();
        kernelInstances.set(calls.key, (inst = new WebAssembly.Instance(calls.module, { env: { memory: calls.memory } }).exports));
      }
      const f = inst[calls.fn];
      for (let c = claimChunk(state, calls.args.length); c >= 0; c = claimChunk(state, calls.args.length)) f(...calls.args[c]);
    } else for (let c = claimChunk(state, chunks.length); c >= 0; c = claimChunk(state, chunks.length)) gemmBlocked(kern, ...chunks[c]);
  } catch (e) {
    if (Atomics.exchange(state, 2, 1) === 0) text.set(new TextEncoder().encode(String(e && e.stack || e)).subarray(0, text.length));
  }
  if (Atomics.sub(state, 1, 1) === 1) Atomics.notify(state, 1);
}
`;

function workerSource(): string {
  return [kernelLayout, packPanels, gemmBlocked, syrk8Slice, claimChunk].map((f) => f.toString()).join('\n') + WORKER_MAIN;
}

/** Room for a helper's error text in a synchronous run (longer texts are cut). */
const ERROR_BYTES = 4096;

/**
 * Claims the next chunk of a synchronous run (state[0] counts the claims): its index, or -1 when all `count`
 * are claimed. Self-contained (it runs in the workers too).
 */
export function claimChunk(state: Int32Array, count: number): number {
  const c = Atomics.add(state, 0, 1);
  return c < count ? c : -1;
}

/**
 * A synchronous run under way ({@link GemmPool.startChunks}): its chunks and, on one SharedArrayBuffer, its
 * state [chunks claimed, helpers busy, error flag] and a helper's error text.
 */
export interface ChunkRun {
  chunks: GemmSliceArgs[];
  /** Instead of product chunks: calls of one export of a wasm module instantiated over a shared memory. */
  calls?: KernelCalls;
  state: Int32Array;
  text: Uint8Array;
}

/**
 * Independent calls of export `fn` of `module` over the shared `memory` (numeric arguments only), for
 * {@link GemmPool.runCallsSync}. `key` names the (module, memory) pair: helpers keep the instance of the latest
 * key, so successive runs over one memory instantiate once.
 */
export interface KernelCalls {
  key: number;
  module: WasmModule;
  memory: WasmMemory;
  fn: string;
  args: number[][];
}

/** A message to a helper: a product slice, an int8 syrk slice or a module task. */
type PoolTask =
  | { args: GemmSliceArgs }
  | { syrk8: { module: WasmModule; memory: WasmMemory; args: Syrk8SliceArgs } }
  | { module: string; fn: string; args: unknown[] }
  | { gc: true };

const common = new Map<number, GemmPool>();

/**
 * The process-wide pool, the one owner of helper threads: the cpu backend's products, cpuPotrf
 * ({@link GemmPool.runChunksSync}), the kinship's int8 syrk and the GWAS per-SNP tests
 * ({@link GemmPool.runModuleTask}) all run on it, so together they never use more than `threads` threads
 * (its threads - 1 helpers and the calling thread). One per thread count (default: the `threads` flag's
 * value when called), kept (idle helpers cost no cpu and never hold the process open), so switching the
 * flag back and forth does not restart threads. Its threads start on first use.
 */
export function commonPool(threads: number = getFlag('threads')): GemmPool {
  let pool = common.get(threads);
  if (!pool) common.set(threads, (pool = new GemmPool(threads)));
  return pool;
}

interface Pending {
  resolve: (result?: unknown) => void;
  reject: (e: Error) => void;
}

/** A fixed set of helper threads (threads - 1 of them; the caller's thread is the last one). */
export class GemmPool {
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private inFlight = 0;

  constructor(readonly threads: number) {}

  private start(): void {
    if (this.workers.length > 0 || this.threads <= 1) return;
    const src = workerSource();
    const workerData = { module: gemmKernelModule(), blocking: { mr: MR, nr: NR, ...BLOCKING } };
    for (let i = 0; i < this.threads - 1; i++) {
      const w = new Worker(src, { eval: true, workerData });
      w.on('message', (msg: { id: number; error?: string; result?: unknown }) => this.settle(msg.id, msg.error, msg.result));
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => this.failAll(new Error(`worker thread exited with code ${code}`)));
      w.unref();
      this.workers.push(w);
    }
  }

  private settle(id: number, error?: string, result?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (--this.inFlight === 0) for (const w of this.workers) w.unref();
    if (error) p.reject(new Error(`cpu worker thread failed: ${error}`));
    else p.resolve(result);
  }

  private failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, e.message);
  }

  private run<T = void>(worker: Worker, task: PoolTask, transfer: TransferListItem[] = []): Promise<T> {
    const id = this.nextId++;
    if (this.inFlight++ === 0) for (const w of this.workers) w.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r?: unknown) => void, reject });
      worker.postMessage({ id, ...task }, transfer);
    });
  }

  /** Helper threads (threads - 1; 0 when the pool runs everything on the calling thread). */
  get helpers(): number {
    return this.threads > 1 ? this.threads - 1 : 0;
  }

  /**
   * A full garbage collection on every helper thread (none is started for it). Shared buffers that a finished
   * computation handed to the helpers (eigh's workspaces, a product's operands) are freed only when every
   * thread that saw them has collected its garbage: an idle helper may not do so for a long time.
   */
  async collectGarbage(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.run(w, { gc: true })));
  }

  /**
   * Runs export `fn` of the ES module `module` (a file URL, imported once per helper) with `args` on helper
   * thread t (0 <= t < helpers), after the tasks already queued there: so work above the kernel layer
   * (gwas/snp-pool.ts: the per-SNP tests) shares these threads instead of starting its own. Buffers in
   * `transfer` move instead of being copied; the result's top-level typed arrays (not shared) move back.
   */
  runModuleTask<T>(t: number, module: string, fn: string, args: unknown[], transfer: TransferListItem[] = []): Promise<T> {
    this.start();
    const worker = this.workers[t];
    if (!worker) return Promise.reject(new RangeError(`GemmPool.runModuleTask: no helper thread ${t} (${this.workers.length} helpers)`));
    return this.run<T>(worker, { module, fn, args }, transfer);
  }

  /**
   * Runs one slice of an int8 syrk ({@link syrk8Slice}) on helper thread t (0 <= t < threads - 1), over the
   * shared memory `memory` with the kernel module `module`. A thread runs its tasks in the order given.
   */
  runSyrk8(t: number, module: WasmModule, memory: WasmMemory, args: Syrk8SliceArgs): Promise<void> {
    this.start();
    const worker = this.workers[t];
    if (!worker) return Promise.reject(new RangeError(`GemmPool.runSyrk8: no helper thread ${t} (${this.workers.length} helpers)`));
    return this.run(worker, { syrk8: { module, memory, args } });
  }

  /**
   * Runs the slices: slice 0 on this thread, slice t on worker t-1 (slices.length <= threads).
   * Every Float64Array in the slices must live on a SharedArrayBuffer.
   */
  async runSlices(slices: GemmSliceArgs[]): Promise<void> {
    this.start();
    const others = slices.slice(1).map((s, t) => this.run(this.workers[t]!, { args: s }));
    let first: unknown;
    try {
      if (slices[0]) gemmBlocked(mainGemmKernel(), ...slices[0]);
    } catch (e) {
      first = e;
    }
    const settled = await Promise.allSettled(others);
    if (first) throw first;
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  }

  /**
   * Hands the chunks (independent products) to the helpers and returns at once; {@link finishChunks} completes
   * the run. In between, this thread may work on memory that no chunk reads or writes (cpuPotrf factors the
   * next diagonal block while the helpers update the rest), and may start and finish other runs: helpers
   * take a run's chunks in the order the runs were started, so a run started later and finished first is
   * simply done by this thread. Every Float64Array in the chunks must live on a SharedArrayBuffer.
   */
  startChunks(chunks: GemmSliceArgs[]): ChunkRun {
    this.start();
    const buf = new SharedArrayBuffer(12 + ERROR_BYTES);
    const run: ChunkRun = { chunks, state: new Int32Array(buf, 0, 3), text: new Uint8Array(buf, 12) };
    const task = { id: -1, chunks: run };
    for (const w of this.workers) w.postMessage(task);
    return run;
  }

  /**
   * Completes a run without returning to the event loop: this thread claims the chunks left
   * ({@link claimChunk}) until none is, then blocks (Atomics.wait, allowed on Node's main thread) only while
   * a helper is still computing a chunk it claimed. So a helper that is late (not started, busy with an
   * earlier run, or descheduled on a loaded machine) costs nothing: this thread does its share. A helper's
   * error is rethrown here.
   */
  finishChunks(run: ChunkRun, here?: (...args: number[]) => void): void {
    const { chunks, calls, state, text } = run;
    const count = calls ? calls.args.length : chunks.length;
    let first: unknown;
    try {
      if (calls) {
        for (let c = claimChunk(state, count); c >= 0; c = claimChunk(state, count)) here!(...calls.args[c]!);
      } else {
        const kern = mainGemmKernel();
        for (let c = claimChunk(state, count); c >= 0; c = claimChunk(state, count)) gemmBlocked(kern, ...chunks[c]!);
      }
    } catch (e) {
      first = e;
      Atomics.store(state, 0, count);
    }
    for (let busy = Atomics.load(state, 1); busy !== 0; busy = Atomics.load(state, 1)) Atomics.wait(state, 1, busy);
    if (first) throw first;
    if (Atomics.load(state, 2) !== 0) {
      const bytes = text.slice();
      const end = bytes.indexOf(0);
      throw new Error(`cpu worker thread failed: ${new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end))}`);
    }
  }

  /** Runs the chunks on this thread and the helpers together: {@link startChunks}, then {@link finishChunks}. */
  runChunksSync(chunks: GemmSliceArgs[]): void {
    this.finishChunks(this.startChunks(chunks));
  }

  /**
   * Runs independent kernel calls on this thread (with `here`, its own instance's export) and the helpers
   * together, synchronously, as {@link runChunksSync} does products: each call runs once, on whichever thread
   * claims it first. The calls must not write memory that another call of the run reads or writes.
   */
  runCallsSync(calls: KernelCalls, here: (...args: number[]) => void): void {
    if (this.threads <= 1) {
      for (const a of calls.args) here(...a);
      return;
    }
    this.start();
    const buf = new SharedArrayBuffer(12 + ERROR_BYTES);
    const run: ChunkRun = { chunks: [], calls, state: new Int32Array(buf, 0, 3), text: new Uint8Array(buf, 12) };
    const task = { id: -1, chunks: run };
    for (const w of this.workers) w.postMessage(task);
    this.finishChunks(run, here);
  }

  /** Terminates the helper threads. */
  async dispose(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    this.failAll(new Error('pool disposed'));
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
