/**
 * Lines of a plain, gzip or BGZF (bgzip) text file as byte ranges, batch by batch, each line with its 1-based
 * number and, where the file allows seeking, its virtual offset:
 *   plain  the byte offset of the line;
 *   BGZF   coffset * 65536 + uoffset (the file offset of the BGZF block holding the line's first byte, and the
 *          byte's offset in that block's decompressed data: the htslib/tabix convention);
 *   gzip   -1 (a gzip member cannot be entered in the middle).
 * BGZF blocks are decompressed on the libuv thread pool, up to {@link BGZF_AHEAD} blocks ahead of the consumer, so
 * decompression runs beside the parsing. Each block's CRC and length are checked (zlib's gunzip of the member).
 * Memory: the read-ahead blocks (64 KiB each) plus the longest line.
 */
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { InputError } from '../errors.js';
import { inputReadStream, openInput } from './input-file.js';

const gunzipAsync = promisify(gunzip);
/** Output chunk of one BGZF block's decompression: a block holds at most 64 KiB, so one native call per block. */
const BLOCK_OUT = { chunkSize: 1 << 17 };

/** BGZF blocks decompressed ahead of the line consumer. */
export const BGZF_AHEAD = 16;
const READ_BYTES = 4 << 20;

/** How a text file is stored. */
export type TextCompression = 'plain' | 'gzip' | 'bgzf';

/** Where reading starts: a virtual offset (see the file comment) and the line number of the line found there. */
export interface LineStart {
  virtualOffset: number;
  lineNo: number;
}

/** Complete lines: line k is buf[starts[k], ends[k]) (terminator and a trailing CR excluded). */
export interface LineBatch {
  buf: Buffer;
  starts: number[];
  ends: number[];
  /** Virtual offset of each line (-1 for gzip). */
  offsets: number[];
  /** Line number of the first line. */
  firstLineNo: number;
}

