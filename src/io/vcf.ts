/**
 * VCF genotypes (v4.x text: plain, gzip or bgzip) read in SNP blocks. The counted allele is ALT; a record with
 * A > 1 ALT alleles becomes A SNPs, one per ALT counting that allele (split), or is skipped; records without an ALT
 * allele are skipped. Sample IDs come from the #CHROM line.
 *
 * Value per genotype, by the FORMAT field chosen (`field`; a record without that field falls back to GT):
 *   GT  (2 / Z) x copies of the ALT allele among the Z called alleles ("0/1" -> 1, "1|1" -> 2, haploid "1" -> 2,
 *       plink2's convention); any '.' allele ("./.", "0/.") makes the genotype missing;
 *   DS  the dosage as written (Number=A: one per ALT), in [0, 2];
 *   GP  expected ALT count from the genotype probabilities (VCF order: P(j/k) at k(k+1)/2 + j for diploid calls,
 *       P(j) for haploid ones, times 2): for one ALT, P(0/1) + 2 P(1/1). Probabilities are used as written.
 * '.' (or a field absent from a sample's cell) is missing (NaN). The default field is DS when the header declares
 * FORMAT/DS, else GT.
 *
 * Opening reads the file once (first five columns of each record) to list the SNPs and remember each record's
 * line number and virtual offset (see text-lines.ts), so a block or a SNP range of a bgzipped or plain VCF seeks
 * to its first record; a gzip (not bgzip) VCF is read from the start. Errors name the file, line and column.
 */
import { checkUniqueSampleIds } from './sample-ids.js';
import type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from './genotype-source.js';
import { InputError } from '../errors.js';
import { blockBuilderFor, type MultiallelicMode, type SkippedVariants } from './genotype-blocks.js';
import { lineBatches, textCompression, type LineBatch, type TextCompression } from './text-lines.js';
import { inRegion, type GenomicRegion } from './region.js';
import { readTextIndex, regionChunks } from './tabix.js';
import { access } from 'node:fs/promises';

/** The FORMAT field genotypes are read from. */
export type VcfField = 'DS' | 'GT' | 'GP';

export interface VcfOptions {
  /** FORMAT field to read (a record without it falls back to GT). Default: DS if the header declares it, else GT. */
  field?: VcfField;
  /** Records with several ALT alleles: 'split' (default) or 'skip'. */
  multiallelic?: MultiallelicMode;
  /**
   * Only the records of this region (POS in it). A bgzipped file with a tabix/CSI index (`index`, default
   * FILE.tbi or FILE.csi when present) reads only the index's chunks for it; otherwise the whole file is scanned.
   */
  region?: GenomicRegion;
  /** The .tbi/.csi to use for `region`, or false for none. */
  index?: string | false;
}

/** Per SNP: where its record is, and which ALT allele (1-based) it counts. */
interface RecordIndex {
  offset: Float64Array;
  lineNo: Float64Array;
  alt: Uint16Array;
  nAlt: Uint16Array;
}

const TAB = 9;
const COLON = 58;
const COMMA = 44;
const DOT = 46;

/**
 * A VCF file as a {@link GenotypeSource}. Construct with {@link openVcf}.
 */
export class VcfSource implements GenotypeSource {
  readonly describe: string;
  readonly nSnps: number;

  constructor(
    readonly path: string,
    readonly compression: TextCompression,
    readonly samples: readonly string[],
    readonly snps: readonly SnpInfo[],
    /** The FORMAT field read (records without it fall back to GT). */
    readonly field: VcfField,
    private readonly where: RecordIndex,
    /** Records left out, by reason. */
    readonly skipped: SkippedVariants,
    /** The tabix/CSI index a region was read through, if any. */
    readonly indexPath?: string,
  ) {
    this.describe = path;
    this.nSnps = snps.length;
  }

