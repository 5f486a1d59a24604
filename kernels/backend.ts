/**
 * The Backend contract: every op the rest of gpulmm computes through.
 *
 * Conventions (see kernels/matrix.ts): operands are column-major F64Matrix views at this boundary.
 * A backend whose precision is 'f32' rounds inputs to f32 on upload, accumulates in f32 and returns the
 * result widened to f64; each op's tolerance against the cpu f64 oracle is stated in its test.
 * No op mutates its arguments; every op returns fresh storage.
 * All ops validate shapes and finiteness at entry and throw {@link KernelError} naming op, backend, shapes.
 */
import type { Packed2Matrix, Packed2Products } from './packed2.js';
import type { F64Matrix, Int8Matrix } from './matrix.js';

export type BackendName = 'cpu' | 'webgpu' | 'gpujs';
export type BackendChoice = BackendName | 'auto';
export type Precision = 'f64' | 'f32';

export type OpName = 'gemm' | 'syrk' | 'potrf' | 'trsm' | 'potrs' | 'eigh' | 'batchedWeightedDot';
export const OP_NAMES: readonly OpName[] = ['gemm', 'syrk', 'potrf', 'trsm', 'potrs', 'eigh', 'batchedWeightedDot'];

/** What a GPU adapter says about itself (cpu backend: the host CPU). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software rasterisers (lavapipe, SwiftShader, WARP): `auto` never picks these. */
  isSoftware: boolean;
  limits: Record<string, number>;
}

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  precision: Precision;
  adapter: AdapterInfo | null;
  /** Why it is unavailable, when it is not. */
  reason?: string;
}

/** C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T. */
export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** Only read when `c` is given. */
  beta?: number;
  c?: F64Matrix;
}

/** C = alpha * A A^T + beta * C (trans=false, A is n x k) or alpha * A^T A + beta * C (trans=true, A is k x n). */
export interface SyrkOptions {
  trans?: boolean;
  alpha?: number;
  beta?: number;
  c?: F64Matrix;
}

/**
 * Triangular solve with multiple right-hand sides:
 * side 'left':  op(T) X = alpha B;   side 'right': X op(T) = alpha B.
 */
export interface TrsmOptions {
  side?: 'left' | 'right';
  /** T is lower triangular (default true); the other triangle is never read. */
  lower?: boolean;
  /** op(T) = T^T when true. */
  trans?: boolean;
  unitDiagonal?: boolean;
  alpha?: number;
}

export interface EighResult {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Orthonormal eigenvectors as columns, column j pairs with values[j]. */
  vectors: F64Matrix;
}

export interface Backend {
  readonly name: BackendName;
  readonly precision: Precision;
  info(): Promise<BackendInfo>;
  /** Whether this backend computes `op` itself (false: calling it throws an UnsupportedOpError). */
  supports(op: OpName): boolean;

  /** General matrix product. Cost 2mnk flops. Returns m x n. */
  gemm(a: F64Matrix, b: F64Matrix, opts?: GemmOptions): Promise<F64Matrix>;
  /** Symmetric rank-k update; both triangles of the result are filled. Cost n^2 k flops. */
  syrk(a: F64Matrix, opts?: SyrkOptions): Promise<F64Matrix>;
  /** Cholesky factor L (lower, upper triangle zero) of a symmetric positive-definite A = L L^T. Cost n^3/3. */
  potrf(a: F64Matrix): Promise<F64Matrix>;
  /** Triangular solve (see TrsmOptions). Cost n^2 r flops for r right-hand sides. */
  trsm(t: F64Matrix, b: F64Matrix, opts?: TrsmOptions): Promise<F64Matrix>;
  /** Solves (L L^T) X = B given the Cholesky factor L from potrf. */
  potrs(l: F64Matrix, b: F64Matrix): Promise<F64Matrix>;
  /** Symmetric eigendecomposition A = V diag(values) V^T (only the lower triangle of A is read). */
  eigh(a: F64Matrix): Promise<EighResult>;
  /**
   * Batched weighted reduction over rows, one result per column j:
   *   out[j] = sum_i w[i, j'] * a[i, j] * b[i, j'']
   * where w and b are n x m, or n x 1 and then broadcast to every column (j' = 0 / j'' = 0).
   * a is n x m. Used for per-SNP / per-gene weighted cross-products (e.g. x' H^-1 y for every SNP).
   * Cost 3nm flops.
   */
  batchedWeightedDot(w: F64Matrix, a: F64Matrix, b: F64Matrix): Promise<Float64Array>;

