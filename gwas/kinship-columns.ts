/**
 * One streamed block's SNP columns as the kinship pass (gwas/kinship.ts) reads them: f64 dosages (any
 * reader) or 2-bit codes (GenotypeSource.packedBlocks: PLINK .bed, hard-call PGEN; coding of
 * src/io/packed-codes.ts), behind one interface, so both give the kinship the same moments and staged values
 * to the bit. The codes are decoded through byte tables, four genotypes per lookup, without f64 dosages.
 */
import type { F64Matrix } from '../kernels/matrix.js';
import { CODE_DOSAGE_OR_3, countCodes, selectionMask } from '../src/io/packed-codes.js';

/** GEMMA's PlinkKin moments of one SNP over all N individuals of the file. */
export interface ColumnMoments {
  /** Sum and sum of squares of the non-missing dosages (exact integers for hard calls). */
  sum: number;
  sumSq: number;
  miss: number;
  /** Every non-missing value is 0, 1 or 2. */
  hardCall: boolean;
}

export interface BlockColumns {
  /** Column stride (>= the output rows) of the staged G~ and codes. */
  readonly ld: number;
  /**
   * The block as 2-bit codes over exactly the output rows (column j at data[j bytesPerCol]), when it is one:
   * G~ is then code_table[code] with {@link G_OF_CODE}, and need not be staged.
   */
  readonly coded?: { data: Uint8Array; bytesPerCol: number };
  /**
   * Moments of block column j over all N individuals; with `stage`, also, over the output rows o, G~
   * (dosage, missing -> 0) into g[at + o] (when g is given), the code (dosage, missing -> 3) into codes[at + o] and each missing
   * output row, ascending, onto `missing` (the values at the output rows must then be hard calls, or the
   * staged values are meaningless: the caller checks `hardCall`). O(N).
   */
  stage(j: number, stage: boolean, g: Int8Array | undefined, codes: Uint8Array, at: number, missing: number[]): ColumnMoments;
  /** z[at + o] = (x - mean) scale over the output rows o, missing -> 0. O(output rows). */
  center(j: number, mean: number, scale: number, z: Float64Array, at: number): void;
}

/** Columns of an N x m f64 block (NaN missing), output rows `rows` (outPos[i] = position of individual i among them, or -1). */
export class F64Columns implements BlockColumns {
  readonly ld: number;

  constructor(
    private readonly x: F64Matrix,
    private readonly rows: Int32Array,
    private readonly outPos: Int32Array,
  ) {
    this.ld = rows.length;
  }

  stage(j: number, stage: boolean, g: Int8Array | undefined, codes: Uint8Array, at: number, missing: number[]): ColumnMoments {
    const { data } = this.x;
    const col = j * this.x.ld;
    const outPos = this.outPos;
    let sum = 0, sumSq = 0, miss = 0;
    let hardCall = true;
    for (let i = 0; i < this.x.rows; i++) {
      const v = data[col + i]!;
      const o = outPos[i]!;
      if (v !== v) {
        miss++;
        if (stage && o >= 0) {
          if (g) g[at + o] = 0;
          codes[at + o] = 3;
          missing.push(o);
        }
        continue;
      }
      sum += v;
      sumSq += v * v;
      if (v !== 0 && v !== 1 && v !== 2) hardCall = false;
      if (stage && o >= 0) {
        if (g) g[at + o] = v;
        codes[at + o] = v;
      }
    }
    return { sum, sumSq, miss, hardCall };
  }

  center(j: number, mean: number, scale: number, z: Float64Array, at: number): void {
    const { data } = this.x;
    const col = j * this.x.ld;
    const rows = this.rows;
    for (let o = 0; o < rows.length; o++) {
      const d = data[col + rows[o]!]!;
      z[at + o] = Number.isNaN(d) ? 0 : (d - mean) * scale;
    }
  }
}

/** G~ of each 2-bit code (missing -> 0), and the staged code (the dosage, missing -> 3). */
export const G_OF_CODE = [2, 0, 1, 0] as const;
const STAGED_OF_CODE = CODE_DOSAGE_OR_3;
/** Per byte of four codes: G~ and the staged codes as four little-endian bytes, and a bit per missing field. */
const G_WORD = Uint32Array.from({ length: 256 }, (_, b) => fieldWord(b, G_OF_CODE));
const STAGED_WORD = Uint32Array.from({ length: 256 }, (_, b) => fieldWord(b, STAGED_OF_CODE));
const MISSING_FIELDS = Uint8Array.from({ length: 256 }, (_, b) => [0, 1, 2, 3].reduce((s, t) => s | (((b >> (2 * t)) & 3) === 1 ? 1 << t : 0), 0));

function fieldWord(b: number, of: readonly number[]): number {
  let w = 0;
  for (let t = 0; t < 4; t++) w |= of[(b >> (2 * t)) & 3]! << (8 * t);
  return w >>> 0;
}

