/**
 * Per-SNP quality control over the analysed individuals, with GEMMA 0.98.5's exact semantics
 * (ReadFile_bed / ReadFile_geno), and mean-imputation of missing genotypes.
 *
 * For SNP j over the n analysed individuals with n_miss missing dosages:
 *   af = sum(x) / (2 (n - n_miss))                       (allele1 frequency among non-missing)
 *   dropped, in this order, when
 *     'missing'     n_miss / n > miss                      (default 0.05)
 *     'maf'         af < maf or af > 1 - maf               (default 0.01; maf = -1 disables it)
 *     'monomorphic' all non-missing dosages are equal      (GEMMA: fewer than two genotype classes)
 *     'collinear'   x'W (W'W)^-1 W'x / x'x > r2            (x mean-imputed, uncentred; only when W has > 1 column;
 *                                                         default 0.9999; GEMMA compares with '>')
 * Missing dosages are replaced by the SNP mean 2 af; the SNP is not centred.
 */
import { f64Matrix, shapeOf, type F64Matrix } from '../kernels/matrix.js';

export interface SnpFilterOptions {
  /** Minimum allele frequency (GEMMA -maf); -1 disables the af filter. Default 0.01. */
  maf?: number;
  /** Maximum missing rate (GEMMA -miss). Default 0.05. */
  miss?: number;
  /** Maximum r^2 of the SNP on the covariates (GEMMA -r2). Default 0.9999. */
  r2?: number;
  /** Covariates W, analysed individuals x c (after the intercept rule). Omitted: W = 1 (no r^2 filter). */
  covariates?: F64Matrix;
}

/** Why a SNP was dropped (0 = kept). */
export const SNP_STATUS = ['ok', 'missing', 'maf', 'monomorphic', 'collinear'] as const;
export type SnpStatus = (typeof SNP_STATUS)[number];

/** The filter's verdict for one block of SNPs. */
export interface SnpFilterResult {
  /** 1 when the SNP passes every filter, per SNP of the block. */
  kept: Uint8Array;
  /** Index into SNP_STATUS, per SNP of the block (0 = 'ok'). */
  status: Uint8Array;
  /** Allele1 frequency among analysed individuals with a genotype (NaN when all are missing). */
  af: Float64Array;
  /** Missing genotypes among analysed individuals. */
  nMiss: Int32Array;
  /** Block column of each kept SNP, ascending. */
  keptIndex: Int32Array;
  /** Mean-imputed dosages of the kept SNPs only: analysed individuals x keptIndex.length. */
  imputed: F64Matrix;
}

/**
 * GEMMA's SNP filter, prepared once for a fixed covariate matrix (the (W'W) Cholesky factor is computed here).
 * Cost of {@link SnpFilter.apply}: O(n m c) for an n x m block, plus O(n m) for the rest.
 */
export class SnpFilter {
  readonly maf: number;
  readonly miss: number;
  readonly r2: number;
  private readonly w: F64Matrix | undefined;
  /** Lower Cholesky factor of W'W (c x c, row-major dense), when the r^2 filter is active. */
  private readonly wtwChol: Float64Array | undefined;

  constructor(opts: SnpFilterOptions = {}) {
    this.maf = opts.maf ?? 0.01;
    this.miss = opts.miss ?? 0.05;
    this.r2 = opts.r2 ?? 0.9999;
    if (!(this.maf === -1 || (this.maf >= 0 && this.maf <= 0.5))) throw new RangeError(`SnpFilter: maf must be in [0, 0.5] or -1, got ${this.maf}`);
    if (!(this.miss >= 0 && this.miss <= 1)) throw new RangeError(`SnpFilter: miss must be in [0, 1], got ${this.miss}`);
    if (!(this.r2 >= 0 && this.r2 <= 1)) throw new RangeError(`SnpFilter: r2 must be in [0, 1], got ${this.r2}`);
    const w = opts.covariates;
    if (w && w.cols > 1) {
      this.w = w;
      this.wtwChol = choleskyOfGram(w);
    }
  }

  /** Number of analysed individuals the covariates fix (undefined without covariates). */
  get rows(): number | undefined {
    return this.w?.rows;
  }

