/**
 * The biobank scan: BOLT-LMM's infinitesimal mixed model (Loh et al. 2015, BOLT-LMM-inf) without any n x n
 * matrix, for cohorts past the reach of an eigendecomposition. Phases:
 *   1. read: the SNP filters over the analysed individuals (as the exact mode) and the 2-bit store
 *      (gwas/biobank/packed-genotypes.ts); the covariates' orthonormal basis Q.
 *   2. model: the standardised kinship as a product (gwas/biobank/kinship-operator.ts), projected norms from Z'Q.
 *   3. h2: REML by stochastic Lanczos quadrature (src/lmm/biobank/slq-reml.ts), one run shared by all phenotypes.
 *   4. solve: one batched conjugate-gradient run (src/lmm/biobank/cg.ts) for every phenotype p and chromosome c,
 *      u_pc = (A_{-c} + delta_p I)^-1 S y_p (warm-started at the genome-wide solution from the Lanczos basis),
 *      and for the calibration SNPs j, (A_{-c(j)} + delta_p I)^-1 S z_j.
 *   5. association: one pass per chromosome, x_j' u_pc for its SNPs, and the calibrated statistic.
 * Statistics (BOLT-LMM 2.4's computeLmmInf), with n' = n - c and S z_j the projected standardised SNP:
 *   retrospective  chi2_R = n' (z_j' u)^2 / (|S z_j|^2 |u|^2)                    (u = u_pc, c = chr(j))
 *   prospective    chi2_P = n' (z_j' u)^2 / ((S z_j)' (A_{-c} + delta)^-1 S z_j  y' u)  (exact, at the calibration SNPs)
 *   calibration    over ~30 random SNPs (one per equal segment of the genome, with chi2_R < 5 against the
 *                  genome-wide solution, as BOLT-LMM): f = mean of chi2_P / chi2_R by default, or BOLT-LMM's
 *                  sum chi2_P / sum chi2_R (ratio of medians when its jackknife s.e. exceeds 0.01); see calibrate
 *   reported       chi2 = f chi2_R ~ chi2(1); beta = chi2 / (x_j' V^-1 y), se = |beta| / sqrt(chi2), with
 *                  x_j' V^-1 y = (z_j' u) / (s_j sigma2g) per allele1 copy (sigma2g genome-wide).
 * Memory: the codes (n/4 bytes per SNP) plus O((n + m) B) for B = P (#chromosomes + #calibration SNPs) right-
 * hand sides, plus the phenotypes' Lanczos bases (n per step); see {@link estimateBiobankMemory}.
 */
import type { Backend, BackendChoice } from '../../kernels/backend.js';
import { f64Matrix, type F64Matrix } from '../../kernels/matrix.js';
import { createBackend } from '../../kernels/select.js';
import { covariateDesign } from '../../src/io/gemma-tables.js';
import { totalmem } from 'node:os';
import { NumericError, ResourceError } from '../../src/errors.js';
import { getFlag } from '../../src/flags.js';
import { batchedCg } from '../../src/lmm/biobank/cg.js';
import { slqReml, type H2Boundary, type RemlEstimate, type SlqRemlResult } from '../../src/lmm/biobank/slq-reml.js';
import { allocAssocColumns } from '../../src/lmm/snp/assoc.js';
import { chi2Log10Survival, chi2Survival } from '../../src/stats/distributions.js';
import { selectSamples, type KeepList, type SampleSelection } from '../samples.js';
import type { PhenotypeInput, ResultBatch } from '../scan.js';
import { SnpFilter } from '../snp-filter.js';
import type { GenotypeSource } from '../types.js';
import { ALL_CHROMOSOMES, KinshipOperator } from './kinship-operator.js';
import { packedBytes, packGenotypes, type PackedGenotypes } from './packed-genotypes.js';

export type BiobankPhase = 'read' | 'h2' | 'solve' | 'association';

