/**
 * The gpujs backend: gpu.js kernels in its WebGPU mode (Dawn), f32 storage and f32 accumulation.
 *
 * Ops: gemm (all transposes, alpha/beta), syrk, batchedWeightedDot as one launch each; potrf, trsm and potrs
 * as blocked sequences of launches that keep their working matrices on the device (see ./programs.ts).
 * Not supported: eigh (an iterative algorithm with data-dependent control flow that gpu.js cannot express
 * as a sequence of element-wise kernels at any reasonable cost); calling it throws UnsupportedOpError.
 *
 * Inputs are validated exactly as on every backend (kernels/validate.ts), rounded to f32 on upload, and
 * results come back widened to f64. On the device every operand has one layout: column-major with rows
 * and columns zero-padded to multiples of 4 (see {@link deviceLayout}), which the 4-row-per-thread gemm and
 * syrk need and the other programs accept. A matrix passed to `hold` is uploaded once in that layout and its
 * device copy is bound instead of a fresh upload until `release` (potrf, which transforms its operand,
 * always uploads). Calls are serialised: gpu.js kernels keep per-kernel state (output size, argument
 * buffers), so two ops in flight at once would race on it.
 */
import {
  KernelError,
  NotPositiveDefiniteError,
  UnsupportedOpError,
  type Backend,
  type BackendInfo,
  type EighResult,
  type GemmOptions,
  type OpName,
  type SyrkOptions,
  type TrsmOptions,
} from '../backend.js';
import { f64Matrix, shapeOf, toF32, type F64Matrix } from '../matrix.js';
import { checkBatchedWeightedDot, checkGemm, checkSquare, checkSyrk, checkTrsm } from '../validate.js';
import {
  BATCHED_WEIGHTED_DOT,
  GEMM,
  POTRF_BLOCK,
  POTRF_STEP,
  POTRF_TRAILING,
  ROWS_PER_THREAD,
  SYRK,
  TRSM_BLOCK,
  TRSM_STEP,
  TRSM_TRAILING,
  UPLOAD,
  type GpuJsProgram,
} from './programs.js';
import {
  holdGpuJsRuntime,
  readRaw,
  releaseGpuJsRuntime,
  type GpuJsBuffer,
  type GpuJsInstance,
  type GpuJsKernel,
  type GpuJsRuntime,
} from './runtime.js';

const SUPPORTED: ReadonlySet<OpName> = new Set<OpName>(['gemm', 'syrk', 'potrf', 'trsm', 'potrs', 'batchedWeightedDot']);

/**
 * gpu.js caps loops whose bound is a runtime value at `loopMaxIterations` (default 1000) and silently stops
 * there; every loop here is bounded by its real trip count, so the cap is set where it can never bind.
 */
const LOOP_CAP = 0x7fffffff;

class GpuJsBackend implements Backend {
  readonly name = 'gpujs' as const;
  readonly precision = 'f32' as const;
  private readonly gpu: GpuJsInstance;
  private readonly kernels = new Map<string, GpuJsKernel>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Device copies of held matrices (device layout, f32), keyed by the caller's matrix object. */
  private readonly held = new Map<F64Matrix, Promise<GpuJsBuffer>>();
  private disposed = false;

  constructor(private readonly runtime: GpuJsRuntime) {
    this.gpu = runtime.newInstance();
  }

  async info(): Promise<BackendInfo> {
    return { name: 'gpujs', available: !this.disposed, precision: 'f32', adapter: this.runtime.adapter };
  }

  supports(op: OpName): boolean {
    return SUPPORTED.has(op);
  }

  /** C = alpha op(A) op(B) + beta C: one launch over the m x n output. Cost 2mnk flops (f32). */
  async gemm(a: F64Matrix, b: F64Matrix, opts: GemmOptions = {}): Promise<F64Matrix> {
    const { m, n, k } = checkGemm('gpujs', a, b, opts);
    const shapes = `A ${shapeOf(a)}, B ${shapeOf(b)}`;
    const alpha = opts.alpha ?? 1;
    const beta = opts.beta ?? 0;
    const c = opts.c && beta !== 0 ? opts.c : undefined;
    if (m === 0 || n === 0 || k === 0) return scaledCopy(m, n, beta, c);
    return this.exclusive('gemm', shapes, async () => {
      // op(A)(i, p) = a[i*sAi + p*sAk], op(B)(p, j) = b[p*sBk + j*sBj] in the device layout; the padding
      // of A's rows (or, transposed, columns) to m4 gives the last row block zeros to read
      const [ldA, ldB] = [deviceLayout(a).ld, deviceLayout(b).ld];
      const m4 = padded(m);
      const [sAi, sAk] = opts.transA ? [ldA, 1] : [1, ldA];
      const [sBk, sBj] = opts.transB ? [ldB, 1] : [1, ldB];
      const out = await this.launch(GEMM, [m4 / ROWS_PER_THREAD, n], [
        await this.operand(a), await this.operand(b), c ? await this.operand(c) : DUMMY, k, m4, sAi, sAk, sBk, sBj, alpha, beta, c ? 1 : 0,
      ]);
      return widen(out, m4, m, n);
    });
  }

