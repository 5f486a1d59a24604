/**
 * The strided f64 product core shared by every cpu op (gemm, syrk, blocked potrf, eigh back-transform) and
 * by the worker threads of the cpu backend. BLAS-style raw arguments so callers can pass sub-blocks of a
 * larger matrix without copying: element (i, j) of a view is data[off + i + j * ld].
 *
 * Large products run the GotoBLAS loop nest: for each NC-column panel of C, for each KC-deep slice, pack
 * op(B) into NR-column micro-panels, then for each MC-row block pack op(A) into MR-row micro-panels and run
 * the WebAssembly SIMD macro-kernel (kernels/cpu/wasm/gemm-kernel.ts), which accumulates into a copy of
 * C's NC-column panel held in wasm memory (copied in and out with memcpy), or into C itself when C lives in
 * the kernel's memory ({@link kernelWorkspace}: potrf factors there). Alpha is folded into the packed
 * op(A), so alpha op(A) op(B) sums the products alpha a_ip b_pj. Small products run plain loops. The
 * functions {@link kernelLayout}, {@link gemmBlocked} and {@link packPanels} are self-contained
 * (they reference nothing outside their arguments and each other) because the worker pool ships their
 * source text to its threads.
 */
import { gemmKernelBytes, MR, NR } from './wasm/gemm-kernel.js';
import { getFlag } from '../../src/flags.js';
import { relaxedSimdAvailable, wasm, type WasmMemory, type WasmModule } from './wasm/runtime.js';

/** A wasm kernel instance with its memory and blocking parameters (one per thread). */
export interface GemmKernel {
  macro: (mc: number, nc: number, kc: number, aPack: number, bPack: number, cPtr: number, ldcBytes: number, diag: number, scratch: number) => void;
  packRows: (src: number, ldBytes: number, panels: number, kc: number, dst: number, alpha: number) => void;
  packCols: (src: number, ldBytes: number, panels: number, kc: number, dst: number, alpha: number) => void;
  memory: WasmMemory;
  mr: number;
  nr: number;
  /** Rows of op(A) per packed block (L2-resident: MC x KC x 8 bytes). */
  mc: number;
  /** Depth of one packed slice. */
  kc: number;
  /** Columns of C per panel. */
  nc: number;
}

/**
 * Blocking chosen for 32-64 KiB L1, 512 KiB+ L2 and a shared L3: A block 256 KiB (L2), B micro-panel 8 KiB
 * (L1), B slice 2 MiB (L3). Wide panels mean op(A) is packed once per 1024 columns of C.
 */
export const BLOCKING = { mc: 128, kc: 256, nc: 1024 } as const;

/** Below this many multiply-adds (m n k), or with fewer than 8 rows or columns (matrix-vector shapes), the
 *  plain loops beat packing and the panel copies; with C in the kernel memory (no copies) only below TINY. */
const SMALL = 48 * 48 * 48;
const THIN = 8;
const TINY = 8 * 8 * 8;

/** Largest wasm32 memory: 65536 pages of 64 KiB (the kernels' declared maximum). */
const WASM32_MAX_BYTES = 65536 * 65536;

let mainKernel: GemmKernel | undefined;

/** Instantiates the kernel over `memory` (a shared memory when used by worker threads). */
export function instantiateGemmKernel(module: WasmModule, memory: WasmMemory): GemmKernel {
  const inst = new wasm.Instance(module, { env: { memory } });
  const { macro, packRows, packCols } = inst.exports as Pick<GemmKernel, 'macro' | 'packRows' | 'packCols'>;
  return { macro, packRows, packCols, memory, mr: MR, nr: NR, ...BLOCKING };
}

let kernelModule: WasmModule | undefined;

/** Whether the product kernel fuses its multiply-adds (the `cpuFma` flag, read once, and runtime support). */
export function gemmKernelFma(): boolean {
  return getFlag('cpuFma') === 'auto' && relaxedSimdAvailable();
}

/**
 * The compiled kernel module (structured-cloneable: worker threads instantiate it over their own memory,
 * so every thread runs the same code and rounds the same way). Built on first use.
 */
export function gemmKernelModule(): WasmModule {
  kernelModule ??= new wasm.Module(gemmKernelBytes(gemmKernelFma()));
  return kernelModule;
}

/** This thread's kernel instance, over a shared memory (worker threads may update its workspace in place). */
export function mainGemmKernel(): GemmKernel {
  mainKernel ??= instantiateGemmKernel(gemmKernelModule(), new wasm.Memory({ initial: 16, maximum: 65536, shared: true }));
  return mainKernel;
}

