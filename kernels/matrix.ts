/**
 * The one matrix convention of gpulmm: dense, column-major, with an explicit leading dimension.
 *
 * Element (i, j) of a matrix `m` lives at `m.data[i + j * m.ld]`, with `ld >= rows`.
 * The element type is part of the type name (F64Matrix, F32Matrix); nothing down-casts silently:
 * converting between them is always an explicit call ({@link toF32}, {@link toF64}).
 */

/** A dense column-major f64 matrix view. */
export interface F64Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Leading dimension: distance in elements between the starts of consecutive columns (>= rows). */
  readonly ld: number;
  readonly data: Float64Array;
}

/** A dense column-major f32 matrix view (what GPU backends hold). */
export interface F32Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly ld: number;
  readonly data: Float32Array;
}

/** Thrown for any shape, type or range problem at the entry of a public function. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

function checkDims(rows: number, cols: number, ld: number, length: number, what: string): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new ShapeError(`${what}: dimensions must be non-negative integers, got ${rows}x${cols}`);
  }
  if (!Number.isInteger(ld) || ld < Math.max(1, rows)) {
    throw new ShapeError(`${what}: leading dimension ${ld} must be >= max(1, rows=${rows})`);
  }
  const needed = cols === 0 ? 0 : ld * (cols - 1) + rows;
  if (length < needed) {
    throw new ShapeError(`${what}: ${rows}x${cols} with ld=${ld} needs ${needed} elements, buffer has ${length}`);
  }
}

/** Wraps (or allocates, zero-filled) an f64 matrix. Throws ShapeError if `data` is too short. */
export function f64Matrix(rows: number, cols: number, data?: Float64Array, ld: number = Math.max(1, rows)): F64Matrix {
  const buf = data ?? new Float64Array(ld * cols);
  checkDims(rows, cols, ld, buf.length, 'f64Matrix');
  return { rows, cols, ld, data: buf };
}

/** Wraps (or allocates, zero-filled) an f32 matrix. Throws ShapeError if `data` is too short. */
export function f32Matrix(rows: number, cols: number, data?: Float32Array, ld: number = Math.max(1, rows)): F32Matrix {
  const buf = data ?? new Float32Array(ld * cols);
  checkDims(rows, cols, ld, buf.length, 'f32Matrix');
  return { rows, cols, ld, data: buf };
}

/** Builds an f64 matrix from row-major nested arrays (convenient in tests and small examples). */
export function f64FromRows(rows: readonly (readonly number[])[]): F64Matrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const m = f64Matrix(r, c);
  for (let i = 0; i < r; i++) {
    const row = rows[i]!;
    if (row.length !== c) throw new ShapeError(`f64FromRows: row ${i} has ${row.length} entries, expected ${c}`);
    for (let j = 0; j < c; j++) m.data[i + j * m.ld] = row[j]!;
  }
  return m;
}

/** Element (i, j). No bounds check: hot loops index `data` directly; this is for clarity elsewhere. */
export function at(m: F64Matrix | F32Matrix, i: number, j: number): number {
  return m.data[i + j * m.ld]!;
}

/** A packed copy (ld = rows) of any f64 matrix view. */
export function packF64(m: F64Matrix): F64Matrix {
  if (m.ld === Math.max(1, m.rows) && m.data.length === m.rows * m.cols) return m;
  const out = f64Matrix(m.rows, m.cols);
  for (let j = 0; j < m.cols; j++) out.data.set(m.data.subarray(j * m.ld, j * m.ld + m.rows), j * out.ld);
  return out;
}

/** Explicit down-cast to a packed f32 matrix (rounds to nearest f32). */
export function toF32(m: F64Matrix): F32Matrix {
  const out = f32Matrix(m.rows, m.cols);
  for (let j = 0; j < m.cols; j++) {
    for (let i = 0; i < m.rows; i++) out.data[i + j * out.ld] = m.data[i + j * m.ld]!;
  }
  return out;
}

/** Explicit up-cast to a packed f64 matrix (exact). */
export function toF64(m: F32Matrix): F64Matrix {
  const out = f64Matrix(m.rows, m.cols);
  for (let j = 0; j < m.cols; j++) {
    for (let i = 0; i < m.rows; i++) out.data[i + j * out.ld] = m.data[i + j * m.ld]!;
  }
  return out;
}

/** "3x4" style shape string used in error messages. */
export function shapeOf(m: { rows: number; cols: number }): string {
  return `${m.rows}x${m.cols}`;
}

/** A column-major matrix of bytes: Int8Array values in [-127, 127], or Uint8Array values in [0, 127]. */
export interface Int8Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly ld: number;
  readonly data: Int8Array | Uint8Array;
}
