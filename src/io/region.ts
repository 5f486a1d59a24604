/**
 * A genomic region, `CHR`, `CHR:FROM-TO`, `CHR:FROM-` or `CHR:-TO` (1-based, inclusive base pairs), and which
 * variants fall in it: same chromosome (names compared as written, except that numeric names match with or
 * without leading zeros: "1" = "01") and FROM <= position <= TO.
 */
import { UsageError } from '../errors.js';

export interface GenomicRegion {
  chr: string;
  /** First base pair (1-based, inclusive). */
  from: number;
  /** Last base pair (inclusive). */
  to: number;
}

/** Parses `CHR[:FROM-TO]`; `what` names the option or parameter in the UsageError. */
export function parseRegion(text: string, what: string): GenomicRegion {
  const m = /^([^:\s]+)(?::(\d*)-(\d*))?$/.exec(text.replace(/,/g, ''));
  if (!m || (m[2] !== undefined && m[2] === '' && m[3] === '')) throw new UsageError(`${what} ${text}: expected CHR or CHR:FROM-TO (1-based, inclusive)`);
  const from = m[2] ? Number(m[2]) : 1;
  const to = m[3] ? Number(m[3]) : Number.MAX_SAFE_INTEGER;
  if (from < 1 || to < from) throw new UsageError(`${what} ${text}: expected 1 <= FROM <= TO`);
  return { chr: m[1]!, from, to };
}

/** True when chromosome names `a` and `b` name the same chromosome ("1" = "01"). */
export function sameChromosome(a: string, b: string): boolean {
  if (a === b) return true;
  return /^\d+$/.test(a) && /^\d+$/.test(b) && Number(a) === Number(b);
}

/** True when a variant at (chr, pos) lies in the region. */
export function inRegion(region: GenomicRegion, chr: string, pos: number): boolean {
  return pos >= region.from && pos <= region.to && sameChromosome(region.chr, chr);
}

/** The region as text (CHR:FROM-TO). */
export function regionText(region: GenomicRegion): string {
  return `${region.chr}:${region.from}-${region.to === Number.MAX_SAFE_INTEGER ? '' : region.to}`;
}
