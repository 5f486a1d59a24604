/**
 * Worker-thread side of the SNP test pool (gwas/snp-pool.ts): holds one SnpAssociation per registered model and
 * tests the rotated SNP columns it is sent, returning the result columns (buffers transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { allocAssocColumns, SnpAssociation, type TestSelection } from '../src/lmm/snp/assoc.js';
import type { NullModel, RotatedInputs } from '../src/lmm/snp/null-model.js';

export type WorkerRequest =
  | { type: 'init'; id: string; inputs: RotatedInputs; nullModel: NullModel; tests: TestSelection }
  | { type: 'test'; taskId: number; id: string; ux: Float64Array; m: number };

const models = new Map<string, SnpAssociation>();

parentPort?.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'init') {
    models.set(msg.id, new SnpAssociation(msg.inputs, msg.nullModel, msg.tests));
    return;
  }
  try {
    const model = models.get(msg.id);
    if (!model) throw new Error(`no model '${msg.id}' registered in this worker`);
    const t0 = performance.now();
    const out = allocAssocColumns(msg.m);
    model.testInto(msg.ux, msg.m, out, 0);
    const seconds = (performance.now() - t0) / 1000;
    const buffers = Object.values(out).filter((v): v is Float64Array => v instanceof Float64Array).map((v) => v.buffer as ArrayBuffer);
    parentPort!.postMessage({ taskId: msg.taskId, out, seconds }, buffers);
  } catch (e) {
    parentPort!.postMessage({ taskId: msg.taskId, error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
});
