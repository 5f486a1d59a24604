/**
 * The exact int8 Gram on WebGPU (Backend.int8Gram): C = sum_b X_b X_b^T for blocks X_b of bytes (genotype
 * dosages), accumulated in i32 on the device, so the sums equal the cpu's SyrkInt8Accumulator exactly.
 *
 * Each block is uploaded as u32 words of four consecutive columns of one row (row-major, `kw` words per row,
 * zero padded). One workgroup of 16 x 16 threads computes one 64 x 64 tile of C on or below the diagonal
 * (each thread 4 x 4 entries), staging 64 rows x 16 words of both operands in workgroup memory per step;
 * each word pair adds dot4I8Packed(a, b) (WGSL's packed_4x8_integer_dot_product: four byte products in
 * one instruction) where the adapter has it, else the same dot product from extractBits (sign-extended
 * bytes): exact i32 arithmetic either way. The lower-triangle tiles are stored tile after tile (4096 i32 each)
 * in segments of at most one storage binding each, so n is limited by device memory, not by one binding.
 * Exact while (sum of k) max|x|^2 < 2^31 (checked). Cost n^2 k / 2 multiply-adds per block plus its upload
 * (n k bytes); device memory n^2 / 2 i32 for C plus one block.
 */
import { KernelError, type Int8Gram } from '../backend.js';
import type { Int8Matrix } from '../matrix.js';
import type { GpuContext } from './context.js';
import { BufferUsage } from './device.js';
import { grid1d, type GpuProgram } from './program.js';

/** Rows and columns of one tile of C (one workgroup). */
const TILE = 64;
/** u32 words (four bytes each) of depth staged per step. */
const KW = 16;
const TILE_INTS = TILE * TILE;

type GramUniform = 'n' | 'kw' | 'tile0' | 'tiles';

function gramProgram(packed: boolean): GpuProgram<GramUniform> {
  return {
    name: 'syrk-int8',
    cacheKey: `syrk-int8:${packed ? 'dot4I8Packed' : 'extractBits'}`,
    workgroupSize: [16, 16, 1],
    uniforms: [['n', 'u32'], ['kw', 'u32'], ['tile0', 'u32'], ['tiles', 'u32']],
    storage: [
      { name: 'x', access: 'read', element: 'u32' },
      { name: 'c', access: 'read_write', element: 'i32' },
    ],
    body: () => `
var<workgroup> ta: array<u32, ${TILE * KW}>;
var<workgroup> tb: array<u32, ${TILE * KW}>;

fn dot4(a: u32, b: u32) -> i32 {
${packed ? '  return dot4I8Packed(a, b);' : `  let x = bitcast<i32>(a);
  let y = bitcast<i32>(b);
  return extractBits(x, 0u, 8u) * extractBits(y, 0u, 8u) + extractBits(x, 8u, 8u) * extractBits(y, 8u, 8u)
       + extractBits(x, 16u, 8u) * extractBits(y, 16u, 8u) + extractBits(x, 24u, 8u) * extractBits(y, 24u, 8u);`}
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let local = wg.x + wg.y * nwg.x;
  if (local >= u.tiles) { return; }
  // Lower-triangle tile t = ti (ti + 1) / 2 + tj, tj <= ti.
  let t = u.tile0 + local;
  var ti = u32((sqrt(8.0 * f32(t) + 1.0) - 1.0) / 2.0);
  if (ti * (ti + 1u) / 2u > t) { ti = ti - 1u; }
  if ((ti + 1u) * (ti + 2u) / 2u <= t) { ti = ti + 1u; }
  let tj = t - ti * (ti + 1u) / 2u;
  let r0 = ti * ${TILE}u;
  let c0 = tj * ${TILE}u;
  var acc: array<i32, 16>;
  for (var w0 = 0u; w0 < u.kw; w0 += ${KW}u) {
    // Stage rows r0.. and c0.. (64 each) x words w0..w0+KW, zero past the edges.
    for (var e = li; e < ${TILE * KW}u; e += 256u) {
      let r = e / ${KW}u;
      let w = w0 + e % ${KW}u;
      var va = 0u;
      var vb = 0u;
      if (w < u.kw) {
        if (r0 + r < u.n) { va = x[(r0 + r) * u.kw + w]; }
        if (c0 + r < u.n) { vb = x[(c0 + r) * u.kw + w]; }
      }
      ta[e] = va;
      tb[e] = vb;
    }
    workgroupBarrier();
    for (var w = 0u; w < ${KW}u; w++) {
      var a: array<u32, 4>;
      var b: array<u32, 4>;
      for (var q = 0u; q < 4u; q++) {
        a[q] = ta[(lid.y * 4u + q) * ${KW}u + w];
        b[q] = tb[(lid.x * 4u + q) * ${KW}u + w];
      }
      for (var p = 0u; p < 4u; p++) {
        for (var q = 0u; q < 4u; q++) { acc[p * 4u + q] += dot4(a[p], b[q]); }
      }
    }
    workgroupBarrier();
  }
  // Tile-local row-major: entry (row 4 ly + p, col 4 lx + q).
  let base = local * ${TILE_INTS}u;
  for (var p = 0u; p < 4u; p++) {
    for (var q = 0u; q < 4u; q++) {
      let at = base + (lid.y * 4u + p) * ${TILE}u + lid.x * 4u + q;
      c[at] = c[at] + acc[p * 4u + q];
    }
  }
}
`,
  };
}

