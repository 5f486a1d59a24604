/**
 * 10x Genomics count matrices: `matrix.mtx[.gz]` (Matrix Market coordinate, genes x cells),
 * `features.tsv[.gz]` or `genes.tsv[.gz]`, `barcodes.tsv[.gz]`.
 *
 * The .mtx body is streamed through a byte-level parser (no per-line strings, no split) into batches of
 * coordinates. {@link openTenx} turns the batches into cell-major blocks (src/io/count-blocks.ts) so a matrix of
 * any size is read with memory bounded by the block; {@link readTenx} / {@link readMtx} collect the whole matrix
 * into compressed sparse columns (16 bytes per non-zero).
 *
 * Cell Ranger writes the entries sorted by cell (column). A file that is not is still read: its blocks are then
 * bucketed by cell within the block and may revisit a cell, and the source says so (completeMajors = false)
 * through {@link MajorsIncompleteError} on the first out-of-order entry.
 */
import { checkUniqueSampleIds } from './sample-ids.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createGunzip, gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { MajorsIncompleteError, remapMinor, type CountBlock, type CountSource } from './count-blocks.js';
import { inputReadStream, readInputSync } from './input-file.js';

/** Any problem in a count-matrix input file: names the file and, where known, the 1-based line. */
export class CountsInputError extends InputError {
  override name = 'CountsInputError';
  constructor(file: string, line: number | null, detail: string) {
    super(file, line ?? undefined, undefined, detail);
  }
}

/**
 * A genes x cells count matrix in compressed sparse column form (column = cell).
 * Entries of column j are `rowIdx[colPtr[j] .. colPtr[j+1])` with values `values[...]`, rows ascending.
 */
export interface SparseCounts {
  readonly nGenes: number;
  readonly nCells: number;
  /** nCells + 1 offsets into rowIdx/values. */
  readonly colPtr: Float64Array;
  readonly rowIdx: Int32Array;
  readonly values: Float64Array;
  /** True when every stored value is a non-negative integer (required by count models). */
  readonly integer: boolean;
}

/** A 10x directory read into memory. */
export interface TenxCounts {
  readonly counts: SparseCounts;
  /** Gene identifiers (first column of features.tsv). */
  readonly geneIds: string[];
  /** Gene names (second column of features.tsv, or the id when absent). */
  readonly geneNames: string[];
  readonly barcodes: string[];
}

/** A 10x directory opened for streaming: names read, the matrix a {@link CountSource}. */
export interface TenxDir {
  readonly source: CountSource;
  readonly geneIds: string[];
  readonly geneNames: string[];
  readonly barcodes: string[];
  /** Features of other types (e.g. Antibody Capture) left out of the matrix. */
  readonly droppedFeatures: number;
}

const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const PERCENT = 37;

