/**
 * The GWAS scan driver: genotypes -> analysed individuals -> kinship -> eigendecomposition (shared by every
 * phenotype) -> null models -> streamed SNP blocks (filter, mean-impute, rotate U'X on the backend) -> exact
 * per-SNP LMM tests (src/lmm/snp) -> result batches. Memory is bounded by the block size, never the SNP count,
 * except for the genotypes kept from the kinship pass (GenotypeStore: one byte per analysed genotype of each
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
 */
import type { Backend, BackendChoice } from '../kernels/backend.js';
import { f64Matrix, packF64, type F64Matrix } from '../kernels/matrix.js';
import { createBackend } from '../kernels/select.js';
import { covariateDesign } from '../src/io/gemma-tables.js';
import { allocAssocColumns, type AssocColumns, type TestSelection } from '../src/lmm/snp/assoc.js';
import { getFlag } from '../src/flags.js';
import { fitNullModel, type NullModel, type RotatedInputs } from '../src/lmm/snp/null-model.js';
import { FixedVcWald } from '../src/lmm/snp/fixed-vc.js';
import { cachedEigen, decomposeKinship, eigenCacheKey, hashSampleIds } from './eigen-cache.js';
import { GenotypeStore, type FilteredBlock } from './genotype-store.js';
import { computeKinship, KINSHIP_BLOCK_SNPS, locoKinship, restrictAndCenter, type KinshipMode, type KinshipResult } from './kinship.js';
import { selectSamples, type KeepList, type SampleSelection } from './samples.js';
import { SNP_STATUS, SnpFilter } from './snp-filter.js';
import { SnpTestPool } from './snp-pool.js';
import type { GenotypeSource, SnpInfo } from './types.js';

/** A phenotype to scan: one value per individual of the genotype file (NaN missing). */
export interface PhenotypeInput {
  name: string;
  values: Float64Array;
}

/** Where K comes from: computed from the genotypes (GEMMA -gk 1/2) or given over all N individuals. */
export type KinshipInput = { mode: KinshipMode } | { matrix: F64Matrix; describe: string };

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
  eigenCache?: { dir: string; keyParts: Record<string, unknown>; log?: (message: string) => void };
  /** Called after each block with SNPs read so far and the total in the file. */
  onProgress?: (done: number, total: number) => void;
}

/** One block's results for one phenotype, rows in file order. */
export interface ResultBatch {
  pheno: string;
  snps: SnpInfo[];
  nMiss: Int32Array;
  af: Float64Array;
  assoc: AssocColumns;
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
}

export interface GwasScan {
  /** Null model per phenotype (with loco: per phenotype and chromosome, key `pheno` or `pheno:chr`). */
  nullModels: Map<string, NullModel>;
  batches: AsyncIterable<ResultBatch>;
  /** Complete once `batches` has been consumed. */
  summary: ScanSummary;
}

/** A decomposition and what depends on it: per phenotype, the transform of X (shared when identical) and the tests. */
interface Decomposition {
  testers: {
    pheno: string;
    /** Rotation (U' .) or whitening (L^-1 .) of an n x k matrix; phenotypes sharing it rotate X once. */
    transform: (x: F64Matrix) => Promise<F64Matrix>;
    /** The tests of one block's transformed SNPs (xt: n x m). */
    run(xt: F64Matrix): Promise<AssocColumns>;
  }[];
}

const now = (): number => performance.now() / 1000;

