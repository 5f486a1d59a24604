/**
 * The GWAS scan driver: genotypes -> analysed individuals -> kinship -> eigendecomposition (shared by every
 * phenotype) -> null models -> streamed SNP blocks (filter, mean-impute, rotate U'X on the backend) -> exact
 * per-SNP LMM tests (src/lmm/snp) -> result batches. Memory is bounded by the block size, never the SNP count,
 * except for the genotypes kept from the kinship pass (GenotypeStore: two bits per analysed genotype of each
 * kept SNP, at most the `scanStoreMb` flag), which spare the scan a second read of the genotype file.
 *
 * Modes:
 * - default: GEMMA 0.98.5 -lmm 1/2/3/4 on K = U D U' (one eigendecomposition, O(n^3), reused by every phenotype);
 * - loco: each chromosome's SNPs are tested against K built without that chromosome (one eigendecomposition and
 *   one null model per chromosome and phenotype);
 * - vc 'fixed' (EMMAX / P3D): lambda fixed at the null REML value; with V = vg K + ve I = L L' (potrf), the
 *   whitened columns L^-1 [W, x, y] (trsm, O(n^2 m) instead of rotation's 2 n^2 m) give GLS Wald statistics
 *   with no per-SNP optimisation and no eigendecomposition per chromosome under loco.
 * Costs: kinship O(N^2 m) (syrk), eigh O(n^3), rotation O(2 n^2 m) (gemm), tests O(m n (c+2)^2 x evaluations).
 *
 * {@link gwasScan} is the composition of four stages, each usable on its own (as lme4 splits lFormula /
 * mkLmerDevfun / optimizeLmer): scanSamples (scan-samples.ts) -> scanKinship (scan-kinship.ts) ->
 * centredKinship + decomposeCentredKinship + fitEigenModels / fitWhitenedModels (scan-models.ts: the
 * serialisable ScanModels) -> streamScan (scan-stream.ts) over the groups of lmmStreamGroups
 * (scan-lmm-tests.ts), or any other model's groups, optionally over a SNP range.
 */
import type { Backend, BackendChoice } from '../kernels/backend.js';
import type { F64Matrix } from '../kernels/matrix.js';
import { commonPool } from '../kernels/cpu/pool.js';
import { createBackend } from '../kernels/select.js';
import type { AssocColumns, TestSelection } from '../src/lmm/snp/assoc.js';
import { getFlag } from '../src/flags.js';
import { collectGarbage, machineMemoryBytes, peakRssBytes, resetPeakRss } from '../src/memory.js';
import type { NullModel } from '../src/lmm/snp/null-model.js';
import type { KeepList, SampleSelection } from './samples.js';
import { DEFAULT_MEMORY_FRACTION, planScanMemory, type ScanMemoryPlan } from './memory-model.js';
import { scanKinship, type KinshipInput, type ScanKinship } from './scan-kinship.js';
import { lmmStreamGroups, nullModelKey, releaseLmmModels } from './scan-lmm-tests.js';
import { centredKinship, checkKinshipSpectrum, decomposeCentredKinship, fitEigenModels, fitWhitenedModels, locoChromosomes, type EigenCacheOptions, type EigenModels, type KinshipEigen, type ScanModels } from './scan-models.js';
import { phenotypePatterns, scanSamples, type PhenotypeInput, type ScanSamples } from './scan-samples.js';
import { streamScan, type ResultBatch } from './scan-stream.js';
import { hashSampleIds } from './eigen-cache.js';
import { SnpTestPool } from './snp-pool.js';
import type { GenotypeSource } from './types.js';

export type { KinshipInput, PhenotypeInput, ResultBatch };

