/**
 * BGEN genotypes (Oxford format v1.1, v1.2, v1.3: https://www.chg.ox.ac.uk/~gav/bgen_format/), read in SNP blocks.
 *
 * Supported: layout 1 (v1.1: three u16 probabilities per sample, zlib or none) and layout 2 (v1.2/1.3: any bit
 * depth 1..32, phased or unphased, any ploidy and number of alleles; none, zlib or zstd), sample IDs from the
 * file or an Oxford `.sample` file. Opening reads every variant header once (the probability data are skipped)
 * to list the SNPs and remember where each one's data start, so a block or a SNP range is read with one seek.
 *
 * Dosage of the counted allele a for one sample of ploidy Z (see the README, "Which allele is counted"):
 *   unphased: (2 / Z) * sum_g count_a(g) P(g)   over the genotypes g (allele count vectors, colex order), the last
 *             probability being 1 - the sum of the stored ones;
 *   phased:   (2 / Z) * sum_h P_h(a)            over the Z haplotypes;
 *   layout 1: (2 P(aa) + P(ab)) / (P(AA) + P(AB) + P(BB)) for a the first allele (all three zero: missing).
 * Probabilities are the stored integers over 2^B - 1 (layout 1: over 32768); the dosage is computed in f64 from
 * the integers, so hard calls give exactly 0, 1 and 2. A missing sample (ploidy byte bit 7) or ploidy 0 gives NaN.
 * The factor 2 / Z puts haploid calls on the diploid 0..2 scale (plink2's convention for haploid genotypes).
 */
import { checkUniqueSampleIds } from './sample-ids.js';
import { promisify } from 'node:util';
import { inflate, inflateSync } from 'node:zlib';
import type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from './genotype-source.js';
import { InputError } from '../errors.js';
import { FileWindow } from './file-window.js';
import { readNonEmptyLines, splitFields } from './gemma-tables.js';
import { blockBuilderFor, type MultiallelicMode, type SkippedVariants } from './genotype-blocks.js';
import { zstdDecompressor } from './zstd.js';
import { readBgi } from './bgen-index.js';
import { inRegion, type GenomicRegion } from './region.js';
import { access } from 'node:fs/promises';

/** Which allele of a BGEN variant is the reference (not counted). */
export type BgenRefAllele = 'first' | 'last';

export interface BgenOptions {
  /** Oxford `.sample` file; its IDs (column ID_2, or the only ID column of a v2 file) replace those in the BGEN. */
  samplePath?: string;
  /**
   * Which allele is REF. 'last' (default; plink2's `--export bgen-*` default and its `--bgen ... ref-unknown`)
   * counts the first allele; 'first' (UK Biobank, `--bgen ... ref-first`) counts the last one.
   */
  ref?: BgenRefAllele;
  /** Variants with K > 2 alleles: 'split' (default) into K - 1 biallelic SNPs, one per non-REF allele, or 'skip'. */
  multiallelic?: MultiallelicMode;
  /**
   * The bgenix index to list the variants from instead of reading every variant header: a path, or false for
   * none. Default: FILE.bgi when it exists.
   */
  index?: string | false;
  /** Only the variants of this region (with an index: only those are read at all). */
  region?: GenomicRegion;
}

/** The header block of a BGEN file. */
export interface BgenHeader {
  /** File offset of the first variant data block. */
  firstVariant: number;
  nVariants: number;
  nSamples: number;
  /** 0 none, 1 zlib, 2 zstd. */
  compression: 0 | 1 | 2;
  layout: 1 | 2;
  hasSampleIds: boolean;
  /** 'v1.1' (layout 1), 'v1.2' (layout 2, zlib or none) or 'v1.3' (layout 2 with zstd). */
  version: string;
}

const COMPRESSION_NAMES = ['none', 'zlib', 'zstd'] as const;
const inflateAsync = promisify(inflate);