  /** C = alpha A A^T + beta C (or A^T A): one launch computing the lower triangle. Cost n^2 k flops (f32). */
  async syrk(a: F64Matrix, opts: SyrkOptions = {}): Promise<F64Matrix> {
    const { n, k } = checkSyrk('gpujs', a, opts);
    const alpha = opts.alpha ?? 1;
    const beta = opts.beta ?? 0;
    const c = opts.c && beta !== 0 ? opts.c : undefined;
    if (n === 0 || k === 0) return scaledCopy(n, n, beta, c);
    return this.exclusive('syrk', `A ${shapeOf(a)}`, async () => {
      // X(i, p) = a[i*sI + p*sP] in the device layout: X = A (n x k) or A^T (A is k x n)
      const ldA = deviceLayout(a).ld;
      const n4 = padded(n);
      const [sI, sP] = opts.trans ? [ldA, 1] : [1, ldA];
      const raw = await this.launch(SYRK, [n4 / ROWS_PER_THREAD, n], [
        await this.operand(a), c ? await this.operand(c) : DUMMY, k, n4, sI, sP, alpha, beta, c ? 1 : 0,
      ]);
      const out = widen(raw, n4, n, n);
      mirrorLower(out);
      return out;
    });
  }

  /**
   * Blocked right-looking Cholesky A = L L^T on the device: for each panel of POTRF_BLOCK columns, one
   * launch per column factors the panel, one launch updates the trailing matrix, and the panel is read back
   * into L. Cost n^3/3 flops (f32), n + n/32 launches. Throws NotPositiveDefiniteError naming the first
   * non-positive pivot.
   */
  async potrf(a: F64Matrix): Promise<F64Matrix> {
    const n = checkSquare('potrf', 'gpujs', a);
    const shapes = `A ${shapeOf(a)}`;
    if (n === 0) return f64Matrix(0, 0);
    return this.exclusive('potrf', shapes, async () => {
      const l = f64Matrix(n, n);
      // the trailing matrix A(j0:, j0:) still to factor, packed (ld = n - j0)
      let trailing: Float32Array | GpuJsBuffer = toF32(a).data;
      const free = (): void => {
        if (!(trailing instanceof Float32Array)) trailing.delete();
      };
      try {
        for (let j0 = 0; j0 < n; j0 += POTRF_BLOCK) {
          const rows = n - j0;
          const nb = Math.min(POTRF_BLOCK, rows);
          // factor the panel (the first nb columns of the trailing matrix), one launch per column
          let panel = await this.onDevice(POTRF_STEP, [rows, nb], [trailing, rows, 0]);
          for (let jj = 1; jj < nb; jj++) panel = await this.step(POTRF_STEP, [rows, nb], panel, [rows, jj]);
          // update what remains: S' = S22 - L21 L21^T
          let next: GpuJsBuffer | null = null;
          try {
            if (nb < rows) next = await this.onDevice(POTRF_TRAILING, [rows - nb, rows - nb], [trailing, panel, rows, nb]);
          } catch (err) {
            panel.delete();
            throw err;
          } finally {
            free();
            trailing = next ?? DUMMY;
          }
          // read the factored panel into L (this also frees it)
          const lp = await readBack(panel, rows * nb);
          for (let c = 0; c < nb; c++) {
            const d = lp[c + c * rows]!;
            if (!(d > 0) || !Number.isFinite(d)) throw new NotPositiveDefiniteError('gpujs', shapes, j0 + c, d);
            for (let i = c; i < rows; i++) l.data[j0 + i + (j0 + c) * n] = lp[i + c * rows]!;
          }
        }
      } finally {
        free();
      }
      return l;
    });
  }

