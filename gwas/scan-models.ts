/**
 * Stage 3 of a scan (gwas/scan.ts): decompositions and null models. The kinship of stage 2 restricted to the
 * analysed individuals and double-centred (per left-out chromosome with loco) is decomposed, K_c = U diag(d) U'
 * (eigh, O(n^3), through the eigen cache when one is given); each phenotype's null model is fitted on the
 * rotated inputs U'W, U'y (GEMMA 0.98.5 CalcLambda / CalcPve / CalcLmmVgVeBeta, src/lmm/snp/null-model.ts).
 * With fixed variance components (EMMAX / P3D) the null model comes from the global decomposition and each
 * phenotype whitens by L, L L' = V = vg K_c + ve I (potrf, O(n^3 / 3)), instead.
 *
 * The result, {@link ScanModels}, is plain data (typed arrays, numbers, strings; no closures or handles): it can
 * be written once and loaded by processes that run only the stream stage (scan-stream.ts) over a SNP range.
 * Memory: per decomposition U (8 n^2 bytes; L per phenotype with fixed VC) plus O(n c) per phenotype.
 */
import type { Backend, EighResult } from '../kernels/backend.js';
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import { NumericError } from '../src/errors.js';
import { fitNullModel, type NullModel, type RotatedInputs } from '../src/lmm/snp/null-model.js';
import { cachedEigen, decomposeKinship, eigenCacheKey, hashSampleIds } from './eigen-cache.js';
import { centerInPlace, locoKinship, restrictAndCenter } from './kinship.js';
import type { ScanKinship } from './scan-kinship.js';
import type { ScanSamples } from './scan-samples.js';
import type { GenotypeSource } from './types.js';

/** An eigendecomposition of the centred kinship, K_c = U diag(values) U'. */
export interface KinshipEigen {
  /** The chromosome left out (loco), or null for the kinship over every SNP. */
  chr: string | null;
  /** Eigenvalues (n, ascending), zeroed below 1e-10 in magnitude (GEMMA). */
  values: Float64Array;
  /** U, n x n. */
  vectors: F64Matrix;
}

/** One phenotype's null model on an eigendecomposition, with its rotated phenotype U'y (n). */
export interface EigenPhenotype {
  pheno: string;
  uy: Float64Array;
  nullModel: NullModel;
}

/** The exact LMM's models on one decomposition: U, d, U'W and per phenotype U'y and the null model. */
export interface EigenModels extends KinshipEigen {
  kind: 'eigen';
  /** U'W, n x c column-major. */
  uw: Float64Array;
  c: number;
  phenotypes: EigenPhenotype[];
}

/** One phenotype's fixed-VC model: L (L L' = vg K_c + ve I, lower), L^-1 W, L^-1 y and the null model. */
export interface WhitenedPhenotype {
  pheno: string;
  l: F64Matrix;
  lw: F64Matrix;
  ly: Float64Array;
  nullModel: NullModel;
}

/** The fixed-VC models on one kinship (chr left out, or null). */
export interface WhitenedModels {
  kind: 'whitened';
  chr: string | null;
  phenotypes: WhitenedPhenotype[];
}

/** Everything the stream stage needs besides the samples: one entry per decomposition (per chromosome with loco). */
export interface ScanModels {
  /** Analysed individuals the models are over (a loader checks it against its own stage 1). */
  n: number;
  c: number;
  /** SHA-256 of the analysed sample IDs (eigen-cache.ts hashSampleIds). */
  samplesHash: string;
  decompositions: (EigenModels | WhitenedModels)[];
}

/** Where decompositions are cached: `keyParts` identify K (files, mode, filters); samples and chromosome are added. */
export interface EigenCacheOptions {
  dir: string;
  keyParts: Record<string, unknown>;
  log?: (message: string) => void;
}

/** The chromosomes a loco scan decomposes: those holding kinship SNPs, in file order. */
export function locoChromosomes(source: GenotypeSource, kin: ScanKinship): string[] {
  const grams = kin.computed?.chromosomes;
  if (!grams) throw new RangeError('locoChromosomes: the kinship was computed without loco');
  return [...new Set(source.snps.map((s) => s.chr))].filter((chr) => grams.has(chr));
}

/**
 * K_c for one decomposition: K (without chromosome `chr` when given) restricted to the analysed individuals and
 * double-centred, as GEMMA does before its eigendecomposition. O(n^2). A fresh n x n matrix, except with
 * `consume` (the caller has no further use of kin.k: no other decomposition follows) when K was computed for
 * the analysed individuals: then K is centred in place and handed over (kin.k and kin.computed.k become
 * 0 x 0), sparing 8 n^2 bytes, and more when the caller lets the eigendecomposition free it.
 */
export function centredKinship(kin: ScanKinship, chr: string | null, consume = false): F64Matrix {
  if (chr !== null) {
    if (!kin.computed) throw new RangeError('centredKinship: a chromosome left out needs the kinship computed from the genotypes');
    const k = locoKinship(kin.computed, chr); // fresh: centred in place when every row is analysed
    return k.rows === kin.rows.length ? centerInPlace(k) : restrictAndCenter(k, kin.rows);
  }
  if (consume && kin.computed && kin.k.rows === kin.rows.length) {
    // K becomes K_c and leaves kin (and its kinship result), so that the caller holds the only reference.
    const k = centerInPlace(kin.k);
    kin.k = kin.computed.k = f64Matrix(0, 0);
    return k;
  }
  return restrictAndCenter(kin.k, kin.rows);
}

/**
 * Smallest eigenvalue of K_c, relative to its largest, that is still rounding: a kinship is positive
 * semi-definite (a Gram matrix X X' / m, restricted and centred), so an eigenvalue below
 * -KINSHIP_NEGATIVE_TOLERANCE x d_max comes from the matrix, not from the 10 significant digits of GEMMA's text
 * (perturbation <= n x 5e-10 x max |K_ij|, far below it for any n a text kinship is used with).
 */
