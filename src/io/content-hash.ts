/**
 * Names by content: SHA-256 of canonical JSON (object keys sorted, so equal values hash equally whatever the
 * key order) and content fingerprints of files (size and SHA-256 of the bytes; never the path or the
 * modification time, which differ between the machines of a cluster).
 *
 * A file up to {@link FULL_HASH_MAX_BYTES} is hashed whole (O(size) at the disk's or SHA-256's speed, about
 * 1-2 GB/s). A larger file is fingerprinted by its size and 65 windows of 64 KiB spread evenly over it
 * (`scope: 'sampled'`): a change inside the unsampled bytes of a file over 1 GiB that keeps its size is not
 * seen; everything else is.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';

/** Files up to this size are hashed whole; larger ones by sampled windows. */
export const FULL_HASH_MAX_BYTES = 2 ** 30;
const WINDOW_BYTES = 64 * 1024;
const WINDOWS = 65;

/** JSON text of `v` with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** SHA-256 (hex) of the canonical JSON of `v`. */
export function hashJson(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex');
}

/** SHA-256 (hex) of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What identifies a file's content. */
export interface ContentFingerprint {
  size: number;
  /** SHA-256 of every byte (`full`), or of the size and the sampled windows (`sampled`). */
  sha256: string;
  scope: 'full' | 'sampled';
}

/**
 * The content fingerprint of `path` (see the file comment). Throws an InputError naming the file when it
 * cannot be read.
 */
export async function contentFingerprint(path: string): Promise<ContentFingerprint> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new InputError(path, undefined, undefined, 'not a regular file');
    size = s.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(path, undefined, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (size <= FULL_HASH_MAX_BYTES) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return { size, sha256: hash.digest('hex'), scope: 'full' };
  }
  // Step: size, then windows at evenly spaced offsets (the first at 0, the last ending at the end of the file).
  const hash = createHash('sha256');
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(size));
  hash.update(head);
  const buf = Buffer.alloc(WINDOW_BYTES);
  const fh = await open(path, 'r');
  try {
    for (let w = 0; w < WINDOWS; w++) {
      const at = Math.floor((w * (size - WINDOW_BYTES)) / (WINDOWS - 1));
      const { bytesRead } = await fh.read(buf, 0, WINDOW_BYTES, at);
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return { size, sha256: hash.digest('hex'), scope: 'sampled' };
}
