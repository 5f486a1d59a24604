/**
 * AnnData `.h5ad` files (HDF5, read through h5wasm, a WebAssembly build of libhdf5 with its gzip filter).
 *
 * The matrix (X, raw/X or layers/NAME) is cells x genes: dense, `csr_matrix` (rows = cells: the CSR arrays are
 * already the genes x cells CSC that gpulmm uses) or `csc_matrix` (rows = genes: bucketed by cell). Cell metadata
 * comes from obs: plain columns (strings or numbers) and categoricals (integer codes into categories, code -1 =
 * missing), in the current encoding (a group with codes/categories) and the legacy one (codes in obs/COL,
 * categories in obs/__categories/COL). The whole matrix is held in memory (16 bytes per non-zero).
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type H5Module from 'h5wasm/node';
import { CountsInputError, type SparseCounts } from './mtx.js';

type H5 = typeof H5Module;
type H5Group = InstanceType<H5['Group']>;
type H5Dataset = InstanceType<H5['Dataset']>;
type H5Entity = ReturnType<H5Group['get']>;

/** h5wasm, loaded on first use (its WebAssembly start-up is not paid by commands that never read .h5ad). */
let h5wasm: H5;

export interface H5adData {
  readonly counts: SparseCounts;
  /** var index (gene names). */
  readonly genes: string[];
  /** obs index (cell barcodes). */
  readonly barcodes: string[];
  /** obs columns (index excluded) as strings, one per cell ('' for missing). */
  readonly obs: Map<string, string[]>;
}

export interface H5adOptions {
  /** Matrix to read: 'X' (default), 'raw/X' or 'layers/NAME'. */
  matrix?: string;
}

function isGroup(e: H5Entity): e is H5Group {
  return e instanceof h5wasm.Group;
}

function isDataset(e: H5Entity): e is H5Dataset {
  return e instanceof h5wasm.Dataset;
}

function attr(e: H5Group | H5Dataset, name: string): unknown {
  const a = e.attrs[name];
  return a === undefined ? undefined : a.value;
}

type NumericArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A dataset's values as numbers (BigInt widened) or strings. */
function readValues(file: string, ds: H5Dataset): NumericArray | string[] {
  const v = ds.value as unknown;
  if (Array.isArray(v)) return v.map((s) => String(s));
  if (ArrayBuffer.isView(v)) return v as NumericArray;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return typeof v === 'string' ? [v] : Float64Array.of(Number(v));
  throw new CountsInputError(file, null, `${ds.path}: unsupported dataset type ${ds.dtype}`);
}

function toNumbers(file: string, ds: H5Dataset): Float64Array {
  const v = readValues(file, ds);
  if (Array.isArray(v)) throw new CountsInputError(file, null, `${ds.path}: expected numbers, found strings`);
  return v instanceof BigInt64Array || v instanceof BigUint64Array ? Float64Array.from(v, Number) : Float64Array.from(v as ArrayLike<number>);
}

function toStrings(file: string, ds: H5Dataset): string[] {
  const v = readValues(file, ds);
  return Array.isArray(v) ? v : Array.from(v as ArrayLike<number | bigint>, (x) => String(x));
}

/** The entity at relative `name` (a/b/c) under g; checks each level's keys first (libhdf5 would print diagnostics). */
function child(file: string, g: H5Group, name: string): H5Entity {
  let cur: H5Entity = g;
  for (const part of name.split('/')) {
    if (!isGroup(cur) || !cur.keys().includes(part)) throw new CountsInputError(file, null, `${g.path === '/' ? '' : g.path}/${name} not found`);
    cur = cur.get(part);
  }
  return cur;
}