export interface BiobankScanOptions {
  source: GenotypeSource;
  phenotypes: PhenotypeInput[];
  /** Raw covariates, N x c (NaN missing); GEMMA's intercept rule is applied. */
  covariates?: F64Matrix;
  keep?: KeepList;
  maf?: number;
  miss?: number;
  r2?: number;
  /** Random probes for the stochastic log-determinant (default 10), added by as many while the Monte Carlo s.e.
   *  of h2 exceeds 0.2 x its REML s.e. (and 0.002), up to `maxProbes` (default 4 x probes). */
  probes?: number;
  maxProbes?: number;
  /** Relative change between Lanczos steps below which a quadrature has converged (default 1e-6: h2 is then
   *  stable to 5 digits, e.g. 0.49216 at 1e-6 and at 1e-8 on the 5,000 x 50,000 cohort, 13 steps instead of 16). */
  lanczosTol?: number;
  /** SNPs at which the prospective statistic is computed exactly for the calibration (default 30, as BOLT-LMM). */
  calibrationSnps?: number;
  /** How their statistics form the calibration factor (default 'mean of ratios'; 'bolt': BOLT-LMM 2.4's rule). */
  calibration?: CalibrationRule;
  /** Relative residual of the conjugate-gradient solves (default 5e-4, BOLT-LMM's --CGtol). */
  cgTol?: number;
  /** Most conjugate-gradient iterations (default 500) and Lanczos steps (default 300). */
  maxIterations?: number;
  /** h2 (BOLT-LMM's scale, tbar / (tbar + delta)) fixed instead of estimated: skips the REML phase. */
  h2?: number;
  /** Seed of the probes and of the choice of calibration SNPs (default 1). */
  seed?: number;
  /** Threads for the products (default: the `threads` flag). */
  threads?: number;
  /** Where the products run: 'cpu' (f64, default), 'webgpu' (f32 products; the solvers stay f64 on the cpu), 'auto'. */
  backend?: Backend | BackendChoice;
  /** SNPs per result batch (default 4096). */
  blockSize?: number;
  /**
   * Progress per phase: read (SNPs read of `total`), h2 (digits of convergence of the slowest Lanczos quadrature,
   * of `total`), solve (digits of residual reduction of the slowest system, of `total`), association (SNPs of `total`).
   */
  onProgress?: (phase: BiobankPhase, done: number, total: number) => void;
}

/** How the calibration factor is formed from the calibration SNPs (see {@link calibrate}). */
export type CalibrationRule = 'mean of ratios' | 'bolt';
type CalibrationMethod = 'mean of ratios' | 'ratio of sums' | 'ratio of medians';

/** The calibration of the retrospective statistic (BOLT-LMM-inf). */
export interface Calibration {
  factor: number;
  /** Its standard error (over the calibration SNPs). */
  se: number;
  method: CalibrationMethod;
  /** The factor the other rule gives, for comparison. */
  alternative: { factor: number; se: number; method: CalibrationMethod };
  avgProspective: number;
  avgRetrospective: number;
  snps: number;
  /** The calibration SNPs: both statistics, uncalibrated. */
  details: { rs: string; prospective: number; retrospective: number }[];
}

/** Per phenotype: the variance components, the calibration, and how the solvers went. JSON-serialisable. */
export interface BiobankModel {
  n: number;
  /** Covariates, intercept included. */
  c: number;
  /** SNPs in the kinship (M). */
  m: number;
  h2: number;
  /** Standard errors of h2 (NaN when h2 was fixed). */
  h2SeReml: number;
  h2SeMc: number;
  boundary: H2Boundary;
  /** Whether h2 was estimated (REML) or given. */
  h2Source: 'reml' | 'fixed';
  delta: number;
  sigma2g: number;
  sigma2e: number;
  loglik: number;
  calibration: Calibration;
  /** Conjugate-gradient iterations of this phenotype's leave-one-chromosome-out solves (most over chromosomes). */
  cgIterations: number;
  /** Chromosomes whose solve did not converge (their SNPs have status 'cg_not_converged'). */
  unconverged: string[];
}

export interface BiobankTimings {
  read: number;
  model: number;
  h2: number;
  solve: number;
  association: number;
}

