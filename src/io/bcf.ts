/**
 * BCF (binary VCF, v2.1/2.2 as bcftools writes it: BGZF-compressed) read in SNP blocks, with the VCF reader's
 * rules for which allele is counted and how GT, DS and GP become values (see vcf.ts): the counted allele is ALT,
 * multi-allelic records split or skipped, haploid calls x2, a missing allele makes the genotype missing.
 *
 * Layout (hts-specs BCFv2): magic "BCF\2\x02", the VCF header as text (its ##contig lines give the CHROM
 * dictionary; PASS and the ##FILTER/##INFO/##FORMAT IDs, in order or by their IDX=, the string dictionary), then
 * records: l_shared, l_indiv, the shared part (CHROM, POS 0-based, rlen, QUAL, n_info, n_allele, n_sample, n_fmt,
 * ID, alleles, FILTER, INFO) and the per-sample part (per FORMAT key: a typed vector of n_sample x count values).
 * Opening reads every record's shared part (the per-sample bytes are decompressed but skipped) and remembers its
 * virtual offset, so blocks and SNP ranges seek; with a CSI index a region reads only its chunks.
 */
import { checkUniqueSampleIds } from './sample-ids.js';
import type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from './genotype-source.js';
import { InputError } from '../errors.js';
import { blockBuilderFor, type MultiallelicMode, type SkippedVariants } from './genotype-blocks.js';
import { bgzfBlocks } from './text-lines.js';
import { inRegion, type GenomicRegion } from './region.js';
import { readTextIndex, regionChunks, type Chunk } from './tabix.js';
import type { VcfField } from './vcf.js';
import { access } from 'node:fs/promises';

export interface BcfOptions {
  /** FORMAT field to read (a record without it falls back to GT). Default: DS if the header declares it, else GT. */
  field?: VcfField;
  multiallelic?: MultiallelicMode;
  /** Only the records of this region; through FILE.csi (or `index`) when present. */
  region?: GenomicRegion;
  /** The .csi to use for `region`, or false for none. */
  index?: string | false;
}

/**
 * Bytes of a BGZF file from a virtual offset on, across block boundaries, with the virtual offset of the next
 * byte. Memory: the current block plus the bytes of one request.
 */
class BgzfCursor {
  private readonly blocks: AsyncGenerator<{ data: Buffer; at: number; next?: number }>;
  private data: Buffer = Buffer.alloc(0);
  private at: number;
  private next = 0;
  private p = 0;

  constructor(
    readonly path: string,
    virtualOffset: number,
  ) {
    this.blocks = bgzfBlocks(path, Math.floor(virtualOffset / 65536));
    this.at = Math.floor(virtualOffset / 65536);
    this.p = virtualOffset % 65536;
  }

  /** Virtual offset of the next byte (coffset * 65536 + uoffset; at a block's end, the next block's start). */
  get offset(): number {
    return this.data.length > 0 && this.p >= this.data.length ? this.next * 65536 : this.at * 65536 + this.p;
  }

  private async advance(): Promise<boolean> {
    const skip = this.p - this.data.length;
    const next = await this.blocks.next();
    if (next.done) return false;
    this.data = next.value.data;
    this.at = next.value.at;
    this.next = next.value.next ?? 0;
    this.p = Math.max(0, skip);
    return true;
  }

  /** The next n bytes (a view, or a copy when they span blocks); undefined at the end of the file. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.p >= this.data.length) if (!(await this.advance())) return undefined;
    if (this.p + n <= this.data.length) {
      const out = this.data.subarray(this.p, this.p + n);
      this.p += n;
      return out;
    }
    const parts: Buffer[] = [this.data.subarray(this.p)];
    let have = parts[0]!.length;
    this.p = this.data.length;
    while (have < n) {
      if (!(await this.advance())) throw InputError.atByte(this.path, this.at, `truncated: a record needs ${n} bytes, the file ends after ${have}`);
      const take = Math.min(n - have, this.data.length);
      parts.push(this.data.subarray(0, take));
      this.p = take;
      have += take;
    }
    return Buffer.concat(parts, n);
  }

  async close(): Promise<void> {
    await this.blocks.return(undefined);
  }
}

/** Typed value types of BCF. */
const INT8 = 1;
const INT16 = 2;
const INT32 = 3;
const FLOAT = 5;
const CHAR = 7;
const SIZE = [0, 1, 2, 4, 0, 4, 0, 1];

/** A reader of typed values in a record buffer. */
class Typed {
  p = 0;
  constructor(
    readonly buf: Buffer,
    private readonly fail: (message: string) => never,
  ) {}

