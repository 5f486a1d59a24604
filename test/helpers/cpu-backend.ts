/** A cpu Backend shared by the tests of one describe block. */
import { afterAll, beforeAll } from 'vitest';
import type { Backend } from '../../kernels/backend.js';
import { createCpuBackend } from '../../kernels/cpu/index.js';
import { setFlags } from '../../src/flags.js';

/**
 * Creates the cpu backend with `threads` worker threads before the block's tests and disposes of it after;
 * call inside describe(). Returns a getter (the backend exists only once beforeAll has run).
 */
export function cpuBackendFor(threads: number): () => Backend {
  let be: Backend | undefined;
  beforeAll(async () => {
    setFlags({ threads });
    be = await createCpuBackend();
  });
  afterAll(async () => {
    await be?.dispose();
  });
  return () => be!;
}
