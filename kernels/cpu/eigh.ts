/**
 * Symmetric eigendecomposition on the cpu, f64: A = V diag(w) V^T, w ascending, V orthonormal.
 * As LAPACK dsyevd: blocked Householder tridiagonalisation Q^T A Q = T (dsytrd, lower; half its flops in
 * products, the other half in wasm SIMD matrix-vector kernels, kernels/cpu/eigh-kernel.ts), eigenpairs
 * T = Z diag(w) Z^T by divide and conquer (kernels/cpu/tridiagonal-eigen.ts; dstedc), then V = Q Z applied
 * in blocked compact-WY form (dormtr).
 * Backward stable: ||A V - V diag(w)|| and ||V^T V - I|| are O(n eps ||A||). Cost about 4/3 n^3 (reduction)
 * + at most 4/3 n^3 (divide and conquer, less with deflation) + 2 n^3 (back-transformation) flops.
 * The products are yielded to a driver (kernels/cpu/eigh-products.ts): {@link cpuEigh} runs them on this
 * thread, {@link cpuEighWith} hands them to the caller (the cpu backend splits them over its worker pool);
 * both give the same result when the driver sums every entry of a product in the same order.
 */
import { KernelError, type EighResult } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSquare } from '../validate.js';
import { eighKernelBytes } from './eigh-kernel.js';
import { gemmKernelFma } from './gemm-core.js';
import { runProducts, runProductsWith, sharedF64, type Products, type StridedProduct } from './eigh-products.js';
import { permuteColumns, tridiagonalEigen } from './tridiagonal-eigen.js';
import { commonPool } from './pool.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm/runtime.js';

/** Eigenvalues ascending and orthonormal eigenvectors of the symmetric A (only its lower triangle is read). */
export function cpuEigh(a: F64Matrix): EighResult {
  return runProducts(eighSteps({ a }));
}

/**
 * As {@link cpuEigh}, with every product run by `run` (arguments of gemmStrided, one at a time; every operand
 * is on a SharedArrayBuffer, so `run` may split the product over worker threads).
 */
export function cpuEighWith(a: F64Matrix, run: (p: StridedProduct) => Promise<void>): Promise<EighResult> {
  return runProductsWith(eighSteps({ a }), run);
}

/**
 * Bytes {@link cpuEigh} holds at its peak for order n, besides its input (for memory planning: gwas's
 * memory model): the reduction's workspace (the working matrix, which then holds Z and becomes V, and its
 * panels), the packed reflectors n (n - 1) / 2, the divide-and-conquer scratch 2 n^2 and the back-transformation's
 * blocks: about 3.5 n^2 f64. Keep in step with the allocations of eighSteps.
 */
export function cpuEighWorkspaceBytes(n: number): number {
  const reduction = n * n + 2 * n + 3 * n * NB + 2 * NB;
  const after = (n * (n - 1)) / 2 + 2 * n * n + 3 * n * NB_BACK + 2 * NB_BACK * NB_BACK;
  return 8 * (reduction + after + 8 * n);
}

/**
 * The input A, held in a box that the reduction empties when it copies A into its working matrix: a
 * generator keeps its parameters alive to its end, so A travels in the box and, once copied, nothing of
 * eigh holds it (a caller that keeps no reference of its own, as a scan with its K_c, lets it be freed).
 */
interface InputBox {
  a?: F64Matrix;
}

/**
 * Two exact power-of-two factors with max |s1 s2 a_ij| in [1, 2): no overflow or underflow at any magnitude,
 * subnormal inputs included (two factors, since 2^-e alone overflows for e < -1023).
 */
function scaleFactors(a: F64Matrix, n: number): { s1: number; s2: number } {
  let amax = 0;
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) amax = Math.max(amax, Math.abs(a.data[i + j * a.ld]!));
  const ex = amax > 0 ? Math.floor(Math.log2(amax)) : 0;
  return { s1: 2 ** -Math.trunc(ex / 2), s2: 2 ** -(ex - Math.trunc(ex / 2)) };
}

