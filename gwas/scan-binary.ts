/**
 * A scan of binary traits (case/control): the stages of gwas/scan.ts with the logistic mixed model in place of
 * the LMM. scanSamples -> scanKinship -> per decomposition (the centred K, or K without one chromosome with
 * loco) and phenotype the PQL/AI-REML null model (src/lmm/binary/null-model.ts: Sigma = diag(1/w) + tau K_c =
 * L L') -> streamScan with one group per (decomposition, phenotype) whose transform whitens the SNPs, L^-1 X
 * (trsm, n^2 flops per SNP: half the rotation U'X of the exact LMM), and whose test is the variance-adjusted
 * score test with SPA p-values and Firth effects below a p threshold (src/lmm/binary/score-test.ts).
 * Phenotypes must already be coded 0/1 (src/lmm/binary/coding.ts). Memory: K_c and, per phenotype, L
 * (8 n^2 bytes each) plus the null model's transient n x n matrices.
 */
import type { Backend, BackendChoice } from '../kernels/backend.js';
import type { F64Matrix } from '../kernels/matrix.js';
import { createBackend } from '../kernels/select.js';
import { getFlag } from '../src/flags.js';
import { fitBinaryNullModel, type BinaryNullSummary } from '../src/lmm/binary/null-model.js';
import { allocBinaryColumns, BinaryScoreTest, type BinaryAssocColumns } from '../src/lmm/binary/score-test.js';
import type { KeepList } from './samples.js';
import type { ScanSummary, ScanTimings } from './scan.js';
import { scanKinship, type KinshipInput } from './scan-kinship.js';
import { nullModelKey } from './scan-lmm-tests.js';
import { centredKinship, locoChromosomes } from './scan-models.js';
import { scanSamples, type PhenotypeInput } from './scan-samples.js';
import { streamScan, type ResultBatch, type StreamBlock, type StreamGroup } from './scan-stream.js';
import type { GenotypeSource } from './types.js';

export interface BinaryScanOptions {
  source: GenotypeSource;
  /** Phenotypes coded 0 (control) / 1 (case), NaN missing, over all individuals of the genotype file. */
  phenotypes: PhenotypeInput[];
  covariates?: F64Matrix;
  keep?: KeepList;
  kinship: KinshipInput;
  maf?: number;
  miss?: number;
  r2?: number;
  loco?: boolean;
  backend?: Backend | BackendChoice;
  blockSize?: number;
  /** Variants with p below this get Firth's beta and se (default 0.05). */
  firthP?: number;
  /** GMMAT's convergence tolerance of the null model (default 1e-5). */
  nullTol?: number;
  onProgress?: (done: number, total: number) => void;
  /** Null-model iteration messages (--verbose). */
  log?: (message: string) => void;
}

export interface BinaryScan {
  /** Null model per phenotype (with loco: per phenotype and chromosome, key `pheno` or `pheno:chr`). */
  nullModels: Map<string, BinaryNullSummary>;
  batches: AsyncIterable<ResultBatch<BinaryAssocColumns>>;
  /** Complete once `batches` has been consumed (timings: `rotation` is the whitening, `optimisation` the tests). */
  summary: ScanSummary;
}

/**
 * Which individuals of a block column are missing: the mean-imputed value 2 af marks them (SnpFilter imputes with
 * exactly that number). Used only when the marked count equals n_miss (a hard call equal to 2 af, af = 0.5 on
 * 0/1/2 data, would be ambiguous); undefined otherwise or when nothing is missing. O(n m).
 */
function missingMask(block: StreamBlock): Uint8Array | undefined {
  const { x, af, nMiss } = block;
  if (!nMiss.some((v) => v > 0)) return undefined;
  const n = x.rows;
  const mask = new Uint8Array(n * x.cols);
  for (let j = 0; j < x.cols; j++) {
    if (nMiss[j] === 0) continue;
    const fill = 2 * af[j]!;
    let count = 0;
    for (let i = 0; i < n; i++) if (x.data[i + j * x.ld] === fill) count++;
    if (count !== nMiss[j]) continue;
    for (let i = 0; i < n; i++) if (x.data[i + j * x.ld] === fill) mask[i + j * n] = 1;
  }
  return mask;
}

