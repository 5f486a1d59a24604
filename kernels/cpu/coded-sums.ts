/**
 * Order-exact sums of table-decoded columns: for blocks of n x k small codes c (bytes 0..3) with two 4-entry
 * f64 tables per column (A[i, j] = tableA_j[c_ij], B[i, j] = tableB_j[c_ij]) and, per output column q, a list
 * L_q of the block's columns in ascending order, it accumulates over the blocks in the order given
 *   u[i]    += B[i, 0] + B[i, 1] + ... + B[i, k-1]
 *   W[i, q] += A[i, j] for j in L_q                    (n x outCols, allocated at the first non-empty list)
 * one f64 addition at a time, left to right: the results are bit-identical to the plain scalar loops in that
 * order, whatever the block split. Not a Backend op: a cpu kernel for callers whose data are small codes (the
 * missing-genotype corrections of the exact integer kinship, gwas/kinship.ts).
 * Runs on the calling thread in a WebAssembly SIMD kernel (kernels/cpu/wasm/coded-sums-kernel.ts) over tiles
 * of 16 rows, so a tile's W entries stay in registers for a whole list. Cost per block O(n k) to decode, plus
 * n additions per list entry (n sum_q |L_q|). Memory 8 nPad (outCols + 1) bytes for u and W, nPad = n rounded
 * up to 16, plus the block's staging (nPad k bytes + 256 k + 4 (outCols + 1 + entries) bytes); one wasm32
 * memory, so 8 nPad outCols must stay under 4 GiB (n = outCols <= 23,000).
 */
import { KernelError } from '../backend.js';
import { codedSumsKernelBytes, TILE_ROWS } from './wasm/coded-sums-kernel.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm/runtime.js';

/** One block of codes with its tables and per-output-column lists. */
export interface CodedBlock {
  /** Codes 0..3, n x k column-major (element (i, j) at codes[i + j ld]). */
  codes: Uint8Array;
  /** Column stride of `codes` (>= n; default n). */
  ld?: number;
  /** Columns in the block. */
  k: number;
  /** 4 k entries: column j decodes code c to tableA[4 j + c] (the addends of W). */
  tableA: Float64Array;
  /** 4 k entries: the addends of u. */
  tableB: Float64Array;
  /** outCols + 1 offsets into `list`: L_q = list[start[q]] .. list[start[q + 1] - 1], ascending column indices. */
  start: Int32Array;
  list: Int32Array;
}

type SumsKernel = (...args: number[]) => void;

let module: WasmModule | undefined;

const WASM32_MAX_BYTES = 65536 * 65536;

export class CodedColumnSums {
  private readonly nPad: number;
  private readonly memory: WasmMemory;
  private readonly kernel: SumsKernel;
  /** Byte offset of W (just after u), and whether it is allocated. */
  private readonly wPtr: number;
  private hasW = false;

