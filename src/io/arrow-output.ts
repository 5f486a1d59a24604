/**
 * One name for a result table's destination, three Arrow layouts chosen by its spelling:
 * - `FILE.arrows`: IPC stream (read front to back; `pyarrow.ipc.open_stream`, polars `read_ipc_stream`);
 * - `FILE.arrow`: one IPC file (random access; polars `scan_ipc`, `pyarrow.ipc.open_file`, R `read_feather`);
 * - anything else (`DIR/`, `DIR`): a hive-partitioned IPC file dataset (arrow-dataset.ts), one file per
 *   partition, read as one table by polars `scan_ipc("DIR")`, pyarrow.dataset and R arrow's `open_dataset`.
 */
import type { ArrowBatch, ArrowColumnSpec } from './arrow-batch.js';
import { ArrowDatasetWriter, isArrowDataset } from './arrow-dataset.js';
import { stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { ArrowStreamWriter } from './arrow-stream.js';

/** The layout a destination's name asks for. */
export type ArrowOutputKind = 'stream' | 'file' | 'dataset';

/** `.arrows` -> stream, `.arrow` -> file, anything else -> dataset directory. */
export function arrowOutputKind(path: string): ArrowOutputKind {
  if (/\.arrows$/i.test(path)) return 'stream';
  if (/\.arrow$/i.test(path)) return 'file';
  return 'dataset';
}

/** A sibling of the output named after it: `res.arrows` / `res.arrow` / `res/` -> `res` + `suffix`. */
export function arrowSiblingPath(path: string, suffix: string): string {
  return `${path.replace(/[/\\]+$/, '').replace(/\.arrows?$/i, '')}${suffix}`;
}

/** What every layout's writer does. */
export interface ArrowTableSink {
  readonly kind: ArrowOutputKind;
  readonly rowCount: number;
  write(batch: ArrowBatch): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** Table schema, metadata, and the partition columns of the dataset layout (ordinary columns in the others). */
export interface ArrowTableOptions {
  columns: ArrowColumnSpec[];
  metadata?: Record<string, string>;
  partitionBy: string[];
}

/**
 * Checks, before any work, that `path` can be written as the layout its name asks for: a dataset directory that
 * exists must hold only an earlier dataset with these partition columns (it is replaced at the end), else
 * UsageError naming `option` (the caller's name for the path).
 */
export async function checkArrowOutput(path: string, partitionBy: string[], option: string): Promise<void> {
  if (arrowOutputKind(path) !== 'dataset') return;
  const st = await stat(path).catch(() => undefined);
  if (st && !(st.isDirectory() && (await isArrowDataset(path, partitionBy)))) {
    throw new UsageError(`${option} ${path}: exists and is not an earlier gpulmm dataset (${st.isDirectory() ? 'it holds other files' : 'it is not a directory'}): remove it or choose another path`);
  }
}

/** Opens the writer `path` asks for (see arrowOutputKind); all are written atomically. */
export async function openArrowTable(path: string, options: ArrowTableOptions): Promise<ArrowTableSink> {
  const kind = arrowOutputKind(path);
  const { columns, metadata = {}, partitionBy } = options;
  const w = kind === 'dataset' ? await ArrowDatasetWriter.open(path, { columns, metadata, partitionBy }) : await ArrowStreamWriter.open(path, { columns, metadata, format: kind });
  return {
    kind,
    get rowCount() {
      return w.rowCount;
    },
    write: (batch) => w.write(batch),
    close: () => w.close(),
    abort: () => w.abort(),
  };
}