/** First existing path among `names` in `dir` (plain or .gz), else null. */
function findFile(dir: string, names: readonly string[]): string | null {
  for (const n of names) {
    for (const candidate of [path.join(dir, n), path.join(dir, `${n}.gz`)]) if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Lines of a small text file (plain or gzip), trailing empty line dropped. */
function readSmallText(file: string): string[] {
  const raw = readInputSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Feature type kept as genes when a features file names types (Cell Ranger v3+). */
export const GENE_EXPRESSION = 'Gene Expression';

/**
 * Opens a 10x directory for streaming: matrix.mtx[.gz] (genes x cells), features.tsv[.gz] or genes.tsv[.gz],
 * barcodes.tsv[.gz]. When features.tsv has a third column (feature type), only "Gene Expression" features are
 * genes (antibody or CRISPR features would distort library sizes). Checks that the feature and barcode counts
 * match the matrix dimensions. Cost O(features + cells) now; the matrix is read by the source's blocks.
 */
export async function openTenx(dir: string): Promise<TenxDir> {
  if (!existsSync(dir)) throw new CountsInputError(dir, null, 'directory not found');
  const mtx = findFile(dir, ['matrix.mtx']);
  if (!mtx) throw new CountsInputError(dir, null, 'no matrix.mtx or matrix.mtx.gz in this directory');
  const feat = findFile(dir, ['features.tsv', 'genes.tsv']);
  if (!feat) throw new CountsInputError(dir, null, 'no features.tsv[.gz] or genes.tsv[.gz] in this directory');
  const bc = findFile(dir, ['barcodes.tsv']);
  if (!bc) throw new CountsInputError(dir, null, 'no barcodes.tsv[.gz] in this directory');

  const ids: string[] = [];
  const names: string[] = [];
  const types: string[] = [];
  readSmallText(feat).forEach((line, i) => {
    const cols = line.split('\t');
    if (cols[0] === undefined || cols[0] === '') throw new CountsInputError(feat, i + 1, 'empty gene identifier');
    ids.push(cols[0]);
    names.push(cols[1] !== undefined && cols[1] !== '' ? cols[1] : cols[0]);
    types.push(cols[2] ?? GENE_EXPRESSION);
  });
  const barcodes = readSmallText(bc).map((l, i) => {
    const b = l.split('\t')[0]!;
    if (b === '') throw new CountsInputError(bc, i + 1, 'empty barcode');
    return b;
  });
  checkUniqueSampleIds(barcodes, bc, (k) => ({ line: k + 1 }), 'barcode');
  const header = await readMtxHeader(mtx);
  if (header.nRows !== ids.length) throw new CountsInputError(feat, null, `${ids.length} features but ${path.basename(mtx)} has ${header.nRows} rows`);
  if (header.nCols !== barcodes.length) throw new CountsInputError(bc, null, `${barcodes.length} barcodes but ${path.basename(mtx)} has ${header.nCols} columns`);
  const { geneOf, kept } = featureMap(types);
  return {
    source: new MtxSource(mtx, header, geneOf, kept.length),
    geneIds: kept.map((f) => ids[f]!),
    geneNames: kept.map((f) => names[f]!),
    barcodes,
    droppedFeatures: ids.length - kept.length,
  };
}

/** Gene index of each feature (-1: not a gene) and the kept features, or null mapping when all are genes. */
export function featureMap(types: readonly string[]): { geneOf: Int32Array | null; kept: number[] } {
  const kept = types.flatMap((t, f) => (t === GENE_EXPRESSION ? [f] : []));
  if (kept.length === types.length) return { geneOf: null, kept };
  const geneOf = new Int32Array(types.length).fill(-1);
  kept.forEach((f, g) => (geneOf[f] = g));
  return { geneOf, kept };
}

/**
 * Reads a 10x directory into memory (see {@link openTenx}). Cost O(nnz) time, 16 bytes per non-zero.
 */
export async function readTenx(dir: string): Promise<TenxCounts> {
  const t = await openTenx(dir);
  const counts = await collectMtx(t.source as MtxSource);
  return { counts, geneIds: t.geneIds, geneNames: t.geneNames, barcodes: t.barcodes };
}

/** Banner and size line of a Matrix Market file. */
export interface MtxHeader {
  readonly nRows: number;
  readonly nCols: number;
  readonly nnz: number;
  readonly field: 'integer' | 'real' | 'pattern';
}

/** A batch of parsed coordinates (0-based), in file order. */
interface MtxBatch {
  readonly rows: Int32Array;
  readonly cols: Int32Array;
  readonly vals: Int32Array | Float64Array;
  readonly n: number;
  /** Entry number (0-based) of the batch's first entry. */
  readonly firstEntry: number;
}

/** Parser state carried across stream chunks. */
class MtxParser {
  lineNo = 0;
  /** 0: banner expected, 1: size line expected, 2: entries. */
  phase: 0 | 1 | 2 = 0;
  header: MtxHeader | null = null;
  /** Entries parsed so far. */
  k = 0;
  private rows = new Int32Array(0);
  private cols = new Int32Array(0);
  private vals: Int32Array | Float64Array = new Int32Array(0);
  private b = 0;
  private batchEntry = 0;
  private carry: Buffer | null = null;
  private fieldText = '';
  readonly batches: MtxBatch[] = [];

  /** @param capacity entries per batch once the size line is known */
  /** @param headerOnly stop at the size line (no entry parsed) */
  constructor(
    readonly file: string,
    private readonly capacity: (h: MtxHeader) => number,
    private readonly headerOnly = false,
  ) {}

  /** Parses a chunk of the file; complete batches land in `batches`. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const lastNl = buf.lastIndexOf(NL);
    if (lastNl < 0) {
      this.carry = buf;
      return;
    }
    this.parseLines(buf, lastNl + 1);
    if (lastNl + 1 < buf.length) this.carry = Buffer.from(buf.subarray(lastNl + 1));
  }

  /** Ends the file: parses a last unterminated line, flushes the last batch, checks the entry count. */
  end(): void {
    if (this.carry && this.carry.length > 0) {
      const tail = Buffer.concat([this.carry, Buffer.from([NL])]);
      this.carry = null;
      this.parseLines(tail, tail.length);
    }
    if (this.phase < 2) throw new CountsInputError(this.file, null, 'missing Matrix Market banner or size line');
    if (this.k !== this.header!.nnz) throw new CountsInputError(this.file, null, `size line promises ${this.header!.nnz} entries, file has ${this.k}`);
    this.flush();
  }

  private flush(): void {
    if (this.b === 0) return;
    this.batches.push({ rows: this.rows.slice(0, this.b), cols: this.cols.slice(0, this.b), vals: this.vals.slice(0, this.b), n: this.b, firstEntry: this.batchEntry });
    this.b = 0;
  }

  /** Parses complete lines in buf[0, end) (end is just past a newline). */
  private parseLines(buf: Buffer, end: number): void {
    let p = 0;
    while (p < end) {
      if (this.headerOnly && this.phase === 2) return;
      this.lineNo++;
      let e = buf.indexOf(NL, p);
      if (e < 0 || e >= end) e = end;
      let lineEnd = e;
      if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
      if (this.phase === 2 && lineEnd > p && buf[p] !== PERCENT) this.parseEntry(buf, p, lineEnd);
      else if (lineEnd > p) this.parseHeaderLine(buf.toString('latin1', p, lineEnd));
      p = e + 1;
    }
  }

  private parseHeaderLine(line: string): void {
    if (this.phase === 0) {
      const m = /^%%MatrixMarket\s+matrix\s+(\S+)\s+(\S+)\s+(\S+)/i.exec(line);
      if (!m) throw new CountsInputError(this.file, this.lineNo, 'expected a "%%MatrixMarket matrix ..." banner');
      const [format, field, symmetry] = [m[1]!.toLowerCase(), m[2]!.toLowerCase(), m[3]!.toLowerCase()];
      if (format !== 'coordinate') throw new CountsInputError(this.file, this.lineNo, `format "${format}" not supported (expected coordinate)`);
      if (!['integer', 'real', 'double', 'pattern'].includes(field)) {
        throw new CountsInputError(this.file, this.lineNo, `field "${field}" not supported (expected integer, real or pattern)`);
      }
      if (symmetry !== 'general') throw new CountsInputError(this.file, this.lineNo, `symmetry "${symmetry}" not supported (expected general)`);
      this.fieldText = field === 'double' ? 'real' : field;
      this.phase = 1;
      return;
    }
    if (line.startsWith('%') || line.trim() === '') return;
    if (this.phase === 1) {
      const parts = line.trim().split(/\s+/).map(Number);
      if (parts.length !== 3 || parts.some((v) => !Number.isInteger(v) || v < 0)) {
        throw new CountsInputError(this.file, this.lineNo, `expected "rows cols entries", got "${line}"`);
      }
      const [nRows, nCols, nnz] = parts as [number, number, number];
      if (nRows > 2 ** 31 - 1 || nCols > 2 ** 31 - 1) throw new CountsInputError(this.file, this.lineNo, 'dimensions exceed 2^31-1');
      this.header = { nRows, nCols, nnz, field: this.fieldText as MtxHeader['field'] };
      const cap = Math.max(1, Math.min(nnz, this.capacity(this.header)));
      this.rows = new Int32Array(cap);
      this.cols = new Int32Array(cap);
      this.vals = this.header.field === 'real' ? new Float64Array(cap) : new Int32Array(cap);
      this.phase = 2;
    }
  }

  /** Parses "row col [value]" between p and e without creating strings (except for non-plain values). */
  private parseEntry(buf: Buffer, p: number, e: number): void {
    const h = this.header!;
    if (this.k >= h.nnz) throw new CountsInputError(this.file, this.lineNo, `more entries than the ${h.nnz} the size line promises`);
    let i = p;
    let r = 0;
    let c = 0;
    for (let f = 0; f < 2; f++) {
      while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
      let v = 0;
      const s = i;
      while (i < e) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
        i++;
      }
      if (i === s || (i < e && buf[i] !== SP && buf[i] !== TAB)) {
        throw new CountsInputError(this.file, this.lineNo, `field ${f + 1}: expected a positive integer index in "${buf.toString('latin1', p, e)}"`);
      }
      if (f === 0) r = v;
      else c = v;
    }
    if (r < 1 || r > h.nRows || c < 1 || c > h.nCols) {
      throw new CountsInputError(this.file, this.lineNo, `index (${r}, ${c}) outside ${h.nRows} x ${h.nCols}`);
    }
    let value = 1;
    if (h.field !== 'pattern') {
      while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
      const s = i;
      let v = 0;
      let plain = true;
      while (i < e && buf[i] !== SP && buf[i] !== TAB) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) plain = false;
        else v = v * 10 + d;
        i++;
      }
      if (i === s) throw new CountsInputError(this.file, this.lineNo, 'missing value');
      if (plain && i - s < 10) value = v;
      else {
        const text = buf.toString('latin1', s, i);
        value = Number(text);
        if (!Number.isFinite(value)) throw new CountsInputError(this.file, this.lineNo, `value "${text}" is not a finite number`);
        if (value < 0) throw new CountsInputError(this.file, this.lineNo, `value ${text} of entry (${r}, ${c}) is negative: expected a count (>= 0)`);
        if (h.field === 'integer' && !(Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1)) {
          throw new CountsInputError(this.file, this.lineNo, `value "${text}" is not a 32-bit integer (the banner says field integer)`);
        }
      }
    }
    if (this.b === 0) this.batchEntry = this.k;
    this.rows[this.b] = r - 1;
    this.cols[this.b] = c - 1;
    this.vals[this.b] = value;
    this.b++;
    this.k++;
    if (this.b === this.rows.length) this.flush();
  }
}

