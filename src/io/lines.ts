/**
 * Streaming line reader for plain or gzip-compressed text. Gzip is recognised by its magic bytes (1f 8b), not
 * by the file name; concatenated gzip members (bgzip) are read through. Memory is bounded by the chunk size, not
 * the file size.
 */
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';
import { inputReadStream, openInput } from './input-file.js';

/** One line of text without its terminator ("\n" or "\r\n"), with its 1-based line number. */
export interface NumberedLine {
  line: string;
  lineNo: number;
}

const CHUNK_BYTES = 1 << 20;

/** The first `bytes` bytes of a file (fewer if it is shorter). Throws InputError naming the file if it cannot be opened. */
export async function readFileHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await openInput(path);
  try {
    const head = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(head, 0, bytes, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** True when the file starts with the gzip magic bytes 1f 8b. Throws InputError if it cannot be opened. */
export async function isGzipFile(path: string): Promise<boolean> {
  const head = await readFileHead(path, 2);
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Lines of a text file in blocks: each yielded array holds the complete lines decoded from one ~1 MiB chunk.
 * `firstLineNo` is the 1-based number of the block's first line. UTF-8 (a leading BOM is dropped); "\r\n" and
 * "\n" both end a line; a last line without a terminator is kept. Cost O(bytes), no per-line regex.
 */
export async function* readLineBlocks(path: string): AsyncGenerator<{ lines: string[]; firstLineNo: number }> {
  const gz = await isGzipFile(path);
  const raw = await inputReadStream(path, { highWaterMark: CHUNK_BYTES });
  const source = gz ? raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
  if (gz) raw.on('error', (e) => source.destroy(e));
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 1;
  let first = true;
  const split = (text: string, final: boolean): string[] => {
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      lines.push(text.slice(start, end));
      start = nl + 1;
    }
    carry = text.slice(start);
    if (final && carry !== '') {
      lines.push(carry.charCodeAt(carry.length - 1) === 13 ? carry.slice(0, -1) : carry);
      carry = '';
    }
    return lines;
  };
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let text = carry + decoder.write(chunk);
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const lines = split(text, false);
      if (lines.length > 0) {
        yield { lines, firstLineNo: lineNo };
        lineNo += lines.length;
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new InputError(path, undefined, undefined, gz ? `corrupt gzip data: ${err.message}` : `cannot read: ${err.code ?? err.message}`);
  }
  const lines = split(carry + decoder.end(), true);
  if (lines.length > 0) yield { lines, firstLineNo: lineNo };
}

/**
 * Every line of a plain or gzip text file with its 1-based line number (see readLineBlocks for the rules).
 * Errors (missing file, corrupt gzip) are InputErrors naming the file.
 */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  for await (const { lines, firstLineNo } of readLineBlocks(path)) {
    for (let i = 0; i < lines.length; i++) yield { line: lines[i]!, lineNo: firstLineNo + i };
  }
}
