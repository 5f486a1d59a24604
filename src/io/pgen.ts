/**
 * PLINK 2 genotypes: `.pgen` (variable-width records, storage mode 0x10, as plink2 2.00 `--make-pgen` writes),
 * `.pvar` (with or without a header, INFO or not; a `.bim` layout is accepted) and `.psam` (or a `.fam`).
 * Spec: https://github.com/chrchang/plink-ng/tree/master/pgen_spec.
 *
 * Every record type plink2 writes is decoded: the main 2-bit track stored plainly, as "1-bit" (two common
 * categories + a difflist of the others), LD-compressed against the last non-LD record (inverted or not), or as a
 * difflist against a constant category; multi-allelic hard calls (patch sets for REF/ALTx and ALTx/ALTy calls);
 * hard-call phase (skipped: the dosage does not depend on it); dosages (difflist, bit array or one per sample,
 * 16-bit in units of 1/16384); phased dosages (skipped). Multi-allelic dosage tracks (not final in the spec, not
 * written by plink2 2.00a3) are rejected.
 *
 * Value per genotype (counted allele: ALT; one SNP per ALT allele of a multi-allelic variant when split): the
 * dosage d / 16384 where a dosage is stored, else the hard call's ALT copies (0, 1, 2; missing NaN). Haploid calls
 * are stored as diploid homozygous by plink2, so they count 0 or 2.
 *
 * Opening reads the .psam, the .pvar and the .pgen header (record types and lengths: 1-8 bytes per variant), so a
 * block or a SNP range starts at its first record's offset (after decoding the LD base record when the first
 * record depends on one). Errors name the file and line or byte offset.
 */
import { checkUniqueSampleIds } from './sample-ids.js';
import type { GenotypeBlock, GenotypeSource, PackedBlock, SnpInfo, SnpRange } from './genotype-source.js';
import { InputError } from '../errors.js';
import { FileWindow } from './file-window.js';
import { splitFields } from './gemma-tables.js';
import { blockBuilderFor, checkBlockArgs, type MultiallelicMode, type SkippedVariants } from './genotype-blocks.js';
import { readLines } from './lines.js';
import type { FamFile } from './plink.js';

export interface PgenOptions {
  /** Multi-allelic variants: 'split' (default) into one SNP per ALT allele, or 'skip'. */
  multiallelic?: MultiallelicMode;
}

/** Paths of a PLINK 2 fileset: `--pfile PREFIX` means PREFIX.pgen, PREFIX.pvar, PREFIX.psam. */
export function pgenPaths(prefix: string): { pgen: string; pvar: string; psam: string } {
  return { pgen: `${prefix}.pgen`, pvar: `${prefix}.pvar`, psam: `${prefix}.psam` };
}

/** One .pvar record. */
interface PvarVariant {
  chr: string;
  pos: number;
  id: string;
  ref: string;
  alts: string[];
}

/** Reads a .pvar (VCF-like header, or none: .bim column order). O(#variants). */
export async function readPvar(path: string): Promise<PvarVariant[]> {
  if (path.endsWith('.zst')) throw new InputError(path, undefined, undefined, 'a zstd-compressed .pvar: decompress it first (zstd -d)');
  const out: PvarVariant[] = [];
  let cols: { chr: number; pos: number; id: number; ref: number; alt: number; n: number } | undefined;
  for await (const { line, lineNo } of readLines(path)) {
    if (line === '' || line.startsWith('##')) continue;
    if (line.startsWith('#')) {
      if (cols) throw new InputError(path, lineNo, undefined, 'a second header line');
      const names = splitFields(line.slice(1), /[ \t]+/);
      const at = (name: string): number => {
        const i = names.indexOf(name);
        if (i < 0) throw new InputError(path, lineNo, undefined, `header line lacks the ${name} column`);
        return i;
      };
      if (names[0] !== 'CHROM') throw new InputError(path, lineNo, 1, `expected the header line to start with #CHROM, found '#${names[0]}'`);
      cols = { chr: 0, pos: at('POS'), id: at('ID'), ref: at('REF'), alt: at('ALT'), n: names.length };
      continue;
    }
    const f = splitFields(line, /[ \t]+/);
    // Without a header: .bim order (CHROM ID [CM] POS ALT REF).
    cols ??= f.length >= 6 ? { chr: 0, id: 1, pos: 3, alt: 4, ref: 5, n: 6 } : { chr: 0, id: 1, pos: 2, alt: 3, ref: 4, n: 5 };
    if (f.length < cols.n) throw new InputError(path, lineNo, undefined, `expected ${cols.n} columns, found ${f.length}`);
    const pos = Number(f[cols.pos]);
    if (!Number.isInteger(pos)) throw new InputError(path, lineNo, cols.pos + 1, `expected an integer position, found '${f[cols.pos]}'`);
    out.push({ chr: f[cols.chr]!, pos, id: f[cols.id]!, ref: f[cols.ref]!, alts: f[cols.alt] === '.' ? [] : f[cols.alt]!.split(',') });
  }
  return out;
}

