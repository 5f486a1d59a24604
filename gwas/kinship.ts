/**
 * Genomic relatedness (kinship) matrices as GEMMA 0.98.5 computes them (PlinkKin / BimbamKin), streamed from a
 * GenotypeSource in SNP blocks and accumulated with the kernel layer's syrk.
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
import type { Backend } from '../kernels/backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../kernels/matrix.js';
import type { SnpFilter } from './snp-filter.js';
import type { GenotypeSource } from './types.js';

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
  /** SNPs per streamed block (default 4096). */
  blockSize?: number;
  /** Keep per-chromosome Gram matrices for leave-one-chromosome-out kinships. */
  loco?: boolean;
}

/** Sum of z z^T over one chromosome's SNPs, and how many there were. */
export interface ChromosomeGram {
  gram: F64Matrix;
  nSnps: number;
}

export interface KinshipResult {
  mode: KinshipMode;
  /** N x N kinship over all individuals of the genotype file, in file order. */
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
  const n = source.samples.length;
  const blockSize = opts.blockSize ?? 4096;
  const standardize = opts.mode === 'standardized';
  const grams = new Map<string, ChromosomeGram>();
  let total: F64Matrix | undefined;
  let used = 0;
  for await (const block of source.blocks(blockSize)) {
    const verdict = opts.filter.apply(block.dosages, opts.filterRows);
    if (verdict.keptIndex.length === 0) continue;
    // Step 1: centre (and scale) each kept SNP over all N individuals, grouped by chromosome for LOCO.
    const groups = opts.loco ? groupByChromosome(verdict.keptIndex, (j) => block.snps[j]!.chr) : new Map([['', Array.from(verdict.keptIndex)]]);
    for (const [chr, cols] of groups) {
      const z = f64Matrix(n, cols.length);
      cols.forEach((j, k) => centerColumn(block.dosages, j, standardize, z.data, k * n));
      used += cols.length;
      // Step 2: accumulate Z Z^T.
      if (opts.loco) {
        const g = grams.get(chr);
        grams.set(chr, { gram: await opts.backend.syrk(z, g ? { beta: 1, c: g.gram } : {}), nSnps: (g?.nSnps ?? 0) + cols.length });
      } else {
        total = await opts.backend.syrk(z, total ? { beta: 1, c: total } : {});
      }
    }
  }
  if (used === 0) throw new RangeError(`kinship: no SNP of ${source.describe} passes the SNP filters (maf ${opts.filter.maf}, miss ${opts.filter.miss})`);
  if (opts.loco) total = sumGrams([...grams.values()].map((g) => g.gram));
  const k = scaled(total!, 1 / used);
  return opts.loco ? { mode: opts.mode, k, nSnps: used, chromosomes: grams } : { mode: opts.mode, k, nSnps: used };
}

/** z = (x - mu) [/ sd] for column j of `x` over all its rows, missing -> 0 (the imputed mean). O(N). */
function centerColumn(x: F64Matrix, j: number, standardize: boolean, out: Float64Array, at: number): void {
  const n = x.rows;
  const col = j * x.ld;
  let sum = 0;
  let sumSq = 0;
  let miss = 0;
  for (let i = 0; i < n; i++) {
    const v = x.data[col + i]!;
    if (Number.isNaN(v)) miss++;
    else {
      sum += v;
      sumSq += v * v;
    }
  }
  const mean = sum / (n - miss);
  const variance = (sumSq + mean * mean * miss) / n - mean * mean;
  const scale = standardize && variance !== 0 ? 1 / Math.sqrt(variance) : 1;
  for (let i = 0; i < n; i++) {
    const v = x.data[col + i]!;
    out[at + i] = Number.isNaN(v) ? 0 : (v - mean) * scale;
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

function sumGrams(grams: F64Matrix[]): F64Matrix {
  const out = f64Matrix(grams[0]!.rows, grams[0]!.cols);
  for (const g of grams) for (let j = 0; j < g.cols; j++) for (let i = 0; i < g.rows; i++) out.data[i + j * out.ld]! += g.data[i + j * g.ld]!;
  return out;
}

function scaled(m: F64Matrix, s: number): F64Matrix {
  const out = f64Matrix(m.rows, m.cols);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) out.data[i + j * out.ld] = m.data[i + j * m.ld]! * s;
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
 * double-centre, K_c = (I - 11'/n) K_rows (I - 11'/n), computed as K - (g 1' + 1 g')/n + (1'g) 11'/n^2 with
 * g = K 1. Returns a fresh n x n matrix. O(n^2).
 */
export function restrictAndCenter(k: F64Matrix, rows: Int32Array): F64Matrix {
  if (k.rows !== k.cols) throw new RangeError(`restrictAndCenter: kinship must be square, got ${shapeOf(k)}`);
  const n = rows.length;
  for (const i of rows) if (i < 0 || i >= k.rows) throw new RangeError(`restrictAndCenter: row index ${i} outside ${shapeOf(k)}`);
  const out = f64Matrix(n, n);
  for (let b = 0; b < n; b++) {
    const col = rows[b]! * k.ld;
    for (let a = 0; a < n; a++) out.data[a + b * n] = k.data[col + rows[a]!]!;
  }
  const g = new Float64Array(n);
  let total = 0;
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < n; a++) g[a]! += out.data[a + b * n]!;
  }
  for (let a = 0; a < n; a++) total += g[a]!;
  const n2 = n * n;
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < n; a++) out.data[a + b * n] = out.data[a + b * n]! - (g[a]! + g[b]!) / n + total / n2;
  }
  return out;
}
