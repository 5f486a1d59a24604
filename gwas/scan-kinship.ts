/**
 * Stage 2 of a scan (gwas/scan.ts): the kinship K of the analysed individuals, computed from the genotypes
 * (GEMMA -gk 1/2: SNP moments over all N individuals, the Gram only over the n analysed, (n/N)^2 of its cost)
 * or given over all N (a kinship file). The computing pass can keep the filtered genotypes it read
 * (GenotypeStore, within a byte budget), so that the stream stage need not read the genotype file again.
 * Memory: K (8 n^2 bytes computed, 8 N^2 given), with loco one Gram per chromosome, plus the store.
 */
import type { Backend } from '../kernels/backend.js';
import type { F64Matrix } from '../kernels/matrix.js';
import { GenotypeStore } from './genotype-store.js';
import { computeKinship, KINSHIP_BLOCK_SNPS, type KinshipMode, type KinshipResult } from './kinship.js';
import type { ScanSamples } from './scan-samples.js';
import type { GenotypeSource } from './types.js';

/** Where K comes from: computed from the genotypes (GEMMA -gk 1/2) or given over all N individuals. */
export type KinshipInput = { mode: KinshipMode } | { matrix: F64Matrix; describe: string };

export interface ScanKinshipOptions {
  backend: Backend;
  /** SNPs per block of the computing pass (capped at KINSHIP_BLOCK_SNPS). */
  blockSize: number;
  /** Keep per-chromosome Gram matrices for leave-one-chromosome-out decompositions. */
  loco?: boolean;
  /** Most bytes of analysed genotypes to keep for the stream stage (0: keep none). */
  storeBytes: number;
}

/** K as the decomposition stage needs it. */
export interface ScanKinship {
  /** The kinship (n x n when computed for the analysed individuals, N x N when given). */
  k: F64Matrix;
  /** Rows (and columns) of `k` that are the analysed individuals, ascending. */
  rows: Int32Array;
  /** The file a given K was read from (as the user named it), for messages; absent for a computed K. */
  describe?: string;
  /** The computing pass's result (SNP count, per-chromosome Grams with loco); absent for a given K. */
  computed?: KinshipResult;
  /** The kinship pass's filtered genotypes, when every block fitted the budget: the stream reads these instead. */
  store?: GenotypeStore;
  /** Wall seconds of this stage. */
  seconds: number;
}

/**
 * Stage 2: K over the analysed individuals. Cost O(n^2 m) (integer syrk) plus O(N m) decoding; for a given K,
 * only its shape is checked. Throws RangeError for a K of the wrong shape, or loco with a given K.
 */
export async function scanKinship(source: GenotypeSource, samples: ScanSamples, input: KinshipInput, opts: ScanKinshipOptions): Promise<ScanKinship> {
  const t0 = performance.now();
  const N = source.samples.length;
  if ('matrix' in input) {
    const k = input.matrix;
    if (k.rows !== N || k.cols !== N) throw new RangeError(`kinship ${input.describe} is ${k.rows}x${k.cols}, expected ${N}x${N} (one row per individual of ${source.describe})`);
    if (opts.loco) throw new RangeError('--loco needs the kinship computed from the genotypes (--grm), not a kinship file');
    return { k, rows: samples.rows, describe: input.describe, seconds: (performance.now() - t0) / 1000 };
  }
  let store: GenotypeStore | undefined = opts.storeBytes > 0 ? new GenotypeStore(samples.rows, opts.storeBytes) : undefined;
  const computed = await computeKinship(source, {
    mode: input.mode, filter: samples.filter, filterRows: samples.rows, rows: samples.rows, backend: opts.backend,
    blockSize: Math.min(opts.blockSize, KINSHIP_BLOCK_SNPS), ...(store ? { store } : {}), ...(opts.loco ? { loco: true } : {}),
  });
  if (store && !store.complete) store = undefined;
  const rows = Int32Array.from({ length: samples.n }, (_, i) => i);
  return { k: computed.k, rows, computed, ...(store ? { store } : {}), seconds: (performance.now() - t0) / 1000 };
}
