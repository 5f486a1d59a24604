/** Small file manglers for the hostile catalogue: each rewrites a copied input in place. */
import { execFileSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';

/** Keeps the first `share` of the file's bytes. */
export function truncateTo(file: string, share: number): void {
  truncateSync(file, Math.floor(readFileSync(file).byteLength * share));
}

/** Overwrites `length` bytes at `share` of the file with a fixed non-zero pattern. */
export function scribble(file: string, share: number, length = 256): void {
  const b = readFileSync(file);
  const at = Math.floor(b.byteLength * share);
  for (let k = 0; k < length && at + k < b.byteLength; k++) b[at + k] = (0x5a + 37 * k) & 0xff;
  writeFileSync(file, b);
}

/** Sets the little-endian 32-bit word at byte `offset` (a binary header field). */
export function setUint32(file: string, offset: number, value: number): void {
  const b = readFileSync(file);
  b.writeUInt32LE(value, offset);
  writeFileSync(file, b);
}

/** Rewrites the text lines of a file: `fn(line, index)` returns the new line (or null to drop it). */
export function editLines(file: string, fn: (line: string, i: number) => string | null): void {
  const text = readFileSync(file, 'utf8');
  const lines = text.replace(/\n$/, '').split('\n');
  const out = lines.map(fn).filter((l): l is string => l !== null);
  writeFileSync(file, out.join('\n') + '\n');
}

/** Line endings CRLF. */
export function toCrlf(file: string): void {
  writeFileSync(file, readFileSync(file, 'utf8').replace(/\r?\n/g, '\r\n'));
}

/** A UTF-8 byte-order mark in front. */
export function addBom(file: string): void {
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(file)]));
}

/** A FIFO at `path` (mkfifo). */
export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}