  /**
   * Streams SNPs in file order, `blockSize` at a time, for individuals `keep` and the SNPs of `range`. Bgzipped and
   * plain files start at the range's first record; gzip files read from the start. Cost O(bytes of the records
   * read); memory the read-ahead, one line and one nKeep x blockSize f64 matrix.
   */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const builder = blockBuilderFor(this, blockSize, keep, range);
    if (!builder) return;
    const { range: r, rows } = builder;
    const nInd = this.samples.length;
    const w = this.where;
    const parser = new RecordParser(this.path, nInd, this.field, keep);
    const start = this.compression === 'gzip' ? undefined : { virtualOffset: w.offset[r.start]!, lineNo: w.lineNo[r.start]! };
    let maxAlt = 1;
    for (let j = r.start; j < r.end; j++) maxAlt = Math.max(maxAlt, w.nAlt[j]!);
    const scratch = new Float64Array(rows * maxAlt);
    let hardScratch = true;
    // Records are matched to SNPs by virtual offset (bgzip, plain) or line number (gzip).
    const byOffset = this.compression !== 'gzip';
    for await (const batch of lineBatches(this.path, this.compression, start)) {
      const blocks: GenotypeBlock[] = [];
      for (let k = 0; k < batch.starts.length && !builder.done; k++) {
        const lineNo = batch.firstLineNo + k;
        const j = builder.snp;
        const key = byOffset ? batch.offsets[k]! : lineNo;
        const want = byOffset ? w.offset[j]! : w.lineNo[j]!;
        if (key < want) continue; // header, skipped record, or a record before the range
        if (key > want) throw new InputError(this.path, undefined, undefined, `changed since it was opened: the record of SNP ${j + 1} (${this.snps[j]!.chr}:${this.snps[j]!.ps}) is gone`);
        parser.record = `${this.snps[j]!.chr}:${this.snps[j]!.ps}`;
        const nAlt = w.nAlt[j]!;
        // The SNPs of this record in the range: j .. jEnd - 1, counting ALT alleles w.alt[j..].
        let jEnd = j + 1;
        while (jEnd < r.end && (byOffset ? w.offset[jEnd] === w.offset[j] : w.lineNo[jEnd] === w.lineNo[j])) jEnd++;
        if (nAlt === 1) {
          const hard = parser.parse(batch.buf, batch.starts[k]!, batch.ends[k]!, lineNo, 1, builder.data, builder.column(), rows);
          const block = builder.commit(hard);
          if (block) blocks.push(block);
          continue;
        }
        hardScratch = parser.parse(batch.buf, batch.starts[k]!, batch.ends[k]!, lineNo, nAlt, scratch, 0, rows);
        for (let s = j; s < jEnd; s++) {
          const a = w.alt[s]! - 1;
          builder.data.set(scratch.subarray(a * rows, (a + 1) * rows), builder.column());
          const block = builder.commit(hardScratch);
          if (block) blocks.push(block);
        }
      }
      for (const b of blocks) yield b;
      if (builder.done) return;
    }
    throw new InputError(this.path, undefined, undefined, `changed since it was opened: ended before SNP ${builder.snp + 1} of ${this.nSnps}`);
  }
}

/** FORMAT keys of a record: the index of GT, DS and GP among them (-1 when absent). */
interface FormatKeys {
  gt: number;
  ds: number;
  gp: number;
}

/**
 * Parses the sample columns of one record into dosages (the hot loop of the reader). Writes, for each ALT allele a
 * (1..nAlt), the kept samples' values at out[o + (a - 1) * stride + r]. Works on bytes; numbers with at most 15
 * significant digits and no exponent are parsed exactly without building strings.
 */
class RecordParser {
  private readonly formats = new Map<string, FormatKeys>();
  private readonly copies = new Int32Array(256);
  private readonly probs = new Float64Array(512);
  /** Position after the last parsed value. */
  private p = 0;
  /** The record being parsed, for messages when its line number is unknown (a region read through an index). */
  record = '';

  constructor(
    private readonly path: string,
    private readonly nInd: number,
    private readonly field: VcfField,
    private readonly keep: Int32Array | undefined,
  ) {}

