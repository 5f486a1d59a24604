/**
 * Kinship matrix files.
 *
 * GEMMA text (`.cXX.txt` / `.sXX.txt`, GEMMA -k): n lines of n numbers separated by tabs (spaces and commas
 * accepted on input), written with 10 significant digits (C++ ostream precision 10, i.e. printf %.10g).
 *
 * gpulmm binary (little-endian):
 *   bytes 0-7    magic "gpulmmK\0"
 *   bytes 8-11   u32 format version (1)
 *   bytes 12-15  u32 n
 *   bytes 16-    n * n f64, column-major (element (i, j) at 16 + 8 (i + j n))
 * Exact (no rounding), 8 n^2 + 16 bytes; {@link readKinship} recognises it by the magic.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commonPool } from '../../kernels/cpu/pool.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../../kernels/matrix.js';
import { getFlag } from '../flags.js';
import { openAtomic, type AtomicFile } from './atomic-file.js';
import { MAX_G_BYTES, writeRowsG } from './format-g.js';

export { formatG } from './format-g.js';
import { InputError } from '../errors.js';
import { GEMMA_SEP, parseNumberField, splitFields } from './gemma-tables.js';
import { readFileHead, readLines } from './lines.js';
import { readInput } from './input-file.js';

export const KINSHIP_MAGIC = 'gpulmmK\0';
export const KINSHIP_VERSION = 1;
const HEADER_BYTES = 16;

export type KinshipFormat = 'gemma' | 'binary';

/** Relative asymmetry |K_ij - K_ji| / max(|K_ij|, |K_ji|, 1e-300) above which a kinship is rejected. */
const SYMMETRY_TOLERANCE = 1e-6;

/**
 * Where entry (i, j) (0-based) of a kinship sits in its file: the text's line and 1-based column, or the binary
 * format's byte offset.
 */
export type KinshipEntryLocation = (i: number, j: number) => { line?: number; column?: number; byteOffset?: number };

/**
 * Throws an InputError naming `path` and where the entry is (line and column, or byte offset) unless k is
 * square, of the expected size, finite everywhere (a NaN or an infinity, diagonal included) and symmetric.
 * O(n^2).
 */
export function checkKinship(k: F64Matrix, path: string, expectedN?: number, where: KinshipEntryLocation = () => ({})): void {
  if (k.rows !== k.cols) throw new InputError(path, undefined, undefined, `kinship must be square, found ${shapeOf(k)}`);
  if (expectedN !== undefined && k.rows !== expectedN) {
    throw new InputError(path, undefined, undefined, `kinship is ${k.rows} x ${k.rows} but the genotype file has ${expectedN} individuals: expected ${expectedN} x ${expectedN}`);
  }
  const fail = (i: number, j: number, message: string): never => {
    const at = where(i, j);
    throw new InputError(path, at.line, at.column, message, at.byteOffset);
  };
  for (let j = 0; j < k.cols; j++) {
    for (let i = j; i < k.rows; i++) {
      const a = k.data[i + j * k.ld]!;
      const b = k.data[j + i * k.ld]!;
      if (!Number.isFinite(a)) fail(i, j, `kinship entry K[${i + 1},${j + 1}] is ${a}: expected a finite number`);
      if (!Number.isFinite(b)) fail(j, i, `kinship entry K[${j + 1},${i + 1}] is ${b}: expected a finite number`);
      if (Math.abs(a - b) > SYMMETRY_TOLERANCE * Math.max(Math.abs(a), Math.abs(b), 1e-300)) {
        fail(i, j, `kinship is not symmetric: K[${i + 1},${j + 1}] = ${a} but K[${j + 1},${i + 1}] = ${b}`);
      }
    }
  }
}

/** Reads GEMMA's text kinship: n rows of n numbers. Errors name the file and line. */
export async function readKinshipText(path: string, expectedN?: number): Promise<F64Matrix> {
  const rows: Float64Array[] = [];
  const lineNos: number[] = [];
  for await (const { line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    const f = splitFields(line, GEMMA_SEP);
    const n = expectedN ?? (rows.length === 0 ? f.length : rows[0]!.length);
    if (f.length !== n) {
      const why = expectedN !== undefined ? `the genotype file has ${expectedN} individuals` : `line ${lineNos[0] ?? lineNo} has ${n}`;
      throw new InputError(path, lineNo, undefined, `kinship row ${rows.length + 1} has ${f.length} values, expected ${n} (${why})`);
    }
    if (rows.length >= n) throw new InputError(path, lineNo, undefined, `kinship has more than ${n} rows: expected an ${n} x ${n} matrix`);
    rows.push(Float64Array.from(f, (v, j) => {
      if (v === 'NA') throw new InputError(path, lineNo, j + 1, `kinship entry K[${rows.length + 1},${j + 1}] is NA: a kinship has no missing entries`);
      return parseNumberField(v, path, lineNo, j + 1, 'kinship entry');
    }));
    lineNos.push(lineNo);
  }
  const n = rows.length === 0 ? 0 : rows[0]!.length;
  if (rows.length !== n || n === 0) {
    throw new InputError(path, undefined, undefined, `kinship has ${rows.length} rows of ${n} values: expected a square n x n matrix${expectedN !== undefined ? ` with n = ${expectedN}` : ''}`);
  }
  const k = f64Matrix(n, n);
  rows.forEach((r, i) => {
    for (let j = 0; j < n; j++) k.data[i + j * n] = r[j]!;
  });
  checkKinship(k, path, expectedN, (i, j) => ({ line: lineNos[i]!, column: j + 1 }));
  return k;
}

/** Reads the gpulmm binary kinship (see the module comment), checking magic, version and size. */
export async function readKinshipBinary(path: string, expectedN?: number): Promise<F64Matrix> {
  const bytes = await readInput(path);
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== KINSHIP_MAGIC) {
    throw new InputError(path, undefined, undefined, `not a gpulmm binary kinship: expected magic "gpulmmK\\0" at byte 0`);
  }
  const version = bytes.readUInt32LE(8);
  if (version !== KINSHIP_VERSION) throw new InputError(path, undefined, undefined, `binary kinship format version ${version}, expected ${KINSHIP_VERSION}`);
  const n = bytes.readUInt32LE(12);
  const want = HEADER_BYTES + 8 * n * n;
  if (bytes.length !== want) throw new InputError(path, undefined, undefined, `binary kinship header says n = ${n}, so ${want} bytes, but the file has ${bytes.length} bytes (truncated or corrupt)`);
  const data = new Float64Array(n * n);
  Buffer.from(data.buffer).set(bytes.subarray(HEADER_BYTES));
  const k = f64Matrix(n, n, data);
  checkKinship(k, path, expectedN, (i, j) => ({ byteOffset: HEADER_BYTES + 8 * (i + j * n) }));
  return k;
}

