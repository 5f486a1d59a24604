/**
 * Writers of cell-major count matrices as AnnData `.h5ad` (X a csr_matrix, obs/var dataframes; the anndata 0.8+
 * on-disk encoding) and as Cell Ranger 3.0+ HDF5 (`/matrix` with features/), fed block by block so a matrix of
 * any size is written with memory bounded by the block (the per-cell offsets excepted: 8 bytes per cell).
 * Each file is written under a temporary name and renamed when complete; a failed write leaves nothing that
 * looks like a result.
 */
import { renameSync } from 'node:fs';
import path from 'node:path';
import type { CountBlock } from './count-blocks.js';
import { loadH5wasm, type H5Dataset, type H5File, type H5Group } from './hdf5.js';
import { removeTemporary, trackTemporary, untrackTemporary } from './run-files.js';

/** An obs column: a categorical (codes into categories, -1 missing) or numbers. */
export type ObsColumn = { readonly name: string; readonly categories: readonly string[]; readonly codes: Int8Array | Int16Array | Int32Array } | { readonly name: string; readonly numbers: Float64Array };

/** Options shared by the writers. */
export interface H5WriteOptions {
  /** gzip level 1-9 of the data and indices datasets (0 or absent: none, as anndata's default). */
  readonly compression?: number;
  /** Elements per HDF5 chunk of the data and indices datasets (default 2^18). */
  readonly chunk?: number;
}

/** A matrix being written: add cell-major blocks in cell order, then close (or abort). */
export interface CountMatrixWriter {
  write(block: CountBlock): void;
  close(): void;
  abort(): void;
}

/** Value type of X / matrix data. */
export type CountDtype = 'int32' | 'float32';

const DTYPE: Record<CountDtype, string> = { int32: '<i', float32: '<f' };

/** An extendable 1-D dataset written by appending. */
class Appender {
  private n = 0;
  constructor(private readonly ds: H5Dataset) {}
  append(data: ArrayBufferView & { length: number }): void {
    if (data.length === 0) return;
    this.ds.resize([this.n + data.length]);
    this.ds.write_slice([[this.n, this.n + data.length]], data);
    this.n += data.length;
  }
  get length(): number {
    return this.n;
  }
}

function setEncoding(e: H5Group | H5Dataset, type: string, version: string): void {
  e.create_attribute('encoding-type', type, null, 'S');
  e.create_attribute('encoding-version', version, null, 'S');
}

function extendable(g: H5Group, name: string, dtype: string, opts: H5WriteOptions): Appender {
  const chunk = opts.chunk ?? 1 << 18;
  const ds = g.create_dataset({
    name,
    data: dtype === '<q' ? new BigInt64Array(0) : dtype === '<f' ? new Float32Array(0) : new Int32Array(0),
    shape: [0],
    maxshape: [null],
    chunks: [chunk],
    dtype,
    ...(opts.compression ? { compression: opts.compression } : {}),
  }) as H5Dataset;
  return new Appender(ds);
}

/** Block values and gene indices in the file's types. */
function blockArrays(block: CountBlock, dtype: CountDtype, nGenes: number): { values: Int32Array | Float32Array; indices: Int32Array } {
  if (block.major !== 'cell') throw new Error('writer: blocks must be cell-major');
  const n = block.ptr[block.count]!;
  const indices = block.minor.subarray(0, n);
  for (let k = 0; k < n; k++) if (!(indices[k]! >= 0 && indices[k]! < nGenes)) throw new RangeError(`writer: gene index ${indices[k]} outside 0..${nGenes - 1}`);
  const values = dtype === 'int32' ? Int32Array.from(block.values.subarray(0, n)) : Float32Array.from(block.values.subarray(0, n));
  return { values, indices };
}

/** Common state of both writers: the temporary file, the appenders, the offsets. */
abstract class BlockWriter implements CountMatrixWriter {
  protected readonly indptr: Float64Array;
  protected nextCell = 0;
  private finished = false;

  constructor(
    protected readonly f: H5File,
    protected readonly tmp: string,
    protected readonly file: string,
    protected readonly nCells: number,
    protected readonly nGenes: number,
    protected readonly dtype: CountDtype,
    protected readonly data: Appender,
    protected readonly indices: Appender,
    private readonly wideIndices: boolean,
  ) {
    this.indptr = new Float64Array(nCells + 1);
  }

  write(block: CountBlock): void {
    if (block.start !== this.nextCell) throw new RangeError(`writer: block starts at cell ${block.start}, expected ${this.nextCell}`);
    if (block.start + block.count > this.nCells) throw new RangeError(`writer: block ends past cell ${this.nCells}`);
    const { values, indices } = blockArrays(block, this.dtype, this.nGenes);
    this.data.append(values);
    this.indices.append(this.wideIndices ? BigInt64Array.from(indices, (v) => BigInt(v)) : indices);
    const base = this.indptr[block.start]!;
    for (let m = 1; m <= block.count; m++) this.indptr[block.start + m] = base + block.ptr[m]!;
    this.nextCell += block.count;
  }

  /** Writes what depends on the whole matrix (offsets, shape). */
  protected abstract finish(): void;

  close(): void {
    if (this.nextCell !== this.nCells) {
      this.abort();
      throw new RangeError(`writer: ${this.nextCell} of ${this.nCells} cells written`);
    }
    try {
      this.finish();
      this.f.close();
    } catch (err) {
      removeTemporary(this.tmp);
      throw err;
    }
    this.finished = true;
    renameSync(this.tmp, this.file);
    untrackTemporary(this.tmp);
  }

  abort(): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.f.close();
    } finally {
      removeTemporary(this.tmp);
    }
  }
}