export interface GwasScanOptions {
  source: GenotypeSource;
  phenotypes: PhenotypeInput[];
  /** Raw covariates, N x c (NaN missing); GEMMA's intercept rule is applied. */
  covariates?: F64Matrix;
  keep?: KeepList;
  kinship: KinshipInput;
  tests: TestSelection;
  maf?: number;
  miss?: number;
  r2?: number;
  loco?: boolean;
  vc?: 'exact' | 'fixed';
  backend?: Backend | BackendChoice;
  blockSize?: number;
  /** Threads for the per-SNP tests (default: the `threads` flag). */
  threads?: number;
  /** Reuse eigendecompositions stored in `dir`; `keyParts` must identify K (files, mode, filters); samples and chromosome are added. */
  eigenCache?: EigenCacheOptions;
  /** Called after each block with SNPs read so far and the total in the file. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Most bytes the scan may use (default: DEFAULT_MEMORY_FRACTION of the machine's memory): picks the block
   * size (at most `blockSize`) and whether the kinship pass's genotypes are kept; a scan that cannot fit
   * throws ResourceError before any heavy work.
   */
  maxMemoryBytes?: number;
  /** How messages name the memory limit (default 'maxMemoryBytes'; the CLI: '--max-memory'). */
  memoryLimitName?: string;
  /** Called with the memory plan before the heavy work starts. */
  onMemoryPlan?: (plan: ScanMemoryPlan) => void;
  /**
   * Phenotypes with different missing individuals: 'intersect' (default; GEMMA's rule for several -n) analyses
   * all of them on the individuals that have every one; 'separate' groups them by missingness pattern and
   * analyses each group on its own individuals (one restriction of K, decomposition and stream per pattern),
   * each phenotype then as GEMMA's separate -n k run on the same K.
   */
  phenotypeMissing?: 'intersect' | 'separate';
}

/**
 * Seconds spent per stage (printed by --verbose): wall seconds on the calling thread, except `optimisation`,
 * which sums the per-SNP test time over the test threads (it overlaps reading and rotation).
 */
export interface ScanTimings {
  kinship: number;
  eigh: number;
  rotation: number;
  optimisation: number;
  io: number;
  nullModel: number;
}

export interface ScanSummary {
  nIndividuals: number;
  nAnalysed: number;
  nSnps: number;
  nTested: number;
  /** Why SNPs were dropped, counted per filter status. */
  dropped: Record<string, number>;
  timings: ScanTimings;
  samples: SampleSelection;
  /** Number of covariates (intercept included). */
  c: number;
  /** Reads of the genotype file: 1 when the scan reused the kinship pass (GenotypeStore), else 2 (1 with a kinship file). */
  genotypePasses: number;
  backend: string;
  /** With phenotypeMissing 'separate' and several patterns: each pattern's phenotypes and individuals (nAnalysed above is their union). */
  patterns?: { phenotypes: string[]; nAnalysed: number; samples: SampleSelection }[];
  /** The memory plan, and the peak RSS of each stage (bytes; Linux measures the exact peak, elsewhere the RSS at its end). */
  memory?: { plan: ScanMemoryPlan; peakRss: { kinship: number; decompositions: number; stream: number } };
}

export interface GwasScan {
  /** Null model per phenotype (with loco: per phenotype and chromosome, key `pheno` or `pheno:chr`). */
  nullModels: Map<string, NullModel>;
  batches: AsyncIterable<ResultBatch<AssocColumns>>;
  /** Complete once `batches` has been consumed. */
  summary: ScanSummary;
}

