/**
 * Per-SNP tests on the process's helper threads: the exact LMM optimisation (src/lmm/snp) is independent per
 * SNP, so a block's rotated columns are cut into chunks that the helpers of the process-wide pool
 * (kernels/cpu/pool.ts commonPool: the same threads as the cpu products, so that together they never exceed
 * `threads`) claim while the calling thread reads and rotates the next block; when the caller would wait for
 * a block's results it claims the chunks left itself (the run's help()). Every thread holds its own
 * copy of the small per-model inputs (eigenvalues, U'W, U'y: O(n c)); U'x is shared, not copied.
 * Runs everything on the calling thread when `threads` <= 1 or when the compiled helper module is not
 * available (running from TypeScript sources, e.g. under vitest): results are identical either way.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commonPool, type GemmPool } from '../kernels/cpu/pool.js';
import { allocAssocColumns, SnpAssociation, type AssocColumns, type TestSelection } from '../src/lmm/snp/assoc.js';
import type { NullModel, RotatedInputs } from '../src/lmm/snp/null-model.js';
import { chunkCount, claimAndTest, type ChunkedRun } from './snp-worker.js';

/** SNPs per chunk: small enough to balance two to sixteen threads, large enough to amortise messaging. */
const CHUNK = 128;

const HELPER_MODULE = new URL('./snp-worker.js', import.meta.url);

/** Distinguishes the models of pools alive at once (they share the helper threads). */
let poolCount = 0;

export class SnpTestPool {
  private readonly pool: GemmPool | undefined;
  private readonly local = new Map<string, SnpAssociation>();
  private readonly prefix = `p${poolCount++}:`;
  /** Settles when every helper has registered every model (a failure is reported by run()). */
  private registered: Promise<unknown> = Promise.resolve();
  /** Thread-seconds spent in the tests (summed over threads). */
  seconds = 0;

  constructor(threads: number) {
    if (threads > 1 && existsSync(fileURLToPath(HELPER_MODULE))) this.pool = commonPool(threads);
  }

  /** Number of helper threads (0: tests run on the calling thread only). */
  get threads(): number {
    return this.pool?.helpers ?? 0;
  }

  /** Registers a model (one phenotype on one decomposition) under `id` on every thread. */
  register(id: string, inputs: RotatedInputs, nullModel: NullModel, tests: TestSelection): void {
    this.local.set(id, new SnpAssociation(inputs, nullModel, tests));
    const pool = this.pool;
    if (!pool) return;
    const done = Array.from({ length: pool.helpers }, (_, t) => pool.runModuleTask(t, HELPER_MODULE.href, 'register', [this.prefix + id, inputs, nullModel, tests]));
    this.registered = Promise.all([this.registered, ...done]);
    this.registered.catch(() => undefined); // surfaced by run()
  }

  /**
   * Tests the m rotated SNP columns of `ux` (n x m) against model `id`. The promise's help() runs on this
   * thread the chunks that no helper has claimed yet: call it before waiting for the results.
   */
  run(id: string, ux: Float64Array, n: number, m: number): Promise<AssocColumns> & { help(): void } {
    const model = this.local.get(id);
    if (!model) throw new Error(`SnpTestPool: no model '${id}' registered`);
    const pool = this.pool;
    const shared = !pool || ux.buffer instanceof SharedArrayBuffer ? ux : copyShared(ux);
    const run: ChunkedRun = { id: this.prefix + id, ux: shared, n, m, chunk: CHUNK, counter: new Int32Array(new SharedArrayBuffer(4)) };
    const local: ReturnType<typeof claimAndTest>[] = [];
    const helpers: Promise<ReturnType<typeof claimAndTest>>[] = [];
    if (pool) for (let t = 0; t < pool.helpers && t < chunkCount(run); t++) helpers.push(pool.runModuleTask(t, HELPER_MODULE.href, 'test', [run]));
    else local.push(claimAndTest(model, run));
    const done = (async () => {
      await this.registered;
      const parts = [...(await Promise.all(helpers)), ...local];
      const out = allocAssocColumns(m);
      for (const p of parts) {
        this.seconds += p.seconds;
        p.chunks.forEach((c, k) => copyColumns(p.outs[k]!, out, c * CHUNK));
      }
      return out;
    })();
    return Object.assign(done, { help: () => void local.push(claimAndTest(model, run)) });
  }

  /** Forgets the models on every thread (the helper threads belong to the process and stay). */
  async dispose(): Promise<void> {
    const pool = this.pool;
    const ids = [...this.local.keys()].map((id) => this.prefix + id);
    this.local.clear();
    if (pool) await Promise.all(Array.from({ length: pool.helpers }, (_, t) => pool.runModuleTask(t, HELPER_MODULE.href, 'unregister', [ids])));
  }
}

function copyShared(x: Float64Array): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(x.length * 8));
  out.set(x);
  return out;
}

/** out[at ..] = part, column by column. */
function copyColumns(part: AssocColumns, out: AssocColumns, at: number): void {
  const k = part.status.length;
  for (const key of Object.keys(out) as (keyof AssocColumns)[]) {
    if (key === 'status') for (let j = 0; j < k; j++) out.status[at + j] = part.status[j]!;
    else (out[key] as Float64Array).set(part[key] as Float64Array, at);
  }
}