/** Streams a Matrix Market file (plain or gzip) through a parser, yielding its batches as they fill. */
async function* mtxBatches(file: string, capacity: (h: MtxHeader) => number, headerOnly = false): AsyncGenerator<MtxBatch, MtxHeader> {
  const parser = new MtxParser(file, capacity, headerOnly);
  const raw = await inputReadStream(file, { highWaterMark: 1 << 20 });
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parser.push(chunk);
      if (headerOnly && parser.phase === 2) return parser.header!;
      while (parser.batches.length > 0) yield parser.batches.shift()!;
    }
    parser.end();
    while (parser.batches.length > 0) yield parser.batches.shift()!;
    return parser.header!;
  } catch (err) {
    if (err instanceof Error && !(err instanceof InputError) && 'code' in err && String(err.code).startsWith('Z_')) {
      throw new CountsInputError(file, parser.lineNo, `corrupt gzip stream (${err.message})`);
    }
    throw err;
  } finally {
    raw.destroy();
  }
}

/** Reads the banner and size line only. */
async function readMtxHeader(file: string): Promise<MtxHeader> {
  const it = mtxBatches(file, () => 1, true);
  let r = await it.next();
  while (!r.done) r = await it.next();
  return r.value;
}

/**
 * Reads a Matrix Market coordinate file (`general`; field integer, real or pattern), plain or gzip, into CSC.
 * Duplicate coordinates are kept as separate entries (they sum in every consumer). Cost O(nnz) time.
 */
