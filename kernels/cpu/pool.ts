/**
 * Worker threads for large cpu products: operands travel as Float64Arrays over SharedArrayBuffers (no
 * copies between threads), each thread runs the same blocked product ({@link gemmBlocked}) on a slice of
 * C's columns with its own wasm kernel instance, and the calling thread computes the first slice itself.
 * The same threads run the slices of the exact int8 syrk ({@link syrk8Slice}, kernels/cpu/syrk-int8.ts) over a
 * shared WebAssembly memory, without the calling thread.
 *
 * The worker source is assembled from the self-contained product functions' own text and loaded with
 * `eval: true`, so it runs identically from the TypeScript sources (vitest) and from compiled dist/ files.
 * Idle workers are unref'd (an undisposed pool never holds the process open); dispose() terminates them.
 */
import { Worker } from 'node:worker_threads';
import { BLOCKING, gemmBlocked, gemmKernelModule, kernelLayout, mainGemmKernel, packPanels } from './gemm-core.js';
import { syrk8Slice, type Syrk8SliceArgs } from './syrk-int8.js';
import { MR, NR } from './wasm/gemm-kernel.js';
import type { WasmMemory, WasmModule } from './wasm/runtime.js';

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
const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
const inst = new WebAssembly.Instance(workerData.module, { env: { memory } });
const kern = Object.assign({ memory }, inst.exports, workerData.blocking);
parentPort.on('message', (task) => {
  try {
    if (task.syrk8) {
      const { module, memory, args } = task.syrk8;
      syrk8Slice(new WebAssembly.Instance(module, { env: { memory } }).exports.syrk8, ...args);
    } else gemmBlocked(kern, ...task.args);
    parentPort.postMessage({ id: task.id });
  } catch (e) {
    parentPort.postMessage({ id: task.id, error: String(e && e.stack || e) });
  }
});
`;

function workerSource(): string {
  return [kernelLayout, packPanels, gemmBlocked, syrk8Slice].map((f) => f.toString()).join('\n') + WORKER_MAIN;
}

interface Pending {
  resolve: () => void;
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
      w.on('message', (msg: { id: number; error?: string }) => this.settle(msg.id, msg.error));
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => this.failAll(new Error(`worker thread exited with code ${code}`)));
      w.unref();
      this.workers.push(w);
    }
  }

  private settle(id: number, error?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (--this.inFlight === 0) for (const w of this.workers) w.unref();
    if (error) p.reject(new Error(`cpu worker thread failed: ${error}`));
    else p.resolve();
  }

  private failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, e.message);
  }

  private run(worker: Worker, task: { args: GemmSliceArgs } | { syrk8: { module: WasmModule; memory: WasmMemory; args: Syrk8SliceArgs } }): Promise<void> {
    const id = this.nextId++;
    if (this.inFlight++ === 0) for (const w of this.workers) w.ref();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...task });
    });
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

  /** Terminates the helper threads. */
  async dispose(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    this.failAll(new Error('pool disposed'));
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