/** Whether this device's WGSL has dot4I8Packed (the packed_4x8_integer_dot_product language feature). */
function hasPackedDot(ctx: GpuContext): boolean {
  const features = (ctx.shared.gpu as GPU & { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  return features?.has('packed_4x8_integer_dot_product') ?? false;
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export class WebGpuSyrkInt8Accumulator implements Int8Gram {
  /** Tile ranges [tile0, tile0 + tiles) and their device buffers of C. */
  private readonly segments: { tile0: number; tiles: number; buffer: GPUBuffer }[] = [];
  private readonly program: GpuProgram<GramUniform>;
  private k = 0;
  private maxAbs = 0;
  private done = false;

  /**
   * `opts` (for tests): `packedDot` forces the shader variant (default: dot4I8Packed where available),
   * `tilesPerSegment` caps the tiles per device buffer of C (default: as many as one binding holds).
   */
  constructor(
    private readonly ctx: GpuContext,
    readonly n: number,
    opts: { packedDot?: boolean; tilesPerSegment?: number } = {},
  ) {
    if (!Number.isInteger(n) || n < 0) throw new KernelError('syrk', 'webgpu', `C ${n}x${n}`, 'dimension must be a non-negative integer');
    const ntiles = Math.ceil(n / TILE);
    const total = (ntiles * (ntiles + 1)) / 2;
    const perSegment = opts.tilesPerSegment ?? Math.max(1, Math.floor(ctx.maxBindingBytes / (4 * TILE_INTS)));
    ctx.assertAlive('syrk', `C ${n}x${n} int8`);
    for (let tile0 = 0; tile0 < total; tile0 += perSegment) {
      const tiles = Math.min(perSegment, total - tile0);
      // Created zeroed; kept until lowerSums().
      this.segments.push({ tile0, tiles, buffer: ctx.device.createBuffer({ size: 4 * TILE_INTS * tiles, usage: STORAGE }) });
    }
    this.program = gramProgram(opts.packedDot ?? hasPackedDot(ctx));
  }

  get cols(): number {
    return this.k;
  }

  async add(x: Int8Matrix): Promise<void> {
    const { n } = this;
    const shapes = `X ${x.rows}x${x.cols} int8`;
    if (this.done) throw new KernelError('syrk', 'webgpu', shapes, 'add() after lowerSums()');
    const fail = (detail: string): never => {
      throw new KernelError('syrk', 'webgpu', shapes, detail);
    };
    const { cols: k, ld, data } = x;
    if (x.rows !== n) fail(`X must have ${n} rows`);
    if (!Number.isInteger(k) || k < 0) fail('dimensions must be non-negative integers');
    if (!Number.isInteger(ld) || ld < Math.max(1, n)) fail(`leading dimension ${ld} must be >= max(1, rows)`);
    if (k > 0 && data.length < ld * (k - 1) + n) fail(`buffer has ${data.length} elements, needs ${ld * (k - 1) + n}`);
    if (n === 0 || k === 0) return;
    // Row-major words: four consecutive columns of row i in word i kw + p / 4 (byte p % 4, little-endian).
    const kw = Math.ceil(k / 4);
    const words = new Uint32Array(n * kw);
    const bytes = new Uint8Array(words.buffer);
    let max = 0;
    for (let p = 0; p < k; p++) {
      const col = p * ld;
      for (let i = 0; i < n; i++) {
        const v = data[col + i]!;
        if (v > 127) fail(`X[${i},${p}] is ${v}; Uint8 data must be <= 127`);
        const a = v < 0 ? -v : v;
        if (a > max) max = a;
        bytes[i * 4 * kw + p] = v & 0xff;
      }
    }
    const maxAbs = Math.max(this.maxAbs, max);
    const bound = (this.k + k) * maxAbs * maxAbs;
    if (bound >= 2 ** 31) fail(`k * max|x|^2 = ${bound} over all blocks overflows int32 accumulation`);
    await this.ctx.run('syrk', shapes, async (scope) => {
      this.ctx.checkFits(scope, 'the block X (n x k bytes)', n * kw);
      const xb = this.ctx.bufferFrom(scope, words);
      this.ctx.submit(scope, this.segments.map((s) => ({
        program: this.program,
        uniforms: { n, kw, tile0: s.tile0, tiles: s.tiles },
        buffers: [xb, s.buffer],
        workgroups: grid1d(s.tiles, this.ctx.maxWorkgroupsPerDim),
      })));
    });
    this.maxAbs = maxAbs;
    this.k += k;
  }

  /** Downloads C (n x n i32, lower triangle, ld n) and frees the device buffers. */
  async lowerSums(): Promise<{ parts: Int32Array[]; ld: number }> {
    const { n } = this;
    if (this.done) throw new KernelError('syrk', 'webgpu', `C ${n}x${n} int8`, 'lowerSums() called twice');
    this.done = true;
    const out = new Int32Array(n * n);
    try {
      await this.ctx.run('syrk', `C ${n}x${n} int8`, async (scope) => {
        for (const s of this.segments) {
          const v = new Int32Array((await this.ctx.read(scope, s.buffer, s.tiles * TILE_INTS)).buffer);
          for (let local = 0; local < s.tiles; local++) {
            const t = s.tile0 + local;
            let ti = Math.floor((Math.sqrt(8 * t + 1) - 1) / 2);
            while ((ti * (ti + 1)) / 2 > t) ti--;
            while (((ti + 1) * (ti + 2)) / 2 <= t) ti++;
            const tj = t - (ti * (ti + 1)) / 2;
            for (let r = 0; r < TILE && ti * TILE + r < n; r++) {
              const i = ti * TILE + r;
              for (let c = 0; c < TILE && tj * TILE + c <= i; c++) out[i + (tj * TILE + c) * n] = v[local * TILE_INTS + r * TILE + c]!;
            }
          }
        }
      });
    } finally {
      for (const s of this.segments) s.buffer.destroy();
    }
    return { parts: [out], ld: n };
  }
}