  /** Triangular solve, blocked on the device (see solveTriangular). Cost n^2 r flops (f32). */
  async trsm(t: F64Matrix, b: F64Matrix, opts: TrsmOptions = {}): Promise<F64Matrix> {
    return this.solveTriangular('trsm', t, b, opts);
  }

  /** (L L^T) X = B as two triangular solves. Cost 2 n^2 r flops (f32). */
  async potrs(l: F64Matrix, b: F64Matrix): Promise<F64Matrix> {
    const y = await this.solveTriangular('potrs', l, b, { lower: true });
    return this.solveTriangular('potrs', l, y, { lower: true, trans: true });
  }

  async eigh(a: F64Matrix): Promise<EighResult> {
    throw new UnsupportedOpError('eigh', 'gpujs', `A ${shapeOf(a)}`, 'gpu.js cannot express a symmetric eigensolver; use the cpu or webgpu backend');
  }

  /** out[j] = sum_i w[i, j'] a[i, j] b[i, j'']: one thread per column. Cost 3nm flops (f32). */
  async batchedWeightedDot(w: F64Matrix, a: F64Matrix, b: F64Matrix): Promise<Float64Array> {
    const { n, m } = checkBatchedWeightedDot('gpujs', w, a, b);
    if (m === 0 || n === 0) return new Float64Array(m);
    const shapes = `w ${shapeOf(w)}, a ${shapeOf(a)}, b ${shapeOf(b)}`;
    return this.exclusive('batchedWeightedDot', shapes, async () => {
      const out = await this.launch(BATCHED_WEIGHTED_DOT, [m], [
        await this.operand(w), await this.operand(a), await this.operand(b), n,
        w.cols === 1 ? 0 : deviceLayout(w).ld, deviceLayout(a).ld, b.cols === 1 ? 0 : deviceLayout(b).ld,
      ]);
      return Float64Array.from(out);
    });
  }

  /** Uploads `m` (device layout, f32) once; later ops bind the device copy until `release(m)`. */
  hold(m: F64Matrix): void {
    if (this.disposed || this.held.has(m)) return;
    const upload = this.serial(() => this.upload(m));
    upload.catch(() => undefined); // a failed upload only means ops upload m themselves
    this.held.set(m, upload);
  }

  /** Frees the device copy of `m` once every op queued before this call has run. */
  release(m: F64Matrix): void {
    const upload = this.held.get(m);
    if (!upload) return;
    this.held.delete(m);
    void this.serial(async () => (await upload).delete()).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    for (const upload of this.held.values()) await upload.then((b) => b.delete(), () => undefined);
    this.held.clear();
    this.gpu.destroy();
    this.kernels.clear();
    await releaseGpuJsRuntime();
  }