  /** A type descriptor: [type, count]. */
  descriptor(): [number, number] {
    const d = this.buf[this.p++]!;
    const type = d & 15;
    let count = d >> 4;
    if (count === 15) count = this.int();
    if (SIZE[type] === 0 && !(type === 0 && count === 0)) this.fail(`unknown typed-value type ${type}`);
    return [type, count];
  }

  /** One typed integer (descriptor + value). */
  int(): number {
    const [type, count] = this.descriptor();
    if (count !== 1) this.fail(`expected one integer, found a vector of ${count}`);
    return this.scalar(type);
  }

  scalar(type: number): number {
    const b = this.buf;
    const p = this.p;
    this.p += SIZE[type]!;
    if (type === INT8) return b.readInt8(p);
    if (type === INT16) return b.readInt16LE(p);
    if (type === INT32) return b.readInt32LE(p);
    this.fail(`expected an integer type, found type ${type}`);
  }

  /** A typed string (descriptor + chars). */
  string(): string {
    const [type, count] = this.descriptor();
    if (type !== CHAR && count > 0) this.fail(`expected a string, found type ${type}`);
    const s = this.buf.toString('latin1', this.p, this.p + count).replace(/\0+$/, '');
    this.p += count;
    return s;
  }

  /** Skips a typed vector (descriptor + values). */
  skip(): void {
    const [type, count] = this.descriptor();
    this.p += SIZE[type]! * count;
  }
}

/** Missing and end-of-vector sentinels of BCF integers, by type. */
const INT_MISSING = [0, -128, -32768, -2147483648];
const INT_END = [0, -127, -32767, -2147483647];
const FLOAT_MISSING = 0x7f800001;
const FLOAT_END = 0x7f800002;

/** The VCF header inside a BCF: sample IDs, the contig and string dictionaries, whether FORMAT/DS is declared. */
interface BcfHeader {
  samples: string[];
  contigs: string[];
  strings: string[];
  declaresDs: boolean;
  /** Virtual offset of the first record. */
  firstRecord: number;
}

function parseHeaderText(path: string, text: string): Omit<BcfHeader, 'firstRecord'> {
  const contigs: string[] = [];
  const strings: string[] = ['PASS'];
  const seen = new Set(['PASS']);
  let samples: string[] | undefined;
  let declaresDs = false;
  for (const line of text.split('\n')) {
    const m = /^##(contig|INFO|FORMAT|FILTER)=<ID=([^,>]+)(.*)$/.exec(line);
    if (m) {
      const idx = /[,<]IDX=(\d+)/.exec(m[3]!);
      if (m[1] === 'contig') {
        if (idx) contigs[Number(idx[1])] = m[2]!;
        else contigs.push(m[2]!);
      } else {
        if (m[1] === 'FORMAT' && m[2] === 'DS') declaresDs = true;
        if (idx) strings[Number(idx[1])] = m[2]!;
        else if (!seen.has(m[2]!)) strings.push(m[2]!);
        seen.add(m[2]!);
      }
    } else if (line.startsWith('#CHROM')) samples = line.replace(/\0+$/, '').split('\t').slice(9);
  }
  if (!samples || samples.length === 0) throw new InputError(path, undefined, undefined, 'the header names no samples: a sites-only BCF has no genotypes');
  checkUniqueSampleIds(samples, path, () => ({}));
  return { samples, contigs, strings, declaresDs };
}

/** Reads the magic and the header text; the cursor is left at the first record. */
async function readHeader(path: string, cursor: BgzfCursor): Promise<BcfHeader> {
  const head = await cursor.read(9);
  if (!head || head.toString('latin1', 0, 3) !== 'BCF' || head[3] !== 2) {
    throw InputError.atByte(path, 0, `not a BCF file (expected 'BCF\\2' after decompression, found '${head?.toString('latin1', 0, 4).replace(/[^\x20-\x7e]/g, '.') ?? ''}')`);
  }
  const len = head.readUInt32LE(5);
  const text = await cursor.read(len);
  if (!text) throw InputError.atByte(path, 0, 'truncated: the header text ends early');
  return { ...parseHeaderText(path, text.toString('utf8')), firstRecord: cursor.offset };
}

/** Per SNP: its record's virtual offset and the ALT allele it counts. */
interface RecordIndex {
  offset: Float64Array;
  alt: Uint16Array;
  nAlt: Uint16Array;
}

/** A BCF file as a {@link GenotypeSource}. Construct with {@link openBcf}. */
export class BcfSource implements GenotypeSource {
  readonly describe: string;
  readonly nSnps: number;

