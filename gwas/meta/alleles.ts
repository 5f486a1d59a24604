/**
 * Allele alignment between cohorts of a GWAS meta-analysis. A cohort reports beta per copy of its effect allele E
 * against the other allele O; a variant's reference pair (E0, O0) is the first cohort's. Another cohort's (E, O)
 * matches as: the same pair (beta kept), the swapped pair (beta and the allele frequency flipped), and, for
 * single-base alleles, the same or swapped pair on the other strand (complements A<->T, C<->G), as METAL does.
 * Labels are compared before strands, so a strand-ambiguous SNP (A/T or C/G: its two alleles are complements) is
 * aligned by its labels, assuming both cohorts report the same strand (METAL's default); such SNPs are flagged.
 * Alleles are compared upper-cased. O(allele length).
 */

const COMPLEMENT: Record<string, string> = { A: 'T', T: 'A', C: 'G', G: 'C' };

/** The other strand's base of a single-base allele, or null (indels and symbols are not strand-flipped). */
export function complementBase(a: string): string | null {
  return a.length === 1 ? (COMPLEMENT[a] ?? null) : null;
}

/** Whether a SNP is strand-ambiguous: single bases that are each other's complement (A/T, T/A, C/G, G/C). */
export function isStrandAmbiguous(e: string, o: string): boolean {
  return complementBase(e) === o && o.length === 1;
}

/** How a pair matches a reference pair: sign +1 (same effect allele), -1 (swapped), 0 (no match); strand: via complements. */
export interface AlleleMatch {
  sign: 1 | -1 | 0;
  strand: boolean;
}

const NONE: AlleleMatch = { sign: 0, strand: false };
const SAME: AlleleMatch = { sign: 1, strand: false };
const SWAP: AlleleMatch = { sign: -1, strand: false };
const SAME_STRAND: AlleleMatch = { sign: 1, strand: true };
const SWAP_STRAND: AlleleMatch = { sign: -1, strand: true };

/** Matches (e, o) against the reference (refE, refO); all upper-case. */
export function matchAlleles(refE: string, refO: string, e: string, o: string): AlleleMatch {
  if (e === refE && o === refO) return SAME;
  if (e === refO && o === refE) return SWAP;
  const ce = complementBase(e);
  const co = complementBase(o);
  if (ce === null || co === null) return NONE;
  if (ce === refE && co === refO) return SAME_STRAND;
  if (ce === refO && co === refE) return SWAP_STRAND;
  return NONE;
}

/** What to do with strand-ambiguous SNPs: align by labels (flagged), resolve by allele frequency, or drop. */
export type AmbiguousPolicy = 'keep' | 'af' | 'drop';

/**
 * Strand of a strand-ambiguous SNP from allele frequencies (as EasyQC and the GWAS-SSF harmonisers do): `refAf` is
 * the reference cohort's frequency of its effect allele, `af` this cohort's frequency of the allele whose label matched
 * it (already 1 - f for swapped labels). +1 when both lie on the same side of 0.5 (the labels name the same strand),
 * -1 when on opposite sides (the other strand: effect and other allele exchange), 0 when either is missing or has a
 * minor allele frequency above `maxMaf` (too close to 0.5 to tell). O(1).
 */
export function ambiguousOrientation(refAf: number, af: number, maxMaf: number): 1 | -1 | 0 {
  if (!(Math.min(refAf, 1 - refAf) <= maxMaf && Math.min(af, 1 - af) <= maxMaf)) return 0;
  return (refAf - 0.5) * (af - 0.5) < 0 ? -1 : 1;
}
