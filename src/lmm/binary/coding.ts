/**
 * Which phenotypes are binary traits and how they are coded: two distinct values, 0/1 (0 control, 1 case) or
 * PLINK's 1/2 (1 control, 2 case); in a PLINK `.fam` column also 1/2 with 0 as missing (PLINK's convention).
 * The words `case` / `control` are read as 1 / 0 by the phenotype readers (src/io), so they arrive as 0/1.
 */

/** How a binary phenotype is coded in its file. */
export type BinaryCoding = '0/1' | '1/2' | '1/2, 0 missing';

/**
 * The coding of `values` (NaN missing) when it is a binary trait, else undefined. `zeroMissing` (a PLINK .fam
 * column) also accepts the three values 0/1/2 as 1/2 with 0 missing. O(n).
 */
export function detectBinaryCoding(values: Float64Array, zeroMissing = false): BinaryCoding | undefined {
  const seen = new Set<number>();
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    seen.add(v);
    if (seen.size > 3) return undefined;
  }
  const has = (...xs: number[]): boolean => xs.every((x) => seen.has(x));
  if (seen.size === 2 && has(0, 1)) return '0/1';
  if (seen.size === 2 && has(1, 2)) return '1/2';
  if (zeroMissing && seen.size === 3 && has(0, 1, 2)) return '1/2, 0 missing';
  return undefined;
}

/** `values` recoded to 0 (control) / 1 (case), NaN missing. O(n). */
export function codeBinary(values: Float64Array, coding: BinaryCoding): Float64Array {
  return Float64Array.from(values, (v) => {
    if (Number.isNaN(v)) return NaN;
    if (coding === '0/1') return v;
    return v === 0 ? NaN : v - 1;
  });
}
