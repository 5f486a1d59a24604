/**
 * A tab-separated text output written atomically (atomic-file.ts): a header row, then rows appended as lines and
 * handed to the file 4096 or more at a time (one write per batch of rows, not per row). Nothing stands at the path
 * until close(); abort() leaves nothing. Memory: the rows waiting, at most one caller's batch past 4096.
 */
import { openAtomic, type AtomicFile } from './atomic-file.js';

/** Rows waiting before a write. */
const FLUSH_LINES = 4096;

/** Header, rows (`push`, then `flushIfFull` after each batch), `close` commits, `abort` removes. */
export class TsvOutput {
  private lines: string[] = [];
  private constructor(private readonly file: AtomicFile) {}

  /** Opens `path` (through a temporary name) and writes the header row `columns`. */
  static async open(path: string, columns: readonly string[]): Promise<TsvOutput> {
    const out = new TsvOutput(await openAtomic(path));
    await out.file.write(`${columns.join('\t')}\n`);
    return out;
  }

  /** Appends one row, already tab-separated, without its newline. */
  push(line: string): void {
    this.lines.push(line);
  }

  /** Writes the waiting rows when there are 4096 or more (call after each batch of push). */
  async flushIfFull(): Promise<void> {
    if (this.lines.length >= FLUSH_LINES) await this.flush();
  }

  /** Writes the waiting rows and commits the file to its path. */
  async close(): Promise<void> {
    await this.flush();
    await this.file.commit();
  }

  /** Removes the temporary file; nothing is left at the path. */
  async abort(): Promise<void> {
    await this.file.abort();
  }

  private async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    await this.file.write(`${this.lines.join('\n')}\n`);
    this.lines = [];
  }
}
