/**
 * Repeated variant IDs. PLINK 2 allows them (a warning, and an error only in commands that look variants up by
 * ID); gpulmm does the same: its results keep the file's order and position, but an ID given to two different
 * positions makes lookups by ID downstream (clumping, fine-mapping, a meta-analysis) ambiguous.
 */
import type { SnpInfo } from './genotype-source.js';

/** IDs that name no variant: VCF's missing ID. */
const MISSING_ID = '.';

/** What {@link findDuplicateSnpIds} found. */
export interface DuplicateSnpIds {
  /** SNPs whose ID was already used by an earlier SNP at another chromosome or position. */
  count: number;
  /** The first such pair (0-based SNP indices), when count > 0. */
  first?: { id: string; a: number; b: number };
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Counts SNPs whose ID repeats an earlier SNP's at another chromosome or position (the alleles a split
 * multi-allelic variant shares its ID with do not count; nor does the missing ID '.'). Open addressing on a
 * 32-bit hash: O(m) time, 4 x 2^ceil(log2(2m)) bytes (at most 16 m) besides the SNP list.
 */
export function findDuplicateSnpIds(snps: readonly SnpInfo[]): DuplicateSnpIds {
  const m = snps.length;
  let size = 1;
  while (size < 2 * m) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const out: DuplicateSnpIds = { count: 0 };
  for (let j = 0; j < m; j++) {
    const s = snps[j]!;
    if (s.rs === MISSING_ID) continue;
    for (let p = hash(s.rs) & (size - 1); ; p = (p + 1) & (size - 1)) {
      const i = slots[p]!;
      if (i < 0) {
        slots[p] = j;
        break;
      }
      const t = snps[i]!;
      if (t.rs !== s.rs) continue;
      if (t.chr !== s.chr || t.ps !== s.ps) {
        out.count++;
        out.first ??= { id: s.rs, a: i, b: j };
      }
      break;
    }
  }
  return out;
}
