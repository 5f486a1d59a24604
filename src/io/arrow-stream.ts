/**
 * Arrow IPC writer for one result table (one row per SNP or gene) in one file: the IPC *stream* format (`.arrows`,
 * read front to back) or the IPC *file* format (`.arrow`, Feather v2: the stream framed by a magic number and a
 * footer that indexes every batch, so readers seek to any batch and polars/pyarrow/R arrow map it lazily).
 * One record batch per write(), flushed to disk as soon as it is written so that a reader of the temporary
 * stream can follow progress; the finished file is renamed into place on close() (see atomic-file.ts). Bodies
 * are uncompressed: apache-arrow 21.2.0 writes compressed IPC that other readers reject.
 */
import { RecordBatchFileWriter, RecordBatchStreamWriter, type Schema } from 'apache-arrow';
import { arrowSchema, ByteCollector, toRecordBatch, type ArrowBatch, type ArrowColumnSpec } from './arrow-batch.js';
import { openAtomic, type AtomicFile } from './atomic-file.js';

export type { ArrowBatch, ArrowColumnSpec, ArrowColumnType } from './arrow-batch.js';

/** Schema and layout of the file. */
export interface ArrowStreamOptions {
  columns: ArrowColumnSpec[];
  /** Schema-level key/value metadata (tool version, command line, model, ...). */
  metadata?: Record<string, string>;
  /** 'stream' (default): IPC stream; 'file': IPC file with its footer (random access). */
  format?: 'stream' | 'file';
}

/**
 * Writes an Arrow IPC stream or file: `open` (schema), `write` per batch (flushed), `close` (end-of-stream marker
 * or footer, atomic rename) or `abort` (nothing left behind). Not safe for concurrent writes: await each call.
 */
export class ArrowStreamWriter {
  private rows = 0;

  private constructor(
    private readonly file: AtomicFile,
    private readonly schema: Schema,
    private readonly columns: ArrowColumnSpec[],
    private readonly writer: RecordBatchStreamWriter | RecordBatchFileWriter,
    private readonly sink: ByteCollector,
  ) {}

  /** Creates `path` (through a temporary name) and writes the schema message. Column names must be unique. */
  static async open(path: string, options: ArrowStreamOptions): Promise<ArrowStreamWriter> {
    const { columns, metadata = {}, format = 'stream' } = options;
    if (format !== 'stream' && format !== 'file') throw new TypeError(`ArrowStreamWriter.open(${path}): format must be 'stream' or 'file', got ${String(format)}`);
    const schema = arrowSchema(columns, metadata, `ArrowStreamWriter.open(${path})`);
    const file = await openAtomic(path);
    const sink = new ByteCollector();
    const writer = format === 'file' ? new RecordBatchFileWriter({ compressionType: null }) : new RecordBatchStreamWriter({ compressionType: null });
    writer.reset(sink, schema);
    await file.write(sink.take());
    await file.flush();
    return new ArrowStreamWriter(file, schema, columns, writer, sink);
  }

  /** Rows written so far. */
  get rowCount(): number {
    return this.rows;
  }

  /**
   * Appends one record batch and flushes it to disk; resolves when the bytes are written (backpressure).
   * Throws TypeError for a missing, extra, mistyped or wrong-length column. Cost O(rows) plus one copy.
   */
  async write(batch: ArrowBatch): Promise<void> {
    const rb = toRecordBatch(this.schema, this.columns, batch, `ArrowStreamWriter.write(${this.file.path})`);
    this.writer.write(rb);
    await this.file.write(this.sink.take());
    await this.file.flush();
    this.rows += rb.numRows;
  }

  /** Writes the end-of-stream marker (and the footer of an IPC file) and renames the file into place. */
  async close(): Promise<void> {
    this.writer.finish();
    await this.file.write(this.sink.take());
    await this.file.commit();
  }

  /** Discards the partial file; the destination is left untouched. */
  async abort(): Promise<void> {
    await this.file.abort();
  }
}
