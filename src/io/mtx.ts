/**
 * 10x Genomics count matrices: `matrix.mtx[.gz]` (Matrix Market coordinate, genes x cells),
 * `features.tsv[.gz]` or `genes.tsv[.gz]`, `barcodes.tsv[.gz]`.
 *
 * The .mtx body is streamed through a byte-level parser (no per-line strings, no split) straight into
 * preallocated coordinate arrays, then bucketed into compressed sparse columns, one column per cell.
 * Memory: 16 bytes per non-zero (f64 value + i32 gene index, twice during the bucketing pass).
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createGunzip, gunzipSync } from 'node:zlib';

/** Any problem in a 10x input file: names the file and, where known, the 1-based line. */
export class CountsInputError extends Error {
  override name = 'CountsInputError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    detail: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${detail}`);
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
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Reads a 10x directory: matrix.mtx[.gz] (genes x cells), features.tsv[.gz] or genes.tsv[.gz], barcodes.tsv[.gz].
 * Checks that the feature and barcode counts match the matrix dimensions. Cost O(nnz) time.
 */
export async function readTenx(dir: string): Promise<TenxCounts> {
  if (!existsSync(dir)) throw new CountsInputError(dir, null, 'directory not found');
  const mtx = findFile(dir, ['matrix.mtx']);
  if (!mtx) throw new CountsInputError(dir, null, 'no matrix.mtx or matrix.mtx.gz in this directory');
  const feat = findFile(dir, ['features.tsv', 'genes.tsv']);
  if (!feat) throw new CountsInputError(dir, null, 'no features.tsv[.gz] or genes.tsv[.gz] in this directory');
  const bc = findFile(dir, ['barcodes.tsv']);
  if (!bc) throw new CountsInputError(dir, null, 'no barcodes.tsv[.gz] in this directory');

  const geneIds: string[] = [];
  const geneNames: string[] = [];
  readSmallText(feat).forEach((line, i) => {
    const cols = line.split('\t');
    if (cols[0] === undefined || cols[0] === '') throw new CountsInputError(feat, i + 1, 'empty gene identifier');
    geneIds.push(cols[0]);
    geneNames.push(cols[1] !== undefined && cols[1] !== '' ? cols[1] : cols[0]);
  });
  const barcodes = readSmallText(bc).map((l, i) => {
    const b = l.split('\t')[0]!;
    if (b === '') throw new CountsInputError(bc, i + 1, 'empty barcode');
    return b;
  });
  const counts = await readMtx(mtx);
  if (counts.nGenes !== geneIds.length) {
    throw new CountsInputError(feat, null, `${geneIds.length} features but ${path.basename(mtx)} has ${counts.nGenes} rows`);
  }
  if (counts.nCells !== barcodes.length) {
    throw new CountsInputError(bc, null, `${barcodes.length} barcodes but ${path.basename(mtx)} has ${counts.nCells} columns`);
  }
  return { counts, geneIds, geneNames, barcodes };
}

/** Parser state carried across stream chunks. */
interface MtxState {
  lineNo: number;
  /** 0: banner expected, 1: size line expected, 2: entries. */
  phase: 0 | 1 | 2;
  pattern: boolean;
  nRows: number;
  nCols: number;
  nnz: number;
  k: number;
  rows: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
  allInteger: boolean;
  /** Bytes of a line split across chunks. */
  carry: Buffer | null;
}

/**
 * Reads a Matrix Market coordinate file (`general`; field integer, real or pattern), plain or gzip, into CSC.
 * Duplicate coordinates are kept as separate entries (they sum in every consumer). Cost O(nnz) time.
 */
export async function readMtx(file: string): Promise<SparseCounts> {
  const st: MtxState = {
    lineNo: 0,
    phase: 0,
    pattern: false,
    nRows: 0,
    nCols: 0,
    nnz: 0,
    k: 0,
    rows: new Int32Array(0),
    cols: new Int32Array(0),
    vals: new Float64Array(0),
    allInteger: true,
    carry: null,
  };
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = chunk;
    if (st.carry) {
      buf = Buffer.concat([st.carry, chunk]);
      st.carry = null;
    }
    const lastNl = buf.lastIndexOf(NL);
    if (lastNl < 0) {
      st.carry = buf;
      continue;
    }
    parseLines(file, st, buf, 0, lastNl + 1);
    if (lastNl + 1 < buf.length) st.carry = Buffer.from(buf.subarray(lastNl + 1));
  }
  if (st.carry && st.carry.length > 0) {
    const tail = Buffer.concat([st.carry, Buffer.from([NL])]);
    st.carry = null;
    parseLines(file, st, tail, 0, tail.length);
  }
  if (st.phase < 2) throw new CountsInputError(file, null, 'missing Matrix Market banner or size line');
  if (st.k !== st.nnz) throw new CountsInputError(file, null, `size line promises ${st.nnz} entries, file has ${st.k}`);
  return toCsc(st);
}

