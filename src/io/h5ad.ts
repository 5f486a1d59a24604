/**
 * AnnData `.h5ad` files (HDF5), read block by block.
 *
 * The matrix (X, raw/X or layers/NAME) is cells x genes: dense, `csr_matrix` (rows = cells: streamed in blocks
 * of whole cells) or `csc_matrix` (rows = genes: streamed in blocks of whole genes). Cell metadata comes from
 * obs, one column at a time on request: plain columns (strings or numbers), categoricals (integer codes into
 * categories, code -1 = missing) in the current encoding (a group with codes/categories) and the legacy one
 * (codes in obs/COL, categories in obs/__categories/COL), and nullable integer / boolean / string groups
 * (values + mask). Covers the on-disk format of anndata 0.7 (legacy categoricals, h5sparse attributes) through
 * 0.8-0.11 (encoding-type / encoding-version attributes).
 */
import { collectCounts, type CountSource } from './count-blocks.js';
import { h5DenseSource, h5SparseSource } from './h5-matrix.js';
import {
  attr,
  child,
  childDataset,
  childGroup,
  h5Error,
  isDataset,
  isGroup,
  openH5,
  readNumbers,
  readStrings,
  type H5File,
  type H5Group,
} from './hdf5.js';
import type { SparseCounts } from './mtx.js';

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

/** An .h5ad file opened for streaming: names and metadata on request, the matrix a {@link CountSource}. */
export interface H5adFile {
  readonly file: string;
  /** The matrix path read ('X', 'raw/X', 'layers/NAME'). */
  readonly matrix: string;
  readonly source: CountSource;
  /** var index of the matrix (gene names). */
  readonly genes: string[];
  /** obs index (cell barcodes). */
  readonly barcodes: string[];
  /** Names of the obs columns (index excluded). */
  readonly obsNames: string[];
  /** One obs column as strings ('' for missing); InputError when absent or of the wrong length. */
  obsColumn(name: string): string[];
  /** Closes the file (also closes the source). */
  close(): void;
}

/**
 * Opens an .h5ad file: the matrix (see {@link H5adOptions.matrix}) as a source, var and obs names. Checks that
 * obs and var lengths match the matrix shape. Errors name the file and the HDF5 path. Cost O(cells + genes).
 */
export async function openH5ad(file: string, opts: H5adOptions = {}): Promise<H5adFile> {
  const f = await openH5(file);
  try {
    const matrix = opts.matrix ?? 'X';
    const source = matrixSource(file, f, matrix);
    const varGroup = childGroup(file, f, matrix === 'raw/X' ? 'raw/var' : 'var');
    const obsGroup = childGroup(file, f, 'obs');
    const genes = frameIndex(file, varGroup);
    const barcodes = frameIndex(file, obsGroup);
    if (genes.length !== source.nGenes) throw h5Error(file, varGroup.path, `${genes.length} rows, but ${matrix} has ${source.nGenes} columns (genes)`);
    if (barcodes.length !== source.nCells) throw h5Error(file, obsGroup.path, `${barcodes.length} rows, but ${matrix} has ${source.nCells} rows (cells)`);
    const indexName = String(attr(obsGroup, '_index') ?? '_index');
    const obsNames = obsGroup.keys().filter((k) => k !== indexName && k !== '__categories' && isColumn(obsGroup, k));
    return {
      file,
      matrix,
      source,
      genes,
      barcodes,
      obsNames,
      obsColumn(name: string) {
        if (!obsNames.includes(name)) throw h5Error(file, '/obs', `no column "${name}" (columns: ${obsNames.join(', ')})`);
        const values = frameColumn(file, obsGroup, name);
        if (values.length !== barcodes.length) throw h5Error(file, `/obs/${name}`, `${values.length} values for ${barcodes.length} cells`);
        return values;
      },
      close: () => source.close(),
    };
  } catch (err) {
    f.close();
    throw err;
  }
}

/**
 * Reads an .h5ad file into memory: the count matrix, var names, obs index and every obs column.
 * Cost O(nnz + cells x obs columns); 16 bytes per non-zero.
 */
