/**
 * Result tables as Arrow record batches: the column types gpulmm writes (f64, i32, utf8, bool), the schema built
 * from them, one batch of plain typed arrays turned into an apache-arrow RecordBatch (and back, for reading an
 * IPC file or stream written by gpulmm or any other Arrow writer).
 */
import {
  AsyncByteQueue,
  AsyncRecordBatchFileReader,
  AsyncRecordBatchStreamReader,
  Bool,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchReader,
  Schema,
  Struct,
  Type,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import { InputError } from '../errors.js';
import { openInput } from './input-file.js';

/** Column types: f64 (Float64Array), i32 (Int32Array), utf8 (string or null per row), bool (boolean per row). */
export type ArrowColumnType = 'f64' | 'i32' | 'utf8' | 'bool';

/** One output column. */
export interface ArrowColumnSpec {
  name: string;
  type: ArrowColumnType;
}

/** One record batch: every declared column, all of one length. f64 NaN is written as a NaN value, not null. */
export type ArrowBatch = Record<string, Float64Array | Int32Array | readonly (string | null)[] | readonly boolean[]>;

/** Collects the bytes an apache-arrow writer emits instead of queueing them for an async reader. */
export class ByteCollector extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }
  /** Everything written since the last take(), as one buffer. */
  take(): Buffer {
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    return out;
  }
}

const ARROW_TYPES: Record<ArrowColumnType, () => DataType> = {
  f64: () => new Float64(),
  i32: () => new Int32(),
  utf8: () => new Utf8(),
  bool: () => new Bool(),
};

/**
 * The Arrow schema of `columns` (utf8 columns nullable, the others not) with key/value `metadata`. `who` prefixes
 * the errors: TypeError for no column, an unknown type or a duplicate name.
 */
export function arrowSchema(columns: readonly ArrowColumnSpec[], metadata: Record<string, string>, who: string): Schema {
  if (!Array.isArray(columns as unknown) || columns.length === 0) throw new TypeError(`${who}: expected at least one column`);
  const seen = new Set<string>();
  for (const c of columns) {
    if (!(c.type in ARROW_TYPES)) throw new TypeError(`${who}: column "${c.name}" has unknown type "${c.type}" (expected f64, i32, utf8 or bool)`);
    if (seen.has(c.name)) throw new TypeError(`${who}: duplicate column "${c.name}"`);
    seen.add(c.name);
  }
  return new Schema(
    columns.map((c) => new Field(c.name, ARROW_TYPES[c.type](), c.type === 'utf8')),
    new Map(Object.entries(metadata)),
  );
}

/** Validity bitmap (LSB first) with bit i clear where `isNull(i)`, or undefined when nothing is null. */
function nullBitmap(length: number, isNull: (i: number) => boolean): { bitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  for (let i = 0; i < length; i++) if (isNull(i)) nullCount++;
  if (nullCount === 0) return { bitmap: undefined, nullCount };
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (!isNull(i)) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nullCount };
}

/**
 * Utf8 column data built directly: UTF-8 bytes of all strings in one buffer plus int32 offsets (O(total bytes);
 * several times faster than apache-arrow's generic builder). null entries become nulls.
 */
function utf8Data(type: Utf8, values: readonly (string | null)[]): Data<Utf8> {
  const length = values.length;
  const encoder = new TextEncoder();
  let capacity = 16;
  for (let i = 0; i < length; i++) capacity += (values[i] ?? '').length * 3;
  const bytes = new Uint8Array(capacity);
  const offsets = new Int32Array(length + 1);
  let at = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v) {
      // ASCII fast path; any other character re-encodes the whole string with TextEncoder.
      const start = at;
      for (let j = 0; j < v.length; j++) {
        const c = v.charCodeAt(j);
        if (c >= 0x80) {
          at = start + encoder.encodeInto(v, bytes.subarray(start)).written;
          break;
        }
        bytes[at++] = c;
      }
    }
    offsets[i + 1] = at;
  }
  const { bitmap, nullCount } = nullBitmap(length, (i) => values[i] === null || values[i] === undefined);
  return makeData({ type, length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data: bytes.subarray(0, at) });
}

/** Bool column data: values packed LSB first, one bit per row. */
function boolData(type: Bool, values: readonly boolean[]): Data<Bool> {
  const length = values.length;
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type, length, data: bits });
}

/**
 * `batch` as a RecordBatch of `schema` (made by arrowSchema from `columns`). Throws TypeError, prefixed with
 * `who`, for a missing, extra, mistyped or wrong-length column. Cost O(rows); numeric columns are not copied.
 */