  /**
   * Filters and imputes one block. `dosages` is individuals x SNPs (NaN missing); `rows` selects the analysed
   * individuals among its rows (ascending; all rows when omitted). With `impute: false` the imputed matrix is
   * left empty (0 columns), for callers that only need the verdict (the kinship).
   */
  apply(dosages: F64Matrix, rows?: Int32Array, opts: { impute?: boolean } = {}): SnpFilterResult {
    const n = rows ? rows.length : dosages.rows;
    const m = dosages.cols;
    if (this.w && this.w.rows !== n) {
      throw new RangeError(`SnpFilter.apply: block has ${n} analysed individuals but the covariates have ${this.w.rows} rows (${shapeOf(dosages)})`);
    }
    if (rows) for (const i of rows) if (i < 0 || i >= dosages.rows) throw new RangeError(`SnpFilter.apply: row index ${i} outside ${shapeOf(dosages)}`);
    const data = dosages.data;
    const af = new Float64Array(m);
    const nMiss = new Int32Array(m);
    const status = new Uint8Array(m);
    const x = this.w ? new Float64Array(n) : undefined;
    const keptCols: number[] = [];
    for (let j = 0; j < m; j++) {
      const col = j * dosages.ld;
      // Step 1: over the analysed rows, count missing, sum, and note whether two values differ.
      let sum = 0;
      let miss = 0;
      let first = -1;
      let poly = false;
      for (let r = 0; r < n; r++) {
        const v = data[col + (rows ? rows[r]! : r)]!;
        if (v !== v) {
          miss++;
          continue;
        }
        sum += v;
        if (first < 0) first = v;
        else if (v !== first) poly = true;
      }
      const freq = sum / (2 * (n - miss));
      af[j] = freq;
      nMiss[j] = miss;
      // Step 2: the filters, in GEMMA's order; the r^2 filter sees the mean-imputed, uncentred SNP.
      let s = this.decide(freq, miss, poly, n);
      if (s === 0 && x) {
        imputeColumn(data, col, rows, 2 * freq, x, 0, n);
        if (this.r2OnCovariates(x) > this.r2) s = 4;
      }
      status[j] = s;
      if (s === 0) keptCols.push(j);
    }
    // Step 3: the mean-imputed dosages of the kept SNPs.
    const imputed = f64Matrix(n, opts.impute === false ? 0 : keptCols.length);
    if (opts.impute !== false) keptCols.forEach((j, k) => imputeColumn(data, j * dosages.ld, rows, 2 * af[j]!, imputed.data, k * n, n));
    const kept = new Uint8Array(m);
    for (const j of keptCols) kept[j] = 1;
    return { kept, status, af, nMiss, keptIndex: Int32Array.from(keptCols), imputed };
  }

  /**
   * The verdict of {@link apply} (imputed matrix empty) for SNPs given by their code counts over the n analysed
   * individuals: counts[4 j + c] genotypes of SNP j with code c (0: dosage 2, 1: missing, 2: dosage 1, 3:
   * dosage 0; the coding of src/io/packed-codes.ts). The sums are exact integers, so af and every decision are
   * apply's to the bit. `impute(j, mean, out)` writes SNP j's analysed dosages, missing -> mean, into out[0, n);
   * it is called only with covariates (the r^2 filter). O(m) plus O(n c) per SNP reaching the r^2 filter.
   */
  applyCounts(counts: Int32Array, n: number, impute: (j: number, mean: number, out: Float64Array) => void): SnpFilterResult {
    if (this.w && this.w.rows !== n) throw new RangeError(`SnpFilter.applyCounts: ${n} analysed individuals but the covariates have ${this.w.rows} rows`);
    const m = counts.length >> 2;
    const af = new Float64Array(m);
    const nMiss = new Int32Array(m);
    const status = new Uint8Array(m);
    const kept = new Uint8Array(m);
    const x = this.w ? new Float64Array(n) : undefined;
    const keptCols: number[] = [];
    for (let j = 0; j < m; j++) {
      const v = this.statusFromCounts(counts[4 * j]!, counts[4 * j + 1]!, counts[4 * j + 2]!, counts[4 * j + 3]!, n);
      let s = v.status;
      af[j] = v.af;
      nMiss[j] = counts[4 * j + 1]!;
      if (s === 0 && x) {
        impute(j, 2 * v.af, x);
        if (this.r2OnCovariates(x) > this.r2) s = 4;
      }
      status[j] = s;
      if (s === 0) {
        keptCols.push(j);
        kept[j] = 1;
      }
    }
    return { kept, status, af, nMiss, keptIndex: Int32Array.from(keptCols), imputed: f64Matrix(n, 0) };
  }