const PSAM_FIXED = new Set(['FID', 'IID', 'SID', 'PAT', 'MAT', 'SEX']);

/**
 * Reads a .psam (header `#FID IID ...` or `#IID ...`; without one, .fam columns) as a {@link FamFile}: sample IDs
 * are the IIDs, the phenotype fields are the columns other than FID, IID, SID, PAT, MAT and SEX.
 */
export async function readPsam(path: string): Promise<FamFile> {
  const fam: FamFile = { path, fid: [], iid: [], phenotypeFields: [], lineNos: [] };
  let iidCol = 1;
  let fidCol = 0;
  let phenoCols: number[] | undefined;
  let first = true;
  for await (const { line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    if (first && line.startsWith('#')) {
      const names = splitFields(line.slice(1), /[ \t]+/);
      if (names[0] !== 'FID' && names[0] !== 'IID') throw new InputError(path, lineNo, 1, `expected the header line to start with #FID or #IID, found '#${names[0]}'`);
      fidCol = names[0] === 'FID' ? 0 : -1;
      iidCol = names.indexOf('IID');
      if (iidCol < 0) throw new InputError(path, lineNo, undefined, 'header line lacks the IID column');
      phenoCols = names.map((n, i) => (PSAM_FIXED.has(n) ? -1 : i)).filter((i) => i >= 0);
      first = false;
      continue;
    }
    first = false;
    const f = splitFields(line, /[ \t]+/);
    phenoCols ??= f.length > 5 ? Array.from({ length: f.length - 5 }, (_, k) => 5 + k) : [];
    if (f.length <= iidCol) throw new InputError(path, lineNo, undefined, `expected at least ${iidCol + 1} columns, found ${f.length}`);
    fam.fid.push(fidCol >= 0 ? f[fidCol]! : '0');
    fam.iid.push(f[iidCol]!);
    fam.phenotypeFields.push(phenoCols.map((c) => f[c] ?? ''));
    fam.lineNos.push(lineNo);
  }
  checkUniqueSampleIds(fam.fid.map((fid, k) => (fidCol >= 0 ? `${fid} ${fam.iid[k]!}` : fam.iid[k]!)), path, (k) => ({ line: fam.lineNos[k]! }), fidCol >= 0 ? 'sample ID (FID IID)' : 'sample ID');
  return fam;
}

/** Per-variant record layout from the .pgen header. */
interface PgenIndex {
  nVariants: number;
  nSamples: number;
  /** File offset of each record. */
  offset: Float64Array;
  length: Uint32Array;
  type: Uint8Array;
}

/** Reads and validates the .pgen header (storage mode 0x10). */
async function readPgenHeader(win: FileWindow): Promise<PgenIndex> {
  const path = win.path;
  const head = await win.view(0, 12, 'the header');
  if (head[0] !== 0x6c || head[1] !== 0x1b) {
    throw InputError.atByte(path, 0, `not a PGEN file: expected magic bytes 6c 1b, found ${head.subarray(0, 2).toString('hex').replace(/(..)(..)/, '$1 $2')}`);
  }
  const mode = head[2]!;
  if (mode === 0x01) throw InputError.atByte(path, 2, 'storage mode 0x01 is a PLINK 1 .bed: read it with --bfile');
  if (mode !== 0x10) throw InputError.atByte(path, 2, `storage mode 0x${mode.toString(16).padStart(2, '0')} is not supported (plink2 --make-pgen writes 0x10)`);
  const m = head.readUInt32LE(3);
  const n = head.readUInt32LE(7);
  const fmt = head[11]!;
  const code = fmt & 15;
  if (code > 7) throw InputError.atByte(path, 11, `record type/length storage ${code} is not supported (0-7 expected)`);
  const typeBits = code < 4 ? 4 : 8;
  const lenBytes = (code & 3) + 1;
  const alleleBytes = (fmt >> 4) & 3;
  const provisional = fmt >> 6;
  const nBlocks = Math.ceil(m / 65536);
  const blockStarts = await win.view(12, 8 * nBlocks, 'the variant block offsets');
  const starts = Array.from({ length: nBlocks }, (_, b) => Number(blockStarts.readBigUInt64LE(8 * b)));
  const index: PgenIndex = { nVariants: m, nSamples: n, offset: new Float64Array(m), length: new Uint32Array(m), type: new Uint8Array(m) };
  let p = 12 + 8 * nBlocks;
  for (let b = 0; b < nBlocks; b++) {
    const first = b * 65536;
    const count = Math.min(65536, m - first);
    const typeBytes = typeBits === 4 ? Math.ceil(count / 2) : count;
    const types = Buffer.from(await win.view(p, typeBytes, `the record types of block ${b}`));
    p += typeBytes;
    const lens = await win.view(p, count * lenBytes, `the record lengths of block ${b}`);
    let at = starts[b]!;
    for (let i = 0; i < count; i++) {
      const v = first + i;
      index.type[v] = typeBits === 4 ? (types[i >> 1]! >> (4 * (i & 1))) & 15 : types[i]!;
      const len = lens.readUIntLE(i * lenBytes, lenBytes);
      index.offset[v] = at;
      index.length[v] = len;
      at += len;
    }
    p += count * lenBytes;
    p += count * alleleBytes;
    if (provisional === 3) p += Math.ceil(count / 8);
    if (b + 1 < nBlocks && at !== starts[b + 1]) throw InputError.atByte(path, 12 + 8 * (b + 1), `variant block ${b + 1} starts at byte ${starts[b + 1]}, but block ${b}'s records end at byte ${at}`);
    if (b === nBlocks - 1 && at > win.size) throw InputError.atByte(path, win.size, `truncated: the records end at byte ${at}, the file at byte ${win.size}`);
  }
  if (m > 0 && starts[0]! < p) throw InputError.atByte(path, 12, `the first record (byte ${starts[0]}) overlaps the header (which ends at byte ${p})`);
  return index;
}

/** Per SNP: the record it comes from and the ALT allele it counts (1-based), with the variant's ALT count. */
interface SnpRecords {
  record: Uint32Array;
  alt: Uint16Array;
  nAlt: Uint16Array;
}

/**
 * A PLINK 2 fileset as a {@link GenotypeSource}. Construct with {@link openPgen}. `fam` holds the .psam's IDs and
 * phenotype fields (the default phenotypes of a scan, as a .fam's for --bfile).
 */
export class PgenSource implements GenotypeSource {
  readonly describe: string;
  readonly samples: readonly string[];
  readonly nSnps: number;
  /** Packed hard calls (see GenotypeSource): present when no record of the file stores dosages. */
  readonly packedBlocks?: (blockSize: number, range?: SnpRange) => AsyncIterable<PackedBlock>;

  constructor(
    readonly pgenPath: string,
    readonly fam: FamFile,
    readonly snps: readonly SnpInfo[],
    private readonly index: PgenIndex,
    private readonly where: SnpRecords,
    /** Variants left out, by reason. */
    readonly skipped: SkippedVariants,
  ) {
    this.describe = pgenPath;
    this.samples = fam.iid;
    this.nSnps = snps.length;
    if (!index.type.some((t) => (t & 0x60) !== 0)) this.packedBlocks = (blockSize, range) => this.packed(blockSize, range);
  }

  /** Each record decoded once into its 2-bit array, translated to .bed codes byte by byte. */
  private async *packed(blockSize: number, range?: SnpRange): AsyncIterable<PackedBlock> {
    const r = checkBlockArgs(this.describe, this.samples.length, this.nSnps, blockSize, undefined, range);
    const bps = Math.ceil(this.samples.length / 4);
    const win = await FileWindow.open(this.pgenPath, 8 << 20);
    const decoder = new RecordDecoder(this.pgenPath, this.index, win, undefined);
    const w = this.where;
    try {
      for (let start = r.start; start < r.end; start += blockSize) {
        const count = Math.min(blockSize, r.end - start);
        const codes = new Uint8Array(count * bps);
        for (let c = 0; c < count; c++) {
          const j = start + c;
          await decoder.load(w.record[j]!, w.nAlt[j]!);
          decoder.writePacked(w.alt[j]!, codes, c * bps);
        }
        yield { start, snps: this.snps.slice(start, start + count), codes };
      }
    } finally {
      await win.close();
    }
  }

  /**
   * Streams SNPs in file order, `blockSize` at a time, for individuals `keep` and the SNPs of `range`. Each record
   * is decoded once into a 2-bit array of all samples (LD-compressed records from their base), then into the
   * kept samples' values (a byte table for hard calls, dosages overlaid). Blocks without stored dosages are hard
   * calls. Cost O(record bytes + nInd) per variant; memory the read window, two 2-bit arrays and the block.
   */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const builder = blockBuilderFor(this, blockSize, keep, range);
    if (!builder) return;
    const win = await FileWindow.open(this.pgenPath, 8 << 20);
    const decoder = new RecordDecoder(this.pgenPath, this.index, win, keep);
    const w = this.where;
    try {
      while (!builder.done) {
        const j = builder.snp;
        const rec = w.record[j]!;
        await decoder.load(rec, w.nAlt[j]!);
        const hard = decoder.write(w.alt[j]!, builder.data, builder.column());
        const block = builder.commit(hard);
        if (block) yield block;
      }
    } finally {
      await win.close();
    }
  }
}

