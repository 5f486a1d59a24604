/**
 * Count matrices as a stream of blocks, so that a reader never holds more than one block of a file.
 *
 * A block holds consecutive "majors" (cells of a cell-major file such as an .h5ad CSR X or a 10x matrix; genes of
 * a gene-major one such as an .h5ad CSC X) with their entries in compressed form: the entries of major
 * `start + m` are `minor[ptr[m] .. ptr[m+1])` (a gene index in a cell-major block, a cell index in a gene-major
 * one) with values `values[...]`. Values keep the file's own element type (integer counts stay integers; a
 * float32 matrix stays float32); consumers widen one value at a time.
 */
import { InputError } from '../errors.js';
import type { SparseCounts } from './mtx.js';

/** The element types count values arrive in (the HDF5 / Matrix Market type of the file, not widened). */
export type CountArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** Whether the blocks of a source run over cells or over genes. */
export type BlockMajor = 'cell' | 'gene';

/** One block of a count matrix (see the module comment). */
export interface CountBlock {
  readonly major: BlockMajor;
  /** First major index (cell or gene) of the block. */
  readonly start: number;
  /** Number of majors in the block. */
  readonly count: number;
  /** count + 1 offsets into minor / values, ptr[0] = 0. */
  readonly ptr: Int32Array | Float64Array;
  /** Minor index of each entry: the gene (cell-major) or the cell (gene-major). */
  readonly minor: Int32Array;
  readonly values: CountArray;
  /** Position of values[0] in the file's value array (error messages name the element). */
  readonly firstEntry: number;
}

/** A count matrix read block by block; see {@link CountBlock}. */
export interface CountSource {
  /** The file (or directory) as the user named it. */
  readonly file: string;
  /** Where the values live inside it, for messages: 'X/data', 'matrix/data', 'matrix.mtx.gz'. */
  readonly valuesField: string;
  readonly nGenes: number;
  readonly nCells: number;
  readonly major: BlockMajor;
  /**
   * True when each major's entries all arrive in one block (a cell's library size can be taken from its block).
   * False for a Matrix Market file whose entries are not sorted by cell: its blocks may revisit a cell.
   */
  readonly completeMajors: boolean;
  /** Stored entries, when the file says before reading (null: unknown until the end). */
  readonly nnz: number | null;
  /** The stored element type holds integers only (then only negative values can fail an integer-count check). */
  readonly integerType: boolean;
  /** Bytes a block holds per entry (minor index + value). */
  readonly bytesPerEntry: number;
  /**
   * Streams the blocks in major order, each with at most `maxEntries` entries (a major with more entries comes
   * alone in its block). `majors` restricts the stream to majors [from, to) where the layout allows skipping
   * (gene ranges of a gene-major file); other sources ignore it.
   */
  blocks(maxEntries: number, majors?: readonly [number, number]): AsyncIterable<CountBlock>;
  /** Releases the file. */
  close(): void;
}

/**
 * Thrown by a source's blocks() when it finds that its blocks cannot hold whole cells after all (a Matrix Market
 * file whose entries are not sorted by cell). The source has switched to incomplete blocks (completeMajors is
 * now false): take library sizes from a first pass and start the pass again.
 */
export class MajorsIncompleteError extends Error {
  override name = 'MajorsIncompleteError';
  constructor(
    readonly file: string,
    readonly entry: number,
  ) {
    super(`${file}: entries are not sorted by cell (first out of order near entry ${entry + 1})`);
  }
}

/**
 * An in-memory genes x cells CSC matrix as one cell-major block (no copy). Cost O(1).
 */
export function memoryBlock(counts: SparseCounts): CountBlock {
  return { major: 'cell', start: 0, count: counts.nCells, ptr: counts.colPtr, minor: counts.rowIdx, values: counts.values, firstEntry: 0 };
}

/** An in-memory matrix as a {@link CountSource} of a single block (for the library API and tests). */
export function memorySource(counts: SparseCounts, name = '(in-memory counts)'): CountSource {
  return {
    file: name,
    valuesField: 'values',
    nGenes: counts.nGenes,
    nCells: counts.nCells,
    major: 'cell',
    completeMajors: true,
    nnz: counts.rowIdx.length,
    integerType: false,
    bytesPerEntry: 12,
    async *blocks() {
      yield memoryBlock(counts);
    },
    close() {},
  };
}

/**
 * Splits majors [0, nMajors) into consecutive runs of at most `maxEntries` entries each (a single major with
 * more entries forms its own run), given the offsets `indptr` (nMajors + 1 values). Cost O(nMajors).
 */