/** True when the file starts with the binary kinship magic. */
export async function isBinaryKinship(path: string): Promise<boolean> {
  return (await readFileHead(path, 8)).toString('latin1') === KINSHIP_MAGIC;
}

/** Reads a kinship in either format (binary recognised by its magic; otherwise GEMMA text, plain or gzip). */
export async function readKinship(path: string, expectedN?: number): Promise<F64Matrix> {
  return (await isBinaryKinship(path)) ? readKinshipBinary(path, expectedN) : readKinshipText(path, expectedN);
}

/** Writes a kinship atomically (temporary name, renamed when complete) in GEMMA text or the binary format. */
export async function writeKinship(path: string, k: F64Matrix, format: KinshipFormat = 'gemma'): Promise<void> {
  if (k.rows !== k.cols) throw new RangeError(`writeKinship: kinship must be square, got ${shapeOf(k)}`);
  const n = k.rows;
  const out = await openAtomic(path);
  try {
    if (format === 'binary') {
      const header = Buffer.alloc(HEADER_BYTES);
      header.write(KINSHIP_MAGIC, 0, 'latin1');
      header.writeUInt32LE(KINSHIP_VERSION, 8);
      header.writeUInt32LE(n, 12);
      await out.write(header);
      for (let j = 0; j < n; j++) {
        const col = Float64Array.from(k.data.subarray(j * k.ld, j * k.ld + n));
        await out.write(new Uint8Array(col.buffer));
      }
    } else {
      await writeTextRows(out, k);
    }
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/** Rows per block of the text writer (a block's text is formatted on one thread). */
const TEXT_ROWS = 32;
/** Blocks a helper may hold ahead of the one being written (bounds the copies in flight). */
const TEXT_AHEAD = 4;
const FORMAT_WORKER = new URL('./kinship-format-worker.js', import.meta.url);

/**
 * The GEMMA text of k, block of TEXT_ROWS rows by block, in order: with T threads (the `threads` flag) blocks
 * b = t mod T go to helper thread t of the process pool (its rows copied, formatted there by
 * src/io/kinship-format-worker.ts) and the rest are formatted here; the bytes are those of {@link formatG}
 * whichever thread formats them (src/io/format-g.ts). Helpers run only from the compiled module (dist/).
 */
async function writeTextRows(out: AtomicFile, k: F64Matrix): Promise<void> {
  const n = k.rows;
  const blocks = Math.ceil(n / TEXT_ROWS);
  const pool = getFlag('threads') > 1 && blocks > 1 && existsSync(fileURLToPath(FORMAT_WORKER)) ? commonPool() : undefined;
  const helpers = pool?.helpers ?? 0;
  const here = (b: number): boolean => b % (helpers + 1) === helpers;
  const buffer = new Uint8Array(TEXT_ROWS * n * MAX_G_BYTES);
  const inFlight = new Map<number, Promise<{ bytes: Uint8Array }>>();
  let dispatched = 0;
  try {
    for (let b = 0; b < blocks; b++) {
      for (; pool && dispatched < blocks && dispatched <= b + TEXT_AHEAD * (helpers + 1); dispatched++) {
        if (here(dispatched)) continue;
        const i0 = dispatched * TEXT_ROWS, rows = Math.min(TEXT_ROWS, n - i0);
        const block = new Float64Array(rows * n);
        for (let j = 0; j < n; j++) block.set(k.data.subarray(i0 + j * k.ld, i0 + j * k.ld + rows), j * rows);
        inFlight.set(dispatched, pool.runModuleTask(dispatched % (helpers + 1), FORMAT_WORKER.href, 'formatRows', [block, rows, n], [block.buffer]));
      }
      const i0 = b * TEXT_ROWS;
      if (here(b)) {
        await out.write(buffer.slice(0, writeRowsG(k.data, k.ld, n, i0, Math.min(n, i0 + TEXT_ROWS), buffer)));
      } else {
        await out.write((await inFlight.get(b)!).bytes);
        inFlight.delete(b);
      }
    }
  } finally {
    await Promise.allSettled(inFlight.values());
  }
}