/** work = s1 s2 A (lower triangle), taking A out of its box. */
function takeScaled(box: InputBox, work: Float64Array, n: number, s1: number, s2: number): void {
  const a = box.a!;
  box.a = undefined;
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) work[i + j * n] = a.data[i + j * a.ld]! * s1 * s2;
}

function* eighSteps(box: InputBox): Products<EighResult> {
  const n = checkSquare('eigh', 'cpu', box.a!);
  const shape = shapeOf(box.a!);
  const w = new Float64Array(n);
  const { s1, s2 } = scaleFactors(box.a!, n);
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  const { reflectors, z } = yield* reduce(box, n, s1, s2, w, e, tau);
  yield* tridiagonalEigen(w, e, n, z, `A ${shape}`);
  yield* backTransform(reflectors, n, tau, z);
  sortAscending(w, z, n);
  const v = f64Matrix(n, n, z); // shared: products with V (a scan's rotation) need no copy
  // Never a silent wrong answer: a breakdown anywhere above would surface as a non-finite entry.
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(v.data[i]!) || (i < n && !Number.isFinite(w[i]!))) {
      throw new KernelError('eigh', 'cpu', `A ${shape}`, 'non-finite result (numerical breakdown)');
    }
  }
  for (let i = 0; i < n; i++) {
    w[i] = w[i]! / s1 / s2;
    if (!Number.isFinite(w[i]!)) throw new KernelError('eigh', 'cpu', `A ${shape}`, `eigenvalue ${i} exceeds the f64 range`);
  }
  return { values: w, vectors: v };
}

/**
 * The tridiagonalisation of s1 s2 A (lower triangle; two exact power-of-two factors; A taken out of its box): d, e and tau filled,
 * the reflectors' vectors returned packed (column k's entries k+2 .. n-1 from {@link reflectorOffset}:
 * n (n - 1) / 2 f64), and the working matrix's n^2 f64 (shared) handed on as Z, so that the later stages
 * need no second n x n array for it.
 */
function* reduce(box: InputBox, n: number, s1: number, s2: number, d: Float64Array, e: Float64Array, tau: Float64Array): Products<{ reflectors: Float64Array; z: Float64Array }> {
  const ws = eighWorkspace(n);
  const work = ws.a;
  takeScaled(box, work, n, s1, s2);
  yield* tridiagonalise(ws, n, d, e, tau);
  const reflectors = new Float64Array(Math.max(1, reflectorOffset(n, n - 2)));
  for (let k = 0; k + 2 < n; k++) reflectors.set(work.subarray(k * n + k + 2, k * n + n), reflectorOffset(n, k));
  return { reflectors, z: work };
}

/** Offset of reflector k (its n - k - 2 entries below the unit one) in the packed reflectors of order n. */
function reflectorOffset(n: number, k: number): number {
  return k * (n - 2) - (k * (k - 1)) / 2;
}

