/**
 * Genomic relatedness (kinship) matrices as GEMMA 0.98.5 computes them (PlinkKin / BimbamKin), streamed from a
 * GenotypeSource in SNP blocks and accumulated with the kernel layer: the exact integer syrk
 * (SyrkInt8Accumulator, on worker threads while the next block is read) plus the missing-genotype terms in SNP
 * order (CodedColumnSums) for centred hard-call genotypes, the backend's f64 syrk otherwise (see
 * GramAccumulator). K's bits do not depend on the thread count or block size. A scan can keep what it needs of this pass
 * (KinshipOptions.store) instead of reading the genotypes again.
 *
 * Over ALL N individuals of the genotype file, for every SNP that passes the SNP filter evaluated on the
 * analysed individuals (GEMMA's indicator_snp), with mean mu_j over non-missing dosages and
 * var_j = (sum x^2 + mu_j^2 n_miss) / N - mu_j^2 (population variance, imputed values included):
 *   z_ij = x_ij - mu_j            (x_ij := mu_j when missing)             centered      (-gk 1)
 *   z_ij = (x_ij - mu_j) / sqrt(var_j)   (unscaled when var_j = 0)       standardized  (-gk 2)
 *   K = Z Z^T / m,   m = number of SNPs used.                             Cost O(N^2 m) (syrk), memory O(N^2).
 * For LOCO the Gram matrices S_c = Z_c Z_c^T of each chromosome are kept:
 *   K_{-c} = (S - S_c) / (m - m_c),   S = sum_c S_c.                        Memory O(#chr N^2).
 */
import type { Backend, Int8Gram } from '../kernels/backend.js';
import { CodedColumnSums } from '../kernels/cpu/coded-sums.js';
import { commonPool, type GemmPool } from '../kernels/cpu/pool.js';
import { SyrkInt8Accumulator } from '../kernels/cpu/syrk-int8.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../kernels/matrix.js';
import { getFlag } from '../src/flags.js';
import { NumericError } from '../src/errors.js';
import { checkKeep } from '../src/io/genotype-blocks.js';
import { CODE_DOSAGE } from '../src/io/packed-codes.js';
import type { GenotypeStore } from './genotype-store.js';
import { F64Columns, G_OF_CODE, PackedColumns, type BlockColumns } from './kinship-columns.js';
import type { SnpFilter, SnpFilterResult } from './snp-filter.js';
import type { GenotypeSource, SnpInfo } from './types.js';

export type KinshipMode = 'centered' | 'standardized';

/** GEMMA's -gk number for each mode (also the file suffix: cXX / sXX). */
export const KINSHIP_MODES: Record<KinshipMode, { gk: 1 | 2; suffix: 'cXX' | 'sXX' }> = {
  centered: { gk: 1, suffix: 'cXX' },
  standardized: { gk: 2, suffix: 'sXX' },
};

export interface KinshipOptions {
  mode: KinshipMode;
  /** The SNP filter (GEMMA applies its -miss/-maf/-r2 filters over the analysed individuals). */
  filter: SnpFilter;
  /** Analysed individuals (ascending indices into source.samples) the filter is evaluated on. */
  filterRows: Int32Array;
  /** Accumulates Z Z^T (syrk with beta = 1). */
  backend: Backend;
  /** SNPs per streamed block (default KINSHIP_BLOCK_SNPS). */
  blockSize?: number;
  /** Keep per-chromosome Gram matrices for leave-one-chromosome-out kinships. */
  loco?: boolean;
  /**
   * Individuals K is computed for (ascending indices into source.samples; default all, as GEMMA's K file).
   * SNP means and variances still come from all N individuals, so K[rows, rows] is exactly the corresponding
   * block of the full K, at (n_rows / N)^2 of the cost: what a scan needs before {@link restrictAndCenter}.
   */
  rows?: Int32Array;
  /**
   * Threads for the exact integer Gram (default: the `threads` flag): with T > 1, T - 1 helper threads
   * multiply block b while this thread reads and prepares block b + 1. The result does not depend on T.
   */
  threads?: number;
  /** Keeps each block's filter verdict and analysed genotypes for a scan (its rows must be `filterRows`). */
  store?: GenotypeStore;
}