export const KINSHIP_NEGATIVE_TOLERANCE = 1e-6;

/**
 * Refuses a kinship that is not positive semi-definite beyond rounding: NumericError naming `describe` (the
 * kinship file) and the smallest eigenvalue d_min of K_c when d_min < -KINSHIP_NEGATIVE_TOLERANCE x max(d_max, 0),
 * or when every eigenvalue is zero or negative (K_c carries no relatedness at all). `values`: the eigenvalues of
 * K_c (any order). O(n).
 */
export function checkKinshipSpectrum(values: Float64Array, describe: string): void {
  let min = Infinity, max = -Infinity, negative = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > 0)) {
    throw new NumericError(`kinship ${describe}: no positive eigenvalue after restriction to the analysed individuals and centring (largest ${max}): it describes no relatedness; expected a positive semi-definite matrix (a GRM, e.g. gpulmm grm)`);
  }
  const limit = -KINSHIP_NEGATIVE_TOLERANCE * max;
  if (min >= limit) return;
  for (const v of values) if (v < limit) negative++;
  throw new NumericError(
    `kinship ${describe} is not positive semi-definite: smallest eigenvalue ${min.toPrecision(6)} (largest ${max.toPrecision(6)}; ` +
      `${negative} below -${KINSHIP_NEGATIVE_TOLERANCE.toExponential()} x the largest, beyond rounding) after restriction to the analysed individuals and centring; ` +
      'expected a kinship/GRM (e.g. from gpulmm grm or GEMMA -gk)',
  );
}

/**
 * Stage 3a: the eigendecomposition of K_c (from {@link centredKinship}), through the eigen cache when given.
 * O(n^3) flops, 8 n^2 bytes for U besides the backend's workspace. Holds K_c only until the backend has it:
 * a caller that drops its own reference lets the cpu eigh free it once copied into its workspace.
 */
export function decomposeCentredKinship(
  kc: F64Matrix, chr: string | null, samples: ScanSamples, backend: Backend, cache?: EigenCacheOptions,
): Promise<KinshipEigen & { seconds: number }> {
  const t0 = performance.now();
  const key = cache ? eigenCacheKey({ ...cache.keyParts, samples: hashSampleIds(samples.selection.ids), chr }) : '';
  let input: F64Matrix | undefined = kc;
  const compute = (): Promise<EighResult> => {
    const k = input!;
    input = undefined;
    return decomposeKinship(k, backend);
  };
  return cachedEigen(cache?.dir, key, samples.n, compute, cache?.log).then(({ eig }) => {
    input = undefined;
    return { chr, values: eig.values, vectors: eig.vectors, seconds: (performance.now() - t0) / 1000 };
  });
}

/**
 * Stage 3b (exact LMM): rotates W and every phenotype by U' (gemm, O(n^2 (c + p))) and fits each null model
 * (O(n c^2) per likelihood evaluation).
 */
export async function fitEigenModels(eig: KinshipEigen, samples: ScanSamples, backend: Backend): Promise<EigenModels & { seconds: number }> {
  const t0 = performance.now();
  const { n, c } = samples;
  const rotate = async (x: F64Matrix): Promise<Float64Array> => (await backend.gemm(eig.vectors, x, { transA: true })).data;
  const uw = await rotate(samples.w);
  const phenotypes: EigenPhenotype[] = [];
  for (const p of samples.phenotypes) {
    const uy = await rotate(f64Matrix(n, 1, p.y));
    phenotypes.push({ pheno: p.name, uy, nullModel: fitNullModel({ d: eig.values, uw, c, uy }) });
  }
  return { kind: 'eigen', chr: eig.chr, values: eig.values, vectors: eig.vectors, uw, c, phenotypes, seconds: (performance.now() - t0) / 1000 };
}

/** The rotated inputs of phenotype `k` of an eigen model (what its per-SNP tests need besides U'x). */
export function rotatedInputs(m: EigenModels, k: number): RotatedInputs {
  return { d: m.values, uw: m.uw, c: m.c, uy: m.phenotypes[k]!.uy };
}

/**
 * Stage 3b (fixed VC): per phenotype of `global` (the null models of the kinship over every SNP), V = vg K_c +
 * ve I = L L' (potrf, O(n^3 / 3)) and the whitened L^-1 W, L^-1 y (trsm). `kc` is the centred kinship of
 * this decomposition (chromosome `chr` left out, or null).
 */
export async function fitWhitenedModels(kc: F64Matrix, chr: string | null, global: EigenModels, samples: ScanSamples, backend: Backend): Promise<WhitenedModels & { seconds: number }> {
  const t0 = performance.now();
  const n = samples.n;
  const phenotypes: WhitenedPhenotype[] = [];
  for (const [k, p] of global.phenotypes.entries()) {
    const nm = p.nullModel;
    // V = vg K + ve I = L L' (potrf); whitening x -> L^-1 x (trsm).
    const v = f64Matrix(n, n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) v.data[i + j * n] = nm.vg * kc.data[i + j * kc.ld]! + (i === j ? nm.ve : 0);
    const l = await backend.potrf(v);
    const whiten = (x: F64Matrix): Promise<F64Matrix> => backend.trsm(l, x, { side: 'left', lower: true });
    const lw = await whiten(samples.w);
    const ly = (await whiten(f64Matrix(n, 1, samples.phenotypes[k]!.y))).data;
    phenotypes.push({ pheno: p.pheno, l, lw, ly, nullModel: nm });
  }
  return { kind: 'whitened', chr, phenotypes, seconds: (performance.now() - t0) / 1000 };
}