  /** Returns true when every value written is 0, 1, 2 or NaN. */
  parse(buf: Buffer, s: number, e: number, lineNo: number, nAlt: number, out: Float64Array, o: number, stride: number): boolean {
    // Skip the 8 fixed columns to FORMAT.
    let p = s;
    for (let t = 0; t < 8; t++) {
      p = buf.indexOf(TAB, p);
      if (p < 0 || p >= e) throw this.err(lineNo, undefined, `expected 9 fixed columns and ${this.nInd} sample columns, found ${t + 1} columns`);
      p++;
    }
    const fe = buf.indexOf(TAB, p);
    if (fe < 0 || fe >= e) throw this.err(lineNo, 9, `no sample columns after FORMAT (expected ${this.nInd})`);
    const keys = this.formatKeys(buf.toString('latin1', p, fe));
    let f: number;
    let kind: VcfField;
    if (this.field === 'DS' && keys.ds >= 0) (f = keys.ds), (kind = 'DS');
    else if (this.field === 'GP' && keys.gp >= 0) (f = keys.gp), (kind = 'GP');
    else (f = keys.gt), (kind = 'GT');
    if (f < 0) throw this.err(lineNo, 9, `FORMAT has neither ${this.field} nor GT`);
    const keep = this.keep;
    let r = 0;
    let frac = false;
    p = fe + 1;
    const fastGt = kind === 'GT' && f === 0 && nAlt === 1;
    for (let i = 0; i < this.nInd; i++) {
      if (fastGt && p + 3 <= e) {
        // Fast path: a biallelic diploid call "a/b" or "a|b" with a, b in {0, 1}, alone in its cell.
        const a0 = buf[p]! - 48;
        const a2 = buf[p + 2]! - 48;
        const sep = buf[p + 1]!;
        const after = p + 3 === e ? TAB : buf[p + 3]!;
        if (a0 >>> 0 <= 1 && a2 >>> 0 <= 1 && (sep === 47 || sep === 124) && after === TAB) {
          if (keep === undefined || (r < keep.length && keep[r] === i)) out[o + r++] = a0 + a2;
          p += 4;
          continue;
        }
      }
      if (p > e) throw this.err(lineNo, undefined, `wrong sample count: ${i} sample columns, the header names ${this.nInd}`);
      const wanted = keep === undefined || (r < keep.length && keep[r] === i);
      if (wanted) {
        // Walk to subfield f of this cell.
        let q = p;
        for (let c = 0; c < f && q < e; q++) {
          const b = buf[q]!;
          if (b === TAB) break;
          if (b === COLON) c++;
        }
        const present = f === 0 || (q > p && buf[q - 1] === COLON);
        const col = 10 + i;
        if (!present || q >= e || buf[q] === TAB || buf[q] === COLON) this.missing(out, o + r, stride, nAlt);
        else if (kind === 'GT') frac = this.gt(buf, q, e, lineNo, col, nAlt, out, o + r, stride) || frac;
        else if (kind === 'DS') frac = this.ds(buf, q, e, lineNo, col, nAlt, out, o + r, stride) || frac;
        else frac = this.gp(buf, q, e, lineNo, col, nAlt, out, o + r, stride) || frac;
        r++;
      }
      // Next cell.
      while (p < e && buf[p] !== TAB) p++;
      p++;
    }
    if (p <= e) throw this.err(lineNo, undefined, `wrong sample count: more sample columns than the ${this.nInd} the header names`);
    return !frac;
  }

  /** An InputError at line:column, or naming the record (CHROM:POS) when the line number is unknown. */
  private err(lineNo: number, col: number | undefined, message: string): InputError {
    return Number.isFinite(lineNo) ? new InputError(this.path, lineNo, col, message) : new InputError(this.path, undefined, undefined, `record ${this.record}${col ? `, column ${col}` : ''}: ${message}`);
  }

  private formatKeys(format: string): FormatKeys {
    let k = this.formats.get(format);
    if (!k) {
      const names = format.split(':');
      k = { gt: names.indexOf('GT'), ds: names.indexOf('DS'), gp: names.indexOf('GP') };
      this.formats.set(format, k);
    }
    return k;
  }

  private missing(out: Float64Array, at: number, stride: number, nAlt: number): void {
    for (let a = 0; a < nAlt; a++) out[at + a * stride] = Number.NaN;
  }