/** Plain, gzip or BGZF, from the first 18 bytes (gzip magic 1f 8b; BGZF adds the 'BC' extra subfield). */
export async function textCompression(path: string): Promise<TextCompression> {
  const fh = await openOrThrow(path);
  try {
    const head = Buffer.alloc(18);
    const { bytesRead } = await fh.read(head, 0, 18, 0);
    if (bytesRead < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return 'plain';
    return bytesRead === 18 && (head[3]! & 4) !== 0 && head[12] === 66 && head[13] === 67 ? 'bgzf' : 'gzip';
  } finally {
    await fh.close();
  }
}

async function openOrThrow(path: string): Promise<FileHandle> {
  return openInput(path);
}

/** A chunk of decompressed text and the virtual offset of its first byte's block (BGZF), byte (plain) or -1. */
interface TextChunk {
  data: Buffer;
  /** BGZF: coffset of the block; plain: byte offset of data[0]; gzip: -1. */
  at: number;
  /** BGZF: coffset of the next block. */
  next?: number;
}

/**
 * The decompressed BGZF blocks from file offset `coffset` on, in order. InputError at the block's byte offset for
 * a bad header, a truncated block or bad deflate data / CRC.
 */
export async function* bgzfBlocks(path: string, coffset = 0): AsyncGenerator<TextChunk> {
  const fh = await openOrThrow(path);
  const size = (await fh.stat()).size;
  let chunk = Buffer.alloc(0);
  let chunkAt = coffset;
  let pos = coffset;
  /** The raw bytes of the block at `pos` (a view into a freshly read chunk, safe to hand to the thread pool). */
  const takeBlock = async (): Promise<Buffer> => {
    const need = async (n: number): Promise<void> => {
      if (pos + n <= chunkAt + chunk.length) return;
      const len = Math.max(n, Math.min(READ_BYTES, size - pos));
      const fresh = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(fresh, got, len - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      chunk = fresh.subarray(0, got);
      chunkAt = pos;
      if (got < n) throw InputError.atByte(path, pos, `truncated BGZF block: needs ${n} bytes, the file ends after ${got}`);
    };
    await need(18);
    let h = chunk.subarray(pos - chunkAt);
    if (h[0] !== 0x1f || h[1] !== 0x8b || h[2] !== 8 || (h[3]! & 4) === 0) throw InputError.atByte(path, pos, 'not a BGZF block (expected gzip magic 1f 8b 08 with the FEXTRA flag)');
    const xlen = h.readUInt16LE(10);
    await need(12 + xlen);
    h = chunk.subarray(pos - chunkAt);
    let bsize = -1;
    for (let x = 12; x + 4 <= 12 + xlen; x += 4 + h.readUInt16LE(x + 2)) {
      if (h[x] === 66 && h[x + 1] === 67 && h.readUInt16LE(x + 2) === 2) bsize = h.readUInt16LE(x + 4) + 1;
    }
    if (bsize < 0) throw InputError.atByte(path, pos, "not a BGZF block (no 'BC' extra subfield): recompress with bgzip");
    await need(bsize);
    const block = chunk.subarray(pos - chunkAt, pos - chunkAt + bsize);
    pos += bsize;
    return block;
  };
  const queue: { at: number; next: number; data: Promise<Buffer> }[] = [];
  try {
    for (;;) {
      while (queue.length < BGZF_AHEAD && pos < size) {
        const at = pos;
        const data = gunzipAsync(await takeBlock(), BLOCK_OUT);
        data.catch(() => undefined); // awaited in order below; this only marks it handled meanwhile
        queue.push({ at, next: pos, data });
      }
      const next = queue.shift();
      if (!next) return;
      let data: Buffer;
      try {
        data = await next.data;
      } catch (e) {
        throw InputError.atByte(path, next.at, `bad BGZF block: ${(e as Error).message}`);
      }
      if (data.length > 0) yield { data, at: next.at, next: next.next };
    }
  } finally {
    await fh.close();
  }
}

/** Plain text from byte `from` on, in 4 MiB chunks. */
async function* plainChunks(path: string, from: number): AsyncGenerator<TextChunk> {
  const fh = await openOrThrow(path);
  try {
    for (let pos = from; ; ) {
      const buf = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await fh.read(buf, 0, READ_BYTES, pos);
      if (bytesRead === 0) return;
      yield { data: buf.subarray(0, bytesRead), at: pos };
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** A (non-BGZF) gzip file, decompressed as a stream. */
async function* gzipChunks(path: string): AsyncGenerator<TextChunk> {
  const raw = await inputReadStream(path, { highWaterMark: READ_BYTES });
  const gz = raw.pipe(createGunzip({ chunkSize: 1 << 20 }));
  raw.on('error', (e) => gz.destroy(e));
  try {
    for await (const data of gz as AsyncIterable<Buffer>) yield { data, at: -1 };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(path, undefined, undefined, err.code?.startsWith('Z_') ? `corrupt gzip data: ${err.message}` : `cannot read: ${err.code ?? err.message}`);
  } finally {
    raw.destroy(); // a reader that stops early (a header) closes the file now, not at garbage collection
  }
}

/**
 * The lines of a text file from `start` (default: the beginning) in batches. `compression` as found by
 * {@link textCompression}; starting anywhere but the beginning needs plain or BGZF. Cost O(bytes) plus one copy of
 * each line that spans chunks.
 */
export async function* lineBatches(path: string, compression: TextCompression, start?: LineStart): AsyncGenerator<LineBatch> {
  const vo = start?.virtualOffset ?? 0;
  if (vo !== 0 && compression === 'gzip') throw new RangeError(`${path}: a gzip (not bgzip) file cannot be read from the middle`);
  const bgzf = compression === 'bgzf';
  const skip = bgzf ? vo % 65536 : 0;
  const chunks = bgzf ? bgzfBlocks(path, Math.floor(vo / 65536)) : compression === 'plain' ? plainChunks(path, vo) : gzipChunks(path);
  let lineNo = start?.lineNo ?? 1;
  // A partial line carried over from earlier chunks, and the virtual offset of its first byte.
  let carry: Buffer[] = [];
  let carryOffset = -1;
  let first = true;
  for await (const { data: raw, at } of chunks) {
    let data = raw;
    let base = 0; // offset of data[0] within its BGZF block (or within the plain chunk)
    if (first) {
      first = false;
      if (skip > 0) {
        data = data.subarray(skip);
        base = skip;
      }
    }
    const offsetOf = (i: number): number => (at < 0 ? -1 : bgzf ? at * 65536 + base + i : at + base + i);
    const batch: LineBatch = { buf: data, starts: [], ends: [], offsets: [], firstLineNo: lineNo };
    let from = 0;
    let nl = data.indexOf(10);
    if (nl >= 0 && carry.length > 0) {
      // Complete the carried line: it becomes a batch of its own.
      const line = Buffer.concat([...carry, data.subarray(0, nl)]);
      const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
      yield { buf: line, starts: [0], ends: [end], offsets: [carryOffset], firstLineNo: lineNo };
      lineNo++;
      batch.firstLineNo = lineNo;
      carry = [];
      from = nl + 1;
      nl = data.indexOf(10, from);
    }
    for (; nl >= 0; nl = data.indexOf(10, from)) {
      batch.starts.push(from);
      batch.ends.push(nl > from && data[nl - 1] === 13 ? nl - 1 : nl);
      batch.offsets.push(offsetOf(from));
      from = nl + 1;
    }
    if (batch.starts.length > 0) {
      yield batch;
      lineNo += batch.starts.length;
    }
    if (from < data.length) {
      if (carry.length === 0) carryOffset = offsetOf(from);
      carry.push(Buffer.from(data.subarray(from)));
    }
  }
  if (carry.length > 0) {
    const line = Buffer.concat(carry);
    const end = line[line.length - 1] === 13 ? line.length - 1 : line.length;
    yield { buf: line, starts: [0], ends: [end], offsets: [carryOffset], firstLineNo: lineNo };
  }
}