/**
 * SNPs per block a scan's kinship pass reads (at most; its stream joins them into blocks of the scan's size).
 * Smaller blocks pipeline better (the helpers' product of block b overlaps the reading of block b + 1; only
 * the last block's product is left over) and keep the decoded N x block f64 matrix in cache: on
 * mouse_hs1940 (1410 of 1940 individuals, 2 threads) the reading thread spent 0.53 cpu-s at 1024 against
 * 0.66 at 4096 (median of 3; /proc thread times, shared machine). The missing-genotype sums (CodedColumnSums)
 * decode 16 rows x block SNPs of f64 per tile, which stay in cache up to ~1024 SNPs: on a 5000 x 20000 cohort
 * at 2% missing they cost 0.9 cpu-s per 8192 SNPs at 512-1024, 1.1 at 2048, 1.5 at 4096, 1.25 at 256, and
 * `gpulmm grm` took 12.3-13.4 cpu-s at 1024 against 13.8-14.4 at 4096.
 */
export const KINSHIP_BLOCK_SNPS = 1024;

/** Sum of z z^T over one chromosome's SNPs, and how many there were. */
export interface ChromosomeGram {
  gram: F64Matrix;
  nSnps: number;
}

export interface KinshipResult {
  mode: KinshipMode;
  /** Kinship over the `rows` individuals (default: all N of the genotype file), in file order. */
  k: F64Matrix;
  /** SNPs that entered K (m). */
  nSnps: number;
  /** Per chromosome (only with `loco`), in the order chromosomes first appear. */
  chromosomes?: Map<string, ChromosomeGram>;
}

/**
 * Computes K (and, with `loco`, the per-chromosome Gram matrices) in one pass over the genotypes.
 * Throws when no SNP passes the filter.
 */
export async function computeKinship(source: GenotypeSource, opts: KinshipOptions): Promise<KinshipResult> {
  const rows = opts.rows;
  if (rows) checkKeep(rows, source.samples.length, 'computeKinship rows');
  const blockSize = opts.blockSize ?? KINSHIP_BLOCK_SNPS;
  const groups = new Map<string, GramAccumulator>();
  const pool = commonPool(opts.threads ?? getFlag('threads'));
  const N = source.samples.length;
  const add = async (columns: BlockColumns, verdict: SnpFilterResult, snps: readonly SnpInfo[]): Promise<void> => {
    if (verdict.keptIndex.length === 0) return;
    const byChr = opts.loco ? groupByChromosome(verdict.keptIndex, (j) => snps[j]!.chr) : new Map([['', Array.from(verdict.keptIndex)]]);
    for (const [chr, cols] of byChr) {
      let acc = groups.get(chr);
      if (!acc) groups.set(chr, (acc = new GramAccumulator(N, rows ? rows.length : N, opts.mode, opts.backend, pool)));
      await acc.add(columns, cols);
    }
  };
  if (source.packedBlocks) {
    // Hard calls as 2-bit codes: counts, filter and staging from byte tables, no f64 dosages.
    const n = opts.filterRows.length;
    checkKeep(opts.filterRows, N, 'computeKinship filterRows');
    for await (const block of source.packedBlocks(blockSize)) {
      const columns = new PackedColumns(block.codes, block.snps.length, N, rows);
      const filterRows = opts.filterRows;
      const verdict = opts.filter.applyCounts(columns.countsOver(filterRows), n, (j, mean, out) => {
        for (let r = 0; r < n; r++) {
          const v = CODE_DOSAGE[columns.code(j, filterRows[r]!)]!;
          out[r] = v === v ? v : mean;
        }
      });
      opts.store?.addCodes(block, verdict);
      await add(columns, verdict, block.snps);
    }
  } else {
    const out = rows ?? Int32Array.from({ length: N }, (_, i) => i);
    const outPos = new Int32Array(N).fill(-1);
    out.forEach((i, a) => (outPos[i] = a));
    for await (const block of source.blocks(blockSize)) {
      const verdict = opts.filter.apply(block.dosages, opts.filterRows, { impute: false });
      opts.store?.add(block, verdict);
      await add(new F64Columns(block.dosages, out, outPos), verdict, block.snps);
    }
  }
  const used = [...groups.values()].reduce((s, g) => s + g.nSnps, 0);
  if (used === 0) throw new NumericError(`kinship: no SNP of ${source.describe} passes the SNP filters (maf ${opts.filter.maf}, miss ${opts.filter.miss}): nothing to estimate relatedness from`);
  if (!opts.loco) return { mode: opts.mode, k: await groups.get('')!.result(1 / used), nSnps: used };
  const chromosomes = new Map<string, ChromosomeGram>();
  for (const [chr, g] of groups) chromosomes.set(chr, { gram: await g.result(1), nSnps: g.nSnps });
  const k = sumGrams([...chromosomes.values()].map((c) => c.gram), 1 / used);
  return { mode: opts.mode, k, nSnps: used, chromosomes };
}

