/**
 * The kinship of the biobank scan as a batched product, never as a matrix (BOLT-LMM's model):
 *   z_ij = (x_ij - mu_j) s_j,  s_j = sqrt((n - 1) / sum_i (x_ij - mu_j)^2)   (missing x_ij -> mu_j, so z_ij = 0)
 * over the n analysed individuals (mu_j the mean of the non-missing dosages; each column has |z_j|^2 = n - 1),
 *   K = Z Z' / M,   and with leave-one-chromosome-out, K_{-c} = Z_{-c} Z_{-c}' / M_{-c}.
 * The model lives on the complement of the covariates: with Q an orthonormal basis of W (n x c) and
 * S = I - Q Q', the operator is A_c v = S K_{-c} S v, the projected squared norm of SNP j is
 * |S z_j|^2 = |z_j|^2 - |Q' z_j|^2 (from one product Z'Q), and tr(A) = sum_j |S z_j|^2 / M exactly.
 * SNPs whose projected norm is below 0.1 (in the span of the covariates; BOLT's rule), or, with `r2Max`, whose
 * GEMMA r2 on the covariates (mean-imputed uncentred x) exceeds it, leave the model (status 'collinear').
 * Each product A V (n x B) is one pass over the packed codes (Packed2Products.normal: kernels/cpu/packed2.ts, f64,
 * or a GPU backend's, f32): per
 * chunk of SNPs, U = Z'V, its rows of SNPs on each column's left-out chromosome zeroed and each column scaled by
 * 1 / M_b, then Z U added up. Cost 4 n M B flops + two decodes of the codes; memory O(threads n B).
 */
import { Packed2Pool } from '../../kernels/cpu/packed2.js';
import { columnBytes, type Packed2Products } from '../../kernels/packed2.js';
import type { Backend } from '../../kernels/backend.js';
import { sharedF64 } from '../../kernels/cpu/eigh-products.js';
import { f64Matrix, type F64Matrix } from '../../kernels/matrix.js';
import type { BatchedOperator } from '../../src/lmm/biobank/operator.js';
import type { PackedGenotypes } from './packed-genotypes.js';

/** No chromosome left out. */
export const ALL_CHROMOSOMES = -1;

export class KinshipOperator {
  readonly n: number;
  /** Standardisation tables, 4 f64 per SNP (code -> z), zero for SNPs out of the model. */
  readonly tables: Float64Array;
  /** s_j (z per allele copy), per SNP. */
  readonly scale: Float64Array;
  /** |S z_j|^2 per SNP (0 for SNPs out of the model). */
  readonly projNorm2: Float64Array;
  /** Whether SNP j is in the model. */
  readonly inModel: Uint8Array;
  /** SNPs in the model, in all and without each chromosome. */
  readonly m: number;
  readonly mWithout: Int32Array;
  /** tr(A) = sum_j |S z_j|^2 / M. */
  readonly traceA: number;
  /** Passes over the codes so far: each apply() is one. */
  passes = 0;
  /** The chromosome of each SNP, on shared memory (the product threads read it). */
  private readonly groups: Int32Array;

  private constructor(
    readonly store: PackedGenotypes,
    /** Orthonormal basis of the covariates, n x c. */
    readonly q: F64Matrix,
    /** The products with the codes (the cpu's Packed2Pool, or a GPU backend's). */
    readonly products: Packed2Products,
    tables: Float64Array, scale: Float64Array, projNorm2: Float64Array, inModel: Uint8Array,
  ) {
    this.n = store.matrix.rows;
    this.tables = tables;
    this.scale = scale;
    this.projNorm2 = projNorm2;
    this.inModel = inModel;
    let m = 0;
    let tr = 0;
    const perChr = new Int32Array(store.chromosomes.length);
    for (let j = 0; j < inModel.length; j++) {
      if (!inModel[j]) continue;
      m++;
      tr += projNorm2[j]!;
      perChr[store.chr[j]!]!++;
    }
    this.m = m;
    this.mWithout = Int32Array.from(perChr, (k) => m - k);
    this.traceA = m > 0 ? tr / m : 0;
    this.groups = new Int32Array(new SharedArrayBuffer(Math.max(1, store.chr.length) * 4), 0, store.chr.length);
    this.groups.set(store.chr);
  }