/** True where typed arrays store multi-byte words little-endian (the word tables assume it). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Columns of a block of 2-bit codes (ceil(N / 4) bytes per SNP over all N individuals; the unused fields of
 * each SNP's last byte 0, as PackedBlock guarantees), output rows `rows` (all N when undefined: then G~ and the
 * codes are written a 32-bit word per byte of input, at a stride of ceil(N / 4) * 4). Every value is a hard call.
 */
export class PackedColumns implements BlockColumns {
  readonly ld: number;
  /** Code counts of each SNP over all N: counts[4 j + c]. */
  readonly counts: Int32Array;
  private readonly bytes: number;
  /** The output rows, or undefined for all N in order. */
  private readonly rows: Int32Array | undefined;
  readonly coded: { data: Uint8Array; bytesPerCol: number } | undefined;
  private words: { g: Uint32Array | undefined; codes: Uint32Array } | undefined;

  constructor(
    private readonly codes: Uint8Array,
    snps: number,
    private readonly nSamples: number,
    rows: Int32Array | undefined,
  ) {
    this.bytes = Math.ceil(nSamples / 4);
    this.rows = rows && rows.length !== nSamples ? rows : undefined; // ascending: N of them are all, in order
    this.ld = this.rows ? this.rows.length : LITTLE_ENDIAN ? 4 * this.bytes : nSamples;
    this.coded = this.rows ? undefined : { data: codes, bytesPerCol: this.bytes };
    this.counts = new Int32Array(4 * snps);
    const pad = 4 * this.bytes - nSamples; // padding fields read as code 0
    for (let j = 0; j < snps; j++) {
      countCodes(codes, j * this.bytes, this.bytes, this.counts, 4 * j);
      this.counts[4 * j]! -= pad;
    }
  }

  /** Code counts over the individuals `keep` (ascending) of each SNP: counts[4 j + c]. O(N / 4) per SNP. */
  countsOver(keep: Int32Array): Int32Array {
    if (keep.length === this.nSamples) return this.counts;
    const { mask, fill } = selectionMask(keep, this.nSamples);
    const snps = this.counts.length >> 2;
    const out = new Int32Array(4 * snps);
    for (let j = 0; j < snps; j++) {
      countCodes(this.codes, j * this.bytes, this.bytes, out, 4 * j, mask, fill);
      out[4 * j + 1]! -= 4 * this.bytes - keep.length;
    }
    return out;
  }

  /** Code of individual i at SNP j. */
  code(j: number, i: number): number {
    return (this.codes[j * this.bytes + (i >> 2)]! >> ((i & 3) << 1)) & 3;
  }

  stage(j: number, stage: boolean, g: Int8Array | undefined, codes: Uint8Array, at: number, missing: number[]): ColumnMoments {
    const c0 = this.counts[4 * j]!, miss = this.counts[4 * j + 1]!, c2 = this.counts[4 * j + 2]!;
    if (stage) {
      const src = this.codes, base = j * this.bytes;
      if (!this.rows && LITTLE_ENDIAN) {
        const w = this.wordViews(g, codes);
        const n = this.nSamples;
        for (let b = 0, a = at >> 2; b < this.bytes; b++, a++) {
          const v = src[base + b]!;
          if (w.g) w.g[a] = G_WORD[v]!;
          w.codes[a] = STAGED_WORD[v]!;
          const m = MISSING_FIELDS[v]!;
          if (m !== 0) for (let t = 0; t < 4; t++) if (m & (1 << t) && 4 * b + t < n) missing.push(4 * b + t);
        }
      } else {
        const rows = this.rows;
        const n = rows ? rows.length : this.nSamples;
        for (let o = 0; o < n; o++) {
          const i = rows ? rows[o]! : o;
          const c = (src[base + (i >> 2)]! >> ((i & 3) << 1)) & 3;
          if (g) g[at + o] = G_OF_CODE[c as 0 | 1 | 2 | 3];
          codes[at + o] = STAGED_OF_CODE[c as 0 | 1 | 2 | 3];
          if (c === 1) missing.push(o);
        }
      }
    }
    return { sum: 2 * c0 + c2, sumSq: 4 * c0 + c2, miss, hardCall: true };
  }

  center(j: number, mean: number, scale: number, z: Float64Array, at: number): void {
    const value = [(2 - mean) * scale, 0, (1 - mean) * scale, (0 - mean) * scale];
    const rows = this.rows;
    const n = rows ? rows.length : this.nSamples;
    for (let o = 0; o < n; o++) z[at + o] = value[this.code(j, rows ? rows[o]! : o)]!;
  }

  /** 32-bit views of the staging arrays (word-aligned: `at` is a multiple of the stride 4 ceil(N / 4)). */
  private wordViews(g: Int8Array | undefined, codes: Uint8Array): { g: Uint32Array | undefined; codes: Uint32Array } {
    if (this.words?.g?.buffer !== g?.buffer || this.words?.codes.buffer !== codes.buffer) {
      this.words = { g: g && new Uint32Array(g.buffer, g.byteOffset, g.length >> 2), codes: new Uint32Array(codes.buffer, codes.byteOffset, codes.length >> 2) };
    }
    return this.words;
  }
}
