/**
 * What a scan keeps from the kinship pass so that it does not read and decode the genotype file a second
 * time: per streamed block, the SNP filter's verdict and the kept SNPs' genotypes over the analysed
 * individuals, compactly:
 *   - hard calls (every value 0, 1, 2 or missing): two bits per genotype, the dosage or 3 for missing, four
 *     to a byte, each SNP's column starting on a byte (ceil(n / 4) x kept bytes; mouse_hs1940: 1410 x 10768
 *     = 3.8 MB; 10,000 x 50,000: 125 MB);
 *   - any other block (fractional BIMBAM dosages): the mean-imputed f64 columns (8 n x kept bytes).
 * {@link GenotypeStore.blocks} gives back exactly what SnpFilter.apply(dosages, rows) returns (missing ->
 * 2 af, the SNP mean), so a scan over the store equals a scan over a second pass, bit for bit.
 * Memory is bounded by a byte budget: past it the store drops everything it holds and reports itself
 * incomplete, and the scan falls back to a second pass.
 */
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import type { SnpFilterResult } from './snp-filter.js';
import type { PackedBlock } from '../src/io/genotype-source.js';
import { CODE_DOSAGE_OR_3 } from '../src/io/packed-codes.js';
import type { GenotypeBlock, SnpInfo } from './types.js';

/** One block as the scan consumes it: the SNPs and the filter verdict with the mean-imputed kept columns. */
export interface FilteredBlock {
  snps: SnpInfo[];
  verdict: SnpFilterResult;
}

interface StoredBlock {
  snps: SnpInfo[];
  verdict: Omit<SnpFilterResult, 'imputed'>;
  /** Dosage codes (3 missing), 2 bits each, ceil(n / 4) bytes per kept SNP, for a hard-call block. */
  codes?: Uint8Array;
  /** Mean-imputed dosages, n x kept, otherwise. */
  imputed?: F64Matrix;
}

/** The store's code (dosage, 3 missing) of each byte of four PackedBlock codes. */
const STORE_CODE = CODE_DOSAGE_OR_3;
const STORE_BYTE = Uint8Array.from({ length: 256 }, (_, b) => [0, 1, 2, 3].reduce((s, t) => s | (STORE_CODE[(b >> (2 * t)) & 3]! << (2 * t)), 0));

/** Bytes of one SNP's 2-bit codes over n individuals. */
function bytesPerSnp(n: number): number {
  return Math.ceil(n / 4);
}

/** Bytes the store holds for n individuals x m kept hard-call SNPs (the memory model's estimate). */
export function storeBytes(n: number, m: number): number {
  return bytesPerSnp(n) * m;
}

export class GenotypeStore {
  private stored: StoredBlock[] = [];
  private bytes = 0;
  private overBudget = false;

  constructor(
    /** Analysed individuals (ascending indices into the blocks' rows). */
    private readonly rows: Int32Array,
    /** Most bytes of genotypes to hold; 0 keeps nothing. */
    private readonly budgetBytes: number,
  ) {
    if (!(budgetBytes >= 0)) throw new RangeError(`GenotypeStore: budget must be >= 0 bytes, got ${budgetBytes}`);
  }

  /** True while every block added so far is held (the scan can skip the second pass). */
  get complete(): boolean {
    return !this.overBudget;
  }

  /** Bytes of genotypes held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Keeps block `block` with its verdict (from SnpFilter.apply over `rows`, with or without imputation).
   * O(n kept). Once over budget, drops everything and ignores later blocks.
   */
  add(block: GenotypeBlock, verdict: SnpFilterResult): void {
    if (this.overBudget) return;
    const rows = this.rows;
    const n = rows.length;
    const kept = verdict.keptIndex;
    const x = block.dosages;
    if (x.cols !== verdict.status.length) throw new RangeError(`GenotypeStore.add: block has ${x.cols} SNPs, verdict ${verdict.status.length}`);
    const { kept: keptFlags, status, af, nMiss, keptIndex } = verdict;
    const entry: StoredBlock = { snps: block.snps, verdict: { kept: keptFlags, status, af, nMiss, keptIndex } };
    // Step 1: 2-bit codes while every kept genotype is a hard call.
    const stride = bytesPerSnp(n);
    const codes = new Uint8Array(stride * kept.length);
    let hard = true;
    for (let k = 0; k < kept.length && hard; k++) {
      const col = kept[k]! * x.ld;
      const at = k * stride;
      for (let r = 0; r < n; r++) {
        const v = x.data[col + rows[r]!]!;
        let code: number;
        if (v === 0 || v === 1 || v === 2) code = v;
        else if (v !== v) code = 3;
        else {
          hard = false;
          break;
        }
        codes[at + (r >> 2)]! |= code << ((r & 3) << 1);
      }
    }
    if (hard) entry.codes = codes;
    else {
      // Step 2: otherwise the mean-imputed f64 columns, as SnpFilter.apply imputes them.
      const imputed = f64Matrix(n, kept.length);
      for (let k = 0; k < kept.length; k++) {
        const col = kept[k]! * x.ld;
        const mean = 2 * af[kept[k]!]!;
        for (let r = 0; r < n; r++) {
          const v = x.data[col + rows[r]!]!;
          imputed.data[k * n + r] = v === v ? v : mean;
        }
      }
      entry.imputed = imputed;
    }
    this.keep(entry, hard ? codes.length : 8 * n * kept.length);
  }