/** A dataframe group (obs / var): index and columns as strings. */
function readFrame(file: string, g: H5Group): { index: string[]; columns: Map<string, string[]> } {
  const indexName = String(attr(g, '_index') ?? '_index');
  const indexDs = child(file, g, indexName);
  if (!isDataset(indexDs)) throw new CountsInputError(file, null, `${g.path}/${indexName}: expected a dataset`);
  const index = toStrings(file, indexDs);
  const legacy = g.keys().includes('__categories') ? (g.get('__categories') as H5Group) : null;
  const columns = new Map<string, string[]>();
  for (const key of g.keys()) {
    if (key === indexName || key === '__categories') continue;
    const e = g.get(key);
    let values: string[];
    if (isGroup(e) && attr(e, 'encoding-type') === 'categorical') {
      values = decodeCategorical(file, e.path, toNumbers(file, child(file, e, 'codes') as H5Dataset), toStrings(file, child(file, e, 'categories') as H5Dataset));
    } else if (isDataset(e) && legacy && legacy.keys().includes(key)) {
      values = decodeCategorical(file, e.path, toNumbers(file, e), toStrings(file, legacy.get(key) as H5Dataset));
    } else if (isDataset(e)) {
      values = toStrings(file, e);
    } else {
      continue; // nested groups (e.g. nullable arrays of newer encodings) are not cell metadata we read
    }
    if (values.length !== index.length) throw new CountsInputError(file, null, `${g.path}/${key}: ${values.length} values for ${index.length} rows`);
    columns.set(key, values);
  }
  return { index, columns };
}

function decodeCategorical(file: string, path: string, codes: Float64Array, categories: string[]): string[] {
  return Array.from(codes, (c) => {
    if (c === -1) return '';
    const v = categories[c];
    if (v === undefined) throw new CountsInputError(file, null, `${path}: code ${c} outside ${categories.length} categories`);
    return v;
  });
}

/** Reads the matrix at `path` (cells x genes) into genes x cells CSC. Cost O(nnz) (O(cells x genes) if dense). */
function readMatrix(file: string, root: H5Group, path: string): SparseCounts {
  const e = child(file, root, path);
  if (isDataset(e)) {
    const shape = e.shape ?? [];
    if (shape.length !== 2) throw new CountsInputError(file, null, `${path}: expected a 2-D matrix, shape ${JSON.stringify(shape)}`);
    const [nCells, nGenes] = shape as [number, number];
    const x = toNumbers(file, e);
    const colPtr = new Float64Array(nCells + 1);
    let nnz = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== 0) nnz++;
    const rowIdx = new Int32Array(nnz);
    const values = new Float64Array(nnz);
    let k = 0;
    for (let c = 0; c < nCells; c++) {
      for (let g = 0; g < nGenes; g++) {
        const v = x[c * nGenes + g]!;
        if (v !== 0) {
          rowIdx[k] = g;
          values[k++] = v;
        }
      }
      colPtr[c + 1] = k;
    }
    return finish(file, path, { nGenes, nCells, colPtr, rowIdx, values });
  }
  if (!isGroup(e)) throw new CountsInputError(file, null, `${path}: expected a dataset or a group`);
  const kind = String(attr(e, 'encoding-type') ?? attr(e, 'h5sparse_format') ?? '');
  const shapeAttr = attr(e, 'shape') ?? attr(e, 'h5sparse_shape');
  if (!shapeAttr || !['csr_matrix', 'csc_matrix', 'csr', 'csc'].includes(kind)) {
    throw new CountsInputError(file, null, `${path}: expected a dense dataset or a csr_matrix/csc_matrix group (encoding-type "${kind}")`);
  }
  const [nCells, nGenes] = Array.from(shapeAttr as ArrayLike<number | bigint>, Number) as [number, number];
  const data = toNumbers(file, child(file, e, 'data') as H5Dataset);
  const indices = toNumbers(file, child(file, e, 'indices') as H5Dataset);
  const indptr = toNumbers(file, child(file, e, 'indptr') as H5Dataset);
  const csr = kind.startsWith('csr');
  const major = csr ? nCells : nGenes;
  const minor = csr ? nGenes : nCells;
  if (indptr.length !== major + 1 || indptr[major] !== data.length || indices.length !== data.length) {
    throw new CountsInputError(file, null, `${path}: indptr/indices/data lengths (${indptr.length}, ${indices.length}, ${data.length}) do not fit shape ${nCells} x ${nGenes}`);
  }
  for (let i = 0; i < indices.length; i++) {
    if (!(indices[i]! >= 0 && indices[i]! < minor)) throw new CountsInputError(file, null, `${path}/indices[${i}] = ${indices[i]} outside 0..${minor - 1}`);
  }
  if (csr) return finish(file, path, { nGenes, nCells, colPtr: indptr, rowIdx: Int32Array.from(indices), values: data });
  // csc (gene-major): bucket by cell, genes stay ascending within each cell.
  const colPtr = new Float64Array(nCells + 1);
  for (let i = 0; i < indices.length; i++) colPtr[indices[i]! + 1]!++;
  for (let c = 0; c < nCells; c++) colPtr[c + 1]! += colPtr[c]!;
  const next = colPtr.slice(0, nCells);
  const rowIdx = new Int32Array(data.length);
  const values = new Float64Array(data.length);
  for (let g = 0; g < nGenes; g++) {
    for (let k = indptr[g]!; k < indptr[g + 1]!; k++) {
      const dst = next[indices[k]!]!++;
      rowIdx[dst] = g;
      values[dst] = data[k]!;
    }
  }
  return finish(file, path, { nGenes, nCells, colPtr, rowIdx, values });
}