/**
 * Sum of z z^T over a set of SNPs. Centred hard-call SNPs (dosages 0/1/2, at most N/8 missing) take the exact
 * integer path: with G~ the dosages (missing = 0), Q the missing indicator and D = diag(mu),
 *   Z Z^T = G~ G~^T - u 1' - 1 u' + (sum mu^2) 1 1' + W + W' - v 1' - 1 v',
 *   u = G~ mu,   v = Q mu^2,   W = G~ D Q^T + (Q D^2 Q^T) / 2,
 * where G~ G~^T is exact integer arithmetic (SyrkInt8Accumulator, O(N^2) per SNP at 16 multiply-adds per SIMD
 * instruction, on the pool's helper threads) and W touches only the missing genotypes (O(N) each), summed
 * in SNP order in f64 (CodedColumnSums: the code c = dosage, or 3 when missing, decodes through
 * A_j = (0, mu_j, 2 mu_j, mu_j^2 / 2) for W[:, k] at each SNP j where k is missing, and B_j = (0, mu_j, 2 mu_j, 0)
 * for u). Other SNPs (standardized mode, fractional dosages, many missing) are centred in f64 and
 * accumulated with the backend's syrk.
 */
class GramAccumulator {
  nSnps = 0;
  private readonly centered: boolean;
  /** Sum of G~ G~^T (exact int32: on the backend's device when it has int8Gram, else the pool's helper threads). */
  private integer: Int8Gram | undefined;
  /** u and W, summed in SNP order. */
  private sums: CodedColumnSums | undefined;
  private readonly v: Float64Array;
  private sumMu2 = 0;
  private float: F64Matrix | undefined;
  private codes = new Uint8Array(0);

  constructor(
    /** Individuals in the genotype blocks (N). */
    private readonly total: number,
    /** Rows of K (the output individuals). */
    private readonly n: number,
    mode: KinshipMode,
    private readonly backend: Backend,
    private readonly pool: GemmPool,
  ) {
    this.centered = mode === 'centered';
    this.v = new Float64Array(this.centered ? n : 0);
  }

