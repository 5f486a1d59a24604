/**
 * A text output file, gzip-compressed when its name ends in `.gz`, written atomically (atomic-file.ts) with the
 * MD5 of the bytes on disk computed on the way (what a metadata file that names its data file needs). One
 * gzip member, streamed: memory holds one write plus zlib's window.
 */
import { createHash } from 'node:crypto';
import { createGzip, type Gzip } from 'node:zlib';
import { openAtomic, type AtomicFile } from './atomic-file.js';

/** What close() reports. */
export interface TextOutputSummary {
  /** Bytes on disk (compressed size for .gz). */
  bytes: number;
  /** MD5 of the bytes on disk, hex. */
  md5: string;
}

/** Appends text; `close` commits and reports size and MD5; `abort` leaves nothing. */
export class TextOutput {
  private readonly hash = createHash('md5');
  private bytes = 0;
  private pending: Buffer[] = [];
  private gzipError: Error | undefined;

  private constructor(
    private readonly file: AtomicFile,
    private readonly gzip: Gzip | undefined,
  ) {
    gzip?.on('data', (chunk: Buffer) => this.pending.push(chunk));
    gzip?.on('error', (e: Error) => (this.gzipError = e));
  }

  /** Opens `path` (through a temporary name); gzip when it ends in `.gz`. */
  static async open(path: string): Promise<TextOutput> {
    return new TextOutput(await openAtomic(path), /\.gz$/i.test(path) ? createGzip({ level: 6 }) : undefined);
  }

  get path(): string {
    return this.file.path;
  }

  /** Whether the text goes straight to its destination (a standard stream, a device or FIFO): what is written stays. */
  get inPlace(): boolean {
    return this.file.tempPath === this.file.path;
  }

  /** Appends `text` (UTF-8); resolves when the compressed bytes produced so far are handed to the file. */
  async write(text: string): Promise<void> {
    if (!this.gzip) return this.put(Buffer.from(text, 'utf8'));
    await new Promise<void>((resolve, reject) => this.gzip!.write(text, 'utf8', (e) => (e ? reject(e) : resolve())));
    await this.drain();
  }

  /** Finishes the stream, commits the file and returns its size and MD5. */
  async close(): Promise<TextOutputSummary> {
    if (this.gzip) {
      await new Promise<void>((resolve, reject) => {
        this.gzip!.once('end', resolve);
        this.gzip!.once('error', reject);
        this.gzip!.end();
      });
      await this.drain();
    }
    await this.file.commit();
    return { bytes: this.bytes, md5: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    this.gzip?.destroy();
    await this.file.abort();
  }

  private async drain(): Promise<void> {
    if (this.gzipError) throw this.gzipError;
    const chunks = this.pending;
    this.pending = [];
    for (const c of chunks) await this.put(c);
  }

  private async put(bytes: Buffer): Promise<void> {
    this.hash.update(bytes);
    this.bytes += bytes.byteLength;
    await this.file.write(bytes);
  }
}
