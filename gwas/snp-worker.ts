/**
 * Helper-thread side of the SNP test pool (gwas/snp-pool.ts): an ES module that the process-wide thread pool
 * (kernels/cpu/pool.ts, GemmPool.runModuleTask) imports in each helper. It holds one SnpAssociation per
 * registered model and tests the chunks of a run that it claims from the run's shared counter.
 */
import { allocAssocColumns, SnpAssociation, type AssocColumns, type TestSelection } from '../src/lmm/snp/assoc.js';
import type { NullModel, RotatedInputs } from '../src/lmm/snp/null-model.js';

/**
 * One block's tests, shared between threads: the rotated SNPs U'x (n x m on a SharedArrayBuffer), cut into
 * chunks of `chunk` columns that threads claim with Atomics.add(counter, 0, 1).
 */
export interface ChunkedRun {
  id: string;
  ux: Float64Array;
  n: number;
  m: number;
  chunk: number;
  counter: Int32Array;
}

/** Number of chunks of a run. */
export function chunkCount(run: Pick<ChunkedRun, 'm' | 'chunk'>): number {
  return Math.ceil(run.m / run.chunk);
}

/**
 * Claims chunks of `run` until none is left, testing each with `model`; returns the claimed chunk indices
 * with their results. Shared by the helpers and the calling thread.
 */
export function claimAndTest(model: SnpAssociation, run: ChunkedRun): { chunks: number[]; outs: AssocColumns[]; seconds: number } {
  const t0 = performance.now();
  const chunks: number[] = [];
  const outs: AssocColumns[] = [];
  const count = chunkCount(run);
  for (let c = Atomics.add(run.counter, 0, 1); c < count; c = Atomics.add(run.counter, 0, 1)) {
    const j0 = c * run.chunk;
    const mm = Math.min(run.chunk, run.m - j0);
    const out = allocAssocColumns(mm);
    model.testInto(run.ux.subarray(j0 * run.n, (j0 + mm) * run.n), mm, out, 0);
    chunks.push(c);
    outs.push(out);
  }
  return { chunks, outs, seconds: (performance.now() - t0) / 1000 };
}

const models = new Map<string, SnpAssociation>();

/** Registers model `id` on this thread. */
export function register(id: string, inputs: RotatedInputs, nullModel: NullModel, tests: TestSelection): void {
  models.set(id, new SnpAssociation(inputs, nullModel, tests));
}

/** Forgets models. */
export function unregister(ids: string[]): void {
  for (const id of ids) models.delete(id);
}

/** A helper's share of a run (see {@link claimAndTest}). */
export function test(run: ChunkedRun): ReturnType<typeof claimAndTest> {
  const model = models.get(run.id);
  if (!model) throw new Error(`no model '${run.id}' registered in this thread`);
  return claimAndTest(model, run);
}
