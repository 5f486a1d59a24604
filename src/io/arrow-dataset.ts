/**
 * A result table as a hive-partitioned Arrow IPC *file* dataset: one directory level per partition column
 * (`DIR/pheno=p1/chr=1/part-0.arrow`), one IPC file (Feather v2, uncompressed, with its footer for random access)
 * per partition, the partition columns carried by the folder names and not repeated inside the files (the hive
 * convention: pyarrow.dataset and R arrow's open_dataset refuse a partition field that is also a file column of
 * another type). polars `scan_ipc("DIR")`, `pyarrow.dataset.dataset("DIR", format="ipc", partitioning="hive")`
 * and R `arrow::open_dataset("DIR", format = "arrow")` read the directory as one table.
 *
 * Written atomically as a whole (atomic-file.ts, openAtomicDir): the files go to a hidden directory next to
 * DIR, renamed to DIR when every file is complete; a failed or killed run leaves no DIR that looks complete.
 * Rows are routed to partitions in order; memory holds one batch plus a few bytes per partition (the footer's
 * batch index), and at most `maxOpenFiles` file handles stay open.
 */
import { RecordBatchFileWriter, type Schema } from 'apache-arrow';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { arrowSchema, ByteCollector, sliceBatch, toRecordBatch, type ArrowBatch, type ArrowColumnSpec } from './arrow-batch.js';
import { openAtomicDir, type AtomicDir } from './atomic-file.js';

/** Layout of the dataset. */
export interface ArrowDatasetOptions {
  /** Every column of the table, partition columns included (those must be utf8). */
  columns: ArrowColumnSpec[];
  /** Partition columns, outermost folder level first (e.g. ['pheno', 'chr']); at least one. */
  partitionBy: string[];
  /** Key/value metadata stored in the schema of every file. */
  metadata?: Record<string, string>;
  /** File name inside each partition folder (default `part-0.arrow`); must end in `.arrow`. */
  fileName?: string;
  /** File handles kept open at once (default 32); others are closed and reopened for appending. */
  maxOpenFiles?: number;
}

/** One partition's file. */
interface PartitionFile {
  /** Path relative to the dataset root (`pheno=p1/chr=1/part-0.arrow`). */
  rel: string;
  writer: RecordBatchFileWriter;
  sink: ByteCollector;
  fh: FileHandle | undefined;
  created: boolean;
  rows: number;
}

/** Hive's folder name for a null or empty partition value (read back as null). */
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/**
 * A partition value as a folder name component: ASCII letters, digits, `.`, `_` and `-` kept, every other
 * UTF-8 byte percent-encoded (`CD14+ Mono` -> `CD14%2B%20Mono`; readers URL-decode hive values); null or ''
 * -> HIVE_NULL.
 */
export function encodePartitionValue(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return HIVE_NULL;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Whether `dir` holds only what an ArrowDatasetWriter with these partition columns writes (nested `key=value`
 * folders in `partitionBy` order, `.arrow` files at the leaves; names starting with `_` or `.` are allowed at
 * the top, as markers like `_SUCCESS`), so that replacing it loses nothing else. An empty directory qualifies.
 */
export async function isArrowDataset(dir: string, partitionBy: readonly string[]): Promise<boolean> {
  const walk = async (path: string, depth: number): Promise<boolean> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) {
      if (depth === 0 && (e.name.startsWith('_') || e.name.startsWith('.')) && e.isFile()) continue;
      if (depth < partitionBy.length) {
        if (!e.isDirectory() || !e.name.startsWith(`${partitionBy[depth]}=`)) return false;
        if (!(await walk(join(path, e.name), depth + 1))) return false;
      } else if (!e.isFile() || !e.name.endsWith('.arrow')) {
        return false;
      }
    }
    return true;
  };
  return walk(dir, 0);
}

/**
 * Writes a partitioned Arrow IPC file dataset (see the module comment): `open`, `write` per batch (rows routed
 * to their partition's file in order), `close` (footers, fsync, atomic rename of the directory) or `abort`
 * (nothing left behind). Not safe for concurrent writes: await each call.
 */
export class ArrowDatasetWriter {
  private readonly partitions = new Map<string, PartitionFile>();
  /** Partitions with an open handle, least recently used first. */
  private readonly openFiles = new Map<string, PartitionFile>();
  private rows = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';

  private constructor(
    private readonly dir: AtomicDir,
    private readonly schema: Schema,
    private readonly fileColumns: ArrowColumnSpec[],
    private readonly partitionBy: string[],
    private readonly fileName: string,
    private readonly maxOpenFiles: number,
  ) {}