  constructor(
    readonly n: number,
    readonly outCols: number,
  ) {
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(outCols) || outCols < 0) {
      throw new KernelError('syrk', 'cpu', `u ${n}, W ${n}x${outCols}`, 'dimensions must be non-negative integers');
    }
    this.nPad = Math.ceil(n / TILE_ROWS) * TILE_ROWS;
    this.wPtr = 8 * this.nPad;
    this.memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(this.wPtr / 65536)), maximum: 65536, shared: true });
    module ??= new wasm.Module(codedSumsKernelBytes());
    this.kernel = new wasm.Instance(module, { env: { memory: this.memory } }).exports.sums as SumsKernel;
  }

  /** u (n entries; a view valid until the next {@link add}). */
  get u(): Float64Array {
    return new Float64Array(this.memory.buffer, 0, this.n);
  }

  /**
   * W as a view stored by tiles of 16 rows (entry (i, q) at data[(i >> 4) tile + 16 q + (i & 15)], tile =
   * 16 outCols; valid until the next {@link add}), or undefined before any list entry.
   */
  get w(): { data: Float64Array; tile: number } | undefined {
    if (!this.hasW) return undefined;
    return { data: new Float64Array(this.memory.buffer, this.wPtr, this.nPad * this.outCols), tile: TILE_ROWS * this.outCols };
  }

  /** Adds one block (see the file comment). Throws KernelError for inconsistent shapes or codes above 3. */
  add(b: CodedBlock): void {
    const { n, nPad, outCols } = this;
    const { k } = b;
    const fail = (detail: string): never => {
      throw new KernelError('syrk', 'cpu', `codes ${n}x${k}, W ${n}x${outCols}`, detail);
    };
    if (!Number.isInteger(k) || k < 0) fail('k must be a non-negative integer');
    const ld = b.ld ?? n;
    if (!(Number.isInteger(ld) && ld >= n)) fail(`ld ${ld} must be an integer >= n`);
    if (k > 0 && b.codes.length < ld * (k - 1) + n) fail(`codes has ${b.codes.length} entries, needs ${ld * (k - 1) + n}`);
    if (b.tableA.length < 4 * k || b.tableB.length < 4 * k) fail(`tables need ${4 * k} entries`);
    if (b.start.length !== outCols + 1) fail(`start must have ${outCols + 1} entries`);
    const entries = b.start[outCols]!;
    if (b.start[0] !== 0 || entries > b.list.length) fail('start must run from 0 to at most list.length');
    for (let q = 0; q < outCols; q++) if (b.start[q + 1]! < b.start[q]!) fail(`start must be non-decreasing (at ${q})`);
    for (let p = 0; p < entries; p++) if (!(b.list[p]! >= 0 && b.list[p]! < k)) fail(`list[${p}] = ${b.list[p]} is not a column of the block`);
    if (n === 0 || k === 0) return;
    const newW = entries > 0 && !this.hasW;
    if (newW) this.hasW = true;
    // Layout: [u | W (once allocated) | codes (nPad x k) | tableA | tableB | start | list | scratch (2 x 16 k f64)].
    const wBytes = this.hasW ? 8 * nPad * outCols : 0;
    const codesPtr = this.wPtr + wBytes;
    const tA = align(codesPtr + nPad * k);
    const tB = tA + 32 * k;
    const startPtr = tB + 32 * k;
    const listPtr = startPtr + 4 * (outCols + 1);
    const scratch = align(listPtr + 4 * entries);
    const end = scratch + 2 * 8 * TILE_ROWS * k;
    if (end > WASM32_MAX_BYTES) fail(`needs ${end} bytes of wasm memory, more than the 4 GiB a wasm32 memory holds`);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    const buf = this.memory.buffer;
    if (newW) new Float64Array(buf, this.wPtr, nPad * outCols).fill(0); // it may hold an earlier block's staging
    const codes = new Uint8Array(buf, codesPtr, nPad * k);
    for (let j = 0; j < k; j++) {
      codes.set(b.codes.subarray(j * ld, j * ld + n), j * nPad);
      codes.fill(0, j * nPad + n, (j + 1) * nPad);
    }
    // Codes above 3, four at a time (codesPtr and nPad are multiples of 16).
    const words = new Uint32Array(buf, codesPtr, (nPad * k) >> 2);
    let high = 0;
    for (let e = 0; e < words.length; e++) high |= words[e]!;
    if (high & 0xfcfcfcfc) {
      for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) if (codes[j * nPad + i]! > 3) fail(`code ${codes[j * nPad + i]} at (${i}, ${j}) is above 3`);
    }
    new Float64Array(buf, tA, 4 * k).set(b.tableA.subarray(0, 4 * k));
    new Float64Array(buf, tB, 4 * k).set(b.tableB.subarray(0, 4 * k));
    new Int32Array(buf, startPtr, outCols + 1).set(b.start);
    new Int32Array(buf, listPtr, entries).set(b.list.subarray(0, entries));
    this.kernel(codesPtr, nPad, k, tA, tB, 0, startPtr, listPtr, this.hasW ? outCols : 0, this.wPtr, 8 * TILE_ROWS * outCols, scratch, 0, nPad);
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