export function toRecordBatch(schema: Schema, columns: readonly ArrowColumnSpec[], batch: ArrowBatch, who: string): RecordBatch {
  const names = Object.keys(batch);
  const extra = names.filter((n) => !columns.some((c) => c.name === n));
  if (extra.length > 0) throw new TypeError(`${who}: unknown column(s) ${extra.join(', ')}`);
  let length = -1;
  const children = columns.map((c, j) => {
    const values = batch[c.name];
    if (values === undefined) throw new TypeError(`${who}: missing column "${c.name}"`);
    if (length < 0) length = values.length;
    if (values.length !== length) throw new TypeError(`${who}: column "${c.name}" has ${values.length} rows, "${columns[0]!.name}" has ${length}`);
    const type = schema.fields[j]!.type;
    const bad = () => new TypeError(`${who}: column "${c.name}" (${c.type}) got ${values.constructor?.name ?? typeof values}`);
    switch (c.type) {
      case 'f64':
        if (!(values instanceof Float64Array)) throw bad();
        return makeData({ type, length, data: values });
      case 'i32':
        if (!(values instanceof Int32Array)) throw bad();
        return makeData({ type, length, data: values });
      case 'utf8':
        if (!Array.isArray(values)) throw bad();
        return utf8Data(type as Utf8, values as readonly (string | null)[]);
      case 'bool':
        if (!Array.isArray(values)) throw bad();
        return boolData(type as Bool, values as readonly boolean[]);
    }
  });
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Rows [start, end) of every column of `batch` (typed arrays as views, string and bool arrays copied). */
export function sliceBatch(batch: ArrowBatch, start: number, end: number): ArrowBatch {
  const out: ArrowBatch = {};
  for (const [name, v] of Object.entries(batch)) {
    out[name] = v instanceof Float64Array || v instanceof Int32Array ? v.subarray(start, end) : v.slice(start, end);
  }
  return out;
}

/**
 * A table read back: its columns (in gpulmm's types), schema metadata, and its batches one at a time. The file
 * closes when `batches` has been read to the end (or the loop left early); close() closes it without reading.
 */
export interface ArrowTableReader {
  columns: ArrowColumnSpec[];
  metadata: Record<string, string>;
  batches: AsyncIterable<ArrowBatch>;
  close(): Promise<void>;
}

function columnType(file: string, field: Field): ArrowColumnType {
  switch (field.type.typeId) {
    case Type.Float:
      if ((field.type as Float64).precision === 2) return 'f64';
      break;
    case Type.Int:
      if ((field.type as Int32).bitWidth === 32 && (field.type as Int32).isSigned) return 'i32';
      break;
    case Type.Utf8:
      return 'utf8';
    case Type.Bool:
      return 'bool';
  }
  throw new InputError(file, undefined, undefined, `column "${field.name}" has Arrow type ${field.type}: expected Float64, Int32, Utf8 or Bool`);
}

/**
 * Opens an Arrow IPC file or stream (`path`) and reads its schema; batches are read one at a time from disk as
 * `batches` is iterated (an IPC file through its footer, a stream in order), so memory holds one batch.
 * Columns of other types than f64/i32/utf8/bool are an InputError, as is a file that is not Arrow IPC.
 * Nulls in f64 columns read as whatever value the writer left in the slot (gpulmm writes NaN, not null).
 */
export async function readArrowTable(path: string): Promise<ArrowTableReader> {
  const fh = await openInput(path);
  let reader: RecordBatchReader | AsyncRecordBatchFileReader | AsyncRecordBatchStreamReader;
  try {
    reader = await (await RecordBatchReader.from(fh)).open();
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw new InputError(path, undefined, undefined, `not an Arrow IPC file or stream (${(e as Error).message})`);
  }
  const schema = reader.schema;
  if (!schema) {
    await fh.close().catch(() => undefined);
    throw new InputError(path, undefined, undefined, 'not an Arrow IPC file or stream (no schema)');
  }
  let columns: ArrowColumnSpec[];
  try {
    columns = schema.fields.map((f) => ({ name: f.name, type: columnType(path, f) }));
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => undefined);
  };
  async function* batches(): AsyncGenerator<ArrowBatch> {
    try {
      for await (const rb of reader) {
        const out: ArrowBatch = {};
        for (const [j, c] of columns.entries()) {
          const v = rb.getChildAt(j)!;
          out[c.name] = c.type === 'f64' || c.type === 'i32' ? (v.toArray() as Float64Array | Int32Array) : c.type === 'utf8' ? (Array.from(v) as (string | null)[]) : Array.from(v, Boolean);
        }
        yield out;
      }
    } finally {
      await close();
    }
  }
  return { columns, metadata: Object.fromEntries(schema.metadata), batches: batches(), close };
}
