/**
 * Per-SNP tests on worker threads: the exact LMM optimisation (src/lmm/snp) is independent per SNP, so a block's
 * rotated columns are cut into chunks tested in parallel while the calling thread reads and rotates the next
 * block. Each worker holds its own copy of the small per-model inputs (eigenvalues, U'W, U'y: O(n c)).
 * Falls back to the calling thread when `threads` <= 1 or when the compiled worker script is not available
 * (running from TypeScript sources, e.g. under vitest): results are identical either way.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { allocAssocColumns, SnpAssociation, type AssocColumns, type TestSelection } from '../src/lmm/snp/assoc.js';
import type { NullModel, RotatedInputs } from '../src/lmm/snp/null-model.js';
import type { WorkerRequest } from './snp-worker.js';

/** SNPs per task: small enough to balance two to sixteen threads, large enough to amortise messaging. */
const CHUNK = 256;

interface Pending {
  resolve: (v: { out: AssocColumns; seconds: number }) => void;
  reject: (e: Error) => void;
}

export class SnpTestPool {
  private readonly workers: Worker[] = [];
  private readonly local = new Map<string, SnpAssociation>();
  private readonly pending = new Map<number, Pending>();
  private nextTask = 0;
  private nextWorker = 0;
  /** Thread-seconds spent in the tests (summed over threads). */
  seconds = 0;

  constructor(threads: number) {
    const script = fileURLToPath(new URL('./snp-worker.js', import.meta.url));
    if (threads <= 1 || !existsSync(script)) return;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(script);
      w.on('message', (msg: { taskId: number; out?: AssocColumns; seconds?: number; error?: string }) => {
        const p = this.pending.get(msg.taskId);
        if (!p) return;
        this.pending.delete(msg.taskId);
        if (msg.error !== undefined) p.reject(new Error(`SNP test worker failed: ${msg.error}`));
        else p.resolve({ out: msg.out!, seconds: msg.seconds! });
      });
      w.on('error', (e) => {
        for (const [id, p] of this.pending) {
          this.pending.delete(id);
          p.reject(e);
        }
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Number of worker threads (0: tests run on the calling thread). */
  get threads(): number {
    return this.workers.length;
  }

  /** Registers a model (one phenotype on one decomposition) under `id` on every thread. */
  register(id: string, inputs: RotatedInputs, nullModel: NullModel, tests: TestSelection): void {
    if (this.workers.length === 0) {
      this.local.set(id, new SnpAssociation(inputs, nullModel, tests));
      return;
    }
    const msg: WorkerRequest = { type: 'init', id, inputs, nullModel, tests };
    for (const w of this.workers) w.postMessage(msg);
  }

  /** Tests the m rotated SNP columns of `ux` (n x m) against model `id`. */
  async run(id: string, ux: Float64Array, n: number, m: number): Promise<AssocColumns> {
    if (this.workers.length === 0) {
      const model = this.local.get(id);
      if (!model) throw new Error(`SnpTestPool: no model '${id}' registered`);
      const t0 = performance.now();
      const out = allocAssocColumns(m);
      model.testInto(ux, m, out, 0);
      this.seconds += (performance.now() - t0) / 1000;
      return out;
    }
    const parts: Promise<{ out: AssocColumns; seconds: number }>[] = [];
    for (let j0 = 0; j0 < m; j0 += CHUNK) {
      const mm = Math.min(CHUNK, m - j0);
      const chunk = ux.slice(j0 * n, (j0 + mm) * n);
      const taskId = this.nextTask++;
      const w = this.workers[this.nextWorker++ % this.workers.length]!;
      parts.push(new Promise((resolve, reject) => {
        this.pending.set(taskId, { resolve, reject });
        w.ref();
        const msg: WorkerRequest = { type: 'test', taskId, id, ux: chunk, m: mm };
        w.postMessage(msg, [chunk.buffer as ArrayBuffer]);
      }));
    }
    const results = await Promise.all(parts);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    const out = allocAssocColumns(m);
    let at = 0;
    for (const r of results) {
      this.seconds += r.seconds;
      const k = r.out.status.length;
      for (const key of Object.keys(out) as (keyof AssocColumns)[]) {
        if (key === 'status') for (let j = 0; j < k; j++) out.status[at + j] = r.out.status[j]!;
        else (out[key] as Float64Array).set(r.out[key] as Float64Array, at);
      }
      at += k;
    }
    return out;
  }

  /** Stops the worker threads. */
  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
