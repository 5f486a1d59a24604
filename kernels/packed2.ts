/**
 * Products with a matrix stored as 2-bit codes (the layout of a PLINK .bed, but nothing here knows genetics):
 * Z is rows x cols, column j holds `bytesPerCol` bytes, entry i of column j is the code
 * c_ij = (byte[i >> 2] >> 2 (i & 3)) & 3, and its value is a per-column table: z_ij = tables[4 j + c_ij]
 * (so a column can be standardised, mean-imputed or switched off without touching the codes). The products a
 * backend offers on it ({@link Packed2Products}: kernels/cpu/packed2.ts on the cpu, kernels/webgpu/packed2.ts on
 * WebGPU), and the plain-loop oracles they are tested against.
 */
import { f64Matrix, shapeOf, type F64Matrix } from './matrix.js';

/** A rows x cols matrix of 2-bit codes, its columns split over blocks (each a byte array of whole columns). */
export interface Packed2Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Bytes per column: at least ceil(rows / 4). */
  readonly bytesPerCol: number;
  /** Consecutive columns: block b holds columns [colStart[b], colStart[b + 1]). */
  readonly blocks: readonly Uint8Array[];
  /** colStart[b] = first column of block b; colStart[blocks.length] = cols. */
  readonly colStart: Int32Array;
}

/** Checks the matrix, tables and a column range; returns the number of columns in the range. */
export function checkPacked2(z: Packed2Matrix, tables: Float64Array, j0: number, j1: number, what: string): number {
  if (!(Number.isInteger(j0) && Number.isInteger(j1) && 0 <= j0 && j0 <= j1 && j1 <= z.cols)) {
    throw new RangeError(`${what}: column range [${j0}, ${j1}) outside the ${z.rows} x ${z.cols} packed matrix`);
  }
  if (tables.length < 4 * z.cols) throw new RangeError(`${what}: ${tables.length} table entries, need 4 x ${z.cols}`);
  if (z.bytesPerCol < Math.ceil(z.rows / 4)) throw new RangeError(`${what}: ${z.bytesPerCol} bytes per column cannot hold ${z.rows} 2-bit codes`);
  if (z.colStart.length !== z.blocks.length + 1 || z.colStart[z.blocks.length] !== z.cols) throw new RangeError(`${what}: colStart does not match the blocks`);
  return j1 - j0;
}

/** Reference U = Z[:, j0:j1]' V by plain loops (the oracle). O(rows (j1 - j0) B). */
export function packed2ZtvReference(z: Packed2Matrix, tables: Float64Array, v: F64Matrix, j0 = 0, j1 = z.cols): F64Matrix {
  const m = checkPacked2(z, tables, j0, j1, 'packed2Ztv');
  if (v.rows !== z.rows) throw new RangeError(`packed2Ztv: V is ${shapeOf(v)}, expected ${z.rows} rows`);
  const u = f64Matrix(m, v.cols);
  for (let j = j0; j < j1; j++) {
    const { data, at } = columnBytes(z, j);
    for (let b = 0; b < v.cols; b++) {
      let s = 0;
      for (let i = 0; i < z.rows; i++) s += tables[4 * j + ((data[at + (i >> 2)]! >> (2 * (i & 3))) & 3)]! * v.data[i + b * v.ld]!;
      u.data[j - j0 + b * m] = s;
    }
  }
  return u;
}

/** Reference Y = Z[:, j0:j1] U by plain loops (the oracle). O(rows (j1 - j0) B). */
export function packed2ZuReference(z: Packed2Matrix, tables: Float64Array, u: F64Matrix, j0 = 0, j1 = z.cols): F64Matrix {
  const m = checkPacked2(z, tables, j0, j1, 'packed2Zu');
  if (u.rows !== m) throw new RangeError(`packed2Zu: U is ${shapeOf(u)}, expected ${m} rows`);
  const y = f64Matrix(z.rows, u.cols);
  for (let j = j0; j < j1; j++) {
    const { data, at } = columnBytes(z, j);
    for (let b = 0; b < u.cols; b++) {
      const w = u.data[j - j0 + b * u.ld]!;
      for (let i = 0; i < z.rows; i++) y.data[i + b * z.rows]! += tables[4 * j + ((data[at + (i >> 2)]! >> (2 * (i & 3))) & 3)]! * w;
    }
  }
  return y;
}

/**
 * A packed matrix from codes given one per byte (column-major, rows x cols, values 0..3), `colsPerBlock`
 * columns per block, each block on a SharedArrayBuffer; rows past `rows` in the last byte get code `pad`.
 * O(rows cols).
 */
export function packed2FromCodes(codes: Uint8Array, rows: number, cols: number, colsPerBlock = 4096, pad = 1): Packed2Matrix {
  if (codes.length !== rows * cols) throw new RangeError(`packed2FromCodes: ${codes.length} codes, expected ${rows} x ${cols}`);
  const bytesPerCol = Math.ceil(rows / 4);
  const blocks: Uint8Array[] = [];
  const starts: number[] = [];
  for (let c0 = 0; c0 < cols; c0 += colsPerBlock) {
    const nc = Math.min(colsPerBlock, cols - c0);
    const data = new Uint8Array(new SharedArrayBuffer(Math.max(1, nc * bytesPerCol)), 0, nc * bytesPerCol);
    for (let q = 0; q < nc; q++) {
      for (let i = 0; i < bytesPerCol * 4; i++) {
        const code = i < rows ? codes[i + (c0 + q) * rows]! : pad;
        if (code > 3) throw new RangeError(`packed2FromCodes: code ${code} at row ${i}, column ${c0 + q} is not in 0..3`);
        data[q * bytesPerCol + (i >> 2)]! |= code << (2 * (i & 3));
      }
    }
    blocks.push(data);
    starts.push(c0);
  }
  starts.push(cols);
  return { rows, cols, bytesPerCol, blocks, colStart: Int32Array.from(starts) };
}

/** The block holding column j and the byte offset of the column in it. O(log blocks). */
export function columnBytes(z: Packed2Matrix, j: number): { data: Uint8Array; at: number } {
  let lo = 0;
  let hi = z.blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (z.colStart[mid]! <= j) lo = mid;
    else hi = mid - 1;
  }
  return { data: z.blocks[lo]!, at: (j - z.colStart[lo]!) * z.bytesPerCol };
}

/**
 * The products on one packed matrix, on some backend:
 *   ztv:    U = Z[:, j0:j1]' V                                      (j1 - j0) x B,   2 rows (j1 - j0) B flops
 *   normal: Y = Z (M o (Z' V)), M[c, b] = scale[b], or 0 where groups[c] = exclude[b]   rows x B,   4 rows cols B flops
 * `tables` holds 4 values per column; V is rows x B.
 */
export interface Packed2Products {
  readonly matrix: Packed2Matrix;
  /** 'f64' (cpu) or 'f32' (GPU: values and sums in f32, results widened). */
  readonly precision: 'f64' | 'f32';
  ztv(tables: Float64Array, v: F64Matrix, j0?: number, j1?: number): Promise<F64Matrix>;
  normal(tables: Float64Array, v: F64Matrix, groups: Int32Array, exclude: ArrayLike<number>, scale: ArrayLike<number>): Promise<F64Matrix>;
  dispose(): Promise<void>;
}
