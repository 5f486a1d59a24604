/**
 * Stage 4 of a scan (gwas/scan.ts): the stream. SNP blocks (read from the genotype file, or taken from the
 * kinship pass's GenotypeStore) are filtered and mean-imputed over the analysed individuals, grouped by the
 * decomposition that tests them (all together, or by chromosome with loco), transformed once per group (U'X,
 * or L^-1 X: the group's `transform`, O(2 n^2 m) on the backend) and handed to each of the group's tests, which
 * run while the next block is read and transformed. Memory: O(n x blockSize) per block in flight (two).
 *
 * The tests are pluggable ({@link StreamGroup}): the exact LMM's come from scan-models.ts through
 * lmmStreamGroups (scan-lmm-tests.ts); another model (a logistic mixed model, ...) supplies its own groups with
 * its own result type R. A SNP index range restricts the stream to a slice of the file (a shard).
 */
import { commonPool } from '../kernels/cpu/pool.js';
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import { collectGarbage } from '../src/memory.js';
import type { AssocColumns } from '../src/lmm/snp/assoc.js';
import type { FilteredBlock, GenotypeStore } from './genotype-store.js';
import type { ScanSamples } from './scan-samples.js';
import { SNP_STATUS } from './snp-filter.js';
import type { GenotypeSource, SnpInfo, SnpRange } from './types.js';

/** One block's results for one phenotype, rows in file order. */
export interface ResultBatch<R = AssocColumns> {
  pheno: string;
  snps: SnpInfo[];
  nMiss: Int32Array;
  af: Float64Array;
  assoc: R;
}

/** What a test sees of one block besides the transformed SNPs. */
export interface StreamBlock {
  /** Kept SNPs of this group, mean-imputed over the analysed individuals (n x m, untransformed). */
  x: F64Matrix;
  snps: SnpInfo[];
  af: Float64Array;
  nMiss: Int32Array;
}

/**
 * A per-SNP test of one phenotype: results for the m transformed columns `xt` (n x m), in column order. The
 * promise may carry help(): the stream calls it before waiting for the results, so that work queued for
 * helper threads but not yet started runs on the calling thread instead of leaving it idle.
 */
export interface StreamTest<R = AssocColumns> {
  pheno: string;
  run(xt: F64Matrix, block: StreamBlock): Promise<R> & { help?(): void };
}

/**
 * Tests that share one transform of the SNPs: the kept SNPs of chromosome `chr` (every chromosome when null)
 * are transformed once per block and handed to each test.
 */
export interface StreamGroup<R = AssocColumns> {
  chr: string | null;
  transform(x: F64Matrix): Promise<F64Matrix>;
  tests: StreamTest<R>[];
}

export interface ScanStreamOptions<R> {
  source: GenotypeSource;
  samples: ScanSamples;
  groups: StreamGroup<R>[];
  blockSize: number;
  /** SNPs [start, end) of the file, 0-based in file order (default: all). */
  range?: SnpRange;
  /** Genotypes kept by the kinship pass (used only without a range): no second read of the file. */
  store?: GenotypeStore;
  /** Called after each block with SNPs of the range read so far and the range's size. */
  onProgress?: (done: number, total: number) => void;
}

/** Counts and times of a stream, complete once its batches have been consumed. */
export interface StreamStats {
  /** Kept SNPs tested (counted once per group that tests them). */
  nTested: number;
  /** Why SNPs were dropped, counted per filter status. */
  dropped: Record<string, number>;
  /** Wall seconds reading and filtering (or draining the store), and transforming. */
  ioSeconds: number;
  transformSeconds: number;
  /** True when the blocks came from the kinship pass's store. */
  fromStore: boolean;
}

export interface ScanStream<R> {
  batches: AsyncIterable<ResultBatch<R>>;
  stats: StreamStats;
}

const now = (): number => performance.now() / 1000;

/**
 * A group's transform of at least this many columns: a thinner block is padded with zero columns (dropped
 * after). The cpu backend sums products with fewer columns in another order (plain loops, not its blocked
 * kernel), so without the padding a SNP's transformed values would depend on how many SNPs share its block,
 * and a sharded scan (other block boundaries) would differ from one process in the last bits.
 */
const MIN_TRANSFORM_COLUMNS = 8;

/** group.transform(x), with x padded to {@link MIN_TRANSFORM_COLUMNS} columns; returns x.cols columns. */
async function transformColumns<R>(group: StreamGroup<R>, x: F64Matrix): Promise<F64Matrix> {
  if (x.cols >= MIN_TRANSFORM_COLUMNS) return group.transform(x);
  const padded = f64Matrix(x.rows, MIN_TRANSFORM_COLUMNS);
  for (let j = 0; j < x.cols; j++) padded.data.set(x.data.subarray(j * x.ld, j * x.ld + x.rows), j * x.rows);
  const xt = await group.transform(padded);
  return f64Matrix(xt.rows, x.cols, xt.data.subarray(0, xt.ld * (x.cols - 1) + xt.rows), xt.ld);
}

