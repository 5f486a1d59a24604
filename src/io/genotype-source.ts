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

/**
 * A block of hard calls packed as in a PLINK 1 .bed: 2 bits per genotype, four samples per byte (sample 4k + i in
 * bits 2i..2i+1), coding allele1 copies as 0b00 = 2, 0b10 = 1, 0b11 = 0 and 0b01 = missing; the unused fields of
 * each SNP's last byte are 0.
 */
export interface PackedBlock {
  /** Index of the first SNP of this block in the source (0-based, file order). */
  start: number;
  snps: SnpInfo[];
  /** ceil(nSamples / 4) bytes per SNP, every sample of the source, SNP after SNP. */
  codes: Uint8Array;
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
  /**
   * Present only on sources whose every SNP is a hard call (PLINK .bed; a PGEN without stored dosages): the same
   * SNPs as `blocks` (all samples), packed 2 bits per genotype without decoding to f64, for consumers that work on
   * packed genotypes (allele counts, a 2-bit store).
   */
  packedBlocks?(blockSize: number, range?: SnpRange): AsyncIterable<PackedBlock>;
}