export interface BiobankSummary {
  nIndividuals: number;
  nAnalysed: number;
  nSnps: number;
  /** SNPs with statistics (kept by the filters and in the model). */
  nTested: number;
  dropped: Record<string, number>;
  samples: SampleSelection;
  c: number;
  chromosomes: number;
  probes: number;
  lanczosSteps: number;
  /** Outlying eigenvalues of the kinship taken out of the stochastic log-determinant (population structure). */
  deflated: number[];
  lanczosConverged: boolean;
  cgIterations: number;
  /** Passes over the codes (two each: Z'V then Z U). */
  products: number;
  /** Precision of the products: 'f64' on the cpu, 'f32' on a GPU. */
  precision: 'f64' | 'f32';
  rounded: number;
  packedBytes: number;
  timings: BiobankTimings;
}

export interface BiobankScan {
  models: Map<string, BiobankModel>;
  /** Result batches in file order (per chromosome run, at most blockSize SNPs each), one per phenotype. */
  batches: AsyncIterable<ResultBatch>;
  /** Complete once `batches` has been consumed. */
  summary: BiobankSummary;
}

const now = (): number => performance.now() / 1000;

/** Fewest SNPs a leave-one-chromosome-out kinship may be built from. */
export const MIN_LOCO_SNPS = 100;

/**
 * Bytes the scan needs beyond Node itself, before reading anything: the codes of at most `nSnps` SNPs plus the
 * blocks of B right-hand sides (n x B f64 each: the solver's rhs, start, x, r, p; the operator's input, output,
 * projection and per-thread sums; per thread the packed input and its sums in the kernel memory) and the Lanczos
 * bases kept (phenotypes and 4 probes, assumed 40 steps), and 64 MiB of read buffers.
 */
export function estimateBiobankMemory(n: number, nSnps: number, phenotypes: number, chromosomes: number, probes = 10, calibrationSnps = 30, threads = 2): { codes: number; work: number; total: number } {
  const codes = packedBytes(n, nSnps);
  const b = Math.max(phenotypes + probes, phenotypes * (chromosomes + calibrationSnps));
  const work = 8 * ((8 + 3 * threads) * n * b + 40 * n * (phenotypes + 4)) + 64 * 2 ** 20;
  return { codes, work, total: codes + work };
}

/** Orthonormal basis of W's columns (modified Gram-Schmidt, twice); NumericError when W is rank deficient. */
export function orthonormalBasis(w: F64Matrix): F64Matrix {
  const n = w.rows;
  const q = f64Matrix(n, w.cols);
  for (let a = 0; a < w.cols; a++) {
    const o = a * n;
    for (let i = 0; i < n; i++) q.data[o + i] = w.data[i + a * w.ld]!;
    const before = Math.sqrt(q.data.subarray(o, o + n).reduce((s, v) => s + v * v, 0));
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < a; b++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q.data[b * n + i]! * q.data[o + i]!;
        for (let i = 0; i < n; i++) q.data[o + i]! -= d * q.data[b * n + i]!;
      }
    }
    const norm = Math.sqrt(q.data.subarray(o, o + n).reduce((s, v) => s + v * v, 0));
    if (!(norm > 1e-10 * before)) throw new NumericError(`covariates are linearly dependent over the ${n} analysed individuals: column ${a + 1} is a combination of the previous ones`);
    for (let i = 0; i < n; i++) q.data[o + i]! /= norm;
  }
  return q;
}