  /** GT at buf[q]: (2 / Z) x copies of each ALT; '.' anywhere -> missing. Returns true when a value is fractional. */
  private gt(buf: Buffer, q: number, e: number, lineNo: number, col: number, nAlt: number, out: Float64Array, at: number, stride: number): boolean {
    const copies = this.copies;
    for (let a = 0; a <= nAlt; a++) copies[a] = 0;
    let z = 0;
    let missing = false;
    for (;;) {
      const b = buf[q]!;
      if (b === DOT) {
        missing = true;
        q++;
      } else {
        let allele = 0;
        let digits = 0;
        for (let d = buf[q]! - 48; q < e && d >= 0 && d <= 9; d = buf[++q]! - 48) (allele = allele * 10 + d), digits++;
        if (digits === 0 || allele > nAlt) throw this.err(lineNo, col, `bad GT allele '${this.cell(buf, q, e)}' (record has ${nAlt} ALT allele${nAlt > 1 ? 's' : ''})`);
        copies[allele]!++;
      }
      z++;
      if (q < e && (buf[q] === 47 || buf[q] === 124)) q++; // '/' or '|'
      else break;
    }
    if (missing) {
      this.missing(out, at, stride, nAlt);
      return false;
    }
    for (let a = 1; a <= nAlt; a++) out[at + (a - 1) * stride] = (2 * copies[a]!) / z;
    return z > 2;
  }

  /** DS at buf[q]: nAlt numbers in [0, 2] ('.' missing). */
  private ds(buf: Buffer, q: number, e: number, lineNo: number, col: number, nAlt: number, out: Float64Array, at: number, stride: number): boolean {
    let frac = false;
    for (let a = 0; a < nAlt; a++) {
      if (a > 0) {
        if (buf[q] !== COMMA) throw this.err(lineNo, col, `DS needs ${nAlt} values (one per ALT allele), found '${this.cell(buf, q, e)}'`);
        q++;
      }
      const v = this.number(buf, q, e, lineNo, col, 'DS');
      q = this.p;
      if (a === 0 && Number.isNaN(v) && buf[q] !== COMMA) {
        this.missing(out, at, stride, nAlt); // a single '.' for all ALT alleles
        return false;
      }
      if (!(v >= 0 && v <= 2) && !Number.isNaN(v)) throw this.err(lineNo, col, `DS ${v} is outside [0, 2]`);
      if (v !== Math.floor(v) && !Number.isNaN(v)) frac = true;
      out[at + a * stride] = v;
    }
    return frac;
  }

  /** GP at buf[q]: genotype probabilities -> expected ALT counts (haploid or diploid by the number of values). */
  private gp(buf: Buffer, q: number, e: number, lineNo: number, col: number, nAlt: number, out: Float64Array, at: number, stride: number): boolean {
    const probs = this.probs;
    let n = 0;
    for (;;) {
      if (n === probs.length) throw this.err(lineNo, col, 'too many GP values');
      const v = this.number(buf, q, e, lineNo, col, 'GP');
      q = this.p;
      if (v < 0 || v > 1.0001) throw this.err(lineNo, col, `GP ${v} is not a probability (phred-scaled GP is not supported)`);
      probs[n++] = v;
      if (q < e && buf[q] === COMMA) q++;
      else break;
    }
    if (Number.isNaN(probs[0]!)) {
      this.missing(out, at, stride, nAlt);
      return false;
    }
    const diploid = ((nAlt + 1) * (nAlt + 2)) / 2;
    if (n !== nAlt + 1 && n !== diploid) throw this.err(lineNo, col, `GP has ${n} values; ${nAlt + 1} (haploid) or ${diploid} (diploid) expected`);
    let frac = false;
    for (let a = 1; a <= nAlt; a++) {
      let d = 0;
      if (n === nAlt + 1) d = 2 * probs[a]!;
      else for (let k = 0; k <= nAlt; k++) for (let j = 0; j <= k; j++) d += probs[(k * (k + 1)) / 2 + j]! * ((j === a ? 1 : 0) + (k === a ? 1 : 0));
      if (d !== Math.floor(d)) frac = true;
      out[at + (a - 1) * stride] = d;
    }
    return frac;
  }