  /**
   * Adds columns `cols` of a block (f64 dosages or 2-bit codes, see gwas/kinship-columns.ts). Per column, GEMMA's
   * moments over all N (PlinkKin: mean over non-missing, population variance with imputed values, missing
   * count, whether every value is 0, 1 or 2) and, for the output rows, G~ (missing -> 0) and the codes
   * (missing -> 3) staged; a column that then takes the integer path keeps them, and adds mu^2 to sum mu^2 and,
   * at its missing rows, to v; the others are centred in f64. O(N) per SNP plus O(1) per missing genotype.
   */
  async add(columns: BlockColumns, cols: readonly number[]): Promise<void> {
    const n = this.n, total = this.total;
    const ld = columns.ld;
    // 2-bit codes over the output rows go to the Gram as they are (no staged G~) where it takes them (cpu).
    const takesCodes = this.integer ? this.integer.addCodes !== undefined : this.backend.int8Gram === undefined;
    const coded = this.centered && takesCodes ? columns.coded : undefined;
    const intCols: number[] = [];
    const g = coded ? undefined : new Int8Array(this.centered ? ld * cols.length : 0);
    const codes = this.stagedCodes(this.centered ? ld * cols.length : 0);
    const tableA = new Float64Array(4 * cols.length);
    const tableB = new Float64Array(4 * cols.length);
    const missRow: number[] = [];
    const missCol: number[] = [];
    const count = new Int32Array(n + 1);
    const colMiss: number[] = [];
    const floatCols: { j: number; mean: number; scale: number }[] = [];
    let k = 0;
    for (const j of cols) {
      colMiss.length = 0;
      const { sum, sumSq, miss, hardCall } = columns.stage(j, this.centered, g, codes, k * ld, colMiss);
    const mean = sum / (total - miss);
      const variance = (sumSq + mean * mean * miss) / total - mean * mean;
      this.nSnps++;
      if (!(this.centered && miss <= total / 8 && hardCall)) {
        floatCols.push({ j, mean, scale: !this.centered && variance !== 0 ? 1 / Math.sqrt(variance) : 1 });
        continue;
      }
      const mm = mean * mean;
      this.sumMu2 += mm;
      for (let d = 0; d < 3; d++) tableA[4 * k + d] = tableB[4 * k + d] = mean * d;
      tableA[4 * k + 3] = mm / 2;
      for (const o of colMiss) {
        this.v[o]! += mm;
        missRow.push(o);
        missCol.push(k);
        count[o + 1]!++;
      }
      intCols.push(j);
      k++;
    }
    if (k > 0) {
      // Lists by row, each in SNP order: start[i] .. start[i + 1] - 1.
      for (let i = 0; i < n; i++) count[i + 1]! += count[i]!;
      const start = Int32Array.from(count);
      const list = new Int32Array(missRow.length);
      for (let e = 0; e < missRow.length; e++) list[count[missRow[e]!]!++] = missCol[e]!;
      this.sums ??= new CodedColumnSums(n, n);
      this.sums.add({ codes: codes.subarray(0, k * ld), ld, k, tableA, tableB, start, list });
      this.integer ??= this.backend.int8Gram?.(n) ?? new SyrkInt8Accumulator(n, this.pool);
      if (coded) await this.integer.addCodes!({ rows: n, bytesPerCol: coded.bytesPerCol, data: coded.data, cols: intCols, table: G_OF_CODE });
      else await this.integer.add({ rows: n, cols: k, ld, data: g!.subarray(0, k * ld) });
    }
    if (floatCols.length > 0) {
      // z = (x - mu) [/ sd], missing -> 0 (the imputed mean).
      const z = f64Matrix(n, floatCols.length);
      floatCols.forEach(({ j, mean, scale }, c) => columns.center(j, mean, scale, z.data, c * n));
      this.float = await this.backend.syrk(z, this.float ? { beta: 1, c: this.float } : {});
    }
  }

  /** A buffer of at least `bytes` for the staged codes, reused from block to block (CodedColumnSums.add copies them). */
  private stagedCodes(bytes: number): Uint8Array {
    if (this.codes.length < bytes) this.codes = new Uint8Array(bytes);
    return this.codes;
  }

  /**
   * `scale` times the sum of z z^T over every SNP added (n x n): fl(fl(F + Z) scale) entry by entry, with F the
   * f64 syrk's part (0 without one) and Z = S - u 1' - 1 u' + (sum mu^2) 11' - v 1' - 1 v' + W + W' evaluated left
   * to right (see the class comment). One pass over 16 x 16 blocks (W is stored by 16-row tiles). O(n^2).
   */
  async result(scale: number): Promise<F64Matrix> {
    const n = this.n;
    const out = f64Matrix(n, n);
    const f = this.float?.data;
    if (!this.integer) {
      for (let i = 0; i < n * n; i++) out.data[i] = (f ? f[i]! : 0) * scale;
      return out;
    }
    const { parts, ld } = await this.integer.lowerSums();
    const { v, sumMu2 } = this;
    const u = this.sums!.u;
    const w = this.sums!.w;
    const [c0, c1] = parts as [Int32Array, Int32Array | undefined];
    const o = out.data;
    for (let k0 = 0; k0 < n; k0 += 16) {
      for (let i0 = 0; i0 < n; i0 += 16) {
        const k1 = Math.min(n, k0 + 16), i1 = Math.min(n, i0 + 16);
        for (let k = k0; k < k1; k++) {
          for (let i = i0; i < i1; i++) {
            const at = i >= k ? i + k * ld : k + i * ld;
            const sik = c0[at]! + (c1 ? c1[at]! : 0);
            let z = sik - u[i]! - u[k]! + sumMu2 - v[i]! - v[k]!;
            if (w) z += w.data[(i >> 4) * w.tile + 16 * k + (i & 15)]! + w.data[(k >> 4) * w.tile + 16 * i + (k & 15)]!;
            o[i + k * n] = ((f ? f[i + k * n]! : 0) + z) * scale;
          }
        }
      }
    }
    return out;
  }
}

