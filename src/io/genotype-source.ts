/**
 * The contract between genotype readers (src/io) and their consumers (QC, kinship, the scan in gwas/; the model
 * side in src/lmm/snp). Data flows one way: a GenotypeSource yields GenotypeBlocks, the scan consumes them; the
 * readers know nothing of the scan.
 */
import type { F64Matrix } from '../../kernels/matrix.js';

/**
 * One variant as GEMMA prints it. `allele1` is the counted allele: PLINK .bim column 5, BIMBAM column 2, the ALT
 * allele of a VCF/BCF record or a .pvar line, and the BGEN allele chosen by the reader's REF convention (see the
 * README, "Which allele is counted").
 */
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
  /**
   * True when the reader knows that every value of `dosages` is 0, 1, 2 or NaN (hard calls: PLINK .bed, PGEN
   * records without a dosage track, VCF GT): a consumer may pack the block into 2 bits per genotype without
   * checking. Absent or false: unknown (dosages may be fractional).
   */
  hardCalls?: boolean;
}

/** The SNPs with index start <= j < end (0-based, file order) of a source. */
export interface SnpRange {
  start: number;
  end: number;
}

/** Genotypes on disk (PLINK, BIMBAM, BGEN, PGEN, VCF/BCF), read in blocks: memory is bounded by the block, not the file. */
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
   * (indices into `samples`, ascending; all when omitted) and to the SNPs of `range` (all when omitted).
   * Blocks of a range start at `range.start` (their `start` is still the index in the whole source). Readers
   * with an offset per SNP (.bed, .pgen, BGEN, bgzipped or plain VCF, BCF) seek to the range's first SNP; the
   * others skip the SNPs before it.
   */
  blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock>;
}