  /**
   * The missing, maf and monomorphic filters of {@link applyCounts} for one SNP (code counts c0..c3 over n
   * analysed individuals, coding as there) and its allele1 frequency; status 0 still has the r^2 filter ahead.
   */
  statusFromCounts(c0: number, c1: number, c2: number, c3: number, n: number): { status: number; af: number } {
    const af = (2 * c0 + c2) / (2 * (n - c1));
    return { status: this.decide(af, c1, (c0 > 0 ? 1 : 0) + (c2 > 0 ? 1 : 0) + (c3 > 0 ? 1 : 0) >= 2, n), af };
  }

  /**
   * GEMMA's filters but the r^2 one, in order, for one SNP (allele1 frequency, missing count, whether two
   * non-missing values differ, over n analysed): the SNP_STATUS index (0: the r^2 filter decides).
   */
  private decide(freq: number, miss: number, poly: boolean, n: number): number {
    if (miss === n || miss / n > this.miss) return 1;
    if (this.maf !== -1 && (freq < this.maf || freq > 1 - this.maf)) return 2;
    if (!poly) return 3;
    return 0;
  }

  /** x'W (W'W)^-1 W'x / x'x for the uncentred x. O(n c + c^2). */
  private r2OnCovariates(x: Float64Array): number {
    const w = this.w!;
    const c = w.cols;
    const l = this.wtwChol!;
    const z = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      let s = 0;
      const col = k * w.ld;
      for (let r = 0; r < w.rows; r++) s += w.data[col + r]! * x[r]!;
      z[k] = s;
    }
    // W'x = L L' b  =>  x'W (W'W)^-1 W'x = |L^-1 W'x|^2.
    let vw = 0;
    for (let k = 0; k < c; k++) {
      let s = z[k]!;
      for (let q = 0; q < k; q++) s -= l[k * c + q]! * z[q]!;
      z[k] = s / l[k * c + k]!;
      vw += z[k]! * z[k]!;
    }
    let vx = 0;
    for (let r = 0; r < x.length; r++) vx += x[r]! * x[r]!;
    return vw / vx;
  }
}

/** out[at + r] = dosage of analysed row r at column offset `col`, missing -> `mean`. O(n). */
function imputeColumn(data: Float64Array, col: number, rows: Int32Array | undefined, mean: number, out: Float64Array, at: number, n: number): void {
  for (let r = 0; r < n; r++) {
    const v = data[col + (rows ? rows[r]! : r)]!;
    out[at + r] = v === v ? v : mean;
  }
}

/**
 * Lower Cholesky factor of W'W (c x c, row-major dense); throws a RangeError naming the first column that is a
 * linear combination of the previous ones (relative pivot below 1e-12). O(n c^2).
 */
export function choleskyOfGram(w: F64Matrix): Float64Array {
  const c = w.cols;
  const g = new Float64Array(c * c);
  for (let a = 0; a < c; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let r = 0; r < w.rows; r++) s += w.data[r + a * w.ld]! * w.data[r + b * w.ld]!;
      g[a * c + b] = s;
    }
  }
  for (let k = 0; k < c; k++) {
    let d = g[k * c + k]!;
    for (let q = 0; q < k; q++) d -= g[k * c + q]! ** 2;
    if (!(d > 1e-12 * g[k * c + k]!)) {
      throw new RangeError(`covariates are linearly dependent (singular W'W, ${w.rows}x${c}): column ${k + 1} is a combination of the previous ones`);
    }
    g[k * c + k] = Math.sqrt(d);
    for (let i = k + 1; i < c; i++) {
      let s = g[i * c + k]!;
      for (let q = 0; q < k; q++) s -= g[i * c + q]! * g[k * c + q]!;
      g[i * c + k] = s / g[k * c + k]!;
    }
  }
  return g;
}
