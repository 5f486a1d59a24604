/**
 * Byte tables over the 2-bit codes of a PackedBlock (src/io/genotype-source.ts; the PLINK 1 .bed coding: code
 * 0b00 = two copies of allele1, 0b01 = missing, 0b10 = one copy, 0b11 = none; sample 4k + t in bits 2t..2t+1 of
 * byte k), for consumers that work on the codes without decoding them to f64 dosages: one table lookup per four
 * genotypes. Nothing here knows what the counts are used for.
 */

/** Allele1 dosage of each code (NaN: missing). */
export const CODE_DOSAGE: readonly number[] = [2, Number.NaN, 1, 0];
/** The dosage of each code, 3 for missing (a 2-bit code of its own that reads as the dosage). */
export const CODE_DOSAGE_OR_3 = [2, 3, 1, 0] as const;

/** Field widths of {@link BYTE_COUNTS}: three counts of up to 2^17 - 1 in one f64 integer (< 2^51). */
const F1 = 2 ** 17;
const F2 = 2 ** 34;
/** Most bytes counted in one sum before a field could overflow (4 codes per byte). */
const FLUSH_BYTES = (F1 - 1) >> 2;

/** BYTE_COUNTS[b] = n0 + n1 2^17 + n2 2^34, n_c = how many of the four codes of byte b equal c. */
const BYTE_COUNTS = Float64Array.from({ length: 256 }, (_, b) => {
  let s = 0;
  for (let t = 0; t < 4; t++) s += [1, F1, F2, 0][(b >> (2 * t)) & 3]!;
  return s;
});

/**
 * Counts the codes of `bytes` bytes of `codes` from `at` (every field of every byte, four per byte):
 * out[o + c] = number of code c, c = 0..3. With `mask`/`fill` (from {@link selectionMask}) each byte is read as
 * (byte & mask[k]) | fill[k], so the unselected fields read as code 1 (missing) and out[o + 1] counts them too:
 * subtract their number. O(bytes), one table lookup and one f64 addition per byte.
 */
export function countCodes(codes: Uint8Array, at: number, bytes: number, out: Int32Array, o: number, mask?: Uint8Array, fill?: Uint8Array): void {
  let n0 = 0, n1 = 0, n2 = 0;
  for (let k0 = 0; k0 < bytes; k0 += FLUSH_BYTES) {
    const k1 = Math.min(bytes, k0 + FLUSH_BYTES);
    let s = 0;
    if (mask && fill) for (let k = k0; k < k1; k++) s += BYTE_COUNTS[(codes[at + k]! & mask[k]!) | fill[k]!]!;
    else for (let k = at + k0, end = at + k1; k < end; k++) s += BYTE_COUNTS[codes[k]!]!;
    const c2 = Math.floor(s / F2);
    const c1 = Math.floor((s - c2 * F2) / F1);
    n0 += s - c2 * F2 - c1 * F1;
    n1 += c1;
    n2 += c2;
  }
  out[o] = n0;
  out[o + 1] = n1;
  out[o + 2] = n2;
  out[o + 3] = 4 * bytes - n0 - n1 - n2;
}

/**
 * The mask and fill bytes of {@link countCodes} that select samples `keep` (ascending indices, all < nSamples)
 * among the ceil(nSamples / 4) bytes of one SNP: mask keeps their fields, fill sets every other field to 0b01.
 */
export function selectionMask(keep: Int32Array, nSamples: number): { mask: Uint8Array; fill: Uint8Array } {
  const bytes = Math.ceil(nSamples / 4);
  const mask = new Uint8Array(bytes);
  for (const i of keep) mask[i >> 2]! |= 3 << (2 * (i & 3));
  const fill = mask.map((m) => 0x55 & ~m);
  return { mask, fill };
}