  /**
   * Builds the standardisation from the code counts and the projected norms from one product Z'Q.
   * `threads` for the products (default: the `threads` flag).
   */
  static async create(store: PackedGenotypes, q: F64Matrix, opts: { threads?: number; r2Max?: number; backend?: Backend } = {}): Promise<KinshipOperator> {
    const { threads, r2Max } = opts;
    const M = store.matrix.cols;
    const n = store.matrix.rows;
    const tables = sharedF64(4 * M);
    const scale = new Float64Array(M);
    for (let j = 0; j < M; j++) {
      const c0 = store.counts[4 * j]!, c2 = store.counts[4 * j + 2]!, c3 = store.counts[4 * j + 3]!;
      const obs = c0 + c2 + c3;
      if (obs === 0) continue;
      const mu = (2 * c0 + c2) / obs;
      const ss = c0 * (2 - mu) ** 2 + c2 * (1 - mu) ** 2 + c3 * mu * mu;
      if (!(ss > 0)) continue;
      const s = Math.sqrt((n - 1) / ss);
      scale[j] = s;
      tables[4 * j] = (2 - mu) * s;
      tables[4 * j + 2] = (1 - mu) * s;
      tables[4 * j + 3] = -mu * s;
    }
    const pool: Packed2Products = opts.backend?.packed2?.(store.matrix) ?? new Packed2Pool(store.matrix, threads);
    const qz = await pool.ztv(tables, q);
    const projNorm2 = new Float64Array(M);
    const inModel = new Uint8Array(M);
    for (let j = 0; j < M; j++) {
      if (scale[j] === 0) continue;
      let qz2 = 0;
      for (let a = 0; a < q.cols; a++) qz2 += qz.data[j + a * qz.ld]! ** 2;
      const s = n - 1 - qz2;
      // GEMMA's r2 of the mean-imputed, uncentred x = z / s_j + mu_j on W (1 in W, 1'z = 0):
      // |Q'x|^2 / |x|^2 = (|Q'z|^2 / s^2 + n mu^2) / (|z|^2 / s^2 + n mu^2).
      const c0 = store.counts[4 * j]!, c2 = store.counts[4 * j + 2]!, obs = n - store.counts[4 * j + 1]!;
      const mu = (2 * c0 + c2) / obs;
      const s2 = scale[j]! ** 2;
      const r2 = (qz2 / s2 + n * mu * mu) / ((n - 1) / s2 + n * mu * mu);
      if (s < 0.1 || (r2Max !== undefined && q.cols > 1 && r2 > r2Max)) {
        tables.fill(0, 4 * j, 4 * j + 4);
        continue;
      }
      projNorm2[j] = s;
      inModel[j] = 1;
    }
    return new KinshipOperator(store, q, pool, tables, scale, projNorm2, inModel);
  }

  /** S V (a copy): V - Q (Q' V). O(n c B). */
  project(v: F64Matrix): F64Matrix {
    const n = this.n;
    const q = this.q;
    const out = f64Matrix(n, v.cols);
    for (let b = 0; b < v.cols; b++) {
      const o = b * n;
      out.data.set(v.data.subarray(b * v.ld, b * v.ld + n), o);
      for (let a = 0; a < q.cols; a++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q.data[i + a * q.ld]! * out.data[o + i]!;
        for (let i = 0; i < n; i++) out.data[o + i]! -= d * q.data[i + a * q.ld]!;
      }
    }
    return out;
  }

  /**
   * A_{e(b)} V for columns of V already in the complement of the covariates: `exclude[b]` is the chromosome
   * index left out for column b (ALL_CHROMOSOMES for none). One product (two passes over the codes).
   */
  async apply(v: F64Matrix, exclude: ArrayLike<number>): Promise<F64Matrix> {
    const B = v.cols;
    const scale = Float64Array.from({ length: B }, (_, b) => 1 / (exclude[b] === ALL_CHROMOSOMES ? this.m : this.mWithout[exclude[b]!]!));
    const y = await this.products.normal(this.tables, v, this.groups, exclude, scale);
    this.passes++;
    return this.project(y);
  }

  /** The batched operator for columns with the given exclusions (by column index of the caller's batch). */
  operator(exclude: ArrayLike<number>): BatchedOperator {
    return (v, cols) => this.apply(v, cols.map((c) => exclude[c]!));
  }

  /** S z_j for SNP j (n), decoded from the codes. O(n c). */
  snpColumn(j: number): F64Matrix {
    const n = this.n;
    const { data, at } = columnBytes(this.store.matrix, j);
    const x = f64Matrix(n, 1);
    for (let i = 0; i < n; i++) x.data[i] = this.tables[4 * j + ((data[at + (i >> 2)]! >> (2 * (i & 3))) & 3)]!;
    return this.project(x);
  }

  async dispose(): Promise<void> {
    await this.products.dispose();
  }
}
