/**
 * Products with a matrix stored as 2-bit codes (the layout of a PLINK .bed, but nothing here knows genetics):
 * Z is rows x cols, column j holds `bytesPerCol` bytes, entry i of column j is the code
 * c_ij = (byte[i >> 2] >> 2 (i & 3)) & 3, and its value is a per-column table: z_ij = tables[4 j + c_ij]
 * (so a column can be standardised, mean-imputed or switched off without touching the codes). Two ops:
 *
 *   ztv:  U = Z[:, j0:j1]' V      (j1 - j0) x B, from V rows x B          cost 2 rows (j1 - j0) B flops
 *   zu:   Y = Z[:, j0:j1] U       rows x B,     from U (j1 - j0) x B      cost 2 rows (j1 - j0) B flops
 *
 * Both decode the codes straight into the packed panels of the wasm macro-kernel (kernels/cpu/gemm-core.ts,
 * kernels/cpu/wasm/gemm-kernel.ts) a KC-deep slice at a time, f64 throughout, so the codes stay 2 bits in
 * memory and each product reads them once. On {@link Packed2Pool} the work is split into independent units claimed from
 * a shared counter by this thread and the helper threads: column chunks for ztv (each writes its own rows of
 * U), row tiles for zu (each writes its own rows of Y), so no unit waits for another and no sum is reduced
 * across threads; every entry is summed in the same order whatever the thread count (results are
 * bit-identical for any number of threads). {@link packed2ZtvReference} and {@link packed2ZuReference} are the
 * plain-loop oracles.
 */
import { Worker } from 'node:worker_threads';
import { getFlag } from '../../src/flags.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { BLOCKING, gemmKernelModule, kernelLayout, mainGemmKernel, packPanels, type GemmKernel } from './gemm-core.js';
import { sharedF64 } from './eigh-products.js';
import { MR, NR } from './wasm/gemm-kernel.js';

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

/** Most rows of Y per zu unit (its block of C: TILE_ROWS x B f64 in the kernel's memory); fewer when that gives
 *  fewer than 8 units per thread. Multiple of the kernel's MC. */
export const TILE_ROWS = 4096;
/** Columns of Z per ztv unit (the rows of U it owns; at most the kernel's MC). Multiple of 4. */
export const ZTV_CHUNK = 64;

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
 * The units of one op, run by whichever thread claims them (Atomics on next[0]). Self-contained (the
 * packing helper comes as an argument): the pool ships its source to the workers. The codes are decoded
 * straight into the micro-panel layout of the wasm macro-kernel (kernels/cpu/wasm/gemm-kernel.ts: MR = 4
 * rows of op(A) per panel, depth-major), so no f64 tile is stored and repacked; the f64 operand (V for ztv,
 * U for zu) is packed once per call and thread into NR-column panels per KC-deep slice; the unit's block
 * of C lives in the kernel's memory and is copied out once. Arguments describe the matrix as flat arrays so
 * they can be posted: blocks (byte arrays), colStart, rows, bytesPerCol, tables (f64, 4 per column),
 * [j0, j1), the operand `x` (V: rows x B, ld rows; U: (j1 - j0) x B, ld j1 - j0), B, and `out` (U or Y).
 */
