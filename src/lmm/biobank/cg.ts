/**
 * Batched preconditioned conjugate gradients for (A_b + delta_b I) x_b = r_b, one system per column, all
 * advanced together so that each iteration costs one batched operator product (src/lmm/biobank/operator.ts)
 * over the columns not yet converged. A_b symmetric positive semi-definite, delta_b > 0, so each system is
 * positive definite. Optional Jacobi preconditioner M_b = diag(d_b) (d_b > 0). Stops a column when
 * |r_b - (A_b + delta_b) x_b| <= tol |r_b| (the recursively updated residual, as BOLT-LMM's --CGtol).
 * f64; memory 4 n B; cost per iteration one product plus O(n B).
 */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import type { BatchedOperator } from './operator.js';

export interface CgOptions {
  /** Relative residual at which a column stops: one for all, or one per column (default 5e-4). */
  tol?: number | ArrayLike<number>;
  /** Most iterations (default 500). */
  maxIterations?: number;
  /** Starting guesses (n x B; default 0). */
  x0?: F64Matrix;
  /** Jacobi preconditioner: the diagonal of A_b + delta_b I per column (n x B), or omitted (none). */
  diagonal?: F64Matrix;
  /** Called after every iteration with the largest relative residual over the columns still running. */
  onIteration?: (iteration: number, worstResidual: number) => void;
}

export interface CgResult {
  /** Solutions, n x B. */
  x: F64Matrix;
  /** Iterations taken per column. */
  iterations: Int32Array;
  /** Final relative residual per column. */
  residual: Float64Array;
  converged: boolean[];
}

/** Solves every column (see the module comment). Throws a RangeError for bad shapes or shifts. */
export async function batchedCg(apply: BatchedOperator, rhs: F64Matrix, delta: ArrayLike<number>, opts: CgOptions = {}): Promise<CgResult> {
  const n = rhs.rows;
  const B = rhs.cols;
  const tolOf = (b: number): number => (typeof opts.tol === 'number' ? opts.tol : opts.tol?.[b] ?? 5e-4);
  const maxIter = opts.maxIterations ?? 500;
  if (delta.length !== B) throw new RangeError(`batchedCg: ${delta.length} shifts for ${B} right-hand sides`);
  for (let b = 0; b < B; b++) if (!(delta[b]! > 0)) throw new RangeError(`batchedCg: shift ${delta[b]} of column ${b} must be > 0`);
  if (opts.x0 && (opts.x0.rows !== n || opts.x0.cols !== B)) throw new RangeError('batchedCg: x0 must have the shape of rhs');
  const x = f64Matrix(n, B);
  const r = new Float64Array(n * B);
  // Without a preconditioner z = r (no copy).
  const z = opts.diagonal ? new Float64Array(n * B) : r;
  const p = new Float64Array(n * B);
  const rz = new Float64Array(B);
  const bNorm = new Float64Array(B);
  const residual = new Float64Array(B);
  const iterations = new Int32Array(B);
  const converged = new Array<boolean>(B).fill(false);
  const dg = opts.diagonal;
  const precondition = (b: number): void => {
    const o = b * n;
    if (!dg) return;
    for (let i = 0; i < n; i++) z[o + i] = r[o + i]! / dg.data[i + b * dg.ld]!;
  };
  // Step: r = rhs - H x0, z = M^-1 r, p = z.
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = rhs.data[i + b * rhs.ld]!;
      r[b * n + i] = v;
      s += v * v;
    }
    bNorm[b] = Math.sqrt(s);
  }
  const running = (): number[] => converged.flatMap((c, b) => (!c && iterations[b]! < maxIter ? [b] : []));
  if (opts.x0) {
    const cols = Array.from({ length: B }, (_, b) => b);
    for (let b = 0; b < B; b++) x.data.set(opts.x0.data.subarray(b * opts.x0.ld, b * opts.x0.ld + n), b * n);
    const hx = await apply(x, cols);
    for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) r[b * n + i]! -= hx.data[i + b * hx.ld]! + delta[b]! * x.data[b * n + i]!;
  }
  for (let b = 0; b < B; b++) {
    residual[b] = bNorm[b]! > 0 ? norm(r, b * n, n) / bNorm[b]! : 0;
    if (residual[b]! <= tolOf(b)) converged[b] = true;
    precondition(b);
    p.set(z.subarray(b * n, (b + 1) * n), b * n);
    rz[b] = dot(r, z, b * n, n);
  }
  for (let it = 1; ; it++) {
    const cols = running();
    if (cols.length === 0) break;
    const v = f64Matrix(n, cols.length);
    cols.forEach((b, k) => v.data.set(p.subarray(b * n, (b + 1) * n), k * n));
    const av = await apply(v, cols);
    let worst = 0;
    cols.forEach((b, k) => {
      const o = b * n;
      const ao = k * av.ld;
      // Step: alpha = r'z / p'Hp; x += alpha p; r -= alpha Hp.
      let pHp = 0;
      for (let i = 0; i < n; i++) {
        const hp = av.data[ao + i]! + delta[b]! * p[o + i]!;
        av.data[ao + i] = hp;
        pHp += p[o + i]! * hp;
      }
      const alpha = rz[b]! / pHp;
      for (let i = 0; i < n; i++) {
        x.data[o + i]! += alpha * p[o + i]!;
        r[o + i]! -= alpha * av.data[ao + i]!;
      }
      iterations[b] = it;
      residual[b] = norm(r, o, n) / bNorm[b]!;
      if (residual[b]! <= tolOf(b)) {
        converged[b] = true;
        return;
      }
      worst = Math.max(worst, residual[b]!);
      // Step: z = M^-1 r; p = z + (r'z_new / r'z_old) p.
      precondition(b);
      const rzNew = dot(r, z, o, n);
      const ratio = rzNew / rz[b]!;
      rz[b] = rzNew;
      for (let i = 0; i < n; i++) p[o + i] = z[o + i]! + ratio * p[o + i]!;
    });
    opts.onIteration?.(it, worst);
  }
  return { x, iterations, residual, converged };
}

function norm(a: Float64Array, o: number, n: number): number {
  return Math.sqrt(dot(a, a, o, n));
}

function dot(a: Float64Array, b: Float64Array, o: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[o + i]! * b[o + i]!;
  return s;
}