export async function readMtx(file: string): Promise<SparseCounts> {
  const header = await readMtxHeader(file);
  return collectMtx(new MtxSource(file, header, null, header.nRows));
}

/** Collects a whole Matrix Market file into CSC (columns bucketed, rows sorted within each column). */
async function collectMtx(src: MtxSource): Promise<SparseCounts> {
  const { nnz, nRows } = src.header;
  const rows = new Int32Array(nnz);
  const cols = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  let k = 0;
  let allInteger = true;
  for await (const b of src.batches(nnz)) {
    for (let i = 0; i < b.n; i++) {
      const g = src.geneOf ? src.geneOf[b.rows[i]!]! : b.rows[i]!;
      if (g < 0) continue;
      const v = b.vals[i]!;
      if (allInteger && !(Number.isInteger(v) && v >= 0)) allInteger = false;
      rows[k] = g;
      cols[k] = b.cols[i]!;
      vals[k++] = v;
    }
  }
  return toCsc(src.nGenes === nRows ? nRows : src.nGenes, src.nCells, rows.subarray(0, k), cols.subarray(0, k), vals.subarray(0, k), allInteger);
}

/** Buckets coordinates by column (stable counting sort), rows sorted within each column. */
function toCsc(nRows: number, nCols: number, rowsIn: Int32Array, colsIn: Int32Array, valsIn: Float64Array, integer: boolean): SparseCounts {
  const nnz = rowsIn.length;
  const colPtr = new Float64Array(nCols + 1);
  for (let k = 0; k < nnz; k++) colPtr[colsIn[k]! + 1]!++;
  for (let j = 0; j < nCols; j++) colPtr[j + 1]! += colPtr[j]!;
  const next = colPtr.slice(0, nCols);
  const rowIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let sorted = true;
  for (let k = 0; k < nnz; k++) {
    const j = colsIn[k]!;
    const dst = next[j]!++;
    if (dst > colPtr[j]! && rowIdx[dst - 1]! > rowsIn[k]!) sorted = false;
    rowIdx[dst] = rowsIn[k]!;
    values[dst] = valsIn[k]!;
  }
  if (!sorted) sortColumns(colPtr, rowIdx, values);
  return { nGenes: nRows, nCells: nCols, colPtr, rowIdx, values, integer };
}