  /**
   * Keeps a block of 2-bit codes (a PackedBlock: ceil(N / 4) bytes per SNP over all N individuals, coding of
   * src/io/packed-codes.ts) with its verdict (SnpFilter.applyCounts over `rows`): the kept SNPs' codes
   * translated to the store's (a table lookup per byte when `rows` is every individual, else one lookup per
   * individual). Holds exactly what {@link add} holds for the same genotypes as f64 dosages. O(n kept).
   */
  addCodes(block: PackedBlock, verdict: SnpFilterResult): void {
    if (this.overBudget) return;
    const rows = this.rows;
    const n = rows.length;
    const kept = verdict.keptIndex;
    const m = block.snps.length;
    if (m !== verdict.status.length) throw new RangeError(`GenotypeStore.addCodes: block has ${m} SNPs, verdict ${verdict.status.length}`);
    const inBytes = m === 0 ? 0 : block.codes.length / m;
    const stride = bytesPerSnp(n);
    const codes = new Uint8Array(stride * kept.length);
    const all = inBytes === stride && rows.every((i, r) => i === r);
    // The store's last byte holds 0 past n (PackedBlock's unused fields are 0 too, which translate to 2).
    const tail = n & 3 ? (1 << (2 * (n & 3))) - 1 : 0xff;
    for (let k = 0; k < kept.length; k++) {
      const from = kept[k]! * inBytes;
      const at = k * stride;
      if (all) {
        for (let b = 0; b < stride; b++) codes[at + b] = STORE_BYTE[block.codes[from + b]!]!;
        codes[at + stride - 1]! &= tail;
      } else {
        for (let r = 0; r < n; r++) {
          const i = rows[r]!;
          codes[at + (r >> 2)]! |= STORE_CODE[(block.codes[from + (i >> 2)]! >> ((i & 3) << 1)) & 3]! << ((r & 3) << 1);
        }
      }
    }
    const { kept: keptFlags, status, af, nMiss, keptIndex } = verdict;
    this.keep({ snps: block.snps, verdict: { kept: keptFlags, status, af, nMiss, keptIndex }, codes }, codes.length);
  }

  /** Holds `entry` (`bytes` of genotypes), or drops everything once over budget. */
  private keep(entry: StoredBlock, bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.budgetBytes) {
      this.overBudget = true;
      this.stored = [];
      this.bytes = 0;
      return;
    }
    this.stored.push(entry);
  }

  /**
   * Hands the held blocks over in order, consecutive blocks joined until they hold at least `minSnps` SNPs
   * (the scan's block size; the kinship pass may read smaller ones), with the kept columns mean-imputed
   * (expanded one output block at a time, O(n kept)). Blocks are released as they are handed over, so the
   * store can be drained once.
   */
  *drain(minSnps = 1): Iterable<FilteredBlock> {
    if (this.overBudget) throw new Error('GenotypeStore.drain: the store went over its budget and holds nothing');
    while (this.stored.length > 0) {
      const group: StoredBlock[] = [];
      let snps = 0;
      while (this.stored.length > 0 && (snps === 0 || snps < minSnps)) {
        const b = this.stored.shift()!;
        this.bytes -= b.codes ? b.codes.length : 8 * b.imputed!.data.length;
        group.push(b);
        snps += b.snps.length;
      }
      yield this.join(group, snps);
    }
  }

  /** One filtered block from consecutive stored blocks: verdicts concatenated, kept columns imputed. */
  private join(group: StoredBlock[], m: number): FilteredBlock {
    const n = this.rows.length;
    const nKept = group.reduce((s, b) => s + b.verdict.keptIndex.length, 0);
    const verdict: SnpFilterResult = {
      kept: new Uint8Array(m), status: new Uint8Array(m), af: new Float64Array(m), nMiss: new Int32Array(m),
      keptIndex: new Int32Array(nKept), imputed: f64Matrix(n, nKept),
    };
    const out = verdict.imputed.data;
    const snps: SnpInfo[] = [];
    let j0 = 0;
    let k0 = 0;
    for (const b of group) {
      const v = b.verdict;
      verdict.kept.set(v.kept, j0);
      verdict.status.set(v.status, j0);
      verdict.af.set(v.af, j0);
      verdict.nMiss.set(v.nMiss, j0);
      for (let k = 0; k < v.keptIndex.length; k++) verdict.keptIndex[k0 + k] = j0 + v.keptIndex[k]!;
      if (b.imputed) out.set(b.imputed.data, k0 * n);
      else {
        const codes = b.codes!;
        const stride = bytesPerSnp(n);
        const value = new Float64Array(4);
        for (let k = 0; k < v.keptIndex.length; k++) {
          value.set([0, 1, 2, 2 * v.af[v.keptIndex[k]!]!]); // code 3: missing -> the SNP mean 2 af
          const at = (k0 + k) * n;
          const col = k * stride;
          for (let r = 0; r < n; r++) out[at + r] = value[(codes[col + (r >> 2)]! >> ((r & 3) << 1)) & 3]!;
        }
      }
      for (const s of b.snps) snps.push(s);
      j0 += v.status.length;
      k0 += v.keptIndex.length;
    }
    return { snps, verdict };
  }
}