  constructor(
    readonly path: string,
    private readonly header: BcfHeader,
    readonly snps: readonly SnpInfo[],
    /** The FORMAT field read (records without it fall back to GT). */
    readonly field: VcfField,
    private readonly where: RecordIndex,
    readonly skipped: SkippedVariants,
    /** The CSI index a region was read through, if any. */
    readonly indexPath?: string,
  ) {
    this.describe = path;
    this.nSnps = snps.length;
  }

  get samples(): readonly string[] {
    return this.header.samples;
  }

  /**
   * Streams SNPs in file order, `blockSize` at a time, for individuals `keep` and the SNPs of `range`, from the
   * range's first record. Cost O(record bytes) per record; memory one record and one block.
   */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const builder = blockBuilderFor(this, blockSize, keep, range);
    if (!builder) return;
    const { range: r, rows } = builder;
    const w = this.where;
    let maxAlt = 1;
    for (let j = r.start; j < r.end; j++) maxAlt = Math.max(maxAlt, w.nAlt[j]!);
    const values = new Float64Array(rows * maxAlt);
    const cursor = new BgzfCursor(this.path, w.offset[r.start]!);
    try {
      while (!builder.done) {
        const at = cursor.offset;
        const record = await readRecord(this.path, cursor);
        if (!record) throw InputError.atByte(this.path, Math.floor(at / 65536), `changed since it was opened: ended before SNP ${builder.snp + 1} of ${this.nSnps}`);
        const j = builder.snp;
        if (at < w.offset[j]!) continue;
        if (at > w.offset[j]!) throw InputError.atByte(this.path, Math.floor(at / 65536), `changed since it was opened: the record of SNP ${j + 1} is gone`);
        const nAlt = w.nAlt[j]!;
        const hard = decodeGenotypes(this.path, this.header, record, at, nAlt, this.field, keep, values, rows);
        for (let s = j; s < r.end && w.offset[s] === at; s++) {
          const a = w.alt[s]! - 1;
          builder.data.set(values.subarray(a * rows, (a + 1) * rows), builder.column());
          const block = builder.commit(hard);
          if (block) yield block;
        }
      }
    } finally {
      await cursor.close();
    }
  }
}

/** One record: its shared and per-sample parts. */
interface RawRecord {
  shared: Buffer;
  indiv: Buffer;
}

async function readRecord(path: string, cursor: BgzfCursor): Promise<RawRecord | undefined> {
  const at = cursor.offset;
  const lens = await cursor.read(8);
  if (!lens) return undefined;
  if (lens.length < 8) throw InputError.atByte(path, Math.floor(at / 65536), 'truncated record lengths');
  const ls = lens.readUInt32LE(0);
  const li = lens.readUInt32LE(4);
  const shared = Buffer.from((await cursor.read(ls)) ?? Buffer.alloc(0));
  const indiv = (await cursor.read(li)) ?? Buffer.alloc(0);
  if (shared.length !== ls || indiv.length !== li) throw InputError.atByte(path, Math.floor(at / 65536), 'truncated record');
  return { shared, indiv };
}

/** The fixed fields of a record's shared part. */
interface SharedFields {
  chr: number;
  pos: number;
  id: string;
  alleles: string[];
  nSample: number;
  nFmt: number;
}