function sortColumns(colPtr: Float64Array, rowIdx: Int32Array, values: Float64Array): void {
  for (let j = 0; j + 1 < colPtr.length; j++) {
    const a = colPtr[j]!;
    const b = colPtr[j + 1]!;
    const order = Array.from({ length: b - a }, (_, t) => a + t).sort((x, y) => rowIdx[x]! - rowIdx[y]!);
    const r = order.map((t) => rowIdx[t]!);
    const v = order.map((t) => values[t]!);
    rowIdx.set(r, a);
    values.set(v, a);
  }
}

/**
 * A Matrix Market file as a cell-major {@link CountSource}. Entries sorted by cell give complete cells per block
 * (the block ends before a cell that does not fit, which starts the next block). Entries out of cell order switch
 * the source to incomplete blocks (bucketed by cell within the block) and end the current pass with
 * {@link MajorsIncompleteError}; the caller then takes library sizes from a first pass and starts again.
 */
class MtxSource implements CountSource {
  readonly valuesField: string;
  readonly major = 'cell' as const;
  readonly nCells: number;
  readonly nnz: number;
  readonly integerType: boolean;
  readonly bytesPerEntry = 16;
  completeMajors = true;

  constructor(
    readonly file: string,
    readonly header: MtxHeader,
    /** Gene index of each matrix row (-1: not a gene); null when every row is a gene. */
    readonly geneOf: Int32Array | null,
    readonly nGenes: number,
  ) {
    this.valuesField = path.basename(file);
    this.nCells = header.nCols;
    this.nnz = header.nnz;
    this.integerType = header.field !== 'real';
  }

  batches(capacity: number): AsyncGenerator<MtxBatch, MtxHeader> {
    return mtxBatches(this.file, () => capacity);
  }