/** PGEN 2-bit code (0 hom REF, 1 het, 2 hom ALT, 3 missing) -> ALT dosage. */
const CODE_DOSAGE = [0, 1, 2, Number.NaN] as const;
/** BYTE_DOSAGE[4 b + k]: dosage of the k-th of the four samples packed in byte b. */
const BYTE_DOSAGE = (() => {
  const t = new Float64Array(1024);
  for (let b = 0; b < 256; b++) for (let k = 0; k < 4; k++) t[4 * b + k] = CODE_DOSAGE[(b >> (2 * k)) & 3]!;
  return t;
})();
/** INVERT[b]: byte b with codes 0 and 2 swapped in each 2-bit field (LD-compressed, inverted records). */
const INVERT = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = (b >> (2 * k)) & 3;
      v |= (c === 0 ? 2 : c === 2 ? 0 : c) << (2 * k);
    }
    t[b] = v;
  }
  return t;
})();
/** SPREAD[b]: the 8 bits of b moved to the low bit of 8 two-bit fields (16 bits), for the 1-bit representation. */
const SPREAD = (() => {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) {
    let v = 0;
    for (let k = 0; k < 8; k++) if (b & (1 << k)) v |= 1 << (2 * k);
    t[b] = v;
  }
  return t;
})();

/** PGEN_TO_BED[b]: byte b of PGEN codes as .bed codes (ALT copies 0 -> 0b11, 1 -> 0b10, 2 -> 0b00; missing 0b01). */
const PGEN_TO_BED = (() => {
  const map = [3, 2, 0, 1];
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) for (let k = 0; k < 4; k++) t[b]! |= map[(b >> (2 * k)) & 3]! << (2 * k);
  return t;
})();
/** .bed code of 0, 1 and 2 copies of allele1, and of a missing genotype (index 3). */
const BED_CODE = [3, 2, 0, 1] as const;