  /** A number at buf[q] ('.' -> NaN); sets this.p after it. */
  private number(buf: Buffer, q: number, e: number, lineNo: number, col: number, what: string): number {
    const start = q;
    if (buf[q] === DOT && (q + 1 >= e || buf[q + 1] === TAB || buf[q + 1] === COLON || buf[q + 1] === COMMA)) {
      this.p = q + 1;
      return Number.NaN;
    }
    let m = 0;
    let digits = 0;
    let scale = 1;
    let d = buf[q]! - 48;
    for (; q < e && d >= 0 && d <= 9; d = buf[++q]! - 48) (m = m * 10 + d), digits++;
    if (q < e && buf[q] === DOT) {
      for (d = buf[++q]! - 48; q < e && d >= 0 && d <= 9; d = buf[++q]! - 48) (m = m * 10 + d), digits++, (scale *= 10);
    }
    const b = q < e ? buf[q]! : TAB;
    if (digits > 0 && digits <= 15 && (b === TAB || b === COLON || b === COMMA)) {
      this.p = q;
      return m / scale;
    }
    // Anything else (sign, exponent, many digits): let Number() decide.
    while (q < e && buf[q] !== TAB && buf[q] !== COLON && buf[q] !== COMMA) q++;
    const raw = buf.toString('latin1', start, q);
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) throw this.err(lineNo, col, `expected a number or '.' as ${what}, found '${raw}'`);
    this.p = q;
    return v;
  }

  /** The cell around buf[q], for messages. */
  private cell(buf: Buffer, q: number, e: number): string {
    let a = q;
    while (a > 0 && buf[a - 1] !== TAB) a--;
    let b = q;
    while (b < e && buf[b] !== TAB) b++;
    return buf.toString('latin1', a, b);
  }
}

const HEADER_COLUMNS = ['#CHROM', 'POS', 'ID', 'REF', 'ALT', 'QUAL', 'FILTER', 'INFO', 'FORMAT'];

/**
 * Opens a VCF (plain, gzip or bgzip): checks the header, takes the sample IDs from the #CHROM line and reads the
 * first five columns of every record (one pass over the file, or over the index's chunks of `opts.region`) to
 * list the SNPs. Multi-allelic records are split or skipped (`opts.multiallelic`), records without ALT skipped;
 * {@link VcfSource.skipped} counts them. A SNP's `rs` is the record's ID, or CHROM:POS:REF:ALT when the ID is '.'.
 * Errors name the file and line.
 */