  async *blocks(maxEntries: number): AsyncGenerator<CountBlock> {
    let carry: MtxBatch | null = null;
    let lastCell = -1;
    for await (const batch of this.batches(Math.max(1, maxEntries))) {
      const b: MtxBatch = carry ? concatBatches(carry, batch) : batch;
      carry = null;
      if (!this.completeMajors) {
        yield this.bucketed(b);
        continue;
      }
      // Sorted so far? Cells must not decrease, and must not return to a cell of an earlier block.
      let sorted = b.n === 0 || b.cols[0]! >= lastCell;
      for (let i = 1; i < b.n && sorted; i++) if (b.cols[i]! < b.cols[i - 1]!) sorted = false;
      if (!sorted) {
        this.completeMajors = false;
        throw new MajorsIncompleteError(this.file, b.firstEntry);
      }
      // Hold back the last cell of the batch: its entries may continue in the next one.
      let cut = b.n;
      while (cut > 0 && b.cols[cut - 1] === b.cols[b.n - 1]) cut--;
      if (cut === 0 && b.n > 0) {
        carry = b;
        continue;
      }
      if (cut < b.n) carry = sliceBatch(b, cut, b.n);
      const head = sliceBatch(b, 0, cut);
      if (head.n > 0) {
        yield this.sortedBlock(head);
        lastCell = head.cols[head.n - 1]! + 1;
      }
    }
    if (carry && carry.n > 0) yield this.completeMajors ? this.sortedBlock(carry) : this.bucketed(carry);
  }

  /** Cells head.cols[0] .. last as one block (entries already in cell order). */
  private sortedBlock(b: MtxBatch): CountBlock {
    const start = b.cols[0]!;
    const count = b.cols[b.n - 1]! - start + 1;
    const ptr = new Int32Array(count + 1);
    for (let i = 0; i < b.n; i++) ptr[b.cols[i]! - start + 1]!++;
    for (let m = 0; m < count; m++) ptr[m + 1]! += ptr[m]!;
    return this.mapGenes({ major: 'cell', start, count, ptr, minor: b.rows, values: b.vals, firstEntry: b.firstEntry });
  }

  /** Entries of an unsorted batch bucketed by cell (stable: file order within a cell). */
  private bucketed(b: MtxBatch): CountBlock {
    let lo = Infinity;
    let hi = -1;
    for (let i = 0; i < b.n; i++) {
      lo = Math.min(lo, b.cols[i]!);
      hi = Math.max(hi, b.cols[i]!);
    }
    if (b.n === 0) return { major: 'cell', start: 0, count: 0, ptr: new Int32Array(1), minor: b.rows, values: b.vals, firstEntry: b.firstEntry };
    const count = hi - lo + 1;
    const ptr = new Int32Array(count + 1);
    for (let i = 0; i < b.n; i++) ptr[b.cols[i]! - lo + 1]!++;
    for (let m = 0; m < count; m++) ptr[m + 1]! += ptr[m]!;
    const next = ptr.slice(0, count);
    const minor = new Int32Array(b.n);
    const values = b.vals instanceof Float64Array ? new Float64Array(b.n) : new Int32Array(b.n);
    for (let i = 0; i < b.n; i++) {
      const dst = next[b.cols[i]! - lo]!++;
      minor[dst] = b.rows[i]!;
      values[dst] = b.vals[i]!;
    }
    return this.mapGenes({ major: 'cell', start: lo, count, ptr, minor, values, firstEntry: b.firstEntry });
  }

  /** Drops entries of non-gene features and renumbers the rest (when the features file names other types). */
  private mapGenes(block: CountBlock): CountBlock {
    return this.geneOf ? remapMinor(block, this.geneOf) : block;
  }

  close(): void {}
}

function sliceBatch(b: MtxBatch, from: number, to: number): MtxBatch {
  return { rows: b.rows.subarray(from, to), cols: b.cols.subarray(from, to), vals: b.vals.subarray(from, to), n: to - from, firstEntry: b.firstEntry + from };
}

function concatBatches(a: MtxBatch, b: MtxBatch): MtxBatch {
  const n = a.n + b.n;
  const rows = new Int32Array(n);
  const cols = new Int32Array(n);
  const vals = b.vals instanceof Float64Array ? new Float64Array(n) : new Int32Array(n);
  rows.set(a.rows);
  rows.set(b.rows, a.n);
  cols.set(a.cols);
  cols.set(b.cols, a.n);
  vals.set(a.vals);
  vals.set(b.vals, a.n);
  return { rows, cols, vals, n, firstEntry: a.firstEntry };
}