/** Sets up the scan (stages 1-3: samples, kinship, decompositions and null models) and returns the lazily streamed batches (stage 4). */
export async function gwasScan(opts: GwasScanOptions): Promise<GwasScan> {
  const { source } = opts;
  if (opts.phenotypes.length === 0) throw new RangeError('gwasScan: no phenotype selected');
  if (!opts.tests.wald && !opts.tests.lrt && !opts.tests.score) throw new RangeError('gwasScan: select at least one test');
  const vc = opts.vc ?? 'exact';
  if (vc === 'fixed' && (opts.tests.lrt || opts.tests.score)) throw new RangeError("gwasScan: --vc fixed gives Wald statistics only: use --test wald");
  const backend = typeof opts.backend === 'object' ? opts.backend : await createBackend(opts.backend);
  const threads = opts.threads ?? getFlag('threads');
  const timings: ScanTimings = { kinship: 0, eigh: 0, rotation: 0, optimisation: 0, io: 0, nullModel: 0 };

  // Stage 1: analysed individuals, W, phenotypes, SNP filter: one set for all phenotypes, or one per
  // missingness pattern (then K is computed for the individuals with any phenotype, and restricted per pattern).
  const common = { ids: source.samples, ...pick(opts, ['covariates', 'keep', 'maf', 'miss', 'r2']) };
  const groups = opts.phenotypeMissing === 'separate' ? phenotypePatterns({ ...common, phenotypes: opts.phenotypes }) : [opts.phenotypes];
  const patterns = groups.map((phenotypes) => scanSamples({ ...common, phenotypes }));
  const samples = patterns.length === 1 ? patterns[0]! : scanSamples({ ...common, phenotypes: [anyPhenotype(opts.phenotypes)] });

  // The memory plan: block size and genotype store within the limit, or a ResourceError now.
  const plan = planScanMemory({
    N: source.samples.length, n: samples.n, m: source.nSnps, phenotypes: opts.phenotypes.length, threads,
    kinship: 'mode' in opts.kinship ? opts.kinship.mode : 'given', vc, patterns: patterns.length,
    locoChromosomes: opts.loco ? new Set(source.snps.map((x) => x.chr)).size : 0,
  }, {
    limitBytes: opts.maxMemoryBytes ?? DEFAULT_MEMORY_FRACTION * machineMemoryBytes(), blockSize: opts.blockSize ?? 4096,
    storeCapBytes: patterns.length === 1 ? getFlag('scanStoreMb') * 2 ** 20 : 0, ...(opts.memoryLimitName ? { limitName: opts.memoryLimitName } : {}),
  });
  opts.onMemoryPlan?.(plan);
  const blockSize = plan.blockSize;
  const peakRss = { kinship: 0, decompositions: 0, stream: 0 };

  // Stage 2: kinship (and the genotypes of its pass, within the store budget).
  resetPeakRss();
  let kin: ScanKinship | undefined = await scanKinship(source, samples, opts.kinship, { backend, blockSize, ...(opts.loco ? { loco: true } : {}), storeBytes: plan.storeBytes });
  timings.kinship += kin.seconds;
  const store = kin.store;
  const genotypePasses = (kin.computed && !store ? 2 : 1) + patterns.length - 1;
  peakRss.kinship = peakRssBytes();

  // Stage 3: decompositions (one, or one per chromosome with loco; per pattern) and null models; K is released after.
  await collectAllGarbage(threads);
  resetPeakRss();
  const models: (ScanModels | undefined)[] = [];
  for (const [p, pattern] of patterns.entries()) {
    const view = patterns.length === 1 ? kin : restrictKinship(kin, samples, pattern);
    models.push(await buildModels(source, pattern, view, {
      backend, vc, loco: !!opts.loco, consumeKinship: !opts.loco && p === patterns.length - 1, ...(opts.eigenCache ? { eigenCache: opts.eigenCache } : {}),
    }, timings));
  }
  kin = undefined;
  peakRss.decompositions = peakRssBytes();
  const nullModels = new Map<string, NullModel>();
  for (const m of models) for (const dec of m!.decompositions) for (const p of dec.phenotypes) nullModels.set(nullModelKey(p.pheno, dec.chr), p.nullModel);

  // Stage 4: the stream (one per pattern, one after the other), on the process's threads.
  const pool = new SnpTestPool(threads);
  const summary: ScanSummary = {
    nIndividuals: source.samples.length, nAnalysed: samples.n, nSnps: source.nSnps, nTested: 0, dropped: {}, timings,
    samples: samples.selection, c: samples.c, backend: backend.name, genotypePasses, memory: { plan, peakRss },
    ...(patterns.length > 1 ? { patterns: patterns.map((q) => ({ phenotypes: q.phenotypes.map((x) => x.name), nAnalysed: q.n, samples: q.selection })) } : {}),
  };
  /** Progress of the patterns already streamed, in SNPs x (their phenotypes / all phenotypes). */
  let before = 0;
  async function* batches(): AsyncGenerator<ResultBatch<AssocColumns>> {
    await collectAllGarbage(threads);
    resetPeakRss();
    try {
      for (const [p, pattern] of patterns.entries()) {
        const share = pattern.phenotypes.length / opts.phenotypes.length;
        const stream = streamScan({
          source, samples: pattern, groups: lmmStreamGroups(models[p]!, { backend, pool, tests: opts.tests }), blockSize, ...(store ? { store } : {}),
          ...(opts.onProgress ? { onProgress: (done: number, total: number) => opts.onProgress!(Math.round(before + done * share), total) } : {}),
        });
        try {
          yield* stream.batches;
        } finally {
          const st = stream.stats;
          summary.nTested += st.nTested;
          for (const [k, v] of Object.entries(st.dropped)) summary.dropped[k] = (summary.dropped[k] ?? 0) + v;
          timings.io += st.ioSeconds;
          timings.rotation += st.transformSeconds;
          releaseLmmModels(models[p]!, backend);
          models[p] = undefined;
          before += source.nSnps * share;
        }
      }
    } finally {
      peakRss.stream = peakRssBytes();
      timings.optimisation = pool.seconds;
      for (const m of models) if (m) releaseLmmModels(m, backend);
      await pool.dispose();
    }
  }
  return { nullModels, batches: batches(), summary };
}