function parseShared(path: string, rec: RawRecord, at: number): SharedFields {
  const b = rec.shared;
  const fail = (message: string): never => {
    throw InputError.atByte(path, Math.floor(at / 65536), `record at virtual offset ${at}: ${message}`);
  };
  if (b.length < 24) fail('shared part shorter than its fixed fields');
  const chr = b.readInt32LE(0);
  const pos = b.readInt32LE(4) + 1;
  const nAllele = b.readUInt32LE(16) >>> 16;
  const word = b.readUInt32LE(20);
  const nSample = word & 0xffffff;
  const nFmt = word >>> 24;
  const t = new Typed(b, fail);
  t.p = 24;
  const id = t.string();
  const alleles: string[] = [];
  for (let a = 0; a < nAllele; a++) alleles.push(t.string());
  return { chr, pos, id: id === '' ? '.' : id, alleles, nSample, nFmt };
}

/**
 * Decodes the chosen FORMAT field of a record into values[a * rows + r] for ALT allele a + 1 and kept row r.
 * Returns true when every value is 0, 1, 2 or NaN.
 */
function decodeGenotypes(path: string, header: BcfHeader, rec: RawRecord, at: number, nAlt: number, field: VcfField, keep: Int32Array | undefined, values: Float64Array, rows: number): boolean {
  const fail = (message: string): never => {
    throw InputError.atByte(path, Math.floor(at / 65536), `record at virtual offset ${at}: ${message}`);
  };
  const shared = parseShared(path, rec, at);
  const n = header.samples.length;
  if (shared.nSample !== n) fail(`wrong sample count: the record has ${shared.nSample} samples, the header ${n}`);
  const t = new Typed(rec.indiv, fail);
  const fields = new Map<string, { type: number; count: number; p: number }>();
  for (let f = 0; f < shared.nFmt; f++) {
    const key = header.strings[t.int()];
    if (key === undefined) fail('FORMAT key outside the header dictionary');
    const [type, count] = t.descriptor();
    fields.set(key!, { type, count, p: t.p });
    t.p += SIZE[type]! * count * n;
    if (t.p > rec.indiv.length) fail('per-sample data end early');
  }
  const chosen = field === 'DS' && fields.has('DS') ? 'DS' : field === 'GP' && fields.has('GP') ? 'GP' : 'GT';
  const fmt = fields.get(chosen);
  if (!fmt) fail(`FORMAT has neither ${field} nor GT`);
  const { type, count, p } = fmt!;
  const b = rec.indiv;
  const size = SIZE[type]!;
  const read = (q: number): number => (type === INT8 ? b.readInt8(q) : type === INT16 ? b.readInt16LE(q) : type === INT32 ? b.readInt32LE(q) : b.readFloatLE(q));
  const isMissing = (q: number): boolean => (type === FLOAT ? b.readUInt32LE(q) === FLOAT_MISSING : read(q) === INT_MISSING[type]);
  const isEnd = (q: number): boolean => (type === FLOAT ? b.readUInt32LE(q) === FLOAT_END : read(q) === INT_END[type]);
  let frac = false;
  const copies = new Int32Array(nAlt + 1);
  const probs = new Float64Array(Math.max(count, 1));
  for (let r = 0; r < rows; r++) {
    const i = keep ? keep[r]! : r;
    const base = p + i * count * size;
    const put = (a: number, v: number): void => {
      values[a * rows + r] = v;
    };
    if (chosen === 'GT') {
      if (type === FLOAT || type === CHAR) fail(`GT stored as type ${type}`);
      copies.fill(0);
      let z = 0;
      let missing = false;
      for (let k = 0; k < count; k++) {
        const q = base + k * size;
        if (isEnd(q)) break;
        const v = read(q);
        const allele = (v >> 1) - 1;
        if (allele < 0) missing = true;
        else if (allele > nAlt) fail(`GT allele ${allele} of sample ${i + 1} beyond the ${nAlt} ALT allele(s)`);
        else copies[allele]!++;
        z++;
      }
      for (let a = 0; a < nAlt; a++) put(a, missing || z === 0 ? Number.NaN : (2 * copies[a + 1]!) / z);
      if (z > 2 && !missing) frac = true;
    } else if (chosen === 'DS') {
      if (type !== FLOAT) fail(`DS stored as type ${type}`);
      for (let a = 0; a < nAlt; a++) {
        const q = base + a * size;
        const v = a >= count || isMissing(q) || isEnd(q) ? Number.NaN : b.readFloatLE(q);
        if (!(v >= 0 && v <= 2) && !Number.isNaN(v)) fail(`DS ${v} of sample ${i + 1} is outside [0, 2]`);
        if (v !== Math.floor(v) && !Number.isNaN(v)) frac = true;
        put(a, v);
      }
    } else {
      if (type !== FLOAT) fail(`GP stored as type ${type}`);
      let g = 0;
      for (; g < count; g++) {
        const q = base + g * size;
        if (isEnd(q)) break;
        probs[g] = isMissing(q) ? Number.NaN : b.readFloatLE(q);
      }
      const diploid = ((nAlt + 1) * (nAlt + 2)) / 2;
      if (g === 0 || Number.isNaN(probs[0]!)) {
        for (let a = 0; a < nAlt; a++) put(a, Number.NaN);
        continue;
      }
      if (g !== nAlt + 1 && g !== diploid) fail(`GP of sample ${i + 1} has ${g} values; ${nAlt + 1} or ${diploid} expected`);
      for (let a = 1; a <= nAlt; a++) {
        let d = 0;
        if (g === nAlt + 1) d = 2 * probs[a]!;
        else for (let k = 0; k <= nAlt; k++) for (let j = 0; j <= k; j++) d += probs[(k * (k + 1)) / 2 + j]! * ((j === a ? 1 : 0) + (k === a ? 1 : 0));
        if (d !== Math.floor(d)) frac = true;
        put(a - 1, d);
      }
    }
  }
  return !frac;
}