/** Opens `file`'s temporary sibling for writing and runs `build` on it; on failure closes and removes it. */
async function inTempFile(file: string, build: (f: H5File, tmp: string) => CountMatrixWriter): Promise<CountMatrixWriter> {
  const h5 = await loadH5wasm();
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const f = new h5.File(tmp, 'w');
  trackTemporary(tmp); // removed on SIGINT/SIGTERM, at exit, or if the run fails (see run-files.ts)
  try {
    return build(f, tmp);
  } catch (err) {
    f.close();
    removeTemporary(tmp);
    throw err;
  }
}

function strings(g: H5Group, name: string, values: readonly string[], dtype = 'S'): H5Dataset {
  return g.create_dataset({ name, data: [...values], dtype }) as H5Dataset;
}

/**
 * Starts an .h5ad with X a csr_matrix (cells x genes, values `dtype`, int32 indices, int64 indptr), obs with
 * index `barcodes` and `obs` columns (categoricals as codes + categories), var with index `genes` and a
 * gene_ids column (as scanpy's read_10x_h5 leaves them).
 */
export async function createH5adWriter(
  file: string,
  m: { genes: readonly string[]; geneIds: readonly string[]; barcodes: readonly string[]; obs: readonly ObsColumn[]; dtype: CountDtype },
  opts: H5WriteOptions = {},
): Promise<CountMatrixWriter> {
  return inTempFile(file, (f, tmp) => {
    setEncoding(f, 'anndata', '0.1.0');
    const x = f.create_group('X');
    setEncoding(x, 'csr_matrix', '0.1.0');
    x.create_attribute('shape', new BigInt64Array([BigInt(m.barcodes.length), BigInt(m.genes.length)]));
    const data = extendable(x, 'data', DTYPE[m.dtype], opts);
    const indices = extendable(x, 'indices', '<i', opts);
    const obs = f.create_group('obs');
    setEncoding(obs, 'dataframe', '0.2.0');
    obs.create_attribute('_index', '_index', null, 'S');
    if (m.obs.length === 0) throw new RangeError('createH5adWriter: obs needs at least one column');
    obs.create_attribute('column-order', m.obs.map((c) => c.name), null, 'S');
    setEncoding(strings(obs, '_index', m.barcodes), 'string-array', '0.2.0');
    for (const c of m.obs) {
      if ('numbers' in c) {
        setEncoding(obs.create_dataset({ name: c.name, data: c.numbers }) as H5Dataset, 'array', '0.2.0');
        continue;
      }
      const g = obs.create_group(c.name);
      setEncoding(g, 'categorical', '0.2.0');
      g.create_attribute('ordered', 0, null, '|b1');
      g.create_dataset({ name: 'codes', data: c.codes });
      setEncoding(strings(g, 'categories', c.categories), 'string-array', '0.2.0');
    }
    const v = f.create_group('var');
    setEncoding(v, 'dataframe', '0.2.0');
    v.create_attribute('_index', '_index', null, 'S');
    v.create_attribute('column-order', ['gene_ids'], null, 'S');
    setEncoding(strings(v, '_index', m.genes), 'string-array', '0.2.0');
    setEncoding(strings(v, 'gene_ids', m.geneIds), 'string-array', '0.2.0');
    for (const name of ['obsm', 'varm', 'obsp', 'varp', 'layers', 'uns']) setEncoding(f.create_group(name), 'dict', '0.1.0');
    return new (class extends BlockWriter {
      protected finish(): void {
        x.create_dataset({ name: 'indptr', data: BigInt64Array.from(this.indptr, (o) => BigInt(o)) });
      }
    })(f, tmp, file, m.barcodes.length, m.genes.length, m.dtype, data, indices, false);
  });
}

/**
 * Starts a Cell Ranger 3.0+ HDF5 matrix: /matrix with barcodes, data (int32), indices (int64), indptr (int64),
 * shape (int32) and features/{id, name, feature_type, genome, _all_tag_keys}, all features "Gene Expression".
 */
export async function createTenxH5Writer(
  file: string,
  m: { geneIds: readonly string[]; geneNames: readonly string[]; barcodes: readonly string[]; genome?: string },
  opts: H5WriteOptions = {},
): Promise<CountMatrixWriter> {
  return inTempFile(file, (f, tmp) => {
    f.create_attribute('filetype', 'matrix', null, 'S');
    f.create_attribute('version', 2);
    f.create_attribute('software_version', 'gpulmm simulator', null, 'S');
    const mat = f.create_group('matrix');
    let width = 1;
    for (const b of m.barcodes) width = Math.max(width, Buffer.byteLength(b));
    strings(mat, 'barcodes', m.barcodes, `S${width}`);
    const data = extendable(mat, 'data', '<i', opts);
    const indices = extendable(mat, 'indices', '<q', opts);
    const feat = mat.create_group('features');
    strings(feat, 'id', m.geneIds);
    strings(feat, 'name', m.geneNames);
    strings(feat, 'feature_type', m.geneIds.map(() => 'Gene Expression'));
    strings(feat, 'genome', m.geneIds.map(() => m.genome ?? 'sim'));
    strings(feat, '_all_tag_keys', ['genome']);
    const nCells = m.barcodes.length;
    const nGenes = m.geneIds.length;
    return new (class extends BlockWriter {
      protected finish(): void {
        mat.create_dataset({ name: 'indptr', data: BigInt64Array.from(this.indptr, (o) => BigInt(o)) });
        mat.create_dataset({ name: 'shape', data: new Int32Array([nGenes, nCells]) });
      }
    })(f, tmp, file, nCells, nGenes, 'int32', data, indices, true);
  });
}