  /**
   * Prepares `path` (a directory; created with its parents). An existing `path` is replaced at close() only if
   * it holds nothing but such a dataset (isArrowDataset), else UsageError now, before any work.
   */
  static async open(path: string, options: ArrowDatasetOptions): Promise<ArrowDatasetWriter> {
    const { columns, partitionBy, metadata = {}, fileName = 'part-0.arrow', maxOpenFiles = 32 } = options;
    const who = `ArrowDatasetWriter.open(${path})`;
    if (!Array.isArray(partitionBy) || partitionBy.length === 0) throw new TypeError(`${who}: expected at least one partition column`);
    for (const p of partitionBy) {
      const c = columns.find((col) => col.name === p);
      if (!c) throw new TypeError(`${who}: partition column "${p}" is not among the columns`);
      if (c.type !== 'utf8') throw new TypeError(`${who}: partition column "${p}" must be utf8, got ${c.type}`);
    }
    if (new Set(partitionBy).size !== partitionBy.length) throw new TypeError(`${who}: duplicate partition column`);
    if (!/^[^/\\_.][^/\\]*\.arrow$/.test(fileName)) throw new TypeError(`${who}: fileName must be a plain name ending in .arrow (not starting with _ or .), got "${fileName}"`);
    if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 1) throw new TypeError(`${who}: maxOpenFiles must be a positive integer, got ${maxOpenFiles}`);
    const fileColumns = columns.filter((c) => !partitionBy.includes(c.name));
    if (fileColumns.length === 0) throw new TypeError(`${who}: every column is a partition column; the files would have none`);
    const schema = arrowSchema(fileColumns, metadata, who);
    const dir = await openAtomicDir(path, (existing) => isArrowDataset(existing, partitionBy));
    return new ArrowDatasetWriter(dir, schema, fileColumns, [...partitionBy], fileName, maxOpenFiles);
  }

  /** Final directory. */
  get path(): string {
    return this.dir.path;
  }

  /** Rows written so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** The files written so far (paths relative to the dataset root) and their row counts, in creation order. */
  get files(): { path: string; rows: number }[] {
    return [...this.partitions.values()].map((p) => ({ path: p.rel, rows: p.rows }));
  }

  /**
   * Appends the rows of `batch` (every column, partition columns as one string per row) to their partitions'
   * files, one record batch per run of consecutive rows with the same partition; resolves when the bytes are
   * written (backpressure). Throws TypeError for a missing, extra, mistyped or wrong-length column. O(rows).
   */
  async write(batch: ArrowBatch): Promise<void> {
    if (this.state !== 'open') throw new Error(`ArrowDatasetWriter.write(${this.path}): dataset already ${this.state}`);
    const who = `ArrowDatasetWriter.write(${this.path})`;
    const keys = this.partitionBy.map((p) => {
      const v = batch[p];
      if (!Array.isArray(v)) throw new TypeError(`${who}: partition column "${p}" must be given as an array of strings`);
      return v as readonly (string | null)[];
    });
    const rest: ArrowBatch = {};
    for (const [name, v] of Object.entries(batch)) if (!this.partitionBy.includes(name)) rest[name] = v;
    const n = keys[0]!.length;
    for (const [j, k] of keys.entries()) {
      if (k.length !== n) throw new TypeError(`${who}: column "${this.partitionBy[j]}" has ${k.length} rows, "${this.partitionBy[0]}" has ${n}`);
    }
    // Validate the whole batch once (types, lengths, names) before anything is written.
    const whole = toRecordBatch(this.schema, this.fileColumns, rest, who);
    if (whole.numRows !== n) throw new TypeError(`${who}: partition columns have ${n} rows, the others ${whole.numRows}`);
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && keys.every((k) => k[i] === k[start])) continue;
      const rb = start === 0 && i === n ? whole : toRecordBatch(this.schema, this.fileColumns, sliceBatch(rest, start, i), who);
      const file = await this.partition(keys.map((k) => k[start] ?? null));
      file.writer.write(rb);
      await this.append(file, file.sink.take());
      file.rows += i - start;
      start = i;
    }
    this.rows += n;
  }

  /** Writes every file's footer, fsyncs and closes the files, and renames the directory into place. */
  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error(`ArrowDatasetWriter.close(${this.path}): dataset already ${this.state}`);
    try {
      for (const file of this.partitions.values()) {
        file.writer.finish();
        await this.append(file, file.sink.take());
        await file.fh!.sync();
        await this.release(file);
      }
      await this.dir.commit();
      this.state = 'closed';
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Closes the files and removes the temporary directory; an existing dataset at the path is left untouched. */
  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    this.state = 'aborted';
    for (const file of this.openFiles.values()) await file.fh?.close().catch(() => undefined);
    this.openFiles.clear();
    await this.dir.abort();
  }

  /** The file of one partition (created on first use, its schema message written). */
  private async partition(values: (string | null)[]): Promise<PartitionFile> {
    const key = values.map((v) => (v === null ? '\u0000' : v)).join('\u0001');
    let file = this.partitions.get(key);
    if (!file) {
      const folders = this.partitionBy.map((p, j) => `${p}=${encodePartitionValue(values[j])}`);
      const sink = new ByteCollector();
      const writer = new RecordBatchFileWriter({ compressionType: null });
      writer.reset(sink, this.schema);
      file = { rel: [...folders, this.fileName].join('/'), writer, sink, fh: undefined, created: false, rows: 0 };
      this.partitions.set(key, file);
      await mkdir(join(this.dir.tempPath, ...folders), { recursive: true });
      await this.append(file, sink.take());
    }
    return file;
  }

  /** Appends bytes to a partition's file, opening its handle (and closing the least recently used) as needed. */
  private async append(file: PartitionFile, bytes: Uint8Array): Promise<void> {
    if (!file.fh) {
      while (this.openFiles.size >= this.maxOpenFiles) await this.release(this.openFiles.values().next().value!);
      file.fh = await open(join(this.dir.tempPath, file.rel), file.created ? 'a' : 'wx');
      file.created = true;
    } else {
      this.openFiles.delete(file.rel);
    }
    this.openFiles.set(file.rel, file);
    let off = 0;
    while (off < bytes.byteLength) off += (await file.fh.write(bytes, off, bytes.byteLength - off)).bytesWritten;
  }

  private async release(file: PartitionFile): Promise<void> {
    this.openFiles.delete(file.rel);
    const fh = file.fh;
    file.fh = undefined;
    await fh?.close();
  }
}