/** Dosage units of PGEN: 16384 = one ALT copy. */
const DOSAGE_ONE = 16384;

/**
 * Decodes records of one .pgen into the current 2-bit array (all samples), the multi-allelic allele pairs and the
 * stored dosages, then writes one ALT allele's values for the kept samples.
 */
class RecordDecoder {
  private readonly n: number;
  private readonly nb: number;
  private readonly geno: Uint8Array;
  private readonly ldbase: Uint8Array;
  private ldbaseRecord = -1;
  private current = -1;
  private buf: Buffer = Buffer.alloc(0);
  private p = 0;
  private recAt = 0;
  /** Samples with a stored dosage, and the dosages (units of 1/16384), for the current record. */
  private dosageIds: Int32Array;
  private dosageVals: Uint16Array;
  private dosageCount = 0;
  /** Multi-allelic records: the two alleles of each sample (0 REF, 1.. ALT), when the record has patches. */
  private alleleA: Uint8Array | undefined;
  private alleleB: Uint8Array | undefined;
  private patched = false;
  private readonly rowOf: Int32Array | undefined;
  private readonly idBytes: number;

  constructor(
    private readonly path: string,
    private readonly index: PgenIndex,
    private readonly win: FileWindow,
    private readonly keep: Int32Array | undefined,
  ) {
    this.n = index.nSamples;
    this.nb = Math.ceil(this.n / 4);
    this.geno = new Uint8Array(this.nb + 8);
    this.ldbase = new Uint8Array(this.nb + 8);
    this.dosageIds = new Int32Array(this.n);
    this.dosageVals = new Uint16Array(this.n);
    this.idBytes = this.n <= 256 ? 1 : this.n <= 65536 ? 2 : this.n <= 1 << 24 ? 3 : 4;
    if (keep) {
      this.rowOf = new Int32Array(this.n).fill(-1);
      keep.forEach((i, r) => (this.rowOf![i] = r));
    }
  }

