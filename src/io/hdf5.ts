/**
 * HDF5 through h5wasm (a WebAssembly build of libhdf5 with its gzip filter, reading the file from disk piece by
 * piece): opening with a clear error, walking groups, reading whole small datasets and slices of large ones, and
 * narrowing HDF5 integer types to what the readers need. Every error is an InputError naming the file and the
 * HDF5 path. Shared by the .h5ad and 10x HDF5 readers and writers.
 */
import { closeSync, readSync } from 'node:fs';
import type H5Module from 'h5wasm/node';
import { InputError } from '../errors.js';
import type { CountArray } from './count-blocks.js';
import { openInputSync } from './input-file.js';

export type H5 = typeof H5Module;
export type H5File = InstanceType<H5['File']>;
export type H5Group = InstanceType<H5['Group']>;
export type H5Dataset = InstanceType<H5['Dataset']>;
export type H5Entity = ReturnType<H5Group['get']>;

/** h5wasm, loaded on first use (its WebAssembly start-up is not paid by commands that never read HDF5). */
let h5wasm: H5 | undefined;

/** The loaded h5wasm module. */
export async function loadH5wasm(): Promise<H5> {
  h5wasm ??= (await import('h5wasm/node')).default;
  await h5wasm.ready;
  return h5wasm;
}

function lib(): H5 {
  if (!h5wasm) throw new Error('h5wasm used before loadH5wasm()');
  return h5wasm;
}

/** An error about `path` inside HDF5 file `file`. */
export function h5Error(file: string, path: string, detail: string): InputError {
  return new InputError(file, undefined, undefined, path === '' ? detail : `${path}: ${detail}`);
}

/**
 * Runs an h5wasm call on `file`: libhdf5's own errors (a truncated or corrupt file fails only when the damaged
 * part is reached, e.g. "name not defined!") become an InputError naming the file and the HDF5 path.
 */
function h5Call<T>(file: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) throw err;
    const why = err instanceof Error ? err.message.replace(/^error - /, '') : String(err);
    throw h5Error(file, path, `cannot be read (${why}): the file is truncated or corrupt`);
  }
}

/** The path each open file was given as, by h5wasm file id (entities carry the id, not the name). */
const fileNames = new Map<bigint, string>();

