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
 * A source with packed hard calls (GenotypeSource.packedBlocks: PLINK .bed, PGEN without dosages) is read as
 * codes (no f64 dosages): they are counted and repacked over the analysed individuals
 * (a plain copy when all are analysed), and the missing, maf and monomorphic filters are decided from the counts
 * exactly as gwas/snp-filter.ts decides them; its collinearity filter (r2 on the covariates) is then applied by
 * the kinship operator from Z'Q (gwas/biobank/kinship-operator.ts), where it costs nothing extra.
 */
import type { Packed2Matrix } from '../../kernels/packed2.js';
import { countCodes } from '../../src/io/packed-codes.js';
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
  if (source.packedBlocks) return packCodes(source, rows, filter, onProgress);
  const n = rows.length;
  const N = source.samples.length;
  const bytesPerCol = Math.ceil(n / 4);
  const readBlock = Math.max(1, Math.min(4096, Math.floor(READ_VALUES / N)));
  const store = new StoreBuilder(n);
  let rounded = 0;
  let done = 0;
  for await (const block of source.blocks(readBlock)) {
    const verdict = filter.apply(block.dosages, rows, { impute: false });
    const x = block.dosages;
    for (let j = 0; j < verdict.status.length; j++) {
      const st = verdict.status[j]!;
      if (st !== 0) store.drop(st);
    }
    for (const j of verdict.keptIndex) {
      const dst = store.column();
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
        dst[r >> 2]! |= code << (2 * (r & 3));
      }
      store.keep(block.snps[j]!, block.start + j, verdict.af[j]!, verdict.nMiss[j]!, cnt[0]!, cnt[1]!, cnt[2]!, cnt[3]!);
    }
    done += block.snps.length;
    onProgress?.(done);
  }
  return store.finish(source.nSnps, rounded);
}

/**
 * The store as it fills: kept SNPs' columns in SharedArrayBuffer blocks of at most BLOCK_BYTES, their metadata,
 * and the dropped SNPs per filter status. A kept SNP takes {@link StoreBuilder.column} (its zeroed bytes, for the
 * caller to fill) then {@link StoreBuilder.keep}.
 */
class StoreBuilder {
  private readonly bytesPerCol: number;
  private readonly colsPerBlock: number;
  private readonly blocks: Uint8Array[] = [];
  private readonly colStart: number[] = [];
  private current: Uint8Array | undefined;
  private inCurrent = 0;
  private readonly snps: SnpInfo[] = [];
  private readonly fileIndex: number[] = [];
  private readonly chr: number[] = [];
  private readonly chromosomes: string[] = [];
  private readonly chrIndex = new Map<string, number>();
  private readonly af: number[] = [];
  private readonly nMiss: number[] = [];
  private readonly counts: number[] = [];
  private readonly dropped: Record<string, number> = {};

