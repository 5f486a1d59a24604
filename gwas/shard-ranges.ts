/**
 * How a GWAS plan cuts the work: SNP index ranges [start, end) of the genotype file (in file order) times
 * groups of phenotypes. Ranges hold at most `chunkSnps` SNPs and are as equal as that allows; with
 * `byChromosome` (required for loco, where each chromosome is tested against its own kinship) a range never
 * crosses a change of chromosome, so each chromosome's run of SNPs is cut into near-equal pieces.
 * Shard id = range index x groups + group index: the shards of one range are consecutive. O(#SNPs).
 */
import type { SnpInfo } from './types.js';

/** One GWAS shard: SNPs [start, end) of the file, tested for the phenotypes `phenos`. */
export interface GwasShard {
  id: number;
  start: number;
  end: number;
  /** Chromosomes of its SNPs, in file order. */
  chrs: string[];
  phenos: string[];
}

export interface GwasShardOptions {
  /** Target number of SNP ranges (each at most ceil(nSnps / shards) SNPs). One of shards and chunkSnps. */
  shards?: number;
  /** At most this many SNPs per range. */
  chunkSnps?: number;
  /** Never cut a range across chromosomes. */
  byChromosome: boolean;
  /** Split the phenotypes into this many groups of consecutive phenotypes (default 1). */
  phenoGroups?: number;
}

/** The shards of a scan of `snps` for `phenos` (see the file comment). Throws RangeError on bad counts. */
export function gwasShards(snps: readonly SnpInfo[], phenos: readonly string[], opts: GwasShardOptions): GwasShard[] {
  const m = snps.length;
  if (m === 0) throw new RangeError('gwasShards: no SNPs');
  if ((opts.shards === undefined) === (opts.chunkSnps === undefined)) throw new RangeError('gwasShards: give exactly one of shards and chunkSnps');
  const target = opts.shards ?? 1;
  if (!Number.isInteger(target) || target < 1) throw new RangeError(`gwasShards: shards must be a positive integer, got ${opts.shards}`);
  const chunk = opts.chunkSnps ?? Math.ceil(m / target);
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`gwasShards: chunkSnps must be a positive integer, got ${opts.chunkSnps}`);
  const groups = opts.phenoGroups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || groups > phenos.length) throw new RangeError(`gwasShards: phenoGroups must be an integer in [1, ${phenos.length}] (the number of phenotypes), got ${groups}`);

  // Step 1: runs of the file to cut (one per chromosome change with byChromosome, else the whole file).
  const runs: [number, number][] = [];
  let runStart = 0;
  for (let j = 1; j <= m; j++) {
    if (j === m || (opts.byChromosome && snps[j]!.chr !== snps[j - 1]!.chr)) {
      runs.push([runStart, j]);
      runStart = j;
    }
  }
  // Step 2: each run in ceil(len / chunk) near-equal ranges (sizes differ by at most one SNP).
  const ranges: [number, number][] = [];
  for (const [a, b] of runs) {
    const pieces = Math.ceil((b - a) / chunk);
    for (let p = 0; p < pieces; p++) ranges.push([a + Math.floor(((b - a) * p) / pieces), a + Math.floor(((b - a) * (p + 1)) / pieces)]);
  }
  // Step 3: phenotype groups of near-equal size, consecutive.
  const phenoGroups = Array.from({ length: groups }, (_, g) => phenos.slice(Math.floor((phenos.length * g) / groups), Math.floor((phenos.length * (g + 1)) / groups)));
  const shards: GwasShard[] = [];
  for (const [start, end] of ranges) {
    const chrs: string[] = [];
    for (let j = start; j < end; j++) if (chrs[chrs.length - 1] !== snps[j]!.chr) chrs.push(snps[j]!.chr);
    for (const ps of phenoGroups) shards.push({ id: shards.length, start, end, chrs: [...new Set(chrs)], phenos: ps });
  }
  return shards;
}