/**
 * A finished block's shared buffers (the product's packed operand and result, which the helper threads saw) are
 * freed only once every thread that saw them has collected its garbage. Helpers that only run the small per-SNP
 * tests may not collect for the whole scan, which then keeps every block it ever rotated (n = 5,000 x 50,000
 * SNPs: 4.7 GB of RSS in the stream against the planned 0.8 GB). A full collection per block on this thread and,
 * queued behind their tasks and not awaited, on the helpers (milliseconds each) keeps the stream at the planned
 * blocks in flight.
 */
function releaseBlockBuffers(): void {
  void commonPool().collectGarbage();
  collectGarbage();
}

/** Stage 4: streams the SNPs through the groups' transforms and tests (lazily: nothing runs until iterated). */
export function streamScan<R = AssocColumns>(opts: ScanStreamOptions<R>): ScanStream<R> {
  const { source, samples, groups } = opts;
  const start = opts.range?.start ?? 0;
  const end = opts.range?.end ?? source.nSnps;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= source.nSnps)) {
    throw new RangeError(`streamScan: SNP range [${start}, ${end}) outside the ${source.nSnps} SNPs of ${source.describe}`);
  }
  const whole = start === 0 && end === source.nSnps;
  const fromStore = whole && opts.store !== undefined;
  const stats: StreamStats = { nTested: 0, dropped: {}, ioSeconds: 0, transformSeconds: 0, fromStore };
  const global = groups.filter((g) => g.chr === null);
  const byChr = new Map<string, StreamGroup<R>[]>();
  for (const g of groups) if (g.chr !== null) byChr.set(g.chr, [...(byChr.get(g.chr) ?? []), g]);

  /** The genotype file's SNPs [start, end) (the reader seeks or skips), filtered and mean-imputed over the analysed rows. */
  async function* readFiltered(): AsyncGenerator<FilteredBlock> {
    for await (const block of source.blocks(opts.blockSize, undefined, whole ? undefined : { start, end })) {
      yield { snps: block.snps, verdict: samples.filter.apply(block.dosages, samples.rows) };
    }
  }

  /** The kept SNPs of one block, grouped: per group the block columns it tests. */
  function groupColumns(block: FilteredBlock): Map<StreamGroup<R>, number[]> {
    const out = new Map<StreamGroup<R>, number[]>();
    const keptIndex = block.verdict.keptIndex;
    if (global.length > 0) {
      const all = Array.from({ length: keptIndex.length }, (_, k) => k);
      for (const g of global) out.set(g, all);
    }
    if (byChr.size === 0) return out;
    for (let k = 0; k < keptIndex.length; k++) {
      for (const g of byChr.get(block.snps[keptIndex[k]!]!.chr) ?? []) {
        const cols = out.get(g);
        if (cols) cols.push(k);
        else out.set(g, [k]);
      }
    }
    return out;
  }

  async function* batches(): AsyncGenerator<ResultBatch<R>> {
    const inFlight: { results: Promise<ResultBatch<R>[]>; help: (() => void)[] }[] = [];
    /** The oldest block's results, after running what is left of its tests on this thread. */
    const oldest = (): Promise<ResultBatch<R>[]> => {
      const b = inFlight.shift()!;
      for (const h of b.help) h();
      return b.results;
    };
    const n = samples.n;
    let done = 0;
    let tRead = now();
    const blocks = fromStore ? opts.store!.drain(opts.blockSize) : readFiltered();
    for await (const block of blocks) {
      const verdict = block.verdict;
      stats.ioSeconds += now() - tRead;
      for (let j = 0; j < verdict.status.length; j++) {
        const st = verdict.status[j]!;
        if (st !== 0) stats.dropped[SNP_STATUS[st]!] = (stats.dropped[SNP_STATUS[st]!] ?? 0) + 1;
      }
      const jobs: Promise<ResultBatch<R>>[] = [];
      const help: (() => void)[] = [];
      for (const [group, ks] of groupColumns(block)) {
        if (ks.length === 0) continue;
        // The kept columns of this group (all of them, uncopied, when it tests every kept SNP).
        let x = verdict.imputed;
        if (ks.length < x.cols) {
          x = f64Matrix(n, ks.length);
          ks.forEach((k, col) => x.data.set(verdict.imputed.data.subarray(k * n, (k + 1) * n), col * n));
        }
        const sb: StreamBlock = {
          x,
          snps: ks.map((k) => block.snps[verdict.keptIndex[k]!]!),
          nMiss: Int32Array.from(ks, (k) => verdict.nMiss[verdict.keptIndex[k]!]!),
          af: Float64Array.from(ks, (k) => verdict.af[verdict.keptIndex[k]!]!),
        };
        const t0 = now();
        const xt = await transformColumns(group, x);
        stats.transformSeconds += now() - t0;
        for (const test of group.tests) {
          const job = test.run(xt, sb);
          if (job.help) help.push(() => job.help!());
          jobs.push(job.then((assoc) => ({ pheno: test.pheno, snps: sb.snps, nMiss: sb.nMiss, af: sb.af, assoc })));
        }
        stats.nTested += ks.length;
      }
      inFlight.push({ results: Promise.all(jobs), help });
      done += block.snps.length;
      opts.onProgress?.(done, end - start);
      // Keep one block in flight: yield the previous block's results now.
      while (inFlight.length > 1) yield* await oldest();
      releaseBlockBuffers();
      tRead = now();
    }
    while (inFlight.length > 0) yield* await oldest();
  }

  return { batches: batches(), stats };
}
