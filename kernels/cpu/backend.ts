/**
 * The cpu Backend: f64, the oracle. Each op runs the synchronous kernels of kernels/cpu/index.ts.
 */
import os from 'node:os';
import type { Backend, BackendInfo, OpName } from '../backend.js';
import type { F64Matrix } from '../matrix.js';
import { cpuBatchedWeightedDot } from './batched-weighted-dot.js';
import { cpuEigh } from './eigh.js';
import { cpuGemm } from './gemm.js';
import { cpuPotrf } from './potrf.js';
import { cpuSyrk } from './syrk.js';
import { cpuPotrs, cpuTrsm } from './trsm.js';

/** The host CPU as an adapter record (model from os.cpus(), cores and memory as limits). */
export async function cpuBackendInfo(): Promise<BackendInfo> {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown cpu';
  return {
    name: 'cpu',
    available: true,
    precision: 'f64',
    adapter: {
      vendor: model.split(/\s+/)[0] ?? 'unknown',
      architecture: os.arch(),
      device: model,
      description: `${model}, ${os.availableParallelism()} logical cores, ${os.platform()}`,
      isSoftware: false,
      limits: { logicalCores: os.availableParallelism(), totalMemoryBytes: os.totalmem() },
    },
  };
}

/** Creates the cpu backend (never fails). */
export async function createCpuBackend(): Promise<Backend> {
  let disposed = false;
  const live = (): void => {
    if (disposed) throw new Error('cpu backend: used after dispose()');
  };
  return {
    name: 'cpu',
    precision: 'f64',
    info: cpuBackendInfo,
    supports: (_op: OpName) => true,
    gemm: async (a, b, o) => (live(), cpuGemm(a, b, o)),
    syrk: async (a, o) => (live(), cpuSyrk(a, o)),
    potrf: async (a) => (live(), cpuPotrf(a)),
    trsm: async (t, b, o) => (live(), cpuTrsm(t, b, o)),
    potrs: async (l, b) => (live(), cpuPotrs(l, b)),
    eigh: async (a) => (live(), cpuEigh(a)),
    batchedWeightedDot: async (w, a, b) => (live(), cpuBatchedWeightedDot(w, a, b)),
    hold: (_m: F64Matrix) => undefined,
    release: (_m: F64Matrix) => undefined,
    dispose: async () => {
      disposed = true;
    },
  };
}