  /**
   * Solves op(T) X = alpha B (left) or X op(T) = alpha B (right) as S Y = alpha C with S triangular:
   * left: S = op(T), Y = X; right: S = op(T)^T, Y = X^T, C = B^T. An upper triangular S is solved as a
   * lower one with rows and columns numbered backwards. Blocked forward substitution on the device: for
   * each block of TRSM_BLOCK rows, one launch per row solves the block, one launch updates the rows below,
   * and the block is read back. Cost n^2 r flops (f32), n + n/32 launches.
   */
  private async solveTriangular(op: 'trsm' | 'potrs', t: F64Matrix, b: F64Matrix, opts: TrsmOptions): Promise<F64Matrix> {
    const { n, r } = checkTrsm('gpujs', t, b, opts, op);
    if (n === 0 || r === 0) return f64Matrix(b.rows, b.cols);
    const left = (opts.side ?? 'left') === 'left';
    const trans = opts.trans ?? false;
    const opLower = (opts.lower ?? true) !== trans;
    // S = T or T^T (op(T) = T or T^T, the right side transposes once more). Adjacent threads read S down a
    // column, so the device copy is of S itself, column-major: T, or T^T transposed on the host
    const sIsTransposed = left ? trans : !trans;
    const [s1, s2] = [1, deviceLayout(t).ld];
    const lower = left ? opLower : !opLower;
    // solve-order row p is row rowOf(p) of S and Y; for an upper S that reverses the order
    const rowOf = (p: number): number => (lower ? p : n - 1 - p);
    const sign = lower ? 1 : -1;
    const alpha = opts.alpha ?? 1;
    const unit = opts.unitDiagonal ? 1 : 0;
    return this.exclusive(op, `T ${shapeOf(t)}, B ${shapeOf(b)}`, async () => {
      const x = f64Matrix(b.rows, b.cols);
      // Y = alpha C in solve order, packed n x r
      let rest: Float32Array | GpuJsBuffer = new Float32Array(n * r);
      for (let c = 0; c < r; c++) {
        for (let p = 0; p < n; p++) {
          const q = rowOf(p);
          rest[p + c * n] = alpha * (left ? b.data[q + c * b.ld]! : b.data[c + q * b.ld]!);
        }
      }
      const heldT = sIsTransposed ? undefined : this.heldCopy(t);
      const tBuf = (await heldT) ?? (await this.upload(sIsTransposed ? transposed(t) : t));
      const free = (): void => {
        if (!(rest instanceof Float32Array)) rest.delete();
      };
      try {
        for (let p0 = 0; p0 < n; p0 += TRSM_BLOCK) {
          const rows = n - p0;
          const nb = Math.min(TRSM_BLOCK, rows);
          // S restricted to solve-order rows and columns from p0 on
          const base = rowOf(p0) * (s1 + s2);
          const strides = [sign * s1, sign * s2];
          let block = await this.onDevice(TRSM_STEP, [nb, r], [rest, tBuf, rows, 0, base, ...strides, unit]);
          for (let j = 1; j < nb; j++) block = await this.step(TRSM_STEP, [nb, r], block, [tBuf, nb, j, base, ...strides, unit]);
          let next: GpuJsBuffer | null = null;
          try {
            if (nb < rows) next = await this.onDevice(TRSM_TRAILING, [rows - nb, r], [rest, block, tBuf, rows, nb, base, ...strides]);
          } catch (err) {
            block.delete();
            throw err;
          } finally {
            free();
            rest = next ?? DUMMY;
          }
          // read the solved block into X (this also frees it)
          const yb = await readBack(block, nb * r);
          for (let c = 0; c < r; c++) {
            for (let p = 0; p < nb; p++) {
              const q = rowOf(p0 + p);
              if (left) x.data[q + c * x.ld] = yb[p + c * nb]!;
              else x.data[c + q * x.ld] = yb[p + c * nb]!;
            }
          }
        }
      } finally {
        free();
        if (!heldT) tBuf.delete();
      }
      return x;
    });
  }

  /** The device copy of a held matrix, or undefined (also when its upload failed). */
  private heldCopy(m: F64Matrix): Promise<GpuJsBuffer | undefined> | undefined {
    return this.held.get(m)?.catch(() => undefined);
  }

  /** An array argument holding `m` in the device layout: its held device copy, else a fresh f32 copy. */
  private async operand(m: F64Matrix): Promise<Float32Array | GpuJsBuffer> {
    return (await this.heldCopy(m)) ?? toDeviceLayout(m);
  }

  /** A device buffer holding `m` in the device layout (the caller deletes it). */
  private upload(m: F64Matrix): Promise<GpuJsBuffer> {
    const { ld, cols } = deviceLayout(m);
    return this.step(UPLOAD, [ld * cols], toDeviceLayout(m), []);
  }

  /** One pipeline launch whose result stays on the device; its inputs stay alive. */
  private async onDevice(program: GpuJsProgram, output: number[], args: unknown[]): Promise<GpuJsBuffer> {
    return (await this.kernel(program).setOutput(output)(...args)) as GpuJsBuffer;
  }

  /** One pipeline launch that consumes (and frees) a previous device result `input`; returns the new one. */
  private async step(program: GpuJsProgram, output: number[], input: Float32Array | GpuJsBuffer, rest: unknown[]): Promise<GpuJsBuffer> {
    try {
      return await this.onDevice(program, output, [input, ...rest]);
    } finally {
      if (!(input instanceof Float32Array)) input.delete();
    }
  }

  /** One launch whose result is read back: all of it, as laid out on the device (see readRaw). */
  private async launch(program: GpuJsProgram, output: number[], args: unknown[]): Promise<Float32Array> {
    const length = output.reduce((x, y) => x * y, program.returns);
    return readBack(await this.onDevice(program, output, args), length);
  }

  private kernel(program: GpuJsProgram): GpuJsKernel {
    let k = this.kernels.get(program.name);
    if (!k) {
      k = this.gpu.createKernel(program.source, {
        argumentTypes: { ...program.argumentTypes },
        returnType: program.returns === 4 ? 'Array(4)' : 'Number',
        dynamicOutput: true,
        dynamicArguments: true,
        loopMaxIterations: LOOP_CAP,
        pipeline: true,
        // each result gets its own buffer, so a launch may read the previous launch's result
        immutable: true,
        output: [1],
      });
      this.kernels.set(program.name, k);
    }
    return k;
  }