  /** @param n analysed individuals (rows of the store) */
  constructor(private readonly n: number) {
    this.bytesPerCol = Math.ceil(n / 4);
    this.colsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / this.bytesPerCol));
  }

  /** Counts a SNP dropped with filter status `status` (gwas/snp-filter.ts SNP_STATUS, not 0). */
  drop(status: number): void {
    const k = SNP_STATUS[status]!;
    this.dropped[k] = (this.dropped[k] ?? 0) + 1;
  }

  /** The next kept SNP's column (zeros, bytesPerCol bytes) in the current store block (a new block when full). */
  column(): Uint8Array {
    if (!this.current || this.inCurrent === this.colsPerBlock) {
      if (this.current) this.blocks.push(this.current);
      this.current = new Uint8Array(new SharedArrayBuffer(this.colsPerBlock * this.bytesPerCol));
      this.colStart.push(this.snps.length);
      this.inCurrent = 0;
    }
    const at = this.inCurrent++ * this.bytesPerCol;
    return this.current.subarray(at, at + this.bytesPerCol);
  }

  /** Records the SNP whose column was just written: source index, filter values and code counts c0..c3. */
  keep(info: SnpInfo, fileIndex: number, af: number, nMiss: number, c0: number, c1: number, c2: number, c3: number): void {
    this.snps.push(info);
    this.fileIndex.push(fileIndex);
    let c = this.chrIndex.get(info.chr);
    if (c === undefined) {
      c = this.chromosomes.length;
      this.chrIndex.set(info.chr, c);
      this.chromosomes.push(info.chr);
    }
    this.chr.push(c);
    this.af.push(af);
    this.nMiss.push(nMiss);
    this.counts.push(c0, c1, c2, c3);
  }

  /** The finished store (`nSnps`: SNPs of the source; `rounded`: fractional dosages rounded). */
  finish(nSnps: number, rounded: number): PackedGenotypes {
    const kept = this.snps.length;
    const blocks = this.current ? [...this.blocks, this.current.subarray(0, this.inCurrent * this.bytesPerCol)] : this.blocks;
    return {
      matrix: { rows: this.n, cols: kept, bytesPerCol: this.bytesPerCol, blocks, colStart: Int32Array.from([...this.colStart, kept]) },
      snps: this.snps, fileIndex: Int32Array.from(this.fileIndex), chr: Int32Array.from(this.chr), chromosomes: this.chromosomes,
      af: Float64Array.from(this.af), nMiss: Int32Array.from(this.nMiss), counts: Int32Array.from(this.counts),
      nSnps, dropped: this.dropped, rounded, bytes: kept * this.bytesPerCol,
    };
  }
}

/** Sources with packed hard calls (PLINK .bed, PGEN without dosages): their codes, in blocks of about 16 MiB. */
async function packCodes(source: GenotypeSource, rows: Int32Array, filter: SnpFilter, onProgress?: (done: number) => void): Promise<PackedGenotypes> {
  const N = source.samples.length;
  const n = rows.length;
  const bps = Math.ceil(N / 4);
  const out = Math.ceil(n / 4);
  const all = n === N;
  const readSnps = Math.max(1, Math.floor((16 * 2 ** 20) / bps));
  const store = new StoreBuilder(n);
  const col = new Uint8Array(out);
  const cnt = new Int32Array(4);
  // Padding of the last output byte: code 1 (missing, value 0) past n.
  const padMask = n % 4 === 0 ? 0 : 0xff & ~((1 << (2 * (n % 4))) - 1);
  const padCodes = 0x55 & padMask;
  for await (const block of source.packedBlocks!(readSnps)) {
    const buf = block.codes;
    for (let q = 0; q < block.snps.length; q++) {
      const at = q * bps;
      // Step: the analysed individuals' codes, four per byte, padding -> missing.
      if (all) {
        col.set(buf.subarray(at, at + out));
        if (padMask) col[out - 1] = (col[out - 1]! & ~padMask) | padCodes;
      } else {
        col.fill(0);
        for (let r = 0; r < n; r++) {
          const i = rows[r]!;
          col[r >> 2]! |= ((buf[at + (i >> 2)]! >> (2 * (i & 3))) & 3) << (2 * (r & 3));
        }
        if (padMask) col[out - 1]! |= padCodes;
      }
      // Step: counts (the padding counted as missing, then taken off), the filters.
      countCodes(col, 0, out, cnt, 0);
      const c0 = cnt[0]!, c1 = cnt[1]! - (4 * out - n), c2 = cnt[2]!, c3 = cnt[3]!;
      const verdict = filter.statusFromCounts(c0, c1, c2, c3, n);
      if (verdict.status !== 0) {
        store.drop(verdict.status);
        continue;
      }
      store.column().set(col);
      store.keep(block.snps[q]!, block.start + q, verdict.af, c1, c0, c1, c2, c3);
    }
    onProgress?.(block.start + block.snps.length);
  }
  return store.finish(source.nSnps, 0);
}
