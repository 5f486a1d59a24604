/**
 * The cpu Backend: f64, the oracle. Large gemm and syrk split C's columns over the process's worker pool
 * (kernels/cpu/pool.ts commonPool, thread count from the `threads` flag); everything else, and small operands, runs the
 * synchronous kernels of kernels/cpu/index.ts on the calling thread. Results are identical either way: every
 * entry of C is summed in the same order by the same kernel whichever thread computes it.
 */
import os from 'node:os';
import { getFlag } from '../../src/flags.js';
import type { Backend, BackendInfo, GemmOptions, OpName, SyrkOptions } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { checkGemm, checkSyrk } from '../validate.js';
import { cpuBatchedWeightedDot } from './batched-weighted-dot.js';
import { cpuEighWith } from './eigh.js';
import type { StridedProduct } from './eigh-products.js';
import { gemmStrided } from './gemm-core.js';
import { cpuGemm } from './gemm.js';
import { columnSplits, commonPool, productSlices, type GemmSliceArgs } from './pool.js';
import { cpuPotrf } from './potrf.js';
import { cpuSyrk, mirrorLower } from './syrk.js';
import { cpuPotrs, cpuTrsm } from './trsm.js';
import { MR, NR } from './wasm/gemm-kernel.js';

export { columnSplits };

/**
 * Chunks per thread of a large gemm or syrk, claimed by the calling thread and the helpers as each gets to
 * them (GemmPool.runChunksSync): a helper busy with other work of the process (the GWAS per-SNP tests share
 * the threads) leaves its chunks to the others instead of holding the product up.
 */
const CHUNKS_PER_THREAD = 4;

/** Products below this many flops stay on the calling thread (thread hand-off costs ~0.1 ms). */
const PARALLEL_MIN_FLOPS = 2 * 160 ** 3;

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
      description: `${model}, ${os.availableParallelism()} logical cores, ${getFlag('threads')} threads, ${os.platform()}`,
      isSoftware: false,
      limits: { logicalCores: os.availableParallelism(), threads: getFlag('threads'), totalMemoryBytes: os.totalmem() },
    },
  };
}

/**
 * A read-only operand as the helpers see it: its own data when already packed on a SharedArrayBuffer (no copy:
 * eigenvectors, earlier products), else a packed shared copy ({@link shared}).
 */
function sharedOperand(m: F64Matrix): Float64Array {
  const rows = m.rows;
  if (m.data.buffer instanceof SharedArrayBuffer && m.ld === Math.max(1, rows) && m.data.length >= rows * m.cols) return m.data.subarray(0, Math.max(1, rows * m.cols));
  return shared(m);
}

/** Packed copy of a view on a SharedArrayBuffer (visible to worker threads without copying). */
function shared(m: F64Matrix, scale = 1, lowerOnly = false): Float64Array {
  const rows = m.rows;
  const out = new Float64Array(new SharedArrayBuffer(Math.max(1, rows * m.cols) * 8));
  for (let j = 0; j < m.cols; j++) {
    for (let i = lowerOnly ? j : 0; i < rows; i++) out[i + j * rows] = scale * m.data[i + j * m.ld]!;
  }
  return out;
}