/**
 * Opens a BCF: header, then the shared part of every record (or, with `opts.region` and a CSI index, of the records
 * in the index's chunks for it) to list the SNPs. A SNP's `rs` is the record's ID, or CHROM:POS:REF:ALT when it
 * has none. Errors name the file and (compressed) byte offset.
 */
export async function openBcf(path: string, opts: BcfOptions = {}): Promise<BcfSource> {
  const multi = opts.multiallelic ?? 'split';
  const region = opts.region;
  const head = new BgzfCursor(path, 0);
  let header: BcfHeader;
  try {
    header = await readHeader(path, head);
  } finally {
    await head.close();
  }
  const snps: SnpInfo[] = [];
  const offset: number[] = [];
  const alt: number[] = [];
  const nAlt: number[] = [];
  const skipped: SkippedVariants = { multiallelic: 0, monoallelic: 0 };
  const indexPath = region && opts.index !== false ? (opts.index ?? (await access(`${path}.csi`).then(() => `${path}.csi`, () => undefined))) : undefined;
  const chunks: Chunk[] = indexPath ? regionChunks(await readTextIndex(indexPath), region!, header.contigs) : [{ begin: header.firstRecord, end: Number.POSITIVE_INFINITY }];
  for (const chunk of chunks) {
    const cursor = new BgzfCursor(path, chunk.begin);
    try {
      for (;;) {
        const at = cursor.offset;
        if (at >= chunk.end) break;
        const rec = await readRecord(path, cursor);
        if (!rec) break;
        const s = parseShared(path, rec, at);
        const chr = header.contigs[s.chr];
        if (chr === undefined) throw InputError.atByte(path, Math.floor(at / 65536), `record at virtual offset ${at}: contig ${s.chr} is not in the header`);
        if (region && !inRegion(region, chr, s.pos)) continue;
        const alts = s.alleles.slice(1).filter((a) => a !== '.' && a !== '');
        if (alts.length === 0) skipped.monoallelic++;
        else if (alts.length > 1 && multi === 'skip') skipped.multiallelic++;
        else {
          alts.forEach((a, k) => {
            snps.push({ chr, rs: s.id === '.' ? `${chr}:${s.pos}:${s.alleles[0]}:${a}` : s.id, ps: s.pos, allele1: a, allele0: s.alleles[0]! });
            offset.push(at);
            alt.push(k + 1);
            nAlt.push(alts.length);
          });
        }
      }
    } finally {
      await cursor.close();
    }
  }
  const where: RecordIndex = { offset: Float64Array.from(offset), alt: Uint16Array.from(alt), nAlt: Uint16Array.from(nAlt) };
  return new BcfSource(path, header, snps, opts.field ?? (header.declaresDs ? 'DS' : 'GT'), where, skipped, indexPath);
}