/** A phenotype present wherever any of `phenotypes` is (0), else missing: selects the union of their individuals. */
function anyPhenotype(phenotypes: readonly PhenotypeInput[]): PhenotypeInput {
  const n = phenotypes[0]!.values.length;
  const values = new Float64Array(n).fill(Number.NaN);
  for (const p of phenotypes) for (let i = 0; i < n; i++) if (!Number.isNaN(p.values[i]!)) values[i] = 0;
  return { name: '(any phenotype)', values };
}

/**
 * The kinship of stage 2 (over the individuals of `all`) as seen by one pattern's individuals (a subset):
 * K itself is shared, only the rows differ (positions within `all` for a computed K, file indices for a given K).
 */
function restrictKinship(kin: ScanKinship, all: ScanSamples, pattern: ScanSamples): ScanKinship {
  if (!kin.computed) return { k: kin.k, rows: pattern.rows, ...(kin.describe !== undefined ? { describe: kin.describe } : {}), seconds: 0 };
  const at = new Map<number, number>();
  all.rows.forEach((i, pos) => at.set(i, pos));
  return { k: kin.k, rows: Int32Array.from(pattern.rows, (i) => at.get(i)!), computed: kin.computed, seconds: 0 };
}

/**
 * Stage 3 as gwasScan (and a sharded run's null step) runs it: one eigendecomposition (per chromosome left out
 * with loco) and the null models, or for fixed VC the global null models and a whitening per decomposition. K
 * is centred in place when no later decomposition needs it.
 */
export async function buildModels(
  source: GenotypeSource, samples: ScanSamples, kin: ScanKinship,
  o: { backend: Backend; vc: 'exact' | 'fixed'; loco: boolean; eigenCache?: EigenCacheOptions; consumeKinship?: boolean }, timings: ScanTimings,
): Promise<ScanModels> {
  const models: ScanModels = { n: samples.n, c: samples.c, samplesHash: hashSampleIds(samples.selection.ids), decompositions: [] };
  /** K_c and its decomposition; K_c is kept only when asked (fixed VC whitens with it), else freed during the eigh. */
  const decompose = async (chr: string | null, keep: boolean) => {
    const t0 = performance.now();
    let kc: F64Matrix | undefined = centredKinship(kin, chr, o.consumeKinship ?? !o.loco);
    timings.kinship += (performance.now() - t0) / 1000;
    const pending = decomposeCentredKinship(kc, chr, samples, o.backend, o.eigenCache);
    const kept = keep ? kc : undefined;
    kc = undefined;
    const eig = await pending;
    timings.eigh += eig.seconds;
    if (kin.describe !== undefined) checkKinshipSpectrum(eig.values, kin.describe);
    return { kc: kept, eig };
  };
  const fit = async (eig: KinshipEigen): Promise<EigenModels> => {
    const m = await fitEigenModels(eig, samples, o.backend);
    timings.nullModel += m.seconds;
    return m;
  };
  const chrs = o.loco ? locoChromosomes(source, kin) : [null];
  if (o.vc === 'exact') {
    for (const chr of chrs) models.decompositions.push(await fit((await decompose(chr, false)).eig));
    return models;
  }
  // EMMAX/P3D: null models from the global K's eigendecomposition, then whitening per chromosome left out.
  const { kc, eig } = await decompose(null, true);
  const global = await fit(eig);
  for (const chr of chrs) {
    const w = await fitWhitenedModels(chr === null ? kc! : centredKinship(kin, chr), chr, global, samples, o.backend);
    timings.eigh += w.seconds;
    models.decompositions.push(w);
  }
  return models;
}

/** Garbage collection on this thread and the process's helpers, between stages (see GemmPool.collectGarbage). */
async function collectAllGarbage(threads: number): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve)); // off the finished stage's stack first
  await commonPool(threads).collectGarbage();
  collectGarbage();
}

/** The entries of `o` named in `keys` that are defined. */
function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
