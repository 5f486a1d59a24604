/**
 * The SNPs of a genomic region of any genotype source, as a source of its own: for formats whose readers have no
 * region index (PLINK, PGEN, BIMBAM) the region is found in the SNP list; its SNPs are read as runs of consecutive
 * source SNPs (one run for a position-sorted file), each through the source's range read, and regrouped into
 * blocks. Indices of the view's blocks and ranges count the region's SNPs only.
 */
import type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from './genotype-source.js';
import { blockBuilderFor } from './genotype-blocks.js';
import type { FamFile } from './plink.js';
import { inRegion, regionText, type GenomicRegion } from './region.js';

export class RegionView implements GenotypeSource {
  readonly describe: string;
  readonly samples: readonly string[];
  readonly snps: readonly SnpInfo[];
  readonly nSnps: number;
  /** The base source's .fam/.psam, when it has one (its phenotypes stay the default ones). */
  readonly fam: FamFile | undefined;
  /** Index in the base source of each SNP of the region. */
  private readonly index: Int32Array;

  constructor(
    readonly base: GenotypeSource,
    readonly region: GenomicRegion,
  ) {
    const index: number[] = [];
    base.snps.forEach((s, j) => inRegion(region, s.chr, s.ps) && index.push(j));
    this.index = Int32Array.from(index);
    this.snps = index.map((j) => base.snps[j]!);
    this.nSnps = index.length;
    this.samples = base.samples;
    this.describe = `${base.describe} (region ${regionText(region)})`;
    this.fam = (base as { fam?: FamFile }).fam;
  }

  /** Streams the region's SNPs (their `range`), reading each run of consecutive base SNPs with one range read. */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const builder = blockBuilderFor(this, blockSize, keep, range);
    if (!builder) return;
    const r = builder.range;
    for (let k = r.start; k < r.end; ) {
      let end = k + 1;
      while (end < r.end && this.index[end] === this.index[end - 1]! + 1) end++;
      for await (const b of this.base.blocks(blockSize, keep, { start: this.index[k]!, end: this.index[end - 1]! + 1 })) {
        for (let c = 0; c < b.dosages.cols; c++) {
          builder.data.set(b.dosages.data.subarray(c * b.dosages.ld, c * b.dosages.ld + b.dosages.rows), builder.column());
          const block = builder.commit(b.hardCalls === true);
          if (block) yield block;
        }
      }
      k = end;
    }
  }
}