/** 2-norm of x[off : off+len] with scaling (no overflow or underflow for extreme magnitudes). */
function scaledNorm(x: Float64Array, off: number, len: number): number {
  let scale = 0;
  for (let i = 0; i < len; i++) scale = Math.max(scale, Math.abs(x[off + i]!));
  if (scale === 0) return 0;
  const inv = 1 / scale;
  let s = 0;
  for (let i = 0; i < len; i++) {
    const t = x[off + i]! * inv;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/** An export of the eigh kernel module (kernels/cpu/eigh-kernel.ts): i32 arguments, byte addresses. */
type Kernel = (...args: number[]) => void;

/** The tridiagonalisation's arrays, all in one shared wasm memory, and the kernels over it. */
interface Workspace {
  /** The n x n working matrix (lower triangle), then the reflectors' vectors. */
  a: Float64Array;
  /** The symv output, and the second half's (see {@link symvAt}). */
  p: Float64Array;
  p2: Float64Array;
  memory: WasmMemory;
  /** Names this workspace's (module, memory) pair for the pool's helpers. */
  key: number;
  /** The panel [V | W | V] (n x 3NB): V and W (n x NB each), then a copy of V for the trailing update. */
  panel: Float64Array;
  vb: Float64Array;
  wb: Float64Array;
  /** Two NB-vectors of scratch. */
  c: Float64Array;
  symv: Kernel;
  gemvT: Kernel;
  gemvN: Kernel;
}

let eighModule: WasmModule | undefined;
let workspaces = 0;

/** A fresh workspace for order n (a shared wasm memory of exactly the size needed, released with the call). */
function eighWorkspace(n: number): Workspace {
  eighModule ??= new wasm.Module(eighKernelBytes(gemmKernelFma()));
  const len = n * n + 2 * n + 3 * n * NB + 2 * NB;
  const pages = Math.max(1, Math.ceil((len * 8) / 65536));
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  const ex = new wasm.Instance(eighModule, { env: { memory } }).exports;
  const all = new Float64Array(memory.buffer, 0, len);
  let off = 0;
  const take = (k: number): Float64Array => all.subarray(off, (off += k));
  const a = take(n * n), p = take(n), p2 = take(n), panel = take(3 * n * NB);
  return {
    a, p, p2, memory, key: ++workspaces, panel, vb: panel.subarray(0, n * NB), wb: panel.subarray(n * NB, 2 * n * NB), c: take(2 * NB),
    symv: ex.symv as Kernel, gemvT: ex.gemvT as Kernel, gemvN: ex.gemvN as Kernel,
  };
}

/** Byte address of x[i] in the workspace memory. */
function at(x: Float64Array, i: number): number {
  return x.byteOffset + 8 * i;
}

/** Trailing orders from which symv is cut in two column ranges (one per thread when there are two). */
const SYMV_SPLIT_MIN = 512;

/**
 * p[s0:n] = A[s0:n, s0:n] a[col + s0 : col + n] over the lower triangle of the working matrix. From order
 * SYMV_SPLIT_MIN on, as two symvs over the columns [s0, mid) into p and [mid, n) into p2 (halves of the
 * triangle's entries), run by the process pool's threads (kernels/cpu/pool.ts) when it has two, then
 * p += p2: the same sums in the same order on one thread or two. Memory-bound: one thread alone does not
 * reach the memory's bandwidth.
 */
function symvAt(ws: Workspace, n: number, s0: number, col: number): void {
  ws.p.fill(0, s0, n);
  const len = n - s0;
  const x = at(ws.a, col);
  if (len < SYMV_SPLIT_MIN) {
    ws.symv(at(ws.a, 0), 8 * n, s0, n, n, x, at(ws.p, 0));
    return;
  }
  ws.p2.fill(0, s0, n);
  const mid = s0 + 4 * Math.round((len * (1 - Math.SQRT1_2)) / 4);
  const calls = [[at(ws.a, 0), 8 * n, s0, mid, n, x, at(ws.p, 0)], [at(ws.a, 0), 8 * n, mid, n, n, x, at(ws.p2, 0)]];
  commonPool().runCallsSync({ key: ws.key, module: eighModule!, memory: ws.memory, fn: 'symv', args: calls }, ws.symv);
  const { p, p2 } = ws;
  for (let i = s0; i < n; i++) p[i]! += p2[i]!;
}

/**
 * Householder reflector of column k (dlarfg) for x = a[k+1:n, k]: stores v (unit first entry) in place,
 * returns tau and sets e[k] = beta, so that (I - tau v v^T) x = beta e_1. tau = 0 when x is already reduced.
 */
function reflector(a: Float64Array, n: number, k: number, e: Float64Array): number {
  const col = k * n;
  const alpha = a[col + k + 1]!;
  const xnorm = scaledNorm(a, col + k + 2, n - k - 2);
  if (xnorm === 0) {
    e[k] = alpha;
    return 0;
  }
  const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, xnorm);
  e[k] = beta;
  const scal = 1 / (alpha - beta);
  for (let i = k + 2; i < n; i++) a[col + i]! *= scal;
  a[col + k + 1] = 1;
  return (beta - alpha) / beta;
}

/**
 * In place on the packed lower triangle of `a` (n x n): reflectors H_k = I - tau_k v_k v_k^T with
 * v_k = [0..0, 1, a[k+2:n, k]] so that H_{n-3}..H_0 A H_0..H_{n-3} = T; d = diag(T), e = subdiagonal.
 * Blocked as LAPACK dsytrd/dlatrd: within a panel of NB columns each step needs p = tau A22 v (symv on the
 * not-yet-updated trailing matrix, corrected by the panel's V W^T + W V^T), w = p - (tau/2)(p.v) v; after
 * the panel the trailing matrix takes one rank-2NB update (one lower-triangle product of depth 2NB). Small trailing
 * matrices finish unblocked (symv + syr2 per step).
 */
function* tridiagonalise(ws: Workspace, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): Products<void> {
  const { a, p, panel, vb, wb, c } = ws;
  const ld = 8 * n;
  let k0 = 0;
  for (; n - k0 >= 3 * NB; k0 += NB) {
    panel.fill(0, 0, 2 * n * NB);
    for (let t = 0; t < NB; t++) {
      const i = k0 + t;
      const col = i * n;
      // Step 1: bring column i up to date with the panel's earlier reflectors:
      // a[i:n, i] -= V[i:n, 0:t] W[i, 0:t]^T + W[i:n, 0:t] V[i, 0:t]^T.
      if (t > 0) {
        for (let q = 0; q < t; q++) {
          c[q] = -wb[i + q * n]!;
          c[NB + q] = -vb[i + q * n]!;
        }
        ws.gemvN(at(vb, i), ld, n - i, t, at(c, 0), at(a, col + i));
        ws.gemvN(at(wb, i), ld, n - i, t, at(c, NB), at(a, col + i));
      }
      d[i] = a[col + i]!;
      // Step 2: reflector, copied into the panel's V.
      const ti = reflector(a, n, i, e);
      tau[i] = ti;
      if (ti === 0) continue;
      const ct = t * n;
      for (let r = i + 1; r < n; r++) vb[ct + r] = a[col + r]!;
      // Step 3: p = A22 v - V (W^T v) - W (V^T v), then w = tau p - (tau^2/2)(p.v) v.
      symvAt(ws, n, i + 1, col);
      if (t > 0) {
        const len = n - i - 1;
        ws.gemvT(at(wb, i + 1), ld, len, t, at(a, col + i + 1), at(c, 0));
        ws.gemvT(at(vb, i + 1), ld, len, t, at(a, col + i + 1), at(c, NB));
        for (let q = 0; q < t; q++) {
          c[q] = -c[q]!;
          c[NB + q] = -c[NB + q]!;
        }
        ws.gemvN(at(vb, i + 1), ld, len, t, at(c, 0), at(p, i + 1));
        ws.gemvN(at(wb, i + 1), ld, len, t, at(c, NB), at(p, i + 1));
      }
      let pv = 0;
      for (let r = i + 1; r < n; r++) {
        p[r]! *= ti;
        pv += p[r]! * a[col + r]!;
      }
      const h = 0.5 * ti * pv;
      for (let r = i + 1; r < n; r++) wb[ct + r] = p[r]! - h * a[col + r]!;
    }
    // Step 4: trailing A22 -= V W^T + W V^T = [V W] [W V]^T (lower triangle), one product of depth 2NB.
    const k1 = k0 + NB;
    const m = n - k1;
    panel.copyWithin(2 * n * NB, 0, n * NB);
    yield [m, m, 2 * NB, -1, panel, k1, n, false, panel, k1 + n * NB, n, true, a, k1 + k1 * n, n, true];
  }
  for (let k = k0; k + 2 < n; k++) {
    d[k] = a[k + k * n]!;
    const col = k * n;
    const t = reflector(a, n, k, e);
    tau[k] = t;
    if (t === 0) continue;
    // p = tau A22 v; w = p - (tau/2)(p.v) v; A22 -= v w^T + w v^T (lower).
    const s0 = k + 1;
    symvAt(ws, n, s0, col);
    let pv = 0;
    for (let i = s0; i < n; i++) {
      p[i]! *= t;
      pv += p[i]! * a[col + i]!;
    }
    const h = 0.5 * t * pv;
    for (let i = s0; i < n; i++) p[i]! -= h * a[col + i]!;
    for (let j = s0; j < n; j++) {
      const cj = j * n;
      const vj = a[col + j]!;
      const wj = p[j]!;
      for (let i = j; i < n; i++) a[cj + i]! -= a[col + i]! * wj + p[i]! * vj;
    }
  }
  if (n >= 2) {
    d[n - 2] = a[n - 2 + (n - 2) * n]!;
    e[n - 2] = a[n - 1 + (n - 2) * n]!;
  }
  if (n >= 1) d[n - 1] = a[n * n - 1]!;
  e[n - 1] = 0;
}

/** Panel width of the blocked reduction (as LAPACK dsytrd). */
const NB = 32;
/** Reflectors applied per block in the back-transformation (wider: fewer passes over Z). */
const NB_BACK = 128;

/**
 * Z := Q Z with Q = H_0 H_1 ... H_{n-3} (LAPACK dormtr), blocks of NB_BACK reflectors at a time in compact WY
 * form H_k..H_{k+b-1} = I - Y T Y^T (T upper triangular, dlarft forward from S = Y^T Y): W = Y^T Z, then
 * Z -= (Y T) W. Per block of b reflectors over len rows: products S (b^2 len), Y T (2 b^2 len), W and the
 * update (2 b len n each); 2 n^3 flops in all, every one of them in a product.
 */
function* backTransform(reflectors: Float64Array, n: number, tau: Float64Array, z: Float64Array): Products<void> {
  const nref = n - 2;
  if (nref <= 0) return;
  const y = sharedF64(n * NB_BACK);
  const yt = sharedF64(n * NB_BACK);
  const w = sharedF64(NB_BACK * n);
  const s = sharedF64(NB_BACK * NB_BACK);
  const t = sharedF64(NB_BACK * NB_BACK);
  for (let kb = Math.floor((nref - 1) / NB_BACK) * NB_BACK; kb >= 0; kb -= NB_BACK) {
    const b = Math.min(NB_BACK, nref - kb);
    const r0 = kb + 1;
    const len = n - r0;
    // Step 1: Y (len x b): column q is v_{kb+q} on rows r0.., with its implicit unit entry.
    y.fill(0, 0, len * b);
    for (let q = 0; q < b; q++) {
      const k = kb + q;
      y[q + q * len] = 1;
      y.set(reflectors.subarray(reflectorOffset(n, k), reflectorOffset(n, k) + n - k - 2), k + 2 - r0 + q * len);
    }
    // Step 2: T (b x b, upper): T[q,q] = tau_q, T[0:q, q] = -tau_q T[0:q, 0:q] S[0:q, q].
    s.fill(0, 0, b * b);
    yield [b, b, len, 1, y, 0, len, true, y, 0, len, false, s, 0, b];
    t.fill(0, 0, b * b);
    for (let q = 0; q < b; q++) {
      const tq = tau[kb + q]!;
      t[q + q * b] = tq;
      if (tq === 0) continue;
      for (let p = 0; p < q; p++) {
        let acc = 0;
        for (let r = p; r < q; r++) acc += t[p + r * b]! * s[r + q * b]!;
        t[p + q * b] = -tq * acc;
      }
    }
    // Step 3: Y T, W = Y^T Z[r0:n, :], then Z[r0:n, :] -= (Y T) W.
    yt.fill(0, 0, len * b);
    yield [len, b, b, 1, y, 0, len, false, t, 0, b, false, yt, 0, len];
    w.fill(0, 0, b * n);
    yield [b, n, len, 1, y, 0, len, true, z, r0, n, false, w, 0, b];
    yield [len, n, b, -1, yt, 0, len, false, w, 0, b, false, z, r0, n];
  }
}

/**
 * Sorts eigenvalues ascending and the columns of z (n x n) with them, in place. The order is that of a
 * selection sort (the first smallest remaining value swapped to the front), so ties keep a fixed convention.
 */
function sortAscending(d: Float64Array, z: Float64Array, n: number): void {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (d[j]! < d[k]!) k = j;
    if (k === i) continue;
    const t = d[i]!;
    d[i] = d[k]!;
    d[k] = t;
    const c = perm[i]!;
    perm[i] = perm[k]!;
    perm[k] = c;
  }
  permuteColumns(z, n, perm);
}