/** Sets up a binary-trait scan (samples, kinship, null models) and returns the lazily streamed batches. */
export async function binaryScan(opts: BinaryScanOptions): Promise<BinaryScan> {
  const { source } = opts;
  const backend = typeof opts.backend === 'object' ? opts.backend : await createBackend(opts.backend);
  const blockSize = opts.blockSize ?? 4096;
  const timings: ScanTimings = { kinship: 0, eigh: 0, rotation: 0, optimisation: 0, io: 0, nullModel: 0 };
  for (const p of opts.phenotypes) {
    for (const v of p.values) if (!(Number.isNaN(v) || v === 0 || v === 1)) throw new RangeError(`binaryScan: phenotype ${p.name} has the value ${v}; code binary traits 0 (control) / 1 (case)`);
  }

  // Stages 1-2: analysed individuals, covariates, SNP filter; the kinship.
  const { covariates, keep, maf, miss, r2 } = opts;
  const samples = scanSamples({
    ids: source.samples, phenotypes: opts.phenotypes, ...(covariates ? { covariates } : {}), ...(keep ? { keep } : {}),
    ...(maf !== undefined ? { maf } : {}), ...(miss !== undefined ? { miss } : {}), ...(r2 !== undefined ? { r2 } : {}),
  });
  const kin = await scanKinship(source, samples, opts.kinship, { backend, blockSize, ...(opts.loco ? { loco: true } : {}), storeBytes: getFlag('scanStoreMb') * 2 ** 20 });
  timings.kinship += kin.seconds;

  // Stage 3: per decomposition and phenotype, the logistic mixed null model and its whitening group.
  const nullModels = new Map<string, BinaryNullSummary>();
  const groups: StreamGroup<BinaryAssocColumns>[] = [];
  const held: F64Matrix[] = [];
  const chrs = opts.loco ? locoChromosomes(source, kin) : [null];
  for (const chr of chrs) {
    let t0 = performance.now();
    const kc = centredKinship(kin, chr);
    timings.kinship += (performance.now() - t0) / 1000;
    for (const p of samples.phenotypes) {
      t0 = performance.now();
      const key = nullModelKey(p.name, chr);
      const nm = await fitBinaryNullModel(p.y, samples.w, kc, {
        backend, ...(opts.nullTol !== undefined ? { tol: opts.nullTol } : {}),
        ...(opts.log ? { log: (m: string) => opts.log!(`[${key}] ${m}`) } : {}),
      });
      timings.nullModel += (performance.now() - t0) / 1000;
      nullModels.set(key, nm.summary);
      const tester = new BinaryScoreTest(nm, opts.firthP !== undefined ? { firthP: opts.firthP } : {});
      const l = nm.chol;
      backend.hold(l);
      held.push(l);
      groups.push({
        chr,
        transform: (x: F64Matrix) => backend.trsm(l, x, { side: 'left', lower: true }),
        tests: [{
          pheno: p.name,
          run: async (xt: F64Matrix, block: StreamBlock) => {
            const t1 = performance.now();
            const out = allocBinaryColumns(xt.cols);
            tester.testInto(block.x, xt, out, 0, missingMask(block));
            timings.optimisation += (performance.now() - t1) / 1000;
            return out;
          },
        }],
      });
    }
  }

  // Stage 4: the stream.
  const stream = streamScan({ source, samples, groups, blockSize, ...(kin.store ? { store: kin.store } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const summary: ScanSummary = {
    nIndividuals: source.samples.length, nAnalysed: samples.n, nSnps: source.nSnps, nTested: 0, dropped: stream.stats.dropped, timings,
    samples: samples.selection, c: samples.c, backend: backend.name, genotypePasses: kin.computed && !kin.store ? 2 : 1,
  };
  async function* batches(): AsyncGenerator<ResultBatch<BinaryAssocColumns>> {
    try {
      yield* stream.batches;
    } finally {
      // nTested counts each SNP once per phenotype group: report SNPs.
      summary.nTested = stream.stats.nTested / Math.max(1, samples.phenotypes.length);
      timings.io = stream.stats.ioSeconds;
      timings.rotation = stream.stats.transformSeconds;
      for (const l of held) backend.release(l);
    }
  }
  return { nullModels, batches: batches(), summary };
}