function groupByChromosome(cols: Int32Array, chrOf: (j: number) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const j of cols) {
    const chr = chrOf(j);
    const g = groups.get(chr);
    if (g) g.push(j);
    else groups.set(chr, [j]);
  }
  return groups;
}

/** scale times the sum of the grams, fl(fl(sum) scale) entry by entry (summed in the order given). O(#grams n^2). */
function sumGrams(grams: F64Matrix[], scale: number): F64Matrix {
  const out = f64Matrix(grams[0]!.rows, grams[0]!.cols);
  for (const g of grams) for (let j = 0; j < g.cols; j++) for (let i = 0; i < g.rows; i++) out.data[i + j * out.ld]! += g.data[i + j * g.ld]!;
  for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! * scale;
  return out;
}

/**
 * Leave-one-chromosome-out kinship K_{-c} = (S - S_c) / (m - m_c) from a `loco` result. O(N^2).
 * Throws when `chr` is unknown or holds every SNP.
 */
export function locoKinship(result: KinshipResult, chr: string): F64Matrix {
  const grams = result.chromosomes;
  if (!grams) throw new RangeError('locoKinship: the kinship was computed without loco: true');
  const c = grams.get(chr);
  if (!c) throw new RangeError(`locoKinship: no SNP on chromosome '${chr}' entered the kinship (chromosomes: ${[...grams.keys()].join(', ')})`);
  const rest = result.nSnps - c.nSnps;
  if (rest === 0) throw new RangeError(`locoKinship: every kinship SNP is on chromosome '${chr}', nothing is left out of it`);
  const n = result.k.rows;
  const out = f64Matrix(n, n);
  // S = K m (K holds S / m), so K_{-c} = (m K - S_c) / (m - m_c).
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      out.data[i + j * n] = (result.k.data[i + j * result.k.ld]! * result.nSnps - c.gram.data[i + j * c.gram.ld]!) / rest;
    }
  }
  return out;
}

/**
 * What GEMMA does to K before the eigendecomposition: restrict to the analysed individuals `rows`, then
 * double-centre ({@link centerInPlace}). Returns a fresh n x n matrix. O(n^2).
 */
export function restrictAndCenter(k: F64Matrix, rows: Int32Array): F64Matrix {
  if (k.rows !== k.cols) throw new RangeError(`restrictAndCenter: kinship must be square, got ${shapeOf(k)}`);
  const n = rows.length;
  for (const i of rows) if (i < 0 || i >= k.rows) throw new RangeError(`restrictAndCenter: row index ${i} outside ${shapeOf(k)}`);
  const out = f64Matrix(n, n);
  // K[rows, rows] (one copy when the rows are all of a packed K, as for a kinship computed for them).
  if (n === k.rows && k.ld === n && rows.every((i, a) => i === a)) out.data.set(k.data.subarray(0, n * n));
  else {
    for (let b = 0; b < n; b++) {
      const col = rows[b]! * k.ld;
      for (let a = 0; a < n; a++) out.data[a + b * n] = k.data[col + rows[a]!]!;
    }
  }
  return centerInPlace(out);
}

/**
 * Double-centres the square K in place, K_c = (I - 11'/n) K (I - 11'/n), computed as
 * K - (g 1' + 1 g')/n + (1'g) 11'/n^2 with g = K 1 (the same operations, in the same order, as
 * restrictAndCenter). Returns its argument. O(n^2), no n x n allocation.
 */
export function centerInPlace(k: F64Matrix): F64Matrix {
  if (k.rows !== k.cols) throw new RangeError(`centerInPlace: kinship must be square, got ${shapeOf(k)}`);
  const n = k.rows;
  const ld = k.ld;
  const d = k.data;
  const g = new Float64Array(n);
  let total = 0;
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < n; a++) g[a]! += d[a + b * ld]!;
  }
  for (let a = 0; a < n; a++) total += g[a]!;
  const n2 = n * n;
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < n; a++) d[a + b * ld] = d[a + b * ld]! - (g[a]! + g[b]!) / n + total / n2;
  }
  return k;
}