/** Mulberry32 uniforms in [0, 1) (seeded). */
function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs phases 1-4 and returns the association phase as a lazy stream of batches. */
export async function biobankScan(opts: BiobankScanOptions): Promise<BiobankScan> {
  const { source } = opts;
  const P = opts.phenotypes.length;
  if (P === 0) throw new RangeError('biobankScan: no phenotype selected');
  const T = opts.probes ?? 10;
  const nCalib = opts.calibrationSnps ?? 30;
  const cgTol = opts.cgTol ?? 5e-4;
  const maxIter = opts.maxIterations ?? 500;
  const seed = opts.seed ?? 1;
  const blockSize = opts.blockSize ?? 4096;
  if (!(Number.isInteger(T) && T >= 2)) throw new RangeError(`biobankScan: probes must be an integer >= 2, got ${T}`);
  if (!(Number.isInteger(nCalib) && nCalib >= 2)) throw new RangeError(`biobankScan: calibrationSnps must be an integer >= 2, got ${nCalib}`);
  const timings: BiobankTimings = { read: 0, model: 0, h2: 0, solve: 0, association: 0 };
  const progress = opts.onProgress ?? (() => undefined);

  // Phase 1: analysed individuals, covariates, the filtered 2-bit store.
  let t = now();
  const samples = selectSamples({ ids: source.samples, phenotypes: opts.phenotypes.map((p) => p.values), ...(opts.covariates ? { covariates: opts.covariates } : {}), ...(opts.keep ? { keep: opts.keep } : {}) });
  const rows = samples.indices;
  const n = rows.length;
  const w = covariateDesign(opts.covariates, rows).w;
  const c = w.cols;
  const dim = n - c;
  if (dim < 10) throw new NumericError(`too few samples: ${n} analysed individuals with every phenotype and covariate present and ${c} covariates leave ${dim} degrees of freedom (the biobank mode needs at least 10)`);
  const q = orthonormalBasis(w);
  const filter = new SnpFilter({ ...(opts.maf !== undefined ? { maf: opts.maf } : {}), ...(opts.miss !== undefined ? { miss: opts.miss } : {}), ...(opts.r2 !== undefined ? { r2: opts.r2 } : {}), covariates: w });
  const need = estimateBiobankMemory(n, source.nSnps, P, new Set(source.snps.map((s) => s.chr)).size, T, nCalib, opts.threads ?? getFlag('threads'));
  if (need.total > 0.9 * totalmem()) {
    throw new ResourceError(`the biobank scan needs about ${(need.total / 2 ** 30).toFixed(1)} GiB (2-bit genotypes ${(need.codes / 2 ** 30).toFixed(1)} GiB + work ${(need.work / 2 ** 30).toFixed(1)} GiB) but this machine has ${(totalmem() / 2 ** 30).toFixed(1)} GiB: analyse fewer individuals (--keep) or SNPs (--maf, --miss), or fewer phenotypes at once (the genotypes are held in memory; streaming them from disk is not implemented)`);
  }
  const store: PackedGenotypes = await packGenotypes(source, rows, filter, (done) => progress('read', done, source.nSnps));
  timings.read = now() - t;
  if (store.matrix.cols === 0) throw new NumericError(`no SNP of ${source.describe} passes the SNP filters (maf ${filter.maf}, miss ${filter.miss}) over the ${n} analysed individuals`);

  // Phase 2: the kinship operator and the projected phenotypes.
  t = now();
  // The products on a GPU backend when one is asked for (values in f32), else on the cpu's threads.
  const backend = typeof opts.backend === 'object' ? opts.backend : opts.backend && opts.backend !== 'cpu' ? await createBackend(opts.backend) : undefined;
  if (backend && !backend.packed2 && opts.backend !== 'auto') throw new RangeError(`biobankScan: the ${backend.name} backend has no 2-bit products; use cpu or webgpu`);
  const op = await KinshipOperator.create(store, q, { ...(opts.threads !== undefined ? { threads: opts.threads } : {}), r2Max: filter.r2, ...(backend ? { backend } : {}) });
  const ownBackend = backend !== undefined && typeof opts.backend !== 'object';
  try {
    const nChr = store.chromosomes.length;
    const chrsInModel = new Set<number>();
    for (let j = 0; j < store.matrix.cols; j++) if (op.inModel[j]) chrsInModel.add(store.chr[j]!);
    if (op.m === 0) throw new NumericError(`no SNP is left in the kinship: every kept SNP lies in the span of the covariates`);
    if (chrsInModel.size < 2) {
      throw new NumericError(`leave-one-chromosome-out needs SNPs on at least 2 chromosomes; all ${op.m} SNPs of the model are on chromosome ${store.chromosomes[[...chrsInModel][0]!]}`);
    }
    for (const ch of chrsInModel) {
      if (op.mWithout[ch]! < MIN_LOCO_SNPS) {
        throw new NumericError(`leave-one-chromosome-out: without chromosome ${store.chromosomes[ch]} only ${op.mWithout[ch]} of the ${op.m} SNPs of the model remain (at least ${MIN_LOCO_SNPS} are needed for a kinship)`);
      }
    }
    const y = f64Matrix(n, P);
    opts.phenotypes.forEach((p, k) => rows.forEach((i, r) => (y.data[r + k * n] = p.values[i]!)));
    const sy = op.project(y);
    for (let k = 0; k < P; k++) {
      const ss = sy.data.subarray(k * n, (k + 1) * n).reduce((s, v) => s + v * v, 0);
      if (!(ss > 1e-20 * dim)) throw new NumericError(`phenotype ${opts.phenotypes[k]!.name} is constant after the covariates are projected out (${n} individuals)`);
    }
    const rand = uniforms(seed);
    const newProbes = (count: number): F64Matrix => op.project(f64Matrix(n, count, Float64Array.from({ length: n * count }, () => (rand() < 0.5 ? -1 : 1))));
    const probes = newProbes(T);
    timings.model = now() - t;

    // Phase 3: h2 by stochastic Lanczos quadrature (all phenotypes and probes in one batch), or h2 as given.
    // Progress: digits of convergence of the slowest quadrature, out of those of the tolerance.
    t = now();
    const lanczosTol = Math.max(opts.lanczosTol ?? 1e-6, op.products.precision === 'f32' ? 1e-5 : 0);
    const h2Digits = -Math.log10(lanczosTol);
    const reml = opts.h2 === undefined
      ? await slqReml(op.operator(new Array<number>(P + T).fill(ALL_CHROMOSOMES)), sy, probes, {
          // f32 products: quadratures move by ~1e-7 per step from rounding alone, so no tighter than 1e-5.
          dim, traceA: op.traceA, maxIterations: Math.min(maxIter, 300), tol: lanczosTol, maxProbes: opts.maxProbes ?? 4 * T, nextProbes: newProbes,
          // Outliers: above twice the upper edge of the Marchenko-Pastur bulk of Z Z' / M (mean eigenvalue tbar).
          deflateAbove: 2 * (1 + Math.sqrt(dim / op.m)) ** 2 * (op.traceA / dim),
          onIteration: (_s, _r, _e, worst) => progress('h2', worst > 0 ? Math.min(h2Digits, Math.max(0, -Math.log10(worst))) : h2Digits, h2Digits),
        })
      : await fixedH2(op, sy, opts.h2, dim, cgTol, maxIter);
    timings.h2 = now() - t;

    // Phase 4: calibration SNPs, then one batched CG for every (phenotype, chromosome) and calibration SNP.
    t = now();
    const chrList = [...chrsInModel].sort((a, b) => a - b);
    const calib: { p: number; j: number; sz: F64Matrix }[] = [];
    const modelSnps = Int32Array.from({ length: store.matrix.cols }, (_, j) => j).filter((j) => op.inModel[j] === 1);
    for (let p = 0; p < P; p++) {
      const h = reml.hinvY.data.subarray(p * n, (p + 1) * n);
      const h2norm = h.reduce((s, v) => s + v * v, 0);
      const pick = uniforms(seed + 101 + p);
      const segs = Math.min(nCalib, modelSnps.length);
      for (let g = 0; g < segs; g++) {
        const a = Math.floor((g * modelSnps.length) / segs);
        const b = Math.floor(((g + 1) * modelSnps.length) / segs);
        let chosen: { j: number; sz: F64Matrix } | undefined;
        for (let tries = 0; tries < Math.max(20, b - a) && !chosen; tries++) {
          const j = modelSnps[a + Math.floor(pick() * (b - a))]!;
          const sz = op.snpColumn(j);
          let d = 0;
          for (let i = 0; i < n; i++) d += sz.data[i]! * h[i]!;
          if ((dim * d * d) / (h2norm * op.projNorm2[j]!) < 5) chosen = { j, sz };
        }
        if (chosen) calib.push({ p, ...chosen });
      }
    }
    const B = P * chrList.length + calib.length;
    const rhs = f64Matrix(n, B);
    const x0 = f64Matrix(n, B);
    const exclude: number[] = [];
    const delta: number[] = [];
    for (let p = 0; p < P; p++) {
      for (const ch of chrList) {
        const b = exclude.length;
        rhs.data.set(sy.data.subarray(p * n, (p + 1) * n), b * n);
        x0.data.set(reml.hinvY.data.subarray(p * n, (p + 1) * n), b * n);
        exclude.push(ch);
        delta.push(reml.estimates[p]!.delta);
      }
    }
    for (const { p, j, sz } of calib) {
      const b = exclude.length;
      rhs.data.set(sz.data.subarray(0, n), b * n);
      exclude.push(store.chr[j]!);
      delta.push(reml.estimates[p]!.delta);
    }
    const digits = Math.log10(1 / cgTol);
    // The calibration SNPs need only x' H^-1 x, whose error is quadratic in the residual: 10 x the tolerance.
    const tols = exclude.map((_, b) => (b < P * chrList.length ? cgTol : 10 * cgTol));
    const cg = await batchedCg(op.operator(exclude), rhs, delta, {
      tol: tols, maxIterations: maxIter, x0,
      onIteration: (_, worst) => progress('solve', Math.min(digits, Math.max(0, -Math.log10(worst))), digits),
    });
    timings.solve = now() - t;

    // Residual vectors per (phenotype, chromosome) and the calibration of each phenotype.
    const uCol = (p: number, ch: number): number => p * chrList.length + chrList.indexOf(ch);
    const uNorm2 = new Float64Array(B);
    const yHy = new Float64Array(B);
    for (let p = 0; p < P; p++) {
      for (const ch of chrList) {
        const b = uCol(p, ch);
        let s = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          const u = cg.x.data[b * n + i]!;
          s += u * u;
          s2 += u * sy.data[p * n + i]!;
        }
        uNorm2[b] = s;
        yHy[b] = s2;
      }
    }
    const models = new Map<string, BiobankModel>();
    for (let p = 0; p < P; p++) {
      const est = reml.estimates[p]!;
      const pro: number[] = [];
      const retro: number[] = [];
      const ratios: number[] = [];
      const used = new Set<(typeof calib)[number]>();
      calib.forEach((entry, k) => {
        const { p: pp, j, sz } = entry;
        const b = P * chrList.length + k;
        if (pp !== p || !cg.converged[b]) return;
        const ub = uCol(p, store.chr[j]!);
        if (!cg.converged[ub]) return;
        let zu = 0;
        let zhz = 0;
        for (let i = 0; i < n; i++) {
          zu += sz.data[i]! * cg.x.data[ub * n + i]!;
          zhz += sz.data[i]! * cg.x.data[b * n + i]!;
        }
        used.add(entry);
        pro.push((dim * zu * zu) / (zhz * yHy[ub]!));
        ratios.push((op.projNorm2[j]! * uNorm2[ub]!) / (zhz * yHy[ub]!));
        retro.push((dim * zu * zu) / (op.projNorm2[j]! * uNorm2[ub]!));
      });
      const calibration = calibrate(pro, retro, ratios, calib.filter((e) => e.p === p && used.has(e)).map((e) => store.snps[e.j]!.rs), opts.calibration);
      const unconverged = chrList.filter((ch) => !cg.converged[uCol(p, ch)]).map((ch) => store.chromosomes[ch]!);
      let iters = 0;
      for (const ch of chrList) iters = Math.max(iters, cg.iterations[uCol(p, ch)]!);
      models.set(opts.phenotypes[p]!.name, {
        n, c, m: op.m, h2: est.h2, h2SeReml: est.h2SeReml, h2SeMc: est.h2SeMc, boundary: est.boundary, h2Source: opts.h2 === undefined ? 'reml' : 'fixed', delta: est.delta,
        sigma2g: est.sigma2g, sigma2e: est.sigma2e, loglik: est.loglik, calibration, cgIterations: iters, unconverged,
      });
    }

    const summary: BiobankSummary = {
      nIndividuals: source.samples.length, nAnalysed: n, nSnps: source.nSnps, nTested: 0, dropped: { ...store.dropped }, samples, c,
      chromosomes: nChr, probes: reml.probes, lanczosSteps: reml.steps, deflated: reml.deflated, lanczosConverged: reml.converged,
      cgIterations: Math.max(0, ...cg.iterations), products: op.passes, precision: op.products.precision, rounded: store.rounded, packedBytes: store.bytes, timings,
    };
    const notInModel = store.matrix.cols - op.m;
    if (notInModel > 0) summary.dropped.collinear = (summary.dropped.collinear ?? 0) + notInModel;

    // Phase 5 (lazy): per chromosome run, z_j' u_pc for every phenotype, and the statistics.
    async function* association(): AsyncGenerator<ResultBatch> {
      const t5 = now();
      try {
        const M = store.matrix.cols;
        let done = 0;
        for (let j0 = 0; j0 < M; ) {
          const ch = store.chr[j0]!;
          let j1 = j0;
          while (j1 < M && store.chr[j1] === ch && j1 - j0 < blockSize) j1++;
          if (!chrsInModel.has(ch)) {
            j0 = j1;
            continue;
          }
          const u = f64Matrix(n, P);
          for (let p = 0; p < P; p++) u.data.set(cg.x.data.subarray(uCol(p, ch) * n, (uCol(p, ch) + 1) * n), p * n);
          const dots = await op.products.ztv(op.tables, u, j0, j1);
          const idx = Array.from({ length: j1 - j0 }, (_, k) => j0 + k).filter((j) => op.inModel[j] === 1);
          for (let p = 0; p < P; p++) {
            const model = models.get(opts.phenotypes[p]!.name)!;
            const b = uCol(p, ch);
            const ok = cg.converged[b] === true;
            const assoc = allocAssocColumns(idx.length);
            idx.forEach((j, k) => {
              assoc.lRemle[k] = 1 / model.delta;
              if (!ok) {
                assoc.status[k] = 'cg_not_converged';
                return;
              }
              const d = dots.data[j - j0 + p * dots.ld]!;
              const f = model.calibration.factor;
              const pn = op.projNorm2[j]!;
              const chi2 = (f * dim * d * d) / (pn * uNorm2[b]!);
              const s = op.scale[j]! * model.sigma2g;
              assoc.beta[k] = (f * dim * d * s) / (pn * uNorm2[b]!);
              assoc.se[k] = s * Math.sqrt((f * dim) / (pn * uNorm2[b]!));
              assoc.pWald[k] = chi2Survival(chi2, 1);
              assoc.log10pWald[k] = chi2Log10Survival(chi2, 1);
              assoc.status[k] = Number.isFinite(chi2) ? 'ok' : 'non_finite';
            });
            yield {
              pheno: opts.phenotypes[p]!.name, snps: idx.map((j) => store.snps[j]!), nMiss: Int32Array.from(idx, (j) => store.nMiss[j]!),
              af: Float64Array.from(idx, (j) => store.af[j]!), assoc,
            };
          }
          summary.nTested += idx.length;
          done += j1 - j0;
          progress('association', done, M);
          j0 = j1;
        }
      } finally {
        timings.association = now() - t5;
        summary.products = op.passes;
        await op.dispose();
        if (ownBackend) await backend!.dispose();
      }
    }
    return { models, batches: association(), summary };
  } catch (e) {
    await op.dispose();
    if (ownBackend) await backend!.dispose();
    throw e;
  }
}