export function packed2Units(
  kern: GemmKernel, pack: typeof packPanels, layoutOf: typeof kernelLayout, op: 'ztv' | 'zu', next: Int32Array,
  blocks: Uint8Array[], colStart: Int32Array, rows: number, bytesPerCol: number, tables: Float64Array,
  j0: number, j1: number, x: Float64Array, nb: number, out: Float64Array,
  tileRows: number, ztvChunk: number,
): void {
  const m = j1 - j0;
  const KC = kern.kc;
  const MC = kern.mc;
  const nbp = Math.ceil(nb / 4) * 4;
  const depth = op === 'ztv' ? rows : m;
  const slices = Math.ceil(depth / KC);
  const lay = layoutOf(kern);
  // Kernel memory past the product buffers: the packed operand, then the unit's C block.
  const packBytes = slices * KC * nbp * 8;
  const cRows = op === 'ztv' ? ztvChunk : tileRows;
  const need = lay.rest + packBytes + cRows * nb * 8;
  if (need > kern.memory.buffer.byteLength) kern.memory.grow(Math.ceil((need - kern.memory.buffer.byteLength) / 65536));
  const f = new Float64Array(kern.memory.buffer);
  const packAt = lay.rest / 8;
  const cAt = packAt + packBytes / 8;
  // Step: the operand, NR-column panels per KC-deep slice of its rows.
  for (let sl = 0; sl < slices; sl++) {
    const kc = Math.min(KC, depth - sl * KC);
    pack(kern, f, packAt + sl * KC * nbp, nb, kc, 1, x, sl * KC, depth, true, lay.stageB / 8);
  }
  /** Store block and byte offset of column c. */
  const where = (c: number): [Uint8Array, number] => {
    let b = 0;
    while (colStart[b + 1]! <= c) b++;
    return [blocks[b]!, (c - colStart[b]!) * bytesPerCol];
  };
  const aAt = lay.a / 8;
  const data: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
  const base = [0, 0, 0, 0];
  if (op === 'ztv') {
    // Unit: columns [c0, c1); U[c0 - j0 .., :] = Z[:, c0:c1]' V, A = Z' in panels of 4 columns of Z.
    const units = Math.ceil(m / ztvChunk);
    for (let u = Atomics.add(next, 0, 1); u < units; u = Atomics.add(next, 0, 1)) {
      const c0 = j0 + u * ztvChunk;
      const c1 = Math.min(j1, c0 + ztvChunk);
      const mc = c1 - c0;
      const panels = Math.ceil(mc / 4);
      f.fill(0, cAt, cAt + mc * nb);
      for (let sl = 0; sl < slices; sl++) {
        const p0 = sl * KC;
        const kc = Math.min(KC, rows - p0);
        for (let q = 0; q < panels; q++) {
          const live = Math.min(4, mc - 4 * q);
          for (let r = 0; r < 4; r++) {
            if (r < live) [data[r], base[r]] = where(c0 + 4 * q + r);
          }
          let o = aAt + q * 4 * kc;
          const t0 = 4 * (c0 + 4 * q);
          let p = 0;
          if (live === 4) {
            // Whole panel, whole bytes: 4 bytes (one per column) give 16 values.
            const d0 = data[0]!, d1 = data[1]!, d2 = data[2]!, d3 = data[3]!;
            const e0 = base[0]!, e1 = base[1]!, e2 = base[2]!, e3 = base[3]!;
            for (; p + 4 <= kc; p += 4) {
              const bi = (p0 + p) >> 2;
              let x0 = d0[e0 + bi]!, x1 = d1[e1 + bi]!, x2 = d2[e2 + bi]!, x3 = d3[e3 + bi]!;
              for (let t = 0; t < 4; t++) {
                f[o] = tables[t0 + (x0 & 3)]!;
                f[o + 1] = tables[t0 + 4 + (x1 & 3)]!;
                f[o + 2] = tables[t0 + 8 + (x2 & 3)]!;
                f[o + 3] = tables[t0 + 12 + (x3 & 3)]!;
                x0 >>= 2;
                x1 >>= 2;
                x2 >>= 2;
                x3 >>= 2;
                o += 4;
              }
            }
          }
          for (; p < kc; p += 4) {
            const bi = (p0 + p) >> 2;
            const steps = Math.min(4, kc - p);
            for (let r = 0; r < 4; r++) {
              if (r >= live) {
                for (let t = 0; t < steps; t++) f[o + 4 * t + r] = 0;
                continue;
              }
              const byte = data[r]![base[r]! + bi]!;
              const tr = t0 + 4 * r;
              for (let t = 0; t < steps; t++) f[o + 4 * t + r] = tables[tr + ((byte >> (2 * t)) & 3)]!;
            }
            o += 4 * steps;
          }
        }
        kern.macro(mc, nb, kc, lay.a, (packAt + sl * KC * nbp) * 8, cAt * 8, mc * 8, 1 << 29, lay.scratch);
      }
      for (let b = 0; b < nb; b++) out.set(f.subarray(cAt + b * mc, cAt + (b + 1) * mc), c0 - j0 + b * m);
    }
    return;
  }
  // Unit: rows [r0, r1); Y[r0:r1, :] = Z[r0:r1, j0:j1] U, A = Z in panels of 4 rows (one byte per column).
  const units = Math.ceil(rows / tileRows);
  const colData: Uint8Array[] = new Array(KC);
  const colBase = new Int32Array(KC);
  for (let u = Atomics.add(next, 0, 1); u < units; u = Atomics.add(next, 0, 1)) {
    const r0 = u * tileRows;
    const r1 = Math.min(rows, r0 + tileRows);
    const rt = r1 - r0;
    f.fill(0, cAt, cAt + rt * nb);
    for (let sl = 0; sl < slices; sl++) {
      const s0 = j0 + sl * KC;
      const kc = Math.min(KC, j1 - s0);
      for (let p = 0; p < kc; p++) [colData[p], colBase[p]] = where(s0 + p);
      for (let ic = 0; ic < rt; ic += MC) {
        const mc = Math.min(MC, rt - ic);
        const panels = Math.ceil(mc / 4);
        const b0 = (r0 + ic) >> 2;
        for (let q = 0; q < panels; q++) {
          let o = aAt + q * 4 * kc;
          const bi = b0 + q;
          for (let p = 0; p < kc; p++) {
            const byte = colData[p]![colBase[p]! + bi]!;
            const tr = 4 * (s0 + p);
            f[o] = tables[tr + (byte & 3)]!;
            f[o + 1] = tables[tr + ((byte >> 2) & 3)]!;
            f[o + 2] = tables[tr + ((byte >> 4) & 3)]!;
            f[o + 3] = tables[tr + (byte >> 6)]!;
            o += 4;
          }
        }
        kern.macro(mc, nb, kc, lay.a, (packAt + sl * KC * nbp) * 8, (cAt + ic) * 8, rt * 8, 1 << 29, lay.scratch);
      }
    }
    for (let b = 0; b < nb; b++) out.set(f.subarray(cAt + b * rt, cAt + (b + 1) * rt), r0 + b * rows);
  }
}

