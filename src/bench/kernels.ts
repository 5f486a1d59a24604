/**
 * The ops `gpulmm bench` measures, as data: how to make inputs of size n, how to call the op on a Backend,
 * the f64 cpu reference on the same inputs, the error measure, and the nominal flop count.
 *
 * Flop conventions (nominal counts, so that GFLOP/s compares backends and LAPACK on the same scale; they are
 * not the work a particular algorithm happens to do):
 *   gemm  2n^3        (n x n times n x n)
 *   syrk  n^3         (C = A A^T, A n x n; only one triangle is needed)
 *   potrf n^3/3
 *   trsm  n^3         (n x n triangular, n right-hand sides)
 *   potrs 2n^3        (two triangular solves with n right-hand sides)
 *   eigh  9n^3        (values and vectors: 4n^3/3 tridiagonal reduction + 4n^3/3 forming Q + about 6n^3 for
 *                      implicit QL on the vectors, the usual ~9n^3 quoted for LAPACK dsyev)
 *   batchedWeightedDot 3n^2 (n rows, n columns)
 *
 * Error measure (`max_rel_err`): max_ij |x - ref| / max_ij |ref| over the result, where ref is the cpu f64
 * result on the same inputs; for eigh over the eigenvalues (eigenvectors are defined only up to sign and,
 * for close eigenvalues, rotation).
 */
import type { Backend, OpName } from '../../kernels/backend.js';
import { cpuBatchedWeightedDot, cpuEigh, cpuGemm, cpuPotrf, cpuPotrs, cpuSyrk, cpuTrsm } from '../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../kernels/matrix.js';

/** A result reduced to the numbers the error measure compares. */
type Values = Float64Array;

export interface BenchOp {
  readonly name: OpName;
  /** Nominal flop count at size n (see the conventions above). */
  flops(n: number): number;
  /** Inputs of size n, well conditioned (SPD matrices have eigenvalues in [1, ~5]). */
  inputs(n: number): F64Matrix[];
  /** One call on the backend, reduced to the compared values. */
  run(backend: Backend, inputs: F64Matrix[]): Promise<Values>;
  /** The f64 cpu reference on the same inputs. */
  reference(inputs: F64Matrix[]): Values;
}

/** n x n with entries uniform in [-1, 1). Benchmark inputs need no seed: every record is checked against
 *  the cpu result on its own inputs. */
function uniform(rows: number, cols: number): F64Matrix {
  const m = f64Matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = 2 * Math.random() - 1;
  return m;
}

/** Symmetric positive definite: G G^T / n + I (eigenvalues in [1, ~1 + 4/3] for uniform G). */
function spd(n: number): F64Matrix {
  const a = cpuSyrk(uniform(n, n), { alpha: 1 / n });
  for (let i = 0; i < n; i++) a.data[i + i * a.ld]! += 1;
  return a;
}

const flat = (m: F64Matrix): Values => {
  const out = new Float64Array(m.rows * m.cols);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) out[i + j * m.rows] = m.data[i + j * m.ld]!;
  return out;
};

export const BENCH_OPS: Readonly<Record<OpName, BenchOp>> = {
  gemm: {
    name: 'gemm',
    flops: (n) => 2 * n ** 3,
    inputs: (n) => [uniform(n, n), uniform(n, n)],
    run: async (be, [a, b]) => flat(await be.gemm(a!, b!)),
    reference: ([a, b]) => flat(cpuGemm(a!, b!)),
  },
  syrk: {
    name: 'syrk',
    flops: (n) => n ** 3,
    inputs: (n) => [uniform(n, n)],
    run: async (be, [a]) => flat(await be.syrk(a!)),
    reference: ([a]) => flat(cpuSyrk(a!)),
  },
  potrf: {
    name: 'potrf',
    flops: (n) => n ** 3 / 3,
    inputs: (n) => [spd(n)],
    run: async (be, [a]) => flat(await be.potrf(a!)),
    reference: ([a]) => flat(cpuPotrf(a!)),
  },
  trsm: {
    name: 'trsm',
    flops: (n) => n ** 3,
    inputs: (n) => [cpuPotrf(spd(n)), uniform(n, n)],
    run: async (be, [t, b]) => flat(await be.trsm(t!, b!)),
    reference: ([t, b]) => flat(cpuTrsm(t!, b!)),
  },
  potrs: {
    name: 'potrs',
    flops: (n) => 2 * n ** 3,
    inputs: (n) => [cpuPotrf(spd(n)), uniform(n, n)],
    run: async (be, [l, b]) => flat(await be.potrs(l!, b!)),
    reference: ([l, b]) => flat(cpuPotrs(l!, b!)),
  },
  eigh: {
    name: 'eigh',
    flops: (n) => 9 * n ** 3,
    inputs: (n) => [spd(n)],
    run: async (be, [a]) => (await be.eigh(a!)).values,
    reference: ([a]) => cpuEigh(a!).values,
  },
  batchedWeightedDot: {
    name: 'batchedWeightedDot',
    flops: (n) => 3 * n ** 2,
    inputs: (n) => [uniform(n, n), uniform(n, n), uniform(n, n)],
    run: (be, [w, a, b]) => be.batchedWeightedDot(w!, a!, b!),
    reference: ([w, a, b]) => cpuBatchedWeightedDot(w!, a!, b!),
  },
};

/** max_i |x_i - ref_i| / max_i |ref_i|: the relative error of a whole result (meaningful with zeros in it). */
export function maxRelErr(x: Values, ref: Values): number {
  if (x.length !== ref.length) throw new Error(`result has ${x.length} values, reference ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(x[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / Math.max(den, Number.MIN_VALUE);
}