function finish(file: string, path: string, m: Omit<SparseCounts, 'integer'>): SparseCounts {
  let integer = true;
  for (let i = 0; i < m.values.length; i++) {
    const v = m.values[i]!;
    if (!Number.isFinite(v)) throw new CountsInputError(file, null, `${path}: value ${v} is not finite`);
    if (integer && (!Number.isInteger(v) || v < 0)) integer = false;
  }
  return { ...m, integer };
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the HDF5 superblock signature is at offset 0, 512, 1024, 2048... (the spec's user-block sizes). */
function hasHdf5Signature(file: string): boolean {
  const fd = openSync(file, 'r');
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

/**
 * Reads an .h5ad file: the count matrix (see {@link H5adOptions.matrix}), var names, obs index and columns.
 * Errors name the file and the HDF5 path. Cost O(nnz + cells x obs columns).
 */
export async function readH5ad(file: string, opts: H5adOptions = {}): Promise<H5adData> {
  if (!existsSync(file)) throw new CountsInputError(file, null, 'file not found');
  if (!hasHdf5Signature(file)) throw new CountsInputError(file, null, 'not an HDF5 file (no HDF5 signature)');
  h5wasm ??= (await import('h5wasm/node')).default;
  await h5wasm.ready;
  let f: InstanceType<H5['File']>;
  try {
    f = new h5wasm.File(file, 'r');
  } catch (err) {
    throw new CountsInputError(file, null, `not a readable HDF5 file (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    const matrix = opts.matrix ?? 'X';
    const counts = readMatrix(file, f, matrix);
    const varGroup = child(file, f, matrix === 'raw/X' ? 'raw/var' : 'var');
    const obsGroup = child(file, f, 'obs');
    if (!isGroup(varGroup) || !isGroup(obsGroup)) throw new CountsInputError(file, null, 'obs and var must be dataframe groups');
    const genes = readFrame(file, varGroup).index;
    const obs = readFrame(file, obsGroup);
    if (genes.length !== counts.nGenes) throw new CountsInputError(file, null, `var has ${genes.length} rows, ${matrix} has ${counts.nGenes} columns`);
    if (obs.index.length !== counts.nCells) throw new CountsInputError(file, null, `obs has ${obs.index.length} rows, ${matrix} has ${counts.nCells} rows`);
    return { counts, genes, barcodes: obs.index, obs: obs.columns };
  } finally {
    f.close();
  }
}