  /** Runs `body` after every earlier op finished; turns gpu.js failures into KernelErrors naming the op. */
  private exclusive<T>(op: OpName, shapes: string, body: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      if (this.disposed) throw new KernelError(op, 'gpujs', shapes, 'backend was disposed');
      try {
        return await body();
      } catch (err) {
        if (err instanceof KernelError) throw err;
        const lost = this.runtime.isLost() ? 'WebGPU device lost: ' : '';
        throw new KernelError(op, 'gpujs', shapes, `${lost}${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  /** Queues `task` behind everything queued before it. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** Packed transpose of a matrix. */
function transposed(m: F64Matrix): F64Matrix {
  const out = f64Matrix(m.cols, m.rows);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) out.data[j + i * m.cols] = m.data[i + j * m.ld]!;
  return out;
}

/** A dimension padded to a whole number of per-thread row blocks (at least one). */
function padded(dim: number): number {
  return Math.max(1, Math.ceil(dim / ROWS_PER_THREAD)) * ROWS_PER_THREAD;
}

/**
 * The one layout operands have on the device: column-major, leading dimension = rows padded to a multiple
 * of 4, columns padded likewise, zeros in the padding. Either orientation of a matrix can then be read in
 * whole 4-row blocks, and a held copy serves every op and transpose.
 */
function deviceLayout(m: F64Matrix): { ld: number; cols: number } {
  return { ld: padded(m.rows), cols: padded(m.cols) };
}

/** f32 copy of `m` in the device layout (rounds to nearest f32). */
function toDeviceLayout(m: F64Matrix): Float32Array {
  const { ld, cols } = deviceLayout(m);
  const out = new Float32Array(ld * cols);
  for (let j = 0; j < m.cols; j++) for (let i = 0; i < m.rows; i++) out[i + j * ld] = m.data[i + j * m.ld]!;
  return out;
}

/** Packed f64 m x n matrix from the first m rows of a column-major f32 result with leading dimension ld. */
function widen(raw: Float32Array, ld: number, m: number, n: number): F64Matrix {
  const out = f64Matrix(m, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) out.data[i + j * m] = raw[i + j * ld]!;
  return out;
}

/** Stand-in for an array argument a kernel does not read (gpu.js needs a non-empty buffer in every slot). */
const DUMMY = new Float32Array(1);

/** Reads `length` values of a device result, then frees it. */
async function readBack(buf: GpuJsBuffer, length: number): Promise<Float32Array> {
  try {
    return await readRaw(buf, length);
  } finally {
    buf.delete();
  }
}

/** beta * C (or zeros): the result of an op whose inner dimension is empty. */
function scaledCopy(m: number, n: number, beta: number, c: F64Matrix | undefined): F64Matrix {
  const out = f64Matrix(m, n);
  if (c) for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) out.data[i + j * m] = beta * c.data[i + j * c.ld]!;
  return out;
}

function mirrorLower(s: F64Matrix): void {
  for (let j = 0; j < s.cols; j++) for (let i = j + 1; i < s.rows; i++) s.data[j + i * s.ld] = s.data[i + j * s.ld]!;
}

/** Opens the gpujs backend. Throws KernelError('init') with the reason when gpu.js cannot reach a WebGPU adapter. */
export async function createGpuJsBackend(): Promise<Backend> {
  let runtime: GpuJsRuntime;
  try {
    runtime = await holdGpuJsRuntime();
  } catch (err) {
    throw new KernelError('init', 'gpujs', '', `gpu.js (webgpu mode) is unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new GpuJsBackend(runtime);
}

/** Whether gpu.js can run here and on which adapter; never throws, releases what it opened. */
export async function gpuJsBackendInfo(): Promise<BackendInfo> {
  try {
    const runtime = await holdGpuJsRuntime();
    const adapter = runtime.adapter;
    await releaseGpuJsRuntime();
    return { name: 'gpujs', available: true, precision: 'f32', adapter };
  } catch (err) {
    return { name: 'gpujs', available: false, precision: 'f32', adapter: null, reason: `gpu.js (webgpu mode): ${err instanceof Error ? err.message : String(err)}` };
  }
}