/** The file an entity belongs to, as the caller named it. */
function fileOf(e: H5Group | H5Dataset): string {
  return fileNames.get(e.file_id) ?? 'HDF5 file';
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the HDF5 superblock signature is at offset 0, 512, 1024, 2048... (the spec's user-block sizes). */
function hasHdf5Signature(file: string): boolean {
  const fd = openInputSync(file);
  try {
    const buf = Buffer.alloc(8);
    for (let off = 0; off <= 1 << 20; off = off === 0 ? 512 : off * 2) {
      if (readSync(fd, buf, 0, 8, off) < 8) return false;
      if (buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Opens an HDF5 file for reading; InputError when it is missing or not HDF5. */
export async function openH5(file: string): Promise<H5File> {
  if (!hasHdf5Signature(file)) throw new InputError(file, undefined, undefined, 'not an HDF5 file (no HDF5 signature)');
  const h5 = await loadH5wasm();
  try {
    const f = new h5.File(file, 'r');
    fileNames.set(f.file_id, file);
    return f;
  } catch (err) {
    throw new InputError(file, undefined, undefined, `not a readable HDF5 file (${err instanceof Error ? err.message : String(err)})`);
  }
}

export function isGroup(e: H5Entity): e is H5Group {
  return e instanceof lib().Group;
}

export function isDataset(e: H5Entity): e is H5Dataset {
  return e instanceof lib().Dataset;
}

/** The value of attribute `name` of e, or undefined. */
export function attr(e: H5Group | H5Dataset, name: string): unknown {
  return h5Call(fileOf(e), `${e.path}@${name}`, () => {
    const a = e.attrs[name];
    return a === undefined ? undefined : a.value;
  });
}

/** True when g has a member `name` (a/b/c walks levels). */
export function has(g: H5Group, name: string): boolean {
  let cur: H5Entity = g;
  for (const part of name.split('/')) {
    const p: H5Entity = cur;
    if (!isGroup(p) || !h5Call(fileOf(p), p.path, () => p.keys()).includes(part)) return false;
    cur = h5Call(fileOf(p), `${p.path}/${part}`, () => p.get(part));
  }
  return true;
}

/** The entity at relative `name` (a/b/c) under g; checks each level's keys first (libhdf5 would print diagnostics). */
export function child(file: string, g: H5Group, name: string): H5Entity {
  let cur: H5Entity = g;
  for (const part of name.split('/')) {
    const p: H5Entity = cur;
    if (!isGroup(p) || !h5Call(file, p.path, () => p.keys()).includes(part)) throw h5Error(file, '', `${g.path === '/' ? '' : g.path}/${name} not found`);
    cur = h5Call(file, `${p.path}/${part}`, () => p.get(part));
  }
  return cur;
}

/** The dataset at relative `name` under g, else an InputError. */
export function childDataset(file: string, g: H5Group, name: string): H5Dataset {
  const e = child(file, g, name);
  if (!isDataset(e)) throw h5Error(file, `${g.path === '/' ? '' : g.path}/${name}`, 'expected a dataset');
  return e;
}

/** The group at relative `name` under g, else an InputError. */
export function childGroup(file: string, g: H5Group, name: string): H5Group {
  const e = child(file, g, name);
  if (!isGroup(e)) throw h5Error(file, `${g.path === '/' ? '' : g.path}/${name}`, 'expected a group');
  return e;
}

type AnyTyped = CountArray | BigInt64Array | BigUint64Array;

/** A dataset's values (or a slice of its first dimension) as a typed array or strings. */
function values(file: string, ds: H5Dataset, range?: readonly [number, number]): AnyTyped | string[] {
  const v = h5Call(file, ds.path, () => (range ? ds.slice([[range[0], range[1]]]) : ds.value)) as unknown;
  if (Array.isArray(v)) return v.map((s) => String(s));
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v as AnyTyped;
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'bigint') return Float64Array.of(Number(v));
  throw h5Error(file, ds.path, `unsupported dataset type ${ds.dtype}`);
}

/** Number of elements along the first dimension (1 for a scalar). */
export function length(ds: H5Dataset): number {
  const shape = ds.shape ?? [];
  return shape.length === 0 ? 1 : Number(shape[0]);
}

/** A dataset as numbers (64-bit integers widened; exact below 2^53). */
export function readNumbers(file: string, ds: H5Dataset, range?: readonly [number, number]): Float64Array {
  const v = values(file, ds, range);
  if (Array.isArray(v)) throw h5Error(file, ds.path, 'expected numbers, found strings');
  if (v instanceof Float64Array) return v;
  return v instanceof BigInt64Array || v instanceof BigUint64Array ? Float64Array.from(v, Number) : Float64Array.from(v);
}

/** A dataset as strings (numbers printed). */
export function readStrings(file: string, ds: H5Dataset, range?: readonly [number, number]): string[] {
  const v = values(file, ds, range);
  return Array.isArray(v) ? v : Array.from(v as ArrayLike<number | bigint>, (x) => String(x));
}

/** Low 32-bit words of 64-bit integers, with a check that every value lies in [0, 2^31). */
function lowWords(file: string, path: string, v: BigInt64Array | BigUint64Array, firstIndex: number): Int32Array {
  const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const lo = w[2 * i]!;
    if (w[2 * i + 1] !== 0 || lo < 0) throw h5Error(file, path, `element ${firstIndex + i} = ${v[i]} outside 0..2^31-1`);
    out[i] = lo;
  }
  return out;
}

/**
 * Elements [start, end) of a 1-D integer dataset (indices) as int32; 64-bit values must lie in [0, 2^31).
 * Cost O(end - start) read.
 */
export function readIndexSlice(file: string, ds: H5Dataset, start: number, end: number): Int32Array {
  const v = values(file, ds, [start, end]);
  if (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) throw h5Error(file, ds.path, `expected integer indices, found ${Array.isArray(v) ? 'strings' : 'floating-point values'}`);
  if (v instanceof Int32Array) return v;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return lowWords(file, ds.path, v, start);
  const out = Int32Array.from(v);
  if (v instanceof Uint32Array) for (let i = 0; i < out.length; i++) if (out[i]! < 0) throw h5Error(file, ds.path, `element ${start + i} = ${v[i]} outside 0..2^31-1`);
  return out;
}

/**
 * Elements [start, end) of a 1-D numeric dataset (count values) in their own element type; 64-bit integers are
 * narrowed to int32 (counts beyond 2^31 are refused). Cost O(end - start) read.
 */
export function readValueSlice(file: string, ds: H5Dataset, start: number, end: number): CountArray {
  const v = values(file, ds, [start, end]);
  if (Array.isArray(v)) throw h5Error(file, ds.path, 'expected numbers, found strings');
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
    const out = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const lo = w[2 * i]!;
      const hi = w[2 * i + 1]!;
      // A signed 64-bit value fits int32 when the high word is the sign extension of the low word.
      if (hi !== (lo < 0 ? -1 : 0) || (v instanceof BigUint64Array && hi !== 0)) throw h5Error(file, ds.path, `element ${start + i} = ${v[i]} does not fit a 32-bit count`);
      out[i] = lo;
    }
    return out;
  }
  return v;
}

/** Bytes per element of a numeric dataset (as read, before narrowing). */
export function elementBytes(ds: H5Dataset): number {
  return ds.metadata.size;
}

/** True when the dataset holds integers (any width, signed or not). */
export function isIntegerDataset(ds: H5Dataset): boolean {
  return ds.metadata.type === 0;
}