/**
 * The REML phase's output for a given h2 (BOLT's scale): delta = tbar (1 - h2) / h2 for every phenotype, and
 * (A + delta I)^-1 y by conjugate gradients (for the warm starts and the choice of calibration SNPs).
 */
async function fixedH2(op: KinshipOperator, sy: F64Matrix, h2: number, dim: number, tol: number, maxIter: number): Promise<SlqRemlResult> {
  if (!(h2 > 0 && h2 < 1)) throw new RangeError(`biobankScan: a fixed h2 must lie in (0, 1), got ${h2}`);
  const P = sy.cols;
  const tbar = op.traceA / dim;
  const delta = (tbar * (1 - h2)) / h2;
  const res = await batchedCg(op.operator(new Array<number>(P).fill(ALL_CHROMOSOMES)), sy, new Array<number>(P).fill(delta), { tol, maxIterations: maxIter });
  const estimates: RemlEstimate[] = [];
  for (let p = 0; p < P; p++) {
    let yhy = 0;
    for (let i = 0; i < sy.rows; i++) yhy += sy.data[i + p * sy.ld]! * res.x.data[i + p * sy.rows]!;
    const sigma2g = yhy / dim;
    estimates.push({ delta, logDelta: Math.log(delta), h2, sigma2g, sigma2e: delta * sigma2g, loglik: NaN, h2SeReml: NaN, h2SeMc: NaN, boundary: 'none' });
  }
  return { estimates, steps: 0, probes: 0, deflated: [], converged: res.converged.every(Boolean), hinvY: res.x };
}

