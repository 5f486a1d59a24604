/**
 * What every genotype reader shares: the argument checks of `GenotypeSource.blocks` and the assembly of decoded
 * SNP columns into blocks (individuals x SNPs, f64, column-major), so a reader only decodes one SNP at a time into
 * the column it is given. Memory: one nKeep x blockSize f64 matrix per block.
 */
import type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from './genotype-source.js';
import { f64Matrix, type F64Matrix } from '../../kernels/matrix.js';

/** What a reader does with variants of more than two alleles: one SNP per non-REF allele, or none. */
export type MultiallelicMode = 'split' | 'skip';

/** Counts of variants a reader did not turn into SNPs, by reason. */
export interface SkippedVariants {
  /** Multi-allelic variants under MultiallelicMode 'skip'. */
  multiallelic: number;
  /** Variants with a single allele (no ALT). */
  monoallelic: number;
}

/** Checks that `keep` holds ascending, in-range, distinct individual indices. */
export function checkKeep(keep: Int32Array, nInd: number, what: string): void {
  for (let r = 0; r < keep.length; r++) {
    const i = keep[r]!;
    if (i < 0 || i >= nInd || (r > 0 && i <= keep[r - 1]!)) {
      throw new RangeError(`${what}: keep must hold ascending distinct indices in [0, ${nInd}), got ${i} at position ${r}`);
    }
  }
}

/**
 * Validates the arguments of `blocks(blockSize, keep, range)` for a source of nInd individuals and nSnps SNPs and
 * returns the SNP range to read (the whole source when `range` is omitted). Throws RangeError naming `what`.
 */
export function checkBlockArgs(what: string, nInd: number, nSnps: number, blockSize: number, keep?: Int32Array, range?: SnpRange): SnpRange {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`${what}: blockSize must be a positive integer, got ${blockSize}`);
  if (keep) checkKeep(keep, nInd, what);
  if (!range) return { start: 0, end: nSnps };
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > nSnps) {
    throw new RangeError(`${what}: range must satisfy 0 <= start <= end <= ${nSnps} (integers), got [${start}, ${end})`);
  }
  return { start, end };
}

/**
 * Starts `source.blocks(blockSize, keep, range)`: checks the arguments (checkBlockArgs) and returns the
 * BlockBuilder of the SNPs to read (its `range`, nKeep `rows`), or undefined when the range is empty.
 */
export function blockBuilderFor(source: Pick<GenotypeSource, 'describe' | 'samples' | 'nSnps' | 'snps'>, blockSize: number, keep?: Int32Array, range?: SnpRange): BlockBuilder | undefined {
  const nInd = source.samples.length;
  const r = checkBlockArgs(source.describe, nInd, source.nSnps, blockSize, keep, range);
  return r.start === r.end ? undefined : new BlockBuilder(source.snps, blockSize, keep ? keep.length : nInd, r);
}

/**
 * Collects decoded SNP columns into GenotypeBlocks of `blockSize` SNPs over the range [range.start, range.end):
 * a reader asks {@link BlockBuilder.column} for the offset of the next SNP's column in {@link BlockBuilder.data},
 * writes the nKeep dosages there, and calls {@link BlockBuilder.commit}, which returns a finished block every
 * blockSize SNPs (and at the range's end).
 */
export class BlockBuilder {
  /** Rows of every block (nKeep). */
  readonly rows: number;
  private next: number;
  private filled = 0;
  private hard = true;
  private matrix: F64Matrix;

  constructor(
    private readonly snps: readonly SnpInfo[],
    private readonly blockSize: number,
    rows: number,
    /** The SNPs [start, end) of the source the blocks cover. */
    readonly range: SnpRange,
  ) {
    this.rows = rows;
    this.next = range.start;
    this.matrix = f64Matrix(rows, Math.min(blockSize, range.end - range.start));
  }

  /** Index in the source of the SNP the next column receives. */
  get snp(): number {
    return this.next;
  }

  /** True when every SNP of the range has been committed. */
  get done(): boolean {
    return this.next >= this.range.end;
  }

  /** The current block's storage: SNP column c starts at c * rows. */
  get data(): Float64Array {
    return this.matrix.data;
  }

  /** Offset in {@link BlockBuilder.data} of the next SNP's column. */
  column(): number {
    return this.filled * this.rows;
  }

  /**
   * Accepts the column just written; `hardCalls` says whether the reader knows it holds only 0, 1, 2 and NaN.
   * Returns the finished block when it is full or the range is done, else undefined.
   */
  commit(hardCalls: boolean): GenotypeBlock | undefined {
    this.filled++;
    this.next++;
    if (!hardCalls) this.hard = false;
    if (this.filled < this.matrix.cols) return undefined;
    const start = this.next - this.filled;
    const block: GenotypeBlock = { start, snps: this.snps.slice(start, this.next), dosages: this.matrix, hardCalls: this.hard };
    this.filled = 0;
    this.hard = true;
    if (!this.done) this.matrix = f64Matrix(this.rows, Math.min(this.blockSize, this.range.end - this.next));
    return block;
  }
}