  private fail(message: string): never {
    throw InputError.atByte(this.path, this.recAt, message);
  }

  /** Makes record `rec` current (no-op when it already is), reading what the window does not hold yet. */
  async load(rec: number, nAlt: number): Promise<void> {
    if (rec === this.current) return;
    const base = this.ldBaseOf(rec);
    // The LD base first (decoded before the window may move on), then the record; awaits only for reads.
    if (base >= 0 && base !== this.ldbaseRecord) {
      if (!this.win.peek(this.index.offset[base]!, this.index.length[base]!)) await this.win.view(this.index.offset[base]!, this.index.length[base]!, `record ${base + 1}`);
      this.select(base);
      this.mainTrack(this.index.type[base]!);
      this.ldbase.set(this.geno);
      this.ldbaseRecord = base;
    }
    if (!this.win.peek(this.index.offset[rec]!, this.index.length[rec]!)) await this.win.view(this.index.offset[rec]!, this.index.length[rec]!, `record ${rec + 1}`);
    this.decode(rec, nAlt, base);
  }

  /** The record an LD-compressed record `rec` refers to (-1 for other records). */
  private ldBaseOf(rec: number): number {
    const t = this.index.type[rec]! & 7;
    if (t !== 2 && t !== 3) return -1;
    let base = rec - 1;
    while (base >= 0 && ((this.index.type[base]! & 7) === 2 || (this.index.type[base]! & 7) === 3)) base--;
    if (base < 0) {
      this.recAt = this.index.offset[rec]!;
      this.fail('LD-compressed record without an earlier base record');
    }
    return base;
  }

  /** Decodes record `rec` (`base`: its LD base, already decoded, or -1); its bytes must be in the window. */
  private decode(rec: number, nAlt: number, base: number): void {
    const type = this.index.type[rec]!;
    this.select(rec);
    this.mainTrack(type);
    if (base < 0) {
      this.ldbase.set(this.geno);
      this.ldbaseRecord = rec;
    }
    this.patched = false;
    if (type & 8) this.multiallelicTrack(nAlt);
    if (type & 16) this.skipPhaseTrack();
    this.dosageCount = 0;
    if (type & 0x60) {
      if (nAlt > 1) this.fail(`multi-allelic dosages (record type 0x${type.toString(16)}) are not supported`);
      this.dosageTrack(type);
    }
    this.current = rec;
  }

  /** Points the cursor at record `rec` (its bytes in the window). */
  private select(rec: number): void {
    this.recAt = this.index.offset[rec]!;
    const buf = this.win.peek(this.recAt, this.index.length[rec]!);
    if (!buf) throw new Error(`record ${rec + 1} is not in the read window`);
    this.buf = buf;
    this.p = 0;
  }

  private need(bytes: number, what: string): void {
    if (this.p + bytes > this.buf.length) this.fail(`record ends inside its ${what} (needs ${this.p + bytes} bytes, has ${this.buf.length})`);
  }