/**
 * The calibration factor from the calibration SNPs' prospective and retrospective statistics.
 * 'mean of ratios' (default): f = 1 / mean_j (retro_j / pro_j), the harmonic mean of the ratios, with its
 * jackknife s.e. The ratio r_j = pro_j / retro_j = |S z_j|^2 |u|^2 / ((S z_j)' H^-1 S z_j  y'u) does not depend
 * on the SNP's own (noisy, chi-square distributed) association, and with the statistic independent of r_j,
 * E[pro] = E[chi2] and E[retro] = E[chi2] E[1 / r]: so f = 1 / E[1 / r] matches the mean statistics (as BOLT's
 * ratio of sums does in expectation), with far less variance than the ratio of sums, which weights each SNP by
 * its chi-square (the arithmetic mean of r would overshoot by about the squared coefficient of variation of r).
 * 'bolt': BOLT-LMM 2.4's rule: sum pro / sum retro, or the ratio of medians when the jackknife s.e. of the
 * former exceeds 0.01. Both are reported (the other one in `alternative`). NumericError below 2 SNPs.
 */
export function calibrate(pro: readonly number[], retro: readonly number[], ratios: readonly number[], rs: readonly string[] = [], rule: CalibrationRule = 'mean of ratios'): Calibration {
  const k = pro.length;
  if (k < 2) throw new NumericError(`calibration of the statistics: only ${k} calibration SNP(s) converged; at least 2 are needed`);
  const sp = pro.reduce((s, v) => s + v, 0);
  const sr = retro.reduce((s, v) => s + v, 0);
  const jack = pro.map((v, i) => (sp - v) / (sr - retro[i]!));
  const jm = jack.reduce((s, v) => s + v, 0) / k;
  const boltSe = Math.sqrt(((k - 1) / k) * jack.reduce((s, v) => s + (v - jm) ** 2, 0));
  const bolt = boltSe > 0.01 ? { factor: median(pro) / median(retro), method: 'ratio of medians' as const, se: boltSe } : { factor: sp / sr, method: 'ratio of sums' as const, se: boltSe };
  // Harmonic mean of the ratios, with its jackknife s.e.
  const inv = ratios.reduce((s, v) => s + 1 / v, 0);
  const hj = ratios.map((v) => (k - 1) / (inv - 1 / v));
  const hm = hj.reduce((s, v) => s + v, 0) / k;
  const mean = { factor: k / inv, method: 'mean of ratios' as const, se: Math.sqrt(((k - 1) / k) * hj.reduce((s, v) => s + (v - hm) ** 2, 0)) };
  const [chosen, other] = rule === 'bolt' ? [bolt, mean] : [mean, bolt];
  const details = pro.map((v, i) => ({ rs: rs[i] ?? '', prospective: v, retrospective: retro[i]! }));
  return { ...chosen, alternative: other, avgProspective: sp / k, avgRetrospective: sr / k, snps: k, details };
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length;
  return m % 2 ? s[(m - 1) >> 1]! : 0.5 * (s[m / 2 - 1]! + s[m / 2]!);
}