/** Reads and validates the header block (and the sample identifier block when present). */
async function readHeader(win: FileWindow): Promise<{ header: BgenHeader; ids?: string[] }> {
  const path = win.path;
  const head = await win.view(0, 24, 'the header block');
  const firstVariant = head.readUInt32LE(0) + 4;
  const lh = head.readUInt32LE(4);
  if (lh < 20 || lh + 4 > firstVariant) {
    throw InputError.atByte(path, 4, `not a BGEN file: header length ${lh} must be >= 20 and fit before the first variant (offset ${firstVariant})`);
  }
  const magic = head.subarray(16, 20);
  if (magic.toString('latin1') !== 'bgen' && magic.readUInt32LE(0) !== 0) {
    throw InputError.atByte(path, 16, `not a BGEN file: expected magic bytes 'bgen' at byte 16, found ${[...magic].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  }
  const flags = (await win.view(lh, 4, 'the header flags')).readUInt32LE(0);
  const compression = flags & 3;
  const layout = (flags >>> 2) & 15;
  if (compression === 3) throw InputError.atByte(path, lh, `unknown compression 3 in the header flags (0 none, 1 zlib, 2 zstd)`);
  if (layout !== 1 && layout !== 2) throw InputError.atByte(path, lh, `unsupported layout ${layout} in the header flags (BGEN v1.1 has layout 1, v1.2 and v1.3 layout 2)`);
  if (layout === 1 && compression === 2) throw InputError.atByte(path, lh, 'layout 1 (BGEN v1.1) cannot use zstd compression');
  const header: BgenHeader = {
    firstVariant,
    nVariants: head.readUInt32LE(8),
    nSamples: head.readUInt32LE(12),
    compression: compression as 0 | 1 | 2,
    layout,
    hasSampleIds: (flags >>> 31) === 1,
    version: layout === 1 ? 'v1.1' : compression === 2 ? 'v1.3' : 'v1.2',
  };
  if (!header.hasSampleIds) return { header };
  // Sample identifier block: L_SI, N, then N x (u16 length, ID).
  const at = 4 + lh;
  const sib = await win.view(at, 8, 'the sample identifier block');
  const lsi = sib.readUInt32LE(0);
  const n = sib.readUInt32LE(4);
  if (n !== header.nSamples) throw InputError.atByte(path, at + 4, `wrong sample count: the sample identifier block lists ${n} samples, the header ${header.nSamples}`);
  if (at + lsi > firstVariant) throw InputError.atByte(path, at, `sample identifier block of ${lsi} bytes overlaps the first variant at byte ${firstVariant}`);
  const block = await win.view(at, lsi, 'the sample identifier block');
  const ids: string[] = new Array(n);
  const idAt: number[] = new Array(n);
  let p = 8;
  for (let i = 0; i < n; i++) {
    if (p + 2 > lsi) throw InputError.atByte(path, at + p, `sample identifier block ends after ${i} of ${n} IDs`);
    const len = block.readUInt16LE(p);
    if (p + 2 + len > lsi) throw InputError.atByte(path, at + p, `sample identifier block ends inside ID ${i + 1} of ${n}`);
    ids[i] = block.toString('utf8', p + 2, p + 2 + len);
    idAt[i] = at + p;
    p += 2 + len;
  }
  checkUniqueSampleIds(ids, path, (k) => ({ byteOffset: idAt[k]! }));
  return { header, ids };
}

/** One variant's identifying data, parsed from a buffer. */
interface VariantHeader {
  id: string;
  rsid: string;
  chr: string;
  pos: number;
  alleles: string[];
  /** Offset (in the buffer) of the genotype data block. */
  dataAt: number;
}

/**
 * Parses the identifying data of the variant starting at buf[at]; undefined when the buffer ends first (the caller
 * reads more). `fileAt` is the file offset of buf[0], for messages.
 */
function parseVariantHeader(buf: Buffer, at: number, layout: 1 | 2, nSamples: number, path: string, fileAt: number): VariantHeader | undefined {
  let p = at;
  const need = (n: number): boolean => p + n <= buf.length;
  if (layout === 1) {
    if (!need(4)) return undefined;
    const n = buf.readUInt32LE(p);
    if (n !== nSamples) throw InputError.atByte(path, fileAt + p, `wrong sample count: variant lists ${n} samples, the header ${nSamples}`);
    p += 4;
  }
  const str = (): string | undefined => {
    if (!need(2)) return undefined;
    const len = buf.readUInt16LE(p);
    if (!need(2 + len)) return undefined;
    const s = buf.toString('latin1', p + 2, p + 2 + len);
    p += 2 + len;
    return s;
  };
  const id = str();
  const rsid = id === undefined ? undefined : str();
  const chr = rsid === undefined ? undefined : str();
  if (chr === undefined || !need(layout === 2 ? 6 : 4)) return undefined;
  const pos = buf.readUInt32LE(p);
  p += 4;
  let k = 2;
  if (layout === 2) {
    k = buf.readUInt16LE(p);
    p += 2;
    if (k < 1) throw InputError.atByte(path, fileAt + p - 2, 'variant with 0 alleles');
  }
  const alleles: string[] = new Array(k);
  for (let a = 0; a < k; a++) {
    if (!need(4)) return undefined;
    const len = buf.readUInt32LE(p);
    if (!need(4 + len)) {
      if (len > 1 << 30) throw InputError.atByte(path, fileAt + p, `allele length ${len} is not plausible`);
      return undefined;
    }
    alleles[a] = buf.toString('latin1', p + 4, p + 4 + len);
    p += 4 + len;
  }
  return { id: id!, rsid: rsid!, chr, pos, alleles, dataAt: p };
}

/** Where one output SNP's variant is, and which allele it counts. */
interface SnpLocation {
  /** File offset of each SNP's variant block (split multi-allelic SNPs share one). */
  variantStart: Float64Array;
  /** Index of the counted allele. */
  counted: Uint16Array;
  /** Number of alleles of the variant. */
  nAlleles: Uint16Array;
}

/**
 * A BGEN file as a {@link GenotypeSource}. Construct with {@link openBgen}. `blocks` seeks to the range's first
 * SNP, reads the compressed data sequentially through an 8 MiB window, decompresses each variant once (split
 * multi-allelic SNPs share it) and decodes its probabilities into dosages of the counted allele.
 */
export class BgenSource implements GenotypeSource {
  readonly describe: string;
  readonly nSnps: number;

  constructor(
    readonly path: string,
    readonly header: BgenHeader,
    readonly samples: readonly string[],
    readonly snps: readonly SnpInfo[],
    private readonly where: SnpLocation,
    /** Variants left out, by reason. */
    readonly skipped: SkippedVariants,
    /** The .bgi the variants were listed from, if any. */
    readonly indexPath?: string,
  ) {
    this.describe = path;
    this.nSnps = snps.length;
  }

  /**
   * Streams SNPs in file order, `blockSize` at a time, for individuals `keep` and the SNPs of `range`.
   * Cost per variant: one decompression O(compressed + N * values) and one decode pass over the N samples;
   * memory: the read window, one decompressed variant and one nKeep x blockSize f64 matrix.
   */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const builder = blockBuilderFor(this, blockSize, keep, range);
    if (!builder) return;
    const r = builder.range;
    const nInd = this.samples.length;
    const win = await FileWindow.open(this.path, 8 << 20);
    const decompress = await payloadReader(this.header);
    const decoder = new ProbabilityDecoder(this.path, this.header, nInd);
    const w = this.where;
    // Variants are read and decompressed up to BGEN_AHEAD ahead of the decoder (large ones on the thread pool).
    const queue: { start: number; dataAt: number; payload: Promise<Uint8Array> }[] = [];
    let next = r.start;
    const schedule = async (): Promise<void> => {
      while (queue.length < BGEN_AHEAD && next < r.end) {
        const start = w.variantStart[next]!;
        const { dataAt } = await variantHeaderAt(win, this.header, nInd, start, next);
        while (next < r.end && w.variantStart[next] === start) next++;
        const payload = payloadOf(this.path, this.header, await readPayloadBytes(win, this.header, nInd, dataAt), decompress);
        payload.catch(() => undefined); // awaited in order below; this only marks it handled meanwhile
        queue.push({ start, dataAt, payload });
      }
    };
    try {
      let current: { start: number; dataAt: number; payload: Promise<Uint8Array> } | undefined;
      let payload: Uint8Array | undefined;
      while (!builder.done) {
        const j = builder.snp;
        if (current?.start !== w.variantStart[j]!) {
          await schedule();
          current = queue.shift()!;
          payload = await current.payload;
        }
        const hard = decoder.decode(payload!, current.dataAt, w.nAlleles[j]!, w.counted[j]!, keep, builder.data, builder.column());
        const block = builder.commit(hard);
        if (block) yield block;
      }
    } finally {
      await win.close();
    }
  }
}

/**
 * The identifying data of the variant whose block starts at file offset `start` (`v` numbers it in messages), with
 * `dataAt` as a file offset, and the length of its genotype data block.
 */
async function variantHeaderAt(win: FileWindow, header: BgenHeader, nInd: number, start: number, v: number): Promise<VariantHeader & { dataLen: number }> {
  let span = 4096;
  for (;;) {
    const len = Math.min(span, win.size - start);
    if (len <= 0) throw InputError.atByte(win.path, start, `truncated: the header lists ${header.nVariants} variants, the file ends before variant ${v + 1}`);
    const buf = await win.view(start, len, `variant ${v + 1}`);
    const vh = parseVariantHeader(buf, 0, header.layout, nInd, win.path, start);
    if (vh) {
      const dataAt = start + vh.dataAt;
      const dataLen = header.layout === 1 && header.compression === 0 ? 6 * nInd : 4 + (await win.view(dataAt, 4, `the genotype data length of variant ${v + 1}`)).readUInt32LE(0);
      if (dataAt + dataLen > win.size) throw InputError.atByte(win.path, dataAt, `truncated: variant ${v + 1} of ${header.nVariants} needs ${dataLen} bytes of genotype data, the file ends after ${win.size - dataAt}`);
      return { ...vh, dataAt, dataLen };
    }
    if (len < span) throw InputError.atByte(win.path, start, `truncated: variant ${v + 1} of ${header.nVariants} ends inside its identifying data`);
    span *= 4;
  }
}

/** Variants decompressed ahead of the decoder. */
const BGEN_AHEAD = 8;

/** Decompresses one variant's genotype data: (data, decompressed size) -> bytes. */
type Decompress = (data: Uint8Array, size: number) => Promise<Uint8Array>;

/** Variants of at least this many decompressed bytes are inflated on the libuv thread pool, smaller ones inline. */
const ASYNC_INFLATE_BYTES = 1 << 18;

/**
 * zlib: large variants inflate on the thread pool, beside the decoder; small ones inline, where the async call's
 * own cost (about 40 us) would exceed the work. zstd: wasm, inline.
 */
async function payloadReader(header: BgenHeader): Promise<Decompress> {
  if (header.compression === 2) {
    const zstd = await zstdDecompressor();
    return async (data, size) => zstd(data, size);
  }
  return async (data, size) => (size >= ASYNC_INFLATE_BYTES ? inflateAsync(data, { chunkSize: size }) : inflateSync(data));
}

/** One variant's genotype data as read: a copy of its (compressed or not) bytes and the decompressed size. */
interface PayloadBytes {
  at: number;
  data: Uint8Array;
  size: number;
  compressed: boolean;
}

/**
 * Reads (and copies out of the window) the genotype data block of the variant whose data start at file offset
 * `at`. Layout 1: 6N bytes when uncompressed; layout 2: the probability data block (N, K, ploidy bytes, ...).
 */
async function readPayloadBytes(win: FileWindow, header: BgenHeader, nInd: number, at: number): Promise<PayloadBytes> {
  if (header.layout === 1) {
    const size = 6 * nInd;
    if (header.compression === 0) return { at, size, compressed: false, data: Uint8Array.from(await win.view(at, size, 'the genotype probabilities')) };
    const c = (await win.view(at, 4, 'the compressed length')).readUInt32LE(0);
    return { at, size, compressed: true, data: Uint8Array.from(await win.view(at + 4, c, 'the compressed genotype probabilities')) };
  }
  const c = (await win.view(at, 4, 'the genotype data length')).readUInt32LE(0);
  if (header.compression === 0) return { at, size: c, compressed: false, data: Uint8Array.from(await win.view(at + 4, c, 'the genotype probabilities')) };
  if (c < 4) throw InputError.atByte(win.path, at, `genotype data block of ${c} bytes cannot hold its decompressed length`);
  const block = await win.view(at + 4, c, 'the compressed genotype probabilities');
  return { at, size: block.readUInt32LE(0), compressed: true, data: Uint8Array.from(block.subarray(4)) };
}

/** The uncompressed genotype data of a block read by {@link readPayloadBytes}; errors name the file and byte offset. */
async function payloadOf(path: string, header: BgenHeader, p: PayloadBytes, decompress: Decompress): Promise<Uint8Array> {
  if (!p.compressed) return p.data;
  let out: Uint8Array;
  try {
    out = await decompress(p.data, p.size);
  } catch (e) {
    throw InputError.atByte(path, p.at, `bad ${COMPRESSION_NAMES[header.compression]} data in the genotype block: ${(e as Error).message}`);
  }
  if (out.length !== p.size) throw InputError.atByte(path, p.at, `genotype block decompressed to ${out.length} bytes, expected ${p.size}`);
  return out;
}

/** The genotypes (allele count vectors) of ploidy z over k alleles, in the BGEN (colex) order; per genotype the count of allele a. */
function genotypeCounts(k: number, z: number, a: number): Int32Array {
  const vectors: number[][] = [];
  const walk = (prefix: number[], left: number): void => {
    if (prefix.length === k - 1) {
      vectors.push([...prefix, left]);
      return;
    }
    for (let c = 0; c <= left; c++) walk([...prefix, c], left - c);
  };
  walk([], z);
  vectors.sort((x, y) => {
    for (let i = k - 1; i >= 0; i--) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
  return Int32Array.from(vectors, (v) => v[a]!);
}

/** Exact quotients q[k] = k / maxv for k = 0 .. 2 maxv (so hard calls stay integers) and frac[k] = 1 when q[k] is not an integer. */
interface DosageTable {
  maxv: number;
  q: Float64Array;
  frac: Uint8Array;
}

/**
 * The fast path of layout 2: two alleles, every sample diploid, 8- or 16-bit probabilities. Copies of the first
 * allele are 2 P(11) + P(12) (unphased) or P_1(1) + P_2(1) (phased), as an integer over maxv; the counted allele
 * is the first (counted 0) or the second (2 maxv minus that). Writes out[o + r] for each kept row r.
 * Returns -1 when every value is 0, 1, 2 or NaN, -2 when some are fractional, or the index of the first sample
 * whose ploidy is not 2 or whose unphased probabilities sum to more than 1.
 */
function decodeDiploidBiallelic(d: Uint8Array, view: DataView, bits: number, phased: boolean, counted: number, t: DosageTable, keep: Int32Array | undefined, out: Float64Array, o: number): number {
  const nInd = d.length > 0 ? view.getUint32(0, true) : 0;
  const base = 10 + nInd;
  const maxv = t.maxv | 0;
  const q = t.q;
  const frac = t.frac;
  const rows = keep ? keep.length : nInd;
  const flip = counted === 0 ? 0 : 2 * maxv;
  const sign = counted === 0 ? 1 : -1;
  const unphased = phased ? 0 : 1;
  let anyFrac = 0;
  for (let r = 0; r < rows; r++) {
    const i = keep ? keep[r]! : r;
    const ploidy = d[8 + i]!;
    if (ploidy !== 2) {
      if (ploidy & 0x80) {
        out[o + r] = Number.NaN;
        continue;
      }
      return i;
    }
    let v0: number;
    let v1: number;
    if (bits === 8) {
      v0 = d[base + 2 * i]!;
      v1 = d[base + 2 * i + 1]!;
    } else {
      v0 = view.getUint16(base + 4 * i, true);
      v1 = view.getUint16(base + 4 * i + 2, true);
    }
    if (unphased && v0 + v1 > maxv) return i;
    const num = (flip + sign * (v0 + unphased * v0 + v1)) | 0;
    anyFrac |= frac[num]!;
    out[o + r] = q[num]!;
  }
  return anyFrac ? -2 : -1;
}

/**
 * Turns one variant's uncompressed probabilities into dosages of the counted allele (formulas in the file
 * comment). Fast path: two alleles, every sample diploid, 8 or 16 bits (exact quotients from a table of
 * numerator / (2^B - 1)); any other variant goes through a general bit reader.
 */
class ProbabilityDecoder {
  private readonly tables = new Map<number, DosageTable>();
  private readonly counts = new Map<string, Int32Array>();

  constructor(
    private readonly path: string,
    private readonly header: BgenHeader,
    private readonly nInd: number,
  ) {}

  /** The dosage table of a bit depth (8 or 16): see {@link DosageTable}. */
  private table(bits: number): DosageTable {
    let t = this.tables.get(bits);
    if (!t) {
      const maxv = (1 << bits) - 1;
      const q = new Float64Array(2 * maxv + 1);
      const frac = new Uint8Array(2 * maxv + 1);
      for (let k = 0; k <= 2 * maxv; k++) {
        q[k] = k / maxv;
        frac[k] = k % maxv === 0 ? 0 : 1;
      }
      t = { maxv, q, frac };
      this.tables.set(bits, t);
    }
    return t;
  }

  /**
   * Decodes into out[o .. o + nKeep). `at` is the file offset of the variant's data (for messages). Returns true
   * when every value written is 0, 1, 2 or NaN.
   */
  decode(d: Uint8Array, at: number, nAlleles: number, counted: number, keep: Int32Array | undefined, out: Float64Array, o: number): boolean {
    return this.header.layout === 1 ? this.decodeLayout1(d, counted, keep, out, o) : this.decodeLayout2(d, at, nAlleles, counted, keep, out, o);
  }

  private decodeLayout1(d: Uint8Array, counted: number, keep: Int32Array | undefined, out: Float64Array, o: number): boolean {
    const rows = keep ? keep.length : this.nInd;
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    let hard = true;
    for (let r = 0; r < rows; r++) {
      const i = keep ? keep[r]! : r;
      const aa = view.getUint16(6 * i, true);
      const ab = view.getUint16(6 * i + 2, true);
      const bb = view.getUint16(6 * i + 4, true);
      const sum = aa + ab + bb;
      const v = sum === 0 ? Number.NaN : (counted === 0 ? 2 * aa + ab : ab + 2 * bb) / sum;
      if (hard && sum !== 0 && !Number.isInteger(v)) hard = false;
      out[o + r] = v;
    }
    return hard;
  }

  private decodeLayout2(d: Uint8Array, at: number, nAlleles: number, counted: number, keep: Int32Array | undefined, out: Float64Array, o: number): boolean {
    const path = this.path;
    const nInd = this.nInd;
    if (d.length < 10 + nInd) throw InputError.atByte(path, at, `genotype data of ${d.length} bytes cannot hold ${nInd} samples`);
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const n = view.getUint32(0, true);
    if (n !== nInd) throw InputError.atByte(path, at, `wrong sample count: genotype data list ${n} samples, the header ${nInd}`);
    const k = view.getUint16(4, true);
    if (k !== nAlleles) throw InputError.atByte(path, at, `genotype data list ${k} alleles, the variant ${nAlleles}`);
    const pmin = d[6]!;
    const pmax = d[7]!;
    const phased = d[8 + nInd]!;
    const bits = d[9 + nInd]!;
    if (phased > 1) throw InputError.atByte(path, at, `phased flag ${phased} (0 or 1 expected)`);
    if (bits < 1 || bits > 32) throw InputError.atByte(path, at, `${bits} bits per probability (1..32 expected)`);
    const base = 10 + nInd;
    if (k === 2 && pmin === 2 && pmax === 2 && (bits === 8 || bits === 16)) {
      if (d.length < base + 4 * (bits >> 3) * nInd / 2) throw InputError.atByte(path, at, `genotype data of ${d.length} bytes end before the probabilities of ${nInd} samples`);
      const bad = decodeDiploidBiallelic(d, view, bits, phased === 1, counted, this.table(bits), keep, out, o);
      if (bad >= 0) {
        const ploidy = d[8 + bad]!;
        throw InputError.atByte(path, at, ploidy !== 2 && (ploidy & 0x80) === 0 ? `sample ${bad + 1} has ploidy ${ploidy & 63}, outside the declared range [2, 2]` : `sample ${bad + 1}: genotype probabilities sum to more than 1`);
      }
      return bad === -1;
    }
    return this.decodeGeneral(d, at, k, counted, phased === 1, bits, keep, out, o);
  }

  /** Any ploidy, allele count and bit depth: walks every sample's values with a bit reader. */
  private decodeGeneral(d: Uint8Array, at: number, k: number, counted: number, phased: boolean, bits: number, keep: Int32Array | undefined, out: Float64Array, o: number): boolean {
    const nInd = this.nInd;
    const maxv = 2 ** bits - 1;
    let bit = 8 * (10 + nInd);
    const end = 8 * d.length;
    const read = (): number => {
      let v = 0;
      for (let b = 0; b < bits; b++, bit++) if (d[bit >>> 3]! & (1 << (bit & 7))) v += 2 ** b;
      return v;
    };
    let r = 0;
    let hard = true;
    for (let i = 0; i < nInd; i++) {
      const ploidy = d[8 + i]! & 63;
      const missing = (d[8 + i]! & 0x80) !== 0 || ploidy === 0;
      const nvals = phased ? ploidy * (k - 1) : this.genotypeCount(k, ploidy) - 1;
      if (bit + nvals * bits > end) throw InputError.atByte(this.path, at, `genotype data end inside the probabilities of sample ${i + 1}`);
      const wanted = keep ? r < keep.length && keep[r] === i : true;
      if (!wanted || missing) {
        bit += nvals * bits;
        if (wanted) out[o + r++] = Number.NaN;
        continue;
      }
      // Expected copies of the counted allele, as a numerator over maxv.
      let copies = 0;
      if (phased) {
        for (let h = 0; h < ploidy; h++) {
          let sum = 0;
          for (let a = 0; a < k - 1; a++) {
            const v = read();
            sum += v;
            if (a === counted) copies += v;
          }
          if (sum > maxv) throw InputError.atByte(this.path, at, `sample ${i + 1}: haplotype ${h + 1} probabilities sum to more than 1`);
          if (counted === k - 1) copies += maxv - sum;
        }
      } else {
        const c = this.countsOf(k, ploidy, counted);
        let sum = 0;
        for (let g = 0; g < c.length - 1; g++) {
          const v = read();
          sum += v;
          copies += c[g]! * v;
        }
        if (sum > maxv) throw InputError.atByte(this.path, at, `sample ${i + 1}: genotype probabilities sum to more than 1`);
        copies += c[c.length - 1]! * (maxv - sum);
      }
      const v = (2 * copies) / (ploidy * maxv);
      if (hard && !Number.isInteger(v)) hard = false;
      out[o + r++] = v;
    }
    return hard;
  }

  private genotypeCount(k: number, z: number): number {
    return this.countsOf(k, z, 0).length;
  }

  private countsOf(k: number, z: number, a: number): Int32Array {
    const key = `${k},${z},${a}`;
    let c = this.counts.get(key);
    if (!c) {
      c = genotypeCounts(k, z, a);
      this.counts.set(key, c);
    }
    return c;
  }
}

/** Reads an Oxford `.sample` file: the IDs (column ID_2 when there is one, else the first column), in order. */
export async function readSampleFile(path: string): Promise<string[]> {
  const lines = await readNonEmptyLines(path);
  if (lines.length < 2) throw new InputError(path, undefined, undefined, 'an Oxford .sample file needs a header line and a column-type line');
  const head = splitFields(lines[0]!.line, /[ \t]+/);
  const types = splitFields(lines[1]!.line, /[ \t]+/);
  if (head[0] !== 'ID_1' && head[0] !== 'ID' && head[0] !== 'ID_2') throw new InputError(path, lines[0]!.lineNo, 1, `expected the header of an Oxford .sample file (ID_1 ID_2 missing ...), found '${head[0]}'`);
  if (types[0] !== '0') throw new InputError(path, lines[1]!.lineNo, 1, `expected the column-type line (0 0 0 ...), found '${types[0]}'`);
  const col = head.indexOf('ID_2') >= 0 ? head.indexOf('ID_2') : 0;
  const rows = lines.slice(2);
  const ids = rows.map(({ line, lineNo }) => {
    const f = splitFields(line, /[ \t]+/);
    if (f.length <= col) throw new InputError(path, lineNo, undefined, `expected at least ${col + 1} columns, found ${f.length}`);
    return f[col]!;
  });
  checkUniqueSampleIds(ids, path, (k) => ({ line: rows[k]!.lineNo, column: col + 1 }));
  return ids;
}

/**
 * Opens a BGEN file: header, sample IDs, and the list of SNPs with where their variants start: from the bgenix
 * index (`opts.index`, default FILE.bgi when present; only the rows of `opts.region` when given), else from one
 * pass over the variant headers (probability data skipped; filtered to `opts.region`). Multi-allelic variants
 * are split or skipped (`opts.multiallelic`), monoallelic ones skipped; {@link BgenSource.skipped} counts them.
 * Errors name the file and byte offset. Cost without an index: O(#variants) small reads (sequential through a
 * 1 MiB window); memory O(#SNPs) for the metadata.
 */
export async function openBgen(path: string, opts: BgenOptions = {}): Promise<BgenSource> {
  const ref = opts.ref ?? 'last';
  const multi = opts.multiallelic ?? 'split';
  const win = await FileWindow.open(path);
  try {
    const { header, ids } = await readHeader(win);
    const nInd = header.nSamples;
    let samples: string[];
    if (opts.samplePath) {
      samples = await readSampleFile(opts.samplePath);
      if (samples.length !== nInd) throw new InputError(opts.samplePath, undefined, undefined, `wrong sample count: ${samples.length} samples, but ${path} holds ${nInd}`);
    } else samples = ids ?? Array.from({ length: nInd }, (_, i) => String(i + 1));

    const snps: SnpInfo[] = [];
    const starts: number[] = [];
    const counted: number[] = [];
    const nAlleles: number[] = [];
    const skipped: SkippedVariants = { multiallelic: 0, monoallelic: 0 };
    /** Turns one variant into SNPs (split) or a skip count. */
    const add = (chr: string, rs: string, pos: number, alleles: string[], start: number): void => {
      const k = alleles.length;
      if (k < 2) skipped.monoallelic++;
      else if (k > 2 && multi === 'skip') skipped.multiallelic++;
      else {
        const refIndex = ref === 'first' ? 0 : k - 1;
        for (let a = 0; a < k; a++) {
          if (a === refIndex) continue;
          snps.push({ chr, rs, ps: pos, allele1: alleles[a]!, allele0: alleles[refIndex]! });
          starts.push(start);
          counted.push(a);
          nAlleles.push(k);
        }
      }
    };
    const rsOf = (vh: VariantHeader): string => (vh.rsid !== '' && vh.rsid !== '.' ? vh.rsid : vh.id);
    const indexPath = opts.index === false ? undefined : (opts.index ?? (await access(`${path}.bgi`).then(() => `${path}.bgi`, () => undefined)));
    if (indexPath) {
      // The index lists the variants; a header is read only where the index lacks something (K > 2, no rsid).
      const rows = await readBgi(indexPath, path, opts.region);
      for (let v = 0; v < rows.length; v++) {
        const row = rows[v]!;
        if (row.nAlleles > 2 || row.rsid === '' || row.rsid === '.') {
          const vh = await variantHeaderAt(win, header, nInd, row.start, v);
          add(vh.chr, rsOf(vh), vh.pos, vh.alleles, row.start);
        } else add(row.chr, row.rsid, row.pos, row.nAlleles === 1 ? [row.allele1] : [row.allele1, row.allele2 ?? ''], row.start);
      }
    } else {
      let pos = header.firstVariant;
      for (let v = 0; v < header.nVariants; v++) {
        const vh = await variantHeaderAt(win, header, nInd, pos, v);
        if (!opts.region || inRegion(opts.region, vh.chr, vh.pos)) add(vh.chr, rsOf(vh), vh.pos, vh.alleles, pos);
        pos = vh.dataAt + vh.dataLen;
      }
    }
    const where: SnpLocation = { variantStart: Float64Array.from(starts), counted: Uint16Array.from(counted), nAlleles: Uint16Array.from(nAlleles) };
    return new BgenSource(path, header, samples, snps, where, skipped, indexPath);
  } finally {
    await win.close();
  }
}
