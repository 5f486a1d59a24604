/**
 * Positioned reads of a binary file through one reusable buffer: `view(pos, len)` returns the bytes
 * [pos, pos + len) as a Buffer view, re-reading only when they are not in the buffer already. Sequential access
 * (the usual case: variant after variant) costs one read per `capacity` bytes. A view is valid until the next
 * call. Memory: max(capacity, the largest view asked for).
 */
import { type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { openInput } from './input-file.js';

export class FileWindow {
  private buf: Buffer;
  /** File offset of buf[0], and how many bytes of buf hold file data. */
  private start = 0;
  private filled = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** File size in bytes. */
    readonly size: number,
    private readonly capacity: number,
  ) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Opens `path` for reading; InputError naming the file when it cannot be opened. */
  static async open(path: string, capacity = 1 << 20): Promise<FileWindow> {
    const handle = await openInput(path);
    const { size } = await handle.stat();
    return new FileWindow(path, handle, size, capacity);
  }

  /** The bytes [pos, pos + len) when they are already in the buffer (no read), else undefined. */
  peek(pos: number, len: number): Buffer | undefined {
    return pos >= this.start && pos + len <= this.start + this.filled ? this.buf.subarray(pos - this.start, pos - this.start + len) : undefined;
  }

  /**
   * The bytes [pos, pos + len). Throws an InputError at byte `pos` naming `what` when the file ends before
   * pos + len (a truncated file).
   */
  async view(pos: number, len: number, what: string): Promise<Buffer> {
    if (pos >= this.start && pos + len <= this.start + this.filled) return this.buf.subarray(pos - this.start, pos - this.start + len);
    if (pos + len > this.size) {
      throw InputError.atByte(this.path, pos, `truncated: ${what} needs ${len} bytes, but the file ends after ${Math.max(0, this.size - pos)} (file size ${this.size})`);
    }
    if (len > this.buf.length) this.buf = Buffer.allocUnsafe(len);
    const want = Math.min(this.buf.length, this.size - pos);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.start = pos;
    this.filled = got;
    if (got < len) throw InputError.atByte(this.path, pos, `truncated: ${what} needs ${len} bytes, read ${got}`);
    return this.buf.subarray(0, len);
  }

  /** Shrinks the buffer back to its capacity (after a large view). */
  release(): void {
    if (this.buf.length > this.capacity) {
      this.buf = Buffer.allocUnsafe(this.capacity);
      this.filled = 0;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
