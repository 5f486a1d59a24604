/**
 * Runs on a helper thread of the process pool (kernels/cpu/pool.ts runModuleTask): stage-2 Laplace deviances of
 * a snapshot at given points (LaplaceDeviance.stage2Many hands it half of a Hessian's stencil). Results and the
 * completion flag live on SharedArrayBuffers, so the calling thread can wait for them without its event loop.
 */
import { LaplaceDeviance, orInfinity, type LaplaceSnapshot } from './glmm.js';

/**
 * out[k] = the stage-2 deviance at points[k d .. (k + 1) d); then done[0] = 1 (2 on failure), notified.
 * @param points k x d, row by row, on a SharedArrayBuffer
 */
export function stage2Deviances(snapshot: LaplaceSnapshot, points: Float64Array, d: number, out: Float64Array, done: Int32Array): void {
  let state = 2;
  try {
    const dev = LaplaceDeviance.restore(snapshot);
    for (let k = 0; k < out.length; k++) out[k] = orInfinity(() => dev.stage2(Array.from(points.subarray(k * d, (k + 1) * d))));
    state = 1;
  } finally {
    Atomics.store(done, 0, state);
    Atomics.notify(done, 0);
  }
}