const WORKER_MAIN = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
const inst = new WebAssembly.Instance(workerData.module, { env: { memory } });
const kern = Object.assign({ memory }, inst.exports, workerData.blocking);
let matrix;
parentPort.on('message', (task) => {
  if (task.matrix) { matrix = task.matrix; return; }
  let error;
  try {
    packed2Units(kern, packPanels, kernelLayout, task.op, task.next, matrix.blocks, matrix.colStart, matrix.rows, matrix.bytesPerCol, task.tables, task.j0, task.j1, task.x, task.nb, task.out, task.tileRows, task.ztvChunk);
  } catch (e) {
    error = String(e && e.stack || e);
  }
  parentPort.postMessage({ id: task.id, error });
});
`;

function workerSource(): string {
  return [packPanels, kernelLayout, packed2Units].map((f) => f.toString()).join('\n') + WORKER_MAIN;
}

/**
 * Runs {@link packed2Units} for one packed matrix on this thread and `threads - 1` helper threads. The matrix's
 * blocks must live on SharedArrayBuffers (the helpers read them without copies). Helpers start on first use,
 * are unref'd while idle, and stop at dispose().
 */
export class Packed2Pool {
  private workers: Worker[] = [];
  private pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  readonly threads: number;

  constructor(readonly matrix: Packed2Matrix, threads = getFlag('threads')) {
    this.threads = Math.max(1, threads);
    for (const b of matrix.blocks) {
      if (!(b.buffer instanceof SharedArrayBuffer) && this.threads > 1) throw new RangeError('Packed2Pool: the blocks must live on SharedArrayBuffers');
    }
  }

  private start(): void {
    if (this.workers.length > 0 || this.threads <= 1) return;
    const src = workerSource();
    const workerData = { module: gemmKernelModule(), blocking: { mr: MR, nr: NR, ...BLOCKING } };
    const { rows, bytesPerCol, blocks, colStart } = this.matrix;
    for (let t = 0; t < this.threads - 1; t++) {
      const w = new Worker(src, { eval: true, workerData });
      w.on('message', (msg: { id: number; error?: string }) => this.settle(msg.id, msg.error));
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => this.failAll(new Error(`packed2 worker exited with code ${code}`)));
      w.postMessage({ matrix: { rows, bytesPerCol, blocks: [...blocks], colStart } });
      w.unref();
      this.workers.push(w);
    }
  }

  private settle(id: number, error?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if (error) p.reject(new Error(`packed2 worker failed: ${error}`));
    else p.resolve();
  }

  private failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, e.message);
  }

  private async run(op: 'ztv' | 'zu', tables: Float64Array, j0: number, j1: number, x: Float64Array, nb: number, out: Float64Array): Promise<void> {
    this.start();
    const next = new Int32Array(new SharedArrayBuffer(4));
    // zu units: at least 8 per thread (balance), multiples of the kernel's MC rows, at most TILE_ROWS.
    const tileRows = Math.max(BLOCKING.mc, Math.min(TILE_ROWS, Math.ceil(this.matrix.rows / (8 * this.threads) / BLOCKING.mc) * BLOCKING.mc));
    const task = { op, next, tables, j0, j1, x, nb, out, tileRows, ztvChunk: ZTV_CHUNK };
    for (const w of this.workers) w.ref();
    const helpers = this.workers.map((w) => {
      const id = this.nextId++;
      return new Promise<void>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        w.postMessage({ id, ...task });
      });
    });
    const { rows, bytesPerCol, blocks, colStart } = this.matrix;
    let first: unknown;
    try {
      packed2Units(mainGemmKernel(), packPanels, kernelLayout, op, next, blocks as Uint8Array[], colStart, rows, bytesPerCol, tables, j0, j1, x, nb, out, tileRows, ZTV_CHUNK);
    } catch (e) {
      first = e;
      Atomics.store(next, 0, 1 << 30);
    }
    const settled = await Promise.allSettled(helpers);
    if (first) throw first;
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  }

  /**
   * U = Z[:, j0:j1]' V ((j1 - j0) x B). `tables` (4 f64 per column) and V may be plain or shared arrays; they
   * are copied to shared memory when helpers run. Cost 2 rows (j1 - j0) B flops plus one decode of the range.
   */
  async ztv(tables: Float64Array, v: F64Matrix, j0 = 0, j1 = this.matrix.cols): Promise<F64Matrix> {
    const m = checkPacked2(this.matrix, tables, j0, j1, 'Packed2Pool.ztv');
    const rows = this.matrix.rows;
    if (v.rows !== rows) throw new RangeError(`Packed2Pool.ztv: V is ${shapeOf(v)}, expected ${rows} rows`);
    const out = sharedF64(m * v.cols);
    if (m > 0 && v.cols > 0) await this.run('ztv', this.share(tables), j0, j1, this.packed(v), v.cols, out);
    return f64Matrix(m, v.cols, out);
  }

  /** Y = Z[:, j0:j1] U (rows x B). Cost 2 rows (j1 - j0) B flops plus one decode of the range. */
  async zu(tables: Float64Array, u: F64Matrix, j0 = 0, j1 = this.matrix.cols): Promise<F64Matrix> {
    const m = checkPacked2(this.matrix, tables, j0, j1, 'Packed2Pool.zu');
    if (u.rows !== m) throw new RangeError(`Packed2Pool.zu: U is ${shapeOf(u)}, expected ${m} rows`);
    const rows = this.matrix.rows;
    const out = sharedF64(rows * u.cols);
    if (m > 0 && u.cols > 0) await this.run('zu', this.share(tables), j0, j1, this.packed(u), u.cols, out);
    return f64Matrix(rows, u.cols, out);
  }

  private share(a: Float64Array): Float64Array {
    if (this.threads <= 1 || a.buffer instanceof SharedArrayBuffer) return a;
    const s = sharedF64(a.length);
    s.set(a);
    return s;
  }

  /** The matrix's data with ld = rows, on shared memory when helpers run. */
  private packed(a: F64Matrix): Float64Array {
    if (a.ld === a.rows && (this.threads <= 1 || a.data.buffer instanceof SharedArrayBuffer)) return a.data.subarray(0, a.rows * a.cols);
    const s = this.threads <= 1 ? new Float64Array(a.rows * a.cols) : sharedF64(a.rows * a.cols);
    for (let j = 0; j < a.cols; j++) s.set(a.data.subarray(j * a.ld, j * a.ld + a.rows), j * a.rows);
    return s;
  }

  /** Stops the helper threads. */
  async dispose(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    this.failAll(new Error('Packed2Pool disposed'));
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