/**
 * C[0:m, 0:n] += alpha op(A) op(B), op(A) m x k, op(B) k x n.
 * With `lowerOnly`, only entries i >= j of C are updated (the syrk triangle); the rest is untouched.
 * Cost 2mnk flops (about half that with lowerOnly and m = n). Summation over k in KC-deep slices.
 */
export function gemmStrided(
  m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOff: number, lda: number, transA: boolean,
  b: Float64Array, bOff: number, ldb: number, transB: boolean,
  c: Float64Array, cOff: number, ldc: number,
  lowerOnly = false,
): void {
  if (m === 0 || n === 0 || k === 0 || alpha === 0) return;
  const kern = mainGemmKernel();
  const small = c.buffer === kern.memory.buffer ? m * n * k < TINY : m * n * k < SMALL || m < THIN || n < THIN;
  if (small) {
    gemmLoops(m, n, k, alpha, a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc, lowerOnly);
  } else {
    gemmBlocked(kern, m, n, k, alpha, a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc, lowerOnly, 0);
  }
}

/**
 * Plain-loop product; arguments as {@link gemmStrided}. With A transposed, each entry is a dot product of
 * two contiguous columns (no repacking: matrix-vector shapes such as U^T y read U once); otherwise the
 * axpy form over contiguous columns of A.
 */
function gemmLoops(
  m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOff: number, lda: number, transA: boolean,
  b: Float64Array, bOff: number, ldb: number, transB: boolean,
  c: Float64Array, cOff: number, ldc: number,
  lowerOnly: boolean,
): void {
  for (let j = 0; j < n; j++) {
    const cj = cOff + j * ldc;
    const i0 = lowerOnly ? j : 0;
    if (transA) {
      for (let i = i0; i < m; i++) {
        const ai = aOff + i * lda;
        let s = 0;
        if (transB) {
          for (let p = 0; p < k; p++) s += a[ai + p]! * b[bOff + j + p * ldb]!;
        } else {
          const bj = bOff + j * ldb;
          for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
        }
        c[cj + i]! += alpha * s;
      }
      continue;
    }
    for (let p = 0; p < k; p++) {
      const bpj = alpha * (transB ? b[bOff + j + p * ldb]! : b[bOff + p + j * ldb]!);
      if (bpj === 0) continue;
      const ac = aOff + p * lda;
      for (let i = i0; i < m; i++) c[cj + i]! += bpj * a[ac + i]!;
    }
  }
}

/**
 * Packs alpha X for an operand X of `count` x kc (count rows of op(A), or count columns of op(B) as rows)
 * into 4-wide micro-panels at f64 index `dst` of the kernel memory view `f`: element (r, p) of panel q at
 * dst + q*4*kc + p*4 + r, entries past `count` zero. X's element (i, p) is x[off + i + p*ld], or
 * x[off + p + i*ld] when `depthContiguous`. The kernel's packRows/packCols do whole panels; an X outside
 * the kernel memory is first copied to f64 index `stage` line by line (count x kc f64 of room).
 */
export function packPanels(
  kern: GemmKernel, f: Float64Array, dst: number, count: number, kc: number, alpha: number,
  x: Float64Array, off: number, ld: number, depthContiguous: boolean, stage: number,
): void {
  let src = x.byteOffset / 8 + off;
  let sld = ld;
  if (x.buffer !== kern.memory.buffer) {
    const len = depthContiguous ? kc : count;
    const lines = depthContiguous ? count : kc;
    for (let t = 0; t < lines; t++) f.set(x.subarray(off + t * ld, off + t * ld + len), stage + t * len);
    src = stage;
    sld = len;
  }
  const whole = count - (count % 4);
  if (whole > 0) (depthContiguous ? kern.packCols : kern.packRows)(src * 8, sld * 8, whole / 4, kc, dst * 8, alpha);
  if (whole === count) return;
  const base = dst + whole * kc;
  for (let p = 0; p < kc; p++) {
    for (let r = 0; r < 4; r++) {
      const i = whole + r;
      f[base + p * 4 + r] = i < count ? alpha * f[depthContiguous ? src + p + i * sld : src + i + p * sld]! : 0;
    }
  }
}

/**
 * Byte offsets of the blocked product's buffers in a kernel's memory: the packed A block (MC x KC), the
 * packed B slice (KC x NC), the partial-tile scratch (MR x NR), staging copies of an A block and a B slice
 * (operands outside the kernel memory), then the C panel, or the caller's workspace
 * ({@link kernelWorkspace}), from `rest` on.
 */