  private varint(): number {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (this.p >= this.buf.length) this.fail('record ends inside a varint');
      const b = this.buf[this.p++]!;
      v += (b & 127) * 2 ** shift;
      if (b < 128) return v;
      shift += 7;
      if (shift > 28) this.fail('varint longer than 5 bytes');
    }
  }

  /**
   * Parses a difflist at the cursor: calls `each(sample, code)` for every entry (code -1 when the list has no
   * 2-bit values). Returns the number of entries.
   */
  private difflist(withCodes: boolean, each: (sample: number, code: number) => void): number {
    const len = this.varint();
    if (len === 0) return 0;
    if (len > this.n) this.fail(`difflist of ${len} entries for ${this.n} samples`);
    const groups = Math.ceil(len / 64);
    const idBytes = this.idBytes;
    this.need(groups * idBytes + groups - 1, 'difflist index');
    const starts = this.p;
    this.p += groups * idBytes + groups - 1;
    let codesAt = 0;
    if (withCodes) {
      codesAt = this.p;
      this.need(Math.ceil(len / 4), 'difflist genotypes');
      this.p += Math.ceil(len / 4);
    }
    const buf = this.buf;
    let id = 0;
    for (let k = 0; k < len; k++) {
      if ((k & 63) === 0) id = buf.readUIntLE(starts + (k >> 6) * idBytes, idBytes);
      else id += this.varint();
      if (id >= this.n) this.fail(`difflist names sample ${id}, but there are ${this.n}`);
      each(id, withCodes ? (buf[codesAt + (k >> 2)]! >> (2 * (k & 3))) & 3 : -1);
    }
    return len;
  }

  /** The main track into this.geno (all samples). */
  private mainTrack(type: number): void {
    const geno = this.geno;
    const nb = this.nb;
    const set = (id: number, code: number): void => {
      const at = id >> 2;
      const shift = 2 * (id & 3);
      geno[at] = (geno[at]! & ~(3 << shift)) | (code << shift);
    };
    switch (type & 7) {
      case 0:
        this.need(nb, 'genotypes');
        geno.set(this.buf.subarray(0, nb));
        this.p = nb;
        break;
      case 1: {
        // Two common categories (low, low + delta) by a bit array, the other two by a difflist.
        const bitBytes = Math.ceil(this.n / 8);
        this.need(1 + bitBytes, '1-bit genotypes');
        const code = this.buf[0]!;
        const low = code >> 2;
        const delta = code & 3;
        if (delta === 0 || low + delta > 3) this.fail(`1-bit record with category code ${code}`);
        const base = low * 0x5555;
        for (let b = 0; b < bitBytes; b++) {
          const v = base + delta * SPREAD[this.buf[1 + b]!]!;
          geno[2 * b] = v & 255;
          geno[2 * b + 1] = v >> 8;
        }
        this.p = 1 + bitBytes;
        this.difflist(true, set);
        break;
      }
      case 2:
      case 3:
        geno.set(this.ldbase);
        this.p = 0;
        this.difflist(true, set);
        if ((type & 7) === 3) for (let b = 0; b < nb; b++) geno[b] = INVERT[geno[b]!]!;
        break;
      default: {
        // 4: difflist against all hom REF; 5: all hom REF; 6: against all hom ALT; 7: against all missing.
        const fill = [0x00, 0x00, 0xaa, 0xff][(type & 7) - 4]!;
        geno.fill(fill, 0, nb);
        this.p = 0;
        if ((type & 7) !== 5) this.difflist(true, set);
      }
    }
  }

  /** Number of samples with code c in the current 2-bit array, and their IDs in order. */
  private samplesWithCode(c: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (((this.geno[i >> 2]! >> (2 * (i & 3))) & 3) === c) out.push(i);
    return out;
  }

  /** Reads `count` values of `width` bits (packed, least significant first) at the cursor. */
  private packed(count: number, width: number): number[] {
    const bytes = Math.ceil((count * width) / 8);
    this.need(bytes, 'multi-allelic patch values');
    const out: number[] = new Array(count);
    let bit = 8 * this.p;
    for (let k = 0; k < count; k++) {
      let v = 0;
      for (let b = 0; b < width; b++, bit++) if (this.buf[bit >> 3]! & (1 << (bit & 7))) v |= 1 << b;
      out[k] = v;
    }
    this.p += bytes;
    return out;
  }

  /** Which of `candidates` a patch set names: a bit array over them (mode 0) or a difflist of sample IDs (mode 1). */
  private patchedSamples(mode: number, candidates: number[]): number[] {
    if (mode === 0) {
      const bytes = Math.ceil(candidates.length / 8);
      this.need(bytes, 'multi-allelic patch bit array');
      const out: number[] = [];
      for (let k = 0; k < candidates.length; k++) if (this.buf[this.p + (k >> 3)]! & (1 << (k & 7))) out.push(candidates[k]!);
      this.p += bytes;
      return out;
    }
    const out: number[] = [];
    this.difflist(false, (id) => out.push(id));
    return out;
  }

  /** Track 1: REF/ALTx (category 1) and ALTx/ALTy (category 2) patches into alleleA/alleleB. */
  private multiallelicTrack(nAlt: number): void {
    if (nAlt < 2) this.fail('multi-allelic hard calls in a variant with one ALT allele (check the .pvar)');
    if (nAlt > 255) this.fail(`${nAlt} ALT alleles: at most 255 are supported`);
    this.need(1, 'multi-allelic track');
    const modes = this.buf[this.p++]!;
    const mode1 = modes & 15;
    const mode2 = modes >> 4;
    const a = (this.alleleA ??= new Uint8Array(this.n));
    const b = (this.alleleB ??= new Uint8Array(this.n));
    for (let i = 0; i < this.n; i++) {
      const c = (this.geno[i >> 2]! >> (2 * (i & 3))) & 3;
      a[i] = c === 2 ? 1 : 0;
      b[i] = c === 0 ? 0 : 1;
    }
    const alleleCt = nAlt + 1;
    if (mode1 !== 15) {
      if (mode1 > 1) this.fail(`multi-allelic patch format ${mode1} is not defined`);
      const ids = this.patchedSamples(mode1, mode1 === 0 ? this.samplesWithCode(1) : []);
      const width = alleleCt === 3 ? 0 : alleleCt === 4 ? 1 : alleleCt <= 6 ? 2 : alleleCt <= 18 ? 4 : 8;
      const vals = width === 0 ? ids.map(() => 0) : this.packed(ids.length, width);
      ids.forEach((id, k) => (b[id] = vals[k]! + 2)); // REF / ALT(v + 2)
    }
    if (mode2 !== 15) {
      if (mode2 > 1) this.fail(`multi-allelic patch format ${mode2} is not defined`);
      const ids = this.patchedSamples(mode2, mode2 === 0 ? this.samplesWithCode(2) : []);
      if (alleleCt === 3) {
        const hom = this.packed(ids.length, 1);
        ids.forEach((id, k) => ((a[id] = hom[k] ? 2 : 1), (b[id] = 2)));
      } else {
        const half = alleleCt <= 5 ? 2 : alleleCt <= 17 ? 4 : 8;
        const vals = this.packed(ids.length, 2 * half);
        ids.forEach((id, k) => ((a[id] = (vals[k]! & ((1 << half) - 1)) + 1), (b[id] = (vals[k]! >> half) + 1)));
      }
    }
    this.patched = true;
  }

  /** Track 2 (hard-call phase): skipped. Its length depends on the number of heterozygous calls. */
  private skipPhaseTrack(): void {
    let het = 0;
    for (let i = 0; i < this.n; i++) {
      const c = (this.geno[i >> 2]! >> (2 * (i & 3))) & 3;
      if (c === 1 || (this.patched && c === 2 && this.alleleA![i] !== this.alleleB![i])) het++;
    }
    const first = 1 + (het >> 3);
    this.need(first, 'phase track');
    if (this.buf[this.p]! & 1) {
      let present = -1;
      for (let k = 0; k < first; k++) {
        let v = this.buf[this.p + k]!;
        for (; v; v &= v - 1) present++;
      }
      this.p += first;
      this.need(Math.ceil(present / 8), 'phase track');
      this.p += Math.ceil(present / 8);
    } else this.p += first;
  }

  /** Tracks 3-4: which samples have a stored dosage, and the dosages. */
  private dosageTrack(type: number): void {
    const ids = this.dosageIds;
    let count = 0;
    if ((type & 0x60) === 0x20) {
      this.difflist(false, (id) => (ids[count++] = id));
    } else if ((type & 0x60) === 0x60) {
      const bytes = Math.ceil(this.n / 8);
      this.need(bytes, 'dosage bit array');
      for (let i = 0; i < this.n; i++) if (this.buf[this.p + (i >> 3)]! & (1 << (i & 7))) ids[count++] = i;
      this.p += bytes;
    } else {
      for (let i = 0; i < this.n; i++) ids[i] = i;
      count = this.n;
    }
    this.need(2 * count, 'dosages');
    const vals = this.dosageVals;
    let k = 0;
    for (let c = 0; c < count; c++) {
      const v = this.buf.readUInt16LE(this.p + 2 * c);
      if (v === 65535 && (type & 0x60) === 0x40) continue; // one entry per sample: 65535 is "no dosage"
      if (v > 2 * DOSAGE_ONE) this.fail(`dosage ${v} of sample ${ids[c]! + 1} exceeds ${2 * DOSAGE_ONE} (2 ALT copies)`);
      ids[k] = ids[c]!;
      vals[k++] = v;
    }
    this.p += 2 * count;
    this.dosageCount = k;
  }

  /** Writes the current record's hard calls of ALT allele `alt` as .bed codes (all samples) at out[o..]. */
  writePacked(alt: number, out: Uint8Array, o: number): void {
    const n = this.n;
    const geno = this.geno;
    if (this.patched || alt > 1) {
      for (let i = 0; i < n; i++) {
        const c = (geno[i >> 2]! >> (2 * (i & 3))) & 3;
        const copies = c === 3 ? 3 : this.patched ? (this.alleleA![i] === alt ? 1 : 0) + (this.alleleB![i] === alt ? 1 : 0) : 0;
        out[o + (i >> 2)]! |= BED_CODE[copies]! << (2 * (i & 3));
      }
      return;
    }
    for (let b = 0; b < this.nb; b++) out[o + b] = PGEN_TO_BED[geno[b]!]!;
    if (n & 3) out[o + this.nb - 1]! &= (1 << (2 * (n & 3))) - 1;
  }

  /**
   * Writes the current record's values of ALT allele `alt` (1-based) for the kept samples at out[o..]. Returns
   * true when they are all 0, 1, 2 or NaN.
   */
  write(alt: number, out: Float64Array, o: number): boolean {
    const keep = this.keep;
    const geno = this.geno;
    const rows = keep ? keep.length : this.n;
    if (this.patched) {
      const a = this.alleleA!;
      const b = this.alleleB!;
      for (let r = 0; r < rows; r++) {
        const i = keep ? keep[r]! : r;
        const c = (geno[i >> 2]! >> (2 * (i & 3))) & 3;
        out[o + r] = c === 3 ? Number.NaN : (a[i] === alt ? 1 : 0) + (b[i] === alt ? 1 : 0);
      }
      return true;
    }
    if (alt > 1) {
      // An ALT allele after the first without patches: nobody carries it.
      for (let r = 0; r < rows; r++) {
        const i = keep ? keep[r]! : r;
        out[o + r] = ((geno[i >> 2]! >> (2 * (i & 3))) & 3) === 3 ? Number.NaN : 0;
      }
      return true;
    }
    if (keep) {
      for (let r = 0; r < rows; r++) {
        const i = keep[r]!;
        out[o + r] = BYTE_DOSAGE[4 * geno[i >> 2]! + (i & 3)]!;
      }
    } else {
      const full = this.n >> 2;
      for (let b = 0; b < full; b++) {
        const t = 4 * geno[b]!;
        const q = o + 4 * b;
        out[q] = BYTE_DOSAGE[t]!;
        out[q + 1] = BYTE_DOSAGE[t + 1]!;
        out[q + 2] = BYTE_DOSAGE[t + 2]!;
        out[q + 3] = BYTE_DOSAGE[t + 3]!;
      }
      for (let i = 4 * full; i < this.n; i++) out[o + i] = BYTE_DOSAGE[4 * geno[full]! + (i & 3)]!;
    }
    let frac = 0;
    for (let k = 0; k < this.dosageCount; k++) {
      const i = this.dosageIds[k]!;
      const r = this.rowOf ? this.rowOf[i]! : i;
      if (r < 0) continue;
      const v = this.dosageVals[k]!;
      frac |= v & (DOSAGE_ONE - 1);
      out[o + r] = v / DOSAGE_ONE;
    }
    return frac === 0;
  }
}

