/**
 * The contract between the genotype side of a scan (readers, QC, kinship: src/io, gwas/) and the model side
 * (src/lmm/snp, gwas/scan). Data flows one way: a GenotypeSource yields GenotypeBlocks, the scan consumes them.
 */
import type { F64Matrix } from '../kernels/matrix.js';

/** One variant as GEMMA prints it. `allele1` is the counted allele (PLINK .bim column 5). */
export interface SnpInfo {
  chr: string;
  rs: string;
  /** Base-pair position (GEMMA's `ps`). */
  ps: number;
  allele1: string;
  allele0: string;
}

/** A block of consecutive variants for a chosen subset of individuals. */
export interface GenotypeBlock {
  /** Index of the first SNP of this block in the source (0-based, file order). */
  start: number;
  snps: SnpInfo[];
  /** individuals x snps, allele1 dosage in [0, 2]; NaN marks a missing genotype. */
  dosages: F64Matrix;
}

/** Genotypes on disk (PLINK .bed or BIMBAM), read in blocks: memory is bounded by the block, not the file. */
export interface GenotypeSource {
  /** The file(s) it reads, for messages. */
  readonly describe: string;
  /** Individual IDs in file order (PLINK: IID; BIMBAM: 1-based row numbers as strings unless given). */
  readonly samples: readonly string[];
  readonly nSnps: number;
  /** All SNP metadata in file order (small: a few strings per SNP). */
  readonly snps: readonly SnpInfo[];
  /**
   * Streams the SNPs in file order, `blockSize` at a time, restricted to individuals `keep`
   * (indices into `samples`, ascending; all when omitted).
   */
  blocks(blockSize: number, keep?: Int32Array): AsyncIterable<GenotypeBlock>;
}
