/**
 * Tab-separated text outputs written atomically (atomic-file.ts), one batch of rows at a time: a header row, then
 * each batch's rows as lines, handed to the file 4096 or more at a time (one write per batch of rows, not per
 * row). Nothing stands at the path until close(); abort() leaves nothing. Memory: the rows waiting, at most one
 * batch past 4096. A writer of one layout extends {@link TsvWriter} with the formatting of its rows.
 */
import { openAtomic, type AtomicFile } from './atomic-file.js';

/** Rows waiting before a write. */
const FLUSH_LINES = 4096;

/** Rows of batches B, formatted by the subclass (`formatRows`); `close` commits, `abort` removes. */
export abstract class TsvWriter<B> {
  private lines: string[] = [];
  protected constructor(private readonly file: AtomicFile) {}

  /** Opens `path` (through a temporary name) with the header row `columns` written, for a subclass's constructor. */
  protected static async openWithHeader(path: string, columns: readonly string[]): Promise<AtomicFile> {
    const file = await openAtomic(path);
    await file.write(`${columns.join('\t')}\n`);
    return file;
  }

  /** Appends the rows of `batch` to `rows`: one string per row, tab-separated, without its newline. */
  protected abstract formatRows(batch: B, rows: string[]): void;

  /** Appends the rows of one batch; writes the waiting rows when there are 4096 or more. */
  async write(batch: B): Promise<void> {
    this.formatRows(batch, this.lines);
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