export function blockRanges(indptr: ArrayLike<number>, nMajors: number, maxEntries: number, from = 0, to = nMajors): [number, number][] {
  const out: [number, number][] = [];
  let s = from;
  while (s < to) {
    let e = s + 1;
    while (e < to && indptr[e + 1]! - indptr[s]! <= maxEntries) e++;
    out.push([s, e]);
    s = e;
  }
  return out;
}

/**
 * A block with the entries of unwanted minors dropped and the rest renumbered: `newIndex[minor]` is the new
 * minor index, or -1 to drop (e.g. features of a 10x file that are not genes). Cost O(entries).
 */
export function remapMinor(block: CountBlock, newIndex: Int32Array): CountBlock {
  const { ptr, minor, values } = block;
  const n = ptr[block.count]!;
  const newPtr = new Int32Array(block.count + 1);
  const newMinor = new Int32Array(n);
  const newValues = new (values.constructor as { new (n: number): CountArray })(n);
  let w = 0;
  for (let m = 0; m < block.count; m++) {
    for (let k = ptr[m]!; k < ptr[m + 1]!; k++) {
      const g = newIndex[minor[k]!]!;
      if (g < 0) continue;
      newMinor[w] = g;
      newValues[w++] = values[k]!;
    }
    newPtr[m + 1] = w;
  }
  return { ...block, ptr: newPtr, minor: newMinor.subarray(0, w), values: newValues.subarray(0, w) };
}

/**
 * Every value of a count matrix is a count: a finite number >= 0 (a negative or non-finite value means the file
 * holds something else, e.g. scaled data, or is corrupt). InputError naming `file`, the values' `field` and the
 * element index `firstEntry + k` of the first bad value. O(values.length).
 */
export function checkCountValues(values: CountArray, file: string, field: string, firstEntry: number): void {
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (!(v >= 0 && v !== Number.POSITIVE_INFINITY)) {
      throw new InputError(file, undefined, undefined, `${field}[${firstEntry + k}] = ${v}: expected a count (a finite number >= 0); give the raw counts (e.g. layers/counts or raw/X of an .h5ad)`);
    }
  }
}

/**
 * Reads a whole source into an in-memory genes x cells CSC matrix (values widened to f64, cells bucketed when
 * the source is gene-major; genes ascending within a cell). Non-finite values are an InputError naming the
 * element. Cost O(nnz) time, 16 bytes per entry (twice while bucketing a gene-major source).
 */
export async function collectCounts(source: CountSource, maxEntries = 1 << 24): Promise<SparseCounts> {
  const majorIdx: Int32Array[] = [];
  const minorIdx: Int32Array[] = [];
  const vals: Float64Array[] = [];
  let integer = true;
  let total = 0;
  for await (const block of source.blocks(maxEntries)) {
    const n = block.ptr[block.count]!;
    const maj = new Int32Array(n);
    for (let m = 0; m < block.count; m++) maj.fill(block.start + m, block.ptr[m]!, block.ptr[m + 1]!);
    const v = Float64Array.from(block.values.subarray(0, n));
    for (let k = 0; k < n; k++) {
      const x = v[k]!;
      if (!Number.isFinite(x)) throw new InputError(source.file, undefined, undefined, `${source.valuesField}[${block.firstEntry + k}] = ${x} is not finite`);
      if (integer && !(x >= 0 && Number.isInteger(x))) integer = false;
    }
    majorIdx.push(maj);
    minorIdx.push(block.minor.subarray(0, n));
    vals.push(v);
    total += n;
  }
  const nCells = source.nCells;
  const cellOf = (b: number) => (source.major === 'cell' ? majorIdx[b]! : minorIdx[b]!);
  const geneOf = (b: number) => (source.major === 'cell' ? minorIdx[b]! : majorIdx[b]!);
  const colPtr = new Float64Array(nCells + 1);
  for (let b = 0; b < vals.length; b++) for (const j of cellOf(b)) colPtr[j + 1]!++;
  for (let j = 0; j < nCells; j++) colPtr[j + 1]! += colPtr[j]!;
  const next = colPtr.slice(0, nCells);
  const rowIdx = new Int32Array(total);
  const values = new Float64Array(total);
  for (let b = 0; b < vals.length; b++) {
    const cells = cellOf(b);
    const genes = geneOf(b);
    const v = vals[b]!;
    for (let k = 0; k < v.length; k++) {
      const dst = next[cells[k]!]!++;
      rowIdx[dst] = genes[k]!;
      values[dst] = v[k]!;
    }
  }
  return { nGenes: source.nGenes, nCells, colPtr, rowIdx, values, integer };
}