/** Parses complete lines in buf[start, end) (end is just past a newline). */
function parseLines(file: string, st: MtxState, buf: Buffer, start: number, end: number): void {
  let p = start;
  while (p < end) {
    st.lineNo++;
    let e = buf.indexOf(NL, p);
    if (e < 0 || e >= end) e = end;
    let lineEnd = e;
    if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
    if (st.phase === 2 && lineEnd > p && buf[p] !== PERCENT) parseEntry(file, st, buf, p, lineEnd);
    else if (lineEnd > p) parseHeaderLine(file, st, buf.toString('latin1', p, lineEnd));
    p = e + 1;
  }
}

function parseHeaderLine(file: string, st: MtxState, line: string): void {
  if (st.phase === 0) {
    const m = /^%%MatrixMarket\s+matrix\s+(\S+)\s+(\S+)\s+(\S+)/i.exec(line);
    if (!m) throw new CountsInputError(file, st.lineNo, 'expected a "%%MatrixMarket matrix ..." banner');
    const [format, field, symmetry] = [m[1]!.toLowerCase(), m[2]!.toLowerCase(), m[3]!.toLowerCase()];
    if (format !== 'coordinate') throw new CountsInputError(file, st.lineNo, `format "${format}" not supported (expected coordinate)`);
    if (!['integer', 'real', 'double', 'pattern'].includes(field)) {
      throw new CountsInputError(file, st.lineNo, `field "${field}" not supported (expected integer, real or pattern)`);
    }
    if (symmetry !== 'general') throw new CountsInputError(file, st.lineNo, `symmetry "${symmetry}" not supported (expected general)`);
    st.pattern = field === 'pattern';
    st.phase = 1;
    return;
  }
  if (line.startsWith('%') || line.trim() === '') return;
  if (st.phase === 1) {
    const parts = line.trim().split(/\s+/).map(Number);
    if (parts.length !== 3 || parts.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new CountsInputError(file, st.lineNo, `expected "rows cols entries", got "${line}"`);
    }
    [st.nRows, st.nCols, st.nnz] = parts as [number, number, number];
    if (st.nRows > 2 ** 31 - 1 || st.nCols > 2 ** 31 - 1) throw new CountsInputError(file, st.lineNo, 'dimensions exceed 2^31-1');
    st.rows = new Int32Array(st.nnz);
    st.cols = new Int32Array(st.nnz);
    st.vals = new Float64Array(st.nnz);
    st.phase = 2;
  }
}

/** Parses "row col [value]" between p and e without creating strings (except for non-integer values). */
function parseEntry(file: string, st: MtxState, buf: Buffer, p: number, e: number): void {
  if (st.k >= st.nnz) throw new CountsInputError(file, st.lineNo, `more entries than the ${st.nnz} the size line promises`);
  let i = p;
  const fields = st.pattern ? 2 : 3;
  const idx = [0, 0];
  for (let f = 0; f < 2; f++) {
    while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
    let v = 0;
    const s = i;
    while (i < e) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      i++;
    }
    if (i === s || (i < e && buf[i] !== SP && buf[i] !== TAB)) {
      throw new CountsInputError(file, st.lineNo, `field ${f + 1}: expected a positive integer index in "${buf.toString('latin1', p, e)}"`);
    }
    idx[f] = v;
  }
  const [r, c] = idx as [number, number];
  if (r < 1 || r > st.nRows || c < 1 || c > st.nCols) {
    throw new CountsInputError(file, st.lineNo, `index (${r}, ${c}) outside ${st.nRows} x ${st.nCols}`);
  }
  let value = 1;
  if (fields === 3) {
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
    if (i === s) throw new CountsInputError(file, st.lineNo, 'missing value');
    if (plain && i - s < 16) value = v;
    else {
      const text = buf.toString('latin1', s, i);
      value = Number(text);
      if (!Number.isFinite(value)) throw new CountsInputError(file, st.lineNo, `value "${text}" is not a finite number`);
      if (!Number.isInteger(value) || value < 0) st.allInteger = false;
    }
  }
  st.rows[st.k] = r - 1;
  st.cols[st.k] = c - 1;
  st.vals[st.k] = value;
  st.k++;
}

/** Buckets coordinates by column (stable counting sort), rows sorted within each column. */
function toCsc(st: MtxState): SparseCounts {
  const colPtr = new Float64Array(st.nCols + 1);
  for (let k = 0; k < st.nnz; k++) colPtr[st.cols[k]! + 1]!++;
  for (let j = 0; j < st.nCols; j++) colPtr[j + 1]! += colPtr[j]!;
  const next = colPtr.slice(0, st.nCols);
  const rowIdx = new Int32Array(st.nnz);
  const values = new Float64Array(st.nnz);
  let sorted = true;
  for (let k = 0; k < st.nnz; k++) {
    const j = st.cols[k]!;
    const dst = next[j]!++;
    if (dst > colPtr[j]! && rowIdx[dst - 1]! > st.rows[k]!) sorted = false;
    rowIdx[dst] = st.rows[k]!;
    values[dst] = st.vals[k]!;
  }
  if (!sorted) sortColumns(colPtr, rowIdx, values);
  return { nGenes: st.nRows, nCells: st.nCols, colPtr, rowIdx, values, integer: st.allInteger };
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