export async function readH5ad(file: string, opts: H5adOptions = {}): Promise<H5adData> {
  const h = await openH5ad(file, opts);
  try {
    const counts = await collectCounts(h.source);
    const obs = new Map(h.obsNames.map((name) => [name, h.obsColumn(name)] as const));
    return { counts, genes: h.genes, barcodes: h.barcodes, obs };
  } finally {
    h.close();
  }
}

/** The matrix at `path` (cells x genes) as a source. */
function matrixSource(file: string, f: H5File, path: string): CountSource {
  const e = child(file, f, path);
  if (isDataset(e)) {
    const shape = e.shape ?? [];
    if (shape.length !== 2) throw h5Error(file, e.path, `expected a 2-D matrix, shape ${JSON.stringify(shape)}`);
    return h5DenseSource(file, f, e, Number(shape[0]), Number(shape[1]));
  }
  if (!isGroup(e)) throw h5Error(file, path, 'expected a dataset or a group');
  const kind = String(attr(e, 'encoding-type') ?? attr(e, 'h5sparse_format') ?? '');
  const shapeAttr = attr(e, 'shape') ?? attr(e, 'h5sparse_shape');
  if (!shapeAttr || !['csr_matrix', 'csc_matrix', 'csr', 'csc'].includes(kind)) {
    throw h5Error(file, e.path, `expected a dense dataset or a csr_matrix/csc_matrix group (encoding-type "${kind}")`);
  }
  const [nCells, nGenes] = Array.from(shapeAttr as ArrayLike<number | bigint>, Number) as [number, number];
  return h5SparseSource({
    file,
    h5: f,
    data: childDataset(file, e, 'data'),
    indices: childDataset(file, e, 'indices'),
    indptr: childDataset(file, e, 'indptr'),
    major: kind.startsWith('csr') ? 'cell' : 'gene',
    nGenes,
    nCells,
  });
}

/** The index (row names) of a dataframe group. */
function frameIndex(file: string, g: H5Group): string[] {
  const indexName = String(attr(g, '_index') ?? '_index');
  return readStrings(file, childDataset(file, g, indexName));
}

/** True when member `key` of a dataframe is a column we can read (dataset, categorical or nullable group). */
function isColumn(g: H5Group, key: string): boolean {
  const e = g.get(key);
  if (isDataset(e)) return true;
  if (!isGroup(e)) return false;
  const kind = attr(e, 'encoding-type');
  return kind === 'categorical' || (typeof kind === 'string' && kind.startsWith('nullable'));
}

/** One dataframe column as strings ('' for missing). */
function frameColumn(file: string, g: H5Group, key: string): string[] {
  const e = g.get(key);
  if (isGroup(e)) {
    const kind = String(attr(e, 'encoding-type') ?? '');
    if (kind === 'categorical') return decodeCategorical(file, e.path, readNumbers(file, childDataset(file, e, 'codes')), readStrings(file, childDataset(file, e, 'categories')));
    // nullable-integer / nullable-boolean / nullable-string-array: values, and mask = true where missing.
    const values = readStrings(file, childDataset(file, e, 'values'));
    const mask = readNumbers(file, childDataset(file, e, 'mask'));
    if (mask.length !== values.length) throw h5Error(file, e.path, `mask has ${mask.length} values for ${values.length}`);
    if (kind === 'nullable-boolean') return values.map((v, i) => (mask[i] ? '' : v === '1' || v === 'true' ? 'True' : 'False'));
    return values.map((v, i) => (mask[i] ? '' : v));
  }
  if (!isDataset(e)) throw h5Error(file, `${g.path}/${key}`, 'expected a column');
  const legacy = g.keys().includes('__categories') ? childGroup(file, g, '__categories') : null;
  if (legacy && legacy.keys().includes(key)) return decodeCategorical(file, e.path, readNumbers(file, e), readStrings(file, childDataset(file, legacy, key)));
  return readStrings(file, e);
}

function decodeCategorical(file: string, path: string, codes: Float64Array, categories: string[]): string[] {
  return Array.from(codes, (c, i) => {
    if (c === -1) return '';
    const v = categories[c];
    if (v === undefined) throw h5Error(file, path, `code ${c} of cell ${i} outside the ${categories.length} categories`);
    return v;
  });
}
