/**
 * The biobank scan's genotype store: every SNP that passes the SNP filters (gwas/snp-filter.ts, evaluated on
 * the analysed individuals, as the exact mode), kept as 2-bit codes over the analysed individuals only
 * (kernels/cpu/packed2.ts; PLINK's coding: 0 = two copies of allele1, 1 = missing, 2 = one copy, 3 = none), in
 * file order, with per-SNP code counts. Any GenotypeSource fills it (PLINK, BIMBAM, and the readers to come):
 * hard calls map to their codes exactly; a fractional dosage (imputed data) is rounded to the nearest hard call
 * (0.5 -> 1, 1.5 -> 2) and counted, since the kinship model only needs hard calls (BOLT-LMM builds its model
 * from hard calls too). Memory: ceil(n / 4) bytes per kept SNP (n = analysed individuals), in blocks of at most
 * 64 MiB on SharedArrayBuffers (the product threads read them without copies); reading streams the source
 * in blocks of at most 2^23 dosages, so the peak is the store plus ~64 MiB. Cost O(N m) to read and filter.
 */
import type { Packed2Matrix } from '../../kernels/cpu/packed2.js';
import { SNP_STATUS, type SnpFilter } from '../snp-filter.js';
import type { GenotypeSource, SnpInfo } from '../types.js';

export interface PackedGenotypes {
  /** Analysed individuals x kept SNPs. */
  matrix: Packed2Matrix;
  /** The kept SNPs, in file order. */
  snps: SnpInfo[];
  /** Index in the source of each kept SNP. */
  fileIndex: Int32Array;
  /** Chromosome of each kept SNP, as an index into `chromosomes`. */
  chr: Int32Array;
  /** Chromosome names in order of first appearance among the kept SNPs. */
  chromosomes: string[];
  /** Allele1 frequency and missing count of each kept SNP over the analysed individuals (the filter's values). */
  af: Float64Array;
  nMiss: Int32Array;
  /** Codes counted per kept SNP over the analysed individuals: counts[4 j + code]. */
  counts: Int32Array;
  /** SNPs of the source. */
  nSnps: number;
  /** Dropped SNPs per filter status. */
  dropped: Record<string, number>;
  /** Fractional dosages rounded to hard calls. */
  rounded: number;
  /** Bytes held by the codes. */
  bytes: number;
}

/** Most bytes per block of the store. */
const BLOCK_BYTES = 64 * 2 ** 20;
/** Most dosages per block read from the source (f64: 64 MiB). */
const READ_VALUES = 2 ** 23;

/** Code of a hard-call dosage: 2 -> 0, 1 -> 2, 0 -> 3 (missing -> 1). */
const DOSAGE_CODE = [3, 2, 0] as const;

/** Bytes the store will hold for n individuals and m SNPs (for memory estimates before reading). */
export function packedBytes(n: number, m: number): number {
  return Math.ceil(n / 4) * m;
}

/**
 * Reads the source once: filters every block over `rows` (analysed individuals, ascending indices into
 * source.samples) and packs the kept SNPs. `onProgress(done)` after each block with SNPs read so far.
 */
export async function packGenotypes(source: GenotypeSource, rows: Int32Array, filter: SnpFilter, onProgress?: (done: number) => void): Promise<PackedGenotypes> {
  const n = rows.length;
  const N = source.samples.length;
  const bytesPerCol = Math.ceil(n / 4);
  const colsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / bytesPerCol));
  const readBlock = Math.max(1, Math.min(4096, Math.floor(READ_VALUES / N)));
  const blocks: Uint8Array[] = [];
  const colStart: number[] = [];
  let current: Uint8Array | undefined;
  let inCurrent = 0;
  let kept = 0;
  const snps: SnpInfo[] = [];
  const fileIndex: number[] = [];
  const chr: number[] = [];
  const chromosomes: string[] = [];
  const chrIndex = new Map<string, number>();
  const af: number[] = [];
  const nMiss: number[] = [];
  const counts: number[] = [];
  const dropped: Record<string, number> = {};
  let rounded = 0;
  let done = 0;
  for await (const block of source.blocks(readBlock)) {
    const verdict = filter.apply(block.dosages, rows, { impute: false });
    const x = block.dosages;
    for (let j = 0; j < verdict.status.length; j++) {
      const st = verdict.status[j]!;
      if (st !== 0) dropped[SNP_STATUS[st]!] = (dropped[SNP_STATUS[st]!] ?? 0) + 1;
    }
    for (const j of verdict.keptIndex) {
      // Step: a column in the current store block (a new block when full).
      if (!current || inCurrent === colsPerBlock) {
        if (current) blocks.push(current);
        current = new Uint8Array(new SharedArrayBuffer(colsPerBlock * bytesPerCol));
        colStart.push(kept);
        inCurrent = 0;
      }
      const at = inCurrent * bytesPerCol;
      const col = j * x.ld;
      const cnt = [0, 0, 0, 0];
      // Step: codes of the analysed rows, four per byte; padding rows past n are 'missing' (value 0).
      for (let r = 0; r < bytesPerCol * 4; r++) {
        let code = 1;
        if (r < n) {
          const v = x.data[col + rows[r]!]!;
          if (v === v) {
            let d = v;
            if (d !== 0 && d !== 1 && d !== 2) {
              d = Math.min(2, Math.max(0, Math.round(d)));
              rounded++;
            }
            code = DOSAGE_CODE[d as 0 | 1 | 2];
          }
          cnt[code]!++;
        }
        current[at + (r >> 2)]! |= code << (2 * (r & 3));
      }
      inCurrent++;
      kept++;
      const s = block.snps[j]!;
      snps.push(s);
      fileIndex.push(block.start + j);
      let c = chrIndex.get(s.chr);
      if (c === undefined) {
        c = chromosomes.length;
        chrIndex.set(s.chr, c);
        chromosomes.push(s.chr);
      }
      chr.push(c);
      af.push(verdict.af[j]!);
      nMiss.push(verdict.nMiss[j]!);
      counts.push(...cnt);
    }
    done += block.snps.length;
    onProgress?.(done);
  }
  if (current) blocks.push(current.subarray(0, inCurrent * bytesPerCol));
  colStart.push(kept);
  return {
    matrix: { rows: n, cols: kept, bytesPerCol, blocks, colStart: Int32Array.from(colStart) },
    snps, fileIndex: Int32Array.from(fileIndex), chr: Int32Array.from(chr), chromosomes,
    af: Float64Array.from(af), nMiss: Int32Array.from(nMiss), counts: Int32Array.from(counts),
    nSnps: source.nSnps, dropped, rounded, bytes: kept * bytesPerCol,
  };
}
