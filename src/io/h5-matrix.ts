/**
 * Count matrices stored in HDF5 as {@link CountSource}s read slice by slice: compressed sparse groups
 * (data / indices / indptr, as AnnData's csr_matrix and csc_matrix and Cell Ranger's /matrix) and dense 2-D
 * datasets (AnnData dense X). Only one block's slices are in memory at a time; indptr (one offset per major) is
 * read whole.
 */
import { blockRanges, checkCountValues, remapMinor, type BlockMajor, type CountBlock, type CountSource } from './count-blocks.js';
import { elementBytes, h5Error, isIntegerDataset, readIndexSlice, readNumbers, readValueSlice, type H5Dataset, type H5File } from './hdf5.js';

/** Where a compressed sparse matrix is and how to read it. */
export interface H5SparseSpec {
  readonly file: string;
  /** The open HDF5 file (closed by the source's close()). */
  readonly h5: H5File;
  readonly data: H5Dataset;
  readonly indices: H5Dataset;
  readonly indptr: H5Dataset;
  readonly major: BlockMajor;
  readonly nGenes: number;
  readonly nCells: number;
  /** For cell-major matrices whose minor index is a feature: the gene of each feature (-1: drop). */
  readonly geneOf?: Int32Array | null;
}

/**
 * A compressed sparse HDF5 matrix as a source. Checks indptr (starts at 0, never decreases, ends at the entry
 * count of data and indices) before any block is read, and every minor index as its block arrives; errors name
 * the file, the dataset and the element. Cost O(majors) to open.
 */
export function h5SparseSource(spec: H5SparseSpec): CountSource {
  const { file, data, indices, major, nGenes, nCells } = spec;
  const nMajor = major === 'cell' ? nCells : nGenes;
  const nMinor = spec.geneOf ? spec.geneOf.length : major === 'cell' ? nGenes : nCells;
  const indptr = readNumbers(file, spec.indptr);
  const nnz = Number(data.shape?.[0] ?? 0);
  if (indptr.length !== nMajor + 1) throw h5Error(file, spec.indptr.path, `${indptr.length} offsets for ${nMajor} ${major === 'cell' ? 'cells' : 'genes'} (expected ${nMajor + 1})`);
  if (Number(indices.shape?.[0] ?? 0) !== nnz) throw h5Error(file, indices.path, `${indices.shape?.[0]} indices for ${nnz} values in ${data.path}`);
  if (indptr[0] !== 0) throw h5Error(file, spec.indptr.path, `first offset is ${indptr[0]}, expected 0`);
  for (let i = 0; i < nMajor; i++) {
    if (!(indptr[i + 1]! >= indptr[i]!)) throw h5Error(file, spec.indptr.path, `offsets decrease at element ${i + 1} (${indptr[i]} then ${indptr[i + 1]})`);
  }
  if (indptr[nMajor] !== nnz) throw h5Error(file, spec.indptr.path, `last offset is ${indptr[nMajor]}, but ${data.path} has ${nnz} values`);
  return {
    file,
    valuesField: data.path.replace(/^\//, ''),
    nGenes,
    nCells,
    major,
    completeMajors: true,
    nnz,
    integerType: isIntegerDataset(data),
    bytesPerEntry: elementBytes(indices) + elementBytes(data) + 8,
    async *blocks(maxEntries: number, majors?: readonly [number, number]) {
      const [from, to] = major === 'gene' && majors ? majors : [0, nMajor];
      for (const [a, b] of blockRanges(indptr, nMajor, Math.max(1, maxEntries), from, to)) {
        const s = indptr[a]!;
        const e = indptr[b]!;
        const minor = readIndexSlice(file, indices, s, e);
        for (let k = 0; k < minor.length; k++) {
          if (minor[k]! >= nMinor) throw h5Error(file, indices.path, `element ${s + k} = ${minor[k]} outside 0..${nMinor - 1}`);
        }
        const ptr = new Int32Array(b - a + 1);
        for (let m = 1; m <= b - a; m++) ptr[m] = indptr[a + m]! - s;
        const values = readValueSlice(file, data, s, e);
        checkCountValues(values, file, data.path.replace(/^\//, ''), s);
        const block: CountBlock = { major, start: a, count: b - a, ptr, minor, values, firstEntry: s };
        yield spec.geneOf ? remapMinor(block, spec.geneOf) : block;
      }
    },
    close() {
      spec.h5.close();
    },
  };
}

/**
 * A dense cells x genes HDF5 dataset (row = cell) as a cell-major source: row slices of at most `maxEntries`
 * elements, zeros dropped. Cost O(cells x genes) read.
 */
export function h5DenseSource(file: string, h5: H5File, ds: H5Dataset, nCells: number, nGenes: number): CountSource {
  return {
    file,
    valuesField: ds.path.replace(/^\//, ''),
    nGenes,
    nCells,
    major: 'cell',
    completeMajors: true,
    nnz: null,
    integerType: isIntegerDataset(ds),
    bytesPerEntry: elementBytes(ds) + 4,
    async *blocks(maxEntries: number) {
      const rows = Math.max(1, Math.floor(maxEntries / Math.max(1, nGenes)));
      for (let a = 0; a < nCells; a += rows) {
        const b = Math.min(nCells, a + rows);
        const x = ds.slice([[a, b], []]) as unknown as ArrayLike<number>;
        let nnz = 0;
        for (let i = 0; i < x.length; i++) if (x[i] !== 0) nnz++;
        const ptr = new Int32Array(b - a + 1);
        const minor = new Int32Array(nnz);
        const values = new Float64Array(nnz);
        let k = 0;
        for (let c = 0; c < b - a; c++) {
          for (let g = 0; g < nGenes; g++) {
            const v = Number(x[c * nGenes + g]!);
            if (v !== 0 && !(v > 0 && v !== Number.POSITIVE_INFINITY)) checkCountValues(Float64Array.of(v), file, ds.path.replace(/^\//, ''), (a + c) * nGenes + g);
            if (v !== 0) {
              minor[k] = g;
              values[k++] = v;
            }
          }
          ptr[c + 1] = k;
        }
        yield { major: 'cell', start: a, count: b - a, ptr, minor, values, firstEntry: a * nGenes };
      }
    },
    close() {
      h5.close();
    },
  };
}