/** Sets up the scan (samples, kinship, decompositions, null models) and returns the lazily streamed batches. */
export async function gwasScan(opts: GwasScanOptions): Promise<GwasScan> {
  const { source } = opts;
  if (opts.phenotypes.length === 0) throw new RangeError('gwasScan: no phenotype selected');
  if (!opts.tests.wald && !opts.tests.lrt && !opts.tests.score) throw new RangeError('gwasScan: select at least one test');
  const vc = opts.vc ?? 'exact';
  if (vc === 'fixed' && (opts.tests.lrt || opts.tests.score)) throw new RangeError("gwasScan: --vc fixed gives Wald statistics only: use --test wald");
  const backend = typeof opts.backend === 'object' ? opts.backend : await createBackend(opts.backend);
  const blockSize = opts.blockSize ?? 4096;
  const timings: ScanTimings = { kinship: 0, eigh: 0, rotation: 0, optimisation: 0, io: 0, nullModel: 0 };
  const N = source.samples.length;

  // Step 1: analysed individuals and the covariate design.
  const samples = selectSamples({ ids: source.samples, phenotypes: opts.phenotypes.map((p) => p.values), ...(opts.covariates ? { covariates: opts.covariates } : {}), ...(opts.keep ? { keep: opts.keep } : {}) });
  const rows = samples.indices;
  const n = rows.length;
  const w = covariateDesign(opts.covariates, rows).w;
  const c = w.cols;
  if (n - c - 1 < 1) throw new RangeError(`gwasScan: ${n} analysed individuals and ${c} covariates leave no residual degrees of freedom`);
  const filter = new SnpFilter({ ...(opts.maf !== undefined ? { maf: opts.maf } : {}), ...(opts.miss !== undefined ? { miss: opts.miss } : {}), ...(opts.r2 !== undefined ? { r2: opts.r2 } : {}), covariates: w });
  const ys = opts.phenotypes.map((p) => {
    const y = f64Matrix(n, 1);
    for (let r = 0; r < n; r++) y.data[r] = p.values[rows[r]!]!;
    return y;
  });

  // Step 2: kinship over all N individuals (GEMMA semantics), then per-decomposition restriction + centring.
  let t = now();
  let kin: KinshipResult | undefined;
  let kAll: F64Matrix;
  /** The kinship pass's filtered genotypes, so that the stream need not read the file again (within a budget). */
  let store: GenotypeStore | undefined;
  /** Rows of kAll that are the analysed individuals (all N for a kinship file, 0..n-1 when computed for them). */
  let kRows = rows;
  if ('mode' in opts.kinship) {
    // K over the analysed individuals only (SNP moments over all N, as GEMMA): (n/N)^2 of the Gram cost.
    store = new GenotypeStore(rows, getFlag('scanStoreMb') * 2 ** 20);
    const kinshipBlock = Math.min(blockSize, KINSHIP_BLOCK_SNPS);
    kin = await computeKinship(source, { mode: opts.kinship.mode, filter, filterRows: rows, rows, backend, blockSize: kinshipBlock, store, ...(opts.loco ? { loco: true } : {}) });
    if (!store.complete) store = undefined;
    kAll = kin.k;
    kRows = Int32Array.from({ length: n }, (_, i) => i);
  } else {
    kAll = opts.kinship.matrix;
    if (kAll.rows !== N || kAll.cols !== N) throw new RangeError(`kinship ${opts.kinship.describe} is ${kAll.rows}x${kAll.cols}, expected ${N}x${N} (one row per individual of ${source.describe})`);
    if (opts.loco) throw new RangeError('--loco needs the kinship computed from the genotypes (--grm), not a kinship file');
  }
  timings.kinship += now() - t;

  const nullModels = new Map<string, NullModel>();
  const pool = new SnpTestPool(opts.threads ?? getFlag('threads'));
  /** Eigendecomposition of a restricted, centred K (chr: the chromosome left out, null for all), through the eigen cache when one is given. */
  const eigenOf = async (kc: F64Matrix, chr: string | null) => {
    const t0 = now();
    const cache = opts.eigenCache;
    const cacheKey = cache ? eigenCacheKey({ ...cache.keyParts, samples: hashSampleIds(samples.ids), chr }) : '';
    const { eig } = await cachedEigen(cache?.dir, cacheKey, n, () => decomposeKinship(kc, backend), cache?.log);
    timings.eigh += now() - t0;
    return eig;
  };
  const makeDecomposition = async (k: F64Matrix, key: (pheno: string) => string, chr?: string): Promise<Decomposition> => {
    const kc = restrictAndCenter(k, kRows);
    if (vc === 'fixed') return fixedDecomposition(kc, key);
    const { values, vectors } = await eigenOf(kc, chr ?? null);
    backend.hold(vectors);
    const transform = (x: F64Matrix): Promise<F64Matrix> => backend.gemm(vectors, x, { transA: true });
    const t0 = now();
    const uw = await transform(w);
    const testers: Decomposition['testers'] = [];
    for (const [pi, p] of opts.phenotypes.entries()) {
      const uy = await transform(ys[pi]!);
      const inputs: RotatedInputs = { d: values, uw: uw.data, c, uy: uy.data };
      const nm = fitNullModel(inputs);
      nullModels.set(key(p.name), nm);
      const id = key(p.name);
      pool.register(id, inputs, nm, opts.tests);
      testers.push({ pheno: p.name, transform, run: (xt) => pool.run(id, packF64(xt).data, n, xt.cols) });
    }
    timings.nullModel += now() - t0;
    return { testers };
  };

  /** EMMAX/P3D: null models from one eigendecomposition of the global K, then whitening by chol(vg K + ve I). */
  let globalNull: Map<string, NullModel> | undefined;
  const fixedDecomposition = async (kc: F64Matrix, key: (pheno: string) => string): Promise<Decomposition> => {
    if (!globalNull) {
      const { values, vectors } = await eigenOf(restrictAndCenter(kAll, kRows), null);
      const t0 = now();
      const uw = await backend.gemm(vectors, w, { transA: true });
      globalNull = new Map();
      for (const [pi, p] of opts.phenotypes.entries()) {
        const uy = await backend.gemm(vectors, ys[pi]!, { transA: true });
        globalNull.set(p.name, fitNullModel({ d: values, uw: uw.data, c, uy: uy.data }));
      }
      timings.nullModel += now() - t0;
    }
    const testers: Decomposition['testers'] = [];
    for (const [pi, p] of opts.phenotypes.entries()) {
      const nm = globalNull.get(p.name)!;
      nullModels.set(key(p.name), nm);
      // Step: V = vg K + ve I = L L' (potrf), whitening x -> L^-1 x (trsm).
      const v = f64Matrix(n, n);
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) v.data[i + j * n] = nm.vg * kc.data[i + j * n]! + (i === j ? nm.ve : 0);
      const t0 = now();
      const l = await backend.potrf(v);
      timings.eigh += now() - t0;
      const transform = (x: F64Matrix): Promise<F64Matrix> => backend.trsm(l, x, { side: 'left', lower: true });
      const wald = new FixedVcWald(await transform(w), (await transform(ys[pi]!)).data, nm);
      testers.push({
        pheno: p.name, transform, run: async (xt) => {
          const t1 = now();
          const out = allocAssocColumns(xt.cols);
          wald.testInto(xt, out, 0);
          pool.seconds += now() - t1;
          return out;
        },
      });
    }
    return { testers };
  };

  const summary: ScanSummary = {
    nIndividuals: N, nAnalysed: n, nSnps: source.nSnps, nTested: 0, dropped: {}, timings, samples, c, backend: backend.name,
    genotypePasses: kin && !store ? 2 : 1,
  };

  // Step 3: decompositions (one, or one per chromosome with loco) and null models, built before streaming.
  const decompositions = new Map<string, Decomposition>();
  let global: Decomposition | undefined;
  if (opts.loco) {
    const chrs = [...new Set(source.snps.map((s) => s.chr))];
    for (const chr of chrs) {
      if (!kin!.chromosomes!.has(chr)) continue; // no kinship SNP there: no SNP of it will be tested either
      const t0 = now();
      const kLoco = locoKinship(kin!, chr);
      timings.kinship += now() - t0;
      decompositions.set(chr, await makeDecomposition(kLoco, (p) => `${p}:${chr}`, chr));
    }
  } else {
    global = await makeDecomposition(kAll, (p) => p);
  }

  /** The genotype file read again, block by block, filtered and mean-imputed over the analysed rows. */
  async function* readFiltered(): AsyncGenerator<FilteredBlock> {
    for await (const block of source.blocks(blockSize)) yield { snps: block.snps, verdict: filter.apply(block.dosages, rows) };
  }

  /** Filters (or takes from the store) and transforms each block, and starts its tests; the tests of block b run while block b+1 is read and rotated. */
  async function* stream(): AsyncGenerator<ResultBatch> {
    const inFlight: Promise<ResultBatch[]>[] = [];
    let done = 0;
    let tRead = now();
    const blocks = store ? store.drain(blockSize) : readFiltered();
    store = undefined;
    try {
      for await (const block of blocks) {
        const verdict = block.verdict;
        timings.io += now() - tRead;
        for (let j = 0; j < verdict.status.length; j++) {
          const st = verdict.status[j]!;
          if (st !== 0) summary.dropped[SNP_STATUS[st]!] = (summary.dropped[SNP_STATUS[st]!] ?? 0) + 1;
        }
        // Group the kept SNPs by decomposition (all together, or per chromosome with loco).
        const groups = new Map<Decomposition, number[]>();
        verdict.keptIndex.forEach((j, k) => {
          const dec = global ?? decompositions.get(block.snps[j]!.chr);
          if (!dec) return;
          const g = groups.get(dec);
          if (g) g.push(k);
          else groups.set(dec, [k]);
        });
        const jobs: Promise<ResultBatch>[] = [];
        for (const [dec, ks] of groups) {
          // The kept columns of this group (all of them, uncopied, without loco).
          let x = verdict.imputed;
          if (ks.length < x.cols) {
            x = f64Matrix(n, ks.length);
            ks.forEach((k, col) => x.data.set(verdict.imputed.data.subarray(k * n, (k + 1) * n), col * n));
          }
          const snps = ks.map((k) => block.snps[verdict.keptIndex[k]!]!);
          const nMiss = Int32Array.from(ks, (k) => verdict.nMiss[verdict.keptIndex[k]!]!);
          const af = Float64Array.from(ks, (k) => verdict.af[verdict.keptIndex[k]!]!);
          const transformed = new Map<Decomposition['testers'][number]['transform'], F64Matrix>();
          for (const tester of dec.testers) {
            const t0 = now();
            let xt = transformed.get(tester.transform);
            if (!xt) {
              xt = await tester.transform(x);
              transformed.set(tester.transform, xt);
            }
            timings.rotation += now() - t0;
            jobs.push(tester.run(xt).then((assoc) => ({ pheno: tester.pheno, snps, nMiss, af, assoc })));
          }
          summary.nTested += ks.length;
        }
        inFlight.push(Promise.all(jobs));
        done += block.snps.length;
        opts.onProgress?.(done, source.nSnps);
        // Keep one block in flight: yield the previous block's results now.
        while (inFlight.length > 1) yield* await inFlight.shift()!;
        tRead = now();
      }
      while (inFlight.length > 0) yield* await inFlight.shift()!;
    } finally {
      timings.optimisation = pool.seconds;
      await pool.dispose();
    }
  }

  return { nullModels, batches: stream(), summary };
}
