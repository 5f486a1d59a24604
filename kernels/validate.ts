/**
 * Entry checks shared by every backend, so that all backends reject the same inputs with the same words.
 * Each returns the derived dimensions of the op; each throws KernelError naming op, backend and shapes.
 */
import { KernelError, type BackendName, type GemmOptions, type OpName, type SyrkOptions, type TrsmOptions } from './backend.js';
import { shapeOf, type F64Matrix } from './matrix.js';

function fail(op: OpName, backend: BackendName, shapes: string, detail: string): never {
  throw new KernelError(op, backend, shapes, detail);
}

/** Throws if any element of the (rows x cols) view is NaN or infinite. */
export function checkFinite(op: OpName, backend: BackendName, name: string, m: F64Matrix, shapes: string): void {
  for (let j = 0; j < m.cols; j++) {
    const base = j * m.ld;
    for (let i = 0; i < m.rows; i++) {
      if (!Number.isFinite(m.data[base + i]!)) {
        fail(op, backend, shapes, `${name}[${i},${j}] is ${m.data[base + i]}; finite values required`);
      }
    }
  }
}

function checkScalar(op: OpName, backend: BackendName, shapes: string, name: string, v: number): void {
  if (!Number.isFinite(v)) fail(op, backend, shapes, `${name} must be finite, got ${v}`);
}

/** Dimensions of C = alpha op(A) op(B) + beta C. */
export function checkGemm(backend: BackendName, a: F64Matrix, b: F64Matrix, o: GemmOptions = {}): { m: number; n: number; k: number } {
  const shapes = `A ${shapeOf(a)}${o.transA ? '^T' : ''}, B ${shapeOf(b)}${o.transB ? '^T' : ''}${o.c ? `, C ${shapeOf(o.c)}` : ''}`;
  const m = o.transA ? a.cols : a.rows;
  const k = o.transA ? a.rows : a.cols;
  const kb = o.transB ? b.cols : b.rows;
  const n = o.transB ? b.rows : b.cols;
  if (k !== kb) fail('gemm', backend, shapes, `inner dimensions differ: op(A) has ${k} columns, op(B) has ${kb} rows`);
  if (o.c && (o.c.rows !== m || o.c.cols !== n)) fail('gemm', backend, shapes, `C must be ${m}x${n}`);
  checkScalar('gemm', backend, shapes, 'alpha', o.alpha ?? 1);
  checkScalar('gemm', backend, shapes, 'beta', o.beta ?? 0);
  checkFinite('gemm', backend, 'A', a, shapes);
  checkFinite('gemm', backend, 'B', b, shapes);
  if (o.c) checkFinite('gemm', backend, 'C', o.c, shapes);
  return { m, n, k };
}

/** Dimensions of C = alpha A A^T + beta C (or A^T A when trans). */
export function checkSyrk(backend: BackendName, a: F64Matrix, o: SyrkOptions = {}): { n: number; k: number } {
  const shapes = `A ${shapeOf(a)}${o.trans ? '^T' : ''}${o.c ? `, C ${shapeOf(o.c)}` : ''}`;
  const n = o.trans ? a.cols : a.rows;
  const k = o.trans ? a.rows : a.cols;
  if (o.c && (o.c.rows !== n || o.c.cols !== n)) fail('syrk', backend, shapes, `C must be ${n}x${n}`);
  checkScalar('syrk', backend, shapes, 'alpha', o.alpha ?? 1);
  checkScalar('syrk', backend, shapes, 'beta', o.beta ?? 0);
  checkFinite('syrk', backend, 'A', a, shapes);
  if (o.c) checkFinite('syrk', backend, 'C', o.c, shapes);
  return { n, k };
}

/** Checks a square, finite matrix (reads the lower triangle only for symmetric ops). */
export function checkSquare(op: OpName, backend: BackendName, a: F64Matrix, name = 'A'): number {
  const shapes = `${name} ${shapeOf(a)}`;
  if (a.rows !== a.cols) fail(op, backend, shapes, `${name} must be square`);
  for (let j = 0; j < a.cols; j++) {
    for (let i = j; i < a.rows; i++) {
      const v = a.data[i + j * a.ld]!;
      if (!Number.isFinite(v)) fail(op, backend, shapes, `${name}[${i},${j}] is ${v}; finite values required`);
    }
  }
  return a.rows;
}

/** Dimensions of a triangular solve op(T) X = alpha B (left) or X op(T) = alpha B (right). */
export function checkTrsm(backend: BackendName, t: F64Matrix, b: F64Matrix, o: TrsmOptions = {}, op: OpName = 'trsm'): { n: number; r: number } {
  const shapes = `T ${shapeOf(t)}, B ${shapeOf(b)}`;
  if (t.rows !== t.cols) fail(op, backend, shapes, 'T must be square');
  const side = o.side ?? 'left';
  const need = side === 'left' ? b.rows : b.cols;
  if (need !== t.rows) {
    fail(op, backend, shapes, side === 'left' ? `B must have ${t.rows} rows` : `B must have ${t.rows} columns`);
  }
  checkScalar(op, backend, shapes, 'alpha', o.alpha ?? 1);
  const lower = o.lower ?? true;
  for (let j = 0; j < t.cols; j++) {
    const i0 = lower ? j : 0;
    const i1 = lower ? t.rows : j + 1;
    for (let i = i0; i < i1; i++) {
      const v = t.data[i + j * t.ld]!;
      if (!Number.isFinite(v)) fail(op, backend, shapes, `T[${i},${j}] is ${v}; finite values required`);
    }
    if (!o.unitDiagonal && t.data[j + j * t.ld] === 0) fail(op, backend, shapes, `T is singular: zero diagonal at ${j}`);
  }
  checkFinite(op, backend, 'B', b, shapes);
  return { n: t.rows, r: side === 'left' ? b.cols : b.rows };
}

/** Dimensions of out[j] = sum_i w[i,j'] a[i,j] b[i,j''] (w, b: n x m or n x 1). */
export function checkBatchedWeightedDot(backend: BackendName, w: F64Matrix, a: F64Matrix, b: F64Matrix): { n: number; m: number } {
  const shapes = `w ${shapeOf(w)}, a ${shapeOf(a)}, b ${shapeOf(b)}`;
  const { rows: n, cols: m } = a;
  for (const [name, x] of [['w', w], ['b', b]] as const) {
    if (x.rows !== n) fail('batchedWeightedDot', backend, shapes, `${name} must have ${n} rows like a`);
    if (x.cols !== m && x.cols !== 1) fail('batchedWeightedDot', backend, shapes, `${name} must have ${m} columns or 1 (broadcast)`);
  }
  checkFinite('batchedWeightedDot', backend, 'w', w, shapes);
  checkFinite('batchedWeightedDot', backend, 'a', a, shapes);
  checkFinite('batchedWeightedDot', backend, 'b', b, shapes);
  return { n, m };
}