export function kernelLayout(kern: GemmKernel): { a: number; b: number; scratch: number; stageA: number; stageB: number; rest: number } {
  const aBytes = kern.mc * kern.kc * 8, bBytes = kern.kc * kern.nc * 8;
  const scratch = aBytes + bBytes;
  const stageA = scratch + kern.mr * kern.nr * 8;
  const stageB = stageA + aBytes;
  return { a: 0, b: aBytes, scratch, stageA, stageB, rest: stageB + bBytes };
}

/**
 * Blocked product through the wasm macro-kernel (see the file comment). `col0` is the global index of
 * column 0 of this C slice (a worker's share), used by `lowerOnly`: only global rows i >= global column.
 * When C is a view of the kernel's own memory ({@link kernelWorkspace}) the kernel updates it in place;
 * otherwise each NC-column panel of C is copied into the kernel's memory (rows from the first the triangle
 * reaches) and back.
 */
export function gemmBlocked(
  kern: GemmKernel,
  m: number, n: number, k: number, alpha: number,
  a: Float64Array, aOff: number, lda: number, transA: boolean,
  b: Float64Array, bOff: number, ldb: number, transB: boolean,
  c: Float64Array, cOff: number, ldc: number,
  lowerOnly: boolean, col0: number,
): void {
  const { mr, mc: MC, kc: KC, nc: NC } = kern;
  const layout = kernelLayout(kern);
  const inPlace = c.buffer === kern.memory.buffer;
  if (!inPlace) {
    const need = layout.rest + m * Math.min(n, NC) * 8;
    const have = kern.memory.buffer.byteLength;
    if (need > have) kern.memory.grow(Math.ceil((need - have) / 65536));
  }
  const f = new Float64Array(kern.memory.buffer);
  const panel = layout.rest / 8;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const gcol = col0 + jc;
    // With lowerOnly, rows above this panel's first (global) column are never updated.
    const iStart = lowerOnly ? Math.max(0, Math.floor(gcol / mr) * mr) : 0;
    if (iStart >= m) continue;
    // C[0:m, jc:jc+nc] in the kernel's memory: in place, or C[iStart:m, ...] copied into the panel (ld m).
    const cBase = inPlace ? c.byteOffset / 8 + cOff + jc * ldc : panel;
    const cLd = inPlace ? ldc : m;
    if (!inPlace) {
      for (let j = 0; j < nc; j++) {
        const cj = cOff + (jc + j) * ldc;
        f.set(c.subarray(cj + iStart, cj + m), panel + j * m + iStart);
      }
    }
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // op(B)[pc:pc+kc, jc:jc+nc] as nc rows of depth kc.
      packPanels(kern, f, layout.b / 8, nc, kc, 1, b, bOff + (transB ? jc + pc * ldb : pc + jc * ldb), ldb, !transB, layout.stageB / 8);
      for (let ic = iStart; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packPanels(kern, f, layout.a / 8, mc, kc, alpha, a, aOff + (transA ? pc + ic * lda : ic + pc * lda), lda, transA, layout.stageA / 8);
        kern.macro(mc, nc, kc, layout.a, layout.b, (cBase + ic) * 8, cLd * 8, lowerOnly ? ic - gcol : 1 << 29, layout.scratch);
      }
    }
    if (!inPlace) {
      for (let j = 0; j < nc; j++) {
        const cj = cOff + (jc + j) * ldc;
        c.set(f.subarray(panel + j * m + iStart, panel + j * m + m), cj + iStart);
      }
    }
  }
}

/**
 * A view of `length` f64 in this thread's kernel memory, past the blocked product's buffers: products whose
 * C lies in it ({@link gemmStrided}) update C in place, without panel copies. It lies on a SharedArrayBuffer
 * (kernels/cpu/potrf.ts hands slices of it to worker threads). The memory grows on demand, which leaves
 * earlier views on the old, shorter buffer: the view is valid until the next call, or the next product on
 * this thread whose C lies outside it (products with C in place never grow it). Contents are unspecified. Past the
 * wasm32 limit (4 GiB of memory) it is a plain array instead, and products on it copy panels as usual.
 */
export function kernelWorkspace(length: number): Float64Array {
  const kern = mainGemmKernel();
  const off = kernelLayout(kern).rest;
  const have = kern.memory.buffer.byteLength;
  const need = off + length * 8;
  if (need > WASM32_MAX_BYTES) return new Float64Array(length);
  if (need > have) kern.memory.grow(Math.ceil((need - have) / 65536));
  return new Float64Array(kern.memory.buffer, off, length);
}