export async function openVcf(path: string, opts: VcfOptions = {}): Promise<VcfSource> {
  const multi = opts.multiallelic ?? 'split';
  const region = opts.region;
  const compression = await textCompression(path);
  let samples: string[] | undefined;
  let declaresDs = false;
  const snps: SnpInfo[] = [];
  const offset: number[] = [];
  const lineNos: number[] = [];
  const alt: number[] = [];
  const nAlt: number[] = [];
  const skipped: SkippedVariants = { multiallelic: 0, monoallelic: 0 };
  /** Handles the header lines; returns true once the #CHROM line has been read. */
  const headerLine = (buf: Buffer, s: number, e: number, lineNo: number): boolean => {
    if (lineNo === 1 && buf.toString('latin1', s, Math.min(e, s + 16)) !== '##fileformat=VCF') {
      const bcf = buf.toString('latin1', s, s + 3) === 'BCF';
      throw new InputError(path, 1, undefined, bcf ? 'a BCF file (binary VCF), not VCF text: open it as BCF' : `not a VCF: expected '##fileformat=VCF...' on line 1`);
    }
    if (e === s) return false;
    if (buf[s] !== 35) throw new InputError(path, lineNo, undefined, 'record before the #CHROM header line');
    if (buf[s + 1] === 35) {
      if (buf.toString('latin1', s, Math.min(e, s + 16)) === '##FORMAT=<ID=DS,') declaresDs = true;
      return false;
    }
    const cols = buf.toString('utf8', s, e).split('\t');
    if (cols.length < 10) throw new InputError(path, lineNo, undefined, 'no sample columns: a sites-only VCF has no genotypes');
    HEADER_COLUMNS.forEach((name, c) => {
      if (cols[c] !== name) throw new InputError(path, lineNo, c + 1, `expected header column '${name}', found '${cols[c]}'`);
    });
    samples = cols.slice(9);
    checkUniqueSampleIds(samples, path, (k) => ({ line: lineNo, column: 10 + k }));
    return true;
  };
  /** Lists the SNPs of one record line (CHROM POS ID REF ALT), if in the region. */
  const recordLine = (buf: Buffer, s: number, e: number, lineNo: number, at: number): void => {
    if (e === s) return;
    const where = (c?: number): [number | undefined, number | undefined] => (Number.isFinite(lineNo) ? [lineNo, c] : [undefined, undefined]);
    const t: number[] = [];
    for (let p = s, c = 0; c < 5; c++) {
      const q = buf.indexOf(TAB, p);
      if (q < 0 || q >= e) throw new InputError(path, ...where(), `expected at least 10 tab-separated columns, found ${c + 1}`);
      t.push(q);
      p = q + 1;
    }
    const chr = buf.toString('latin1', s, t[0]);
    const posText = buf.toString('latin1', t[0]! + 1, t[1]);
    const ps = Number(posText);
    if (!Number.isInteger(ps) || ps < 0) throw new InputError(path, ...where(2), `expected a position, found '${posText}'`);
    if (region && !inRegion(region, chr, ps)) return;
    const id = buf.toString('latin1', t[1]! + 1, t[2]);
    const ref = buf.toString('latin1', t[2]! + 1, t[3]);
    const alts = buf.toString('latin1', t[3]! + 1, t[4]);
    if (alts === '.' || alts === '') {
      skipped.monoallelic++;
      return;
    }
    const list = alts.split(',');
    if (list.length > 1 && multi === 'skip') {
      skipped.multiallelic++;
      return;
    }
    list.forEach((a, i) => {
      snps.push({ chr, rs: id === '.' ? `${chr}:${ps}:${ref}:${a}` : id, ps, allele1: a, allele0: ref });
      offset.push(at);
      lineNos.push(lineNo);
      alt.push(i + 1);
      nAlt.push(list.length);
    });
  };
  const eachLine = (batch: LineBatch, f: (buf: Buffer, s: number, e: number, lineNo: number, at: number) => boolean | void): boolean => {
    for (let k = 0; k < batch.starts.length; k++) if (f(batch.buf, batch.starts[k]!, batch.ends[k]!, batch.firstLineNo + k, batch.offsets[k]!) === true) return true;
    return false;
  };
  const indexPath = region && compression === 'bgzf' && opts.index !== false ? (opts.index ?? (await firstExisting([`${path}.tbi`, `${path}.csi`]))) : undefined;
  if (indexPath) {
    // The header from the start of the file, then only the index's chunks for the region.
    for await (const batch of lineBatches(path, compression)) if (eachLine(batch, headerLine)) break;
    if (!samples) throw new InputError(path, undefined, undefined, 'no #CHROM header line');
    for (const chunk of regionChunks(await readTextIndex(indexPath), region!)) {
      for await (const batch of lineBatches(path, compression, { virtualOffset: chunk.begin, lineNo: Number.NaN })) {
        if (eachLine(batch, (buf, s, e, lineNo, at) => (at >= chunk.end ? true : recordLine(buf, s, e, lineNo, at)))) break;
      }
    }
  } else {
    let inHeader = true;
    for await (const batch of lineBatches(path, compression)) {
      eachLine(batch, (buf, s, e, lineNo, at) => {
        if (inHeader) inHeader = !headerLine(buf, s, e, lineNo);
        else recordLine(buf, s, e, lineNo, at);
      });
    }
    if (!samples) throw new InputError(path, undefined, undefined, 'no #CHROM header line');
  }
  const where: RecordIndex = { offset: Float64Array.from(offset), lineNo: Float64Array.from(lineNos), alt: Uint16Array.from(alt), nAlt: Uint16Array.from(nAlt) };
  return new VcfSource(path, compression, samples!, snps, opts.field ?? (declaresDs ? 'DS' : 'GT'), where, skipped, indexPath);
}

/** The first of `paths` that exists, if any. */
async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) if (await access(p).then(() => true, () => false)) return p;
  return undefined;
}