/**
 * Opens a PLINK 2 fileset: the .psam (sample IDs, phenotype fields), the .pvar (SNPs; multi-allelic variants split
 * or skipped, variants without ALT skipped) and the .pgen header, cross-checking the counts. A SNP's `rs` is the
 * .pvar ID, or CHROM:POS:REF:ALT when it is '.'.
 */
export async function openPgen(prefix: string, opts: PgenOptions = {}): Promise<PgenSource> {
  const paths = pgenPaths(prefix);
  const multi = opts.multiallelic ?? 'split';
  const [fam, variants] = await Promise.all([readPsam(paths.psam), readPvar(paths.pvar)]);
  if (fam.iid.length === 0) throw new InputError(paths.psam, undefined, undefined, 'no samples');
  const win = await FileWindow.open(paths.pgen);
  let index: PgenIndex;
  try {
    index = await readPgenHeader(win);
  } finally {
    await win.close();
  }
  if (index.nSamples !== fam.iid.length) throw InputError.atByte(paths.pgen, 7, `wrong sample count: the header says ${index.nSamples} samples, ${paths.psam} lists ${fam.iid.length}`);
  if (index.nVariants !== variants.length) throw InputError.atByte(paths.pgen, 3, `the header says ${index.nVariants} variants, ${paths.pvar} lists ${variants.length}`);
  const snps: SnpInfo[] = [];
  const record: number[] = [];
  const alt: number[] = [];
  const nAlt: number[] = [];
  const skipped: SkippedVariants = { multiallelic: 0, monoallelic: 0 };
  variants.forEach((v, rec) => {
    if (v.alts.length === 0) skipped.monoallelic++;
    else if (v.alts.length > 1 && multi === 'skip') skipped.multiallelic++;
    else {
      v.alts.forEach((a, k) => {
        snps.push({ chr: v.chr, rs: v.id === '.' ? `${v.chr}:${v.pos}:${v.ref}:${a}` : v.id, ps: v.pos, allele1: a, allele0: v.ref });
        record.push(rec);
        alt.push(k + 1);
        nAlt.push(v.alts.length);
      });
    }
  });
  return new PgenSource(paths.pgen, fam, snps, index, { record: Uint32Array.from(record), alt: Uint16Array.from(alt), nAlt: Uint16Array.from(nAlt) }, skipped);
}