  /**
   * Optional: an exact accumulator of sum_b X_b X_b^T over blocks of small integers held on this backend's
   * device (integer arithmetic, so the sums equal the cpu's SyrkInt8Accumulator exactly). Absent: callers use
   * the cpu accumulator.
   */
  int8Gram?(n: number): Int8Gram;

  /**
   * Optional: products with a 2-bit coded matrix held on this backend's device (kernels/packed2.ts). Absent: the
   * cpu's Packed2Pool (kernels/cpu/packed2.ts) computes them.
   */
  packed2?(z: Packed2Matrix): Packed2Products;

  /**
   * Declares that `m` will be an input to many calls while unchanged (e.g. the eigenvectors U in a GWAS
   * scan): GPU backends upload it once and reuse the device copy until `release(m)`.
   * The caller must not mutate `m.data` between hold and release. No-op on the cpu backend.
   */
  hold(m: F64Matrix): void;
  release(m: F64Matrix): void;
  /** Frees device resources; the backend is unusable afterwards. */
  dispose(): Promise<void>;
}

/** Any failure inside an op: names the op, the backend and the operand shapes. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(
    readonly op: OpName | 'init',
    readonly backend: BackendName,
    readonly shapes: string,
    detail: string,
  ) {
    super(`${op} on ${backend}${shapes ? ` (${shapes})` : ''}: ${detail}`);
  }
}

/** potrf met a non-positive pivot: the matrix is not (numerically) positive definite. */
export class NotPositiveDefiniteError extends KernelError {
  override name = 'NotPositiveDefiniteError';
  constructor(
    backend: BackendName,
    shapes: string,
    /** 0-based column whose pivot was <= 0 or not finite. */
    readonly column: number,
    readonly pivot: number,
  ) {
    super('potrf', backend, shapes, `matrix is not positive definite: pivot ${pivot} at column ${column}`);
  }
}

/** The backend cannot express this op (e.g. gpu.js has no eigh). */
export class UnsupportedOpError extends KernelError {
  override name = 'UnsupportedOpError';
}

/**
 * An n x k int8 matrix given as 2-bit codes: column p is bytesPerCol bytes at data[cols[p] bytesPerCol], row i's
 * code in bits 2 (i & 3) of its byte i >> 2, and X[i, p] = table[code].
 */
export interface Coded2Block {
  readonly rows: number;
  readonly bytesPerCol: number;
  readonly data: Uint8Array;
  /** The columns of `data` that are X's, in order (k of them). */
  readonly cols: ArrayLike<number>;
  /** Value of codes 0..3 (integers in [-128, 127]). */
  readonly table: readonly number[];
}

/** C = sum_b X_b X_b^T over n x k_b blocks of bytes, exact (see Backend.int8Gram). */
export interface Int8Gram {
  readonly n: number;
  /** Columns added so far. */
  readonly cols: number;
  /** Adds X X^T; `x` may be reused once this resolves. Calls must not overlap. */
  add(x: Int8Matrix): Promise<void>;
  /** Optional: adds X X^T for X given as 2-bit codes (the same sums as `add` of the decoded X). */
  addCodes?(x: Coded2Block): Promise<void>;
  /** The sums: for i >= j, C[i, j] = sum over the parts p of parts[p][i + j ld]. Ends the accumulation. */
  lowerSums(): Promise<{ parts: Int32Array[]; ld: number }>;
}