/** Creates the cpu backend (never fails; worker threads start on the first large product). */
export async function createCpuBackend(): Promise<Backend> {
  const pool = commonPool();
  let disposed = false;
  const live = (): void => {
    if (disposed) throw new Error('cpu backend: used after dispose()');
  };

  async function gemm(a: F64Matrix, b: F64Matrix, o: GemmOptions = {}): Promise<F64Matrix> {
    live();
    const { m, n, k } = checkGemm('cpu', a, b, o);
    const alpha = o.alpha ?? 1;
    if (pool.threads < 2 || 2 * m * n * k < PARALLEL_MIN_FLOPS || alpha === 0 || n < 2 * NR) return cpuGemm(a, b, o);
    const transA = o.transA ?? false, transB = o.transB ?? false;
    const as = sharedOperand(a), bs = sharedOperand(b);
    const cs = o.c && (o.beta ?? 0) !== 0 ? shared(o.c, o.beta) : new Float64Array(new SharedArrayBuffer(m * n * 8));
    const lda = Math.max(1, a.rows), ldb = Math.max(1, b.rows);
    const cuts = columnSplits(n, Math.min(CHUNKS_PER_THREAD * pool.threads, Math.floor(n / NR)), false);
    const slices: GemmSliceArgs[] = [];
    for (let t = 0; t + 1 < cuts.length; t++) {
      const j0 = cuts[t]!, j1 = cuts[t + 1]!;
      if (j1 > j0) slices.push([m, j1 - j0, k, alpha, as, 0, lda, transA, bs, transB ? j0 : j0 * ldb, ldb, transB, cs, j0 * m, m, false, 0]);
    }
    pool.runChunksSync(slices);
    return f64Matrix(m, n, cs);
  }

  async function syrk(a: F64Matrix, o: SyrkOptions = {}): Promise<F64Matrix> {
    live();
    const { n, k } = checkSyrk('cpu', a, o);
    const alpha = o.alpha ?? 1;
    if (pool.threads < 2 || n * n * k < PARALLEL_MIN_FLOPS || alpha === 0 || n < 2 * NR) return cpuSyrk(a, o);
    const trans = o.trans ?? false;
    const as = sharedOperand(a);
    const lda = Math.max(1, a.rows);
    const cs = o.c && (o.beta ?? 0) !== 0 ? shared(o.c, o.beta, true) : new Float64Array(new SharedArrayBuffer(n * n * 8));
    const cuts = columnSplits(n, Math.min(CHUNKS_PER_THREAD * pool.threads, Math.floor(n / NR)), true);
    const slices: GemmSliceArgs[] = [];
    for (let t = 0; t + 1 < cuts.length; t++) {
      const j0 = cuts[t]!, j1 = cuts[t + 1]!;
      // Lower triangle of op(A) op(A)^T, columns [j0, j1): column j of op(A)^T is row j of op(A).
      if (j1 > j0) slices.push([n, j1 - j0, k, alpha, as, 0, lda, trans, as, trans ? j0 * lda : j0, lda, !trans, cs, j0 * n, n, true, j0]);
    }
    pool.runChunksSync(slices);
    const out = f64Matrix(n, n, cs);
    mirrorLower(out.data, 0, n, n);
    return out;
  }

  /**
   * One strided product (eigh's): split by C's columns over the pool when large and every operand is shared;
   * otherwise, and for thin shapes (which gemmStrided sums in plain loops), on this thread.
   */
  async function stridedProduct(p: StridedProduct): Promise<void> {
    const [m, n, k, alpha, a, , , , b, , , , c] = p;
    const shareable = [a, b, c].every((x) => x.buffer instanceof SharedArrayBuffer);
    if (pool.threads < 2 || 2 * m * n * k < PARALLEL_MIN_FLOPS || alpha === 0 || n < 2 * NR || m < 2 * MR || !shareable) return gemmStrided(...p);
    await pool.runSlices(productSlices(p, pool.threads));
  }

  return {
    name: 'cpu',
    precision: 'f64',
    info: cpuBackendInfo,
    supports: (_op: OpName) => true,
    gemm,
    syrk,
    potrf: async (a) => (live(), cpuPotrf(a)),
    trsm: async (t, b, o) => (live(), cpuTrsm(t, b, o)),
    potrs: async (l, b) => (live(), cpuPotrs(l, b)),
    eigh: async (a) => (live(), cpuEighWith(a, stridedProduct)),
    batchedWeightedDot: async (w, a, b) => (live(), cpuBatchedWeightedDot(w, a, b)),
    hold: (_m: F64Matrix) => undefined,
    release: (_m: F64Matrix) => undefined,
    // The helper threads belong to the process (commonPool), not to this backend.
    dispose: async () => {
      disposed = true;
    },
  };
}
