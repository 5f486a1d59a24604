/**
 * The 2-bit packed products (kernels/packed2.ts) on WebGPU, f32: the codes are uploaded once (u32 words, 16 codes
 * each, column after column) and stay on the device; each call uploads the tables and V, and `normal` runs both
 * products in one submission, U staying on the device.
 *   ztv:  one invocation per column and group of 4 right-hand sides; V streamed through workgroup memory 256 rows
 *         at a time; each code selects one of its column's 4 table values.
 *   zu:   one invocation per word of rows (16 rows) and group of 4 right-hand sides, 64 columns of U (masked and
 *         scaled as they are loaded) and their tables in workgroup memory at a time.
 * Precision: f32 values and sums (error about rows x 2^-24 relative to the sum of |terms| for ztv, cols x 2^-24
 * for zu). Device memory: the codes (rows / 4 bytes per column), V and Y (rows x B), U (cols x B).
 */
import { KernelError } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkPacked2, type Packed2Matrix, type Packed2Products } from '../packed2.js';
import { assertFiniteResult, type GpuContext } from './context.js';
import type { GpuProgram } from './program.js';

type ZtvUniform = 'n' | 'wpc' | 'j0' | 'm' | 'nb';
type ZuUniform = 'n' | 'wpc' | 'm' | 'nb' | 'words';

const ztvProgram: GpuProgram<ZtvUniform> = {
  name: 'packed2-ztv',
  cacheKey: 'packed2-ztv',
  workgroupSize: [64, 1, 1],
  uniforms: [['n', 'u32'], ['wpc', 'u32'], ['j0', 'u32'], ['m', 'u32'], ['nb', 'u32']],
  storage: [
    { name: 'codes', access: 'read', element: 'u32' },
    { name: 'tables', access: 'read' },
    { name: 'v', access: 'read' },
    { name: 'out', access: 'read_write' },
  ],
  body: () => `
var<workgroup> vt: array<vec4<f32>, 256>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let jl = wg.x * 64u + li;
  let b0 = wg.y * 4u;
  let live = jl < u.m;
  let j = u.j0 + min(jl, u.m - 1u);
  let tab = vec4<f32>(tables[4u * j], tables[4u * j + 1u], tables[4u * j + 2u], tables[4u * j + 3u]);
  var acc = vec4<f32>(0.0);
  for (var r0 = 0u; r0 < u.n; r0 += 256u) {
    for (var k = 0u; k < 4u; k++) {
      let r = r0 + li * 4u + k;
      var x = vec4<f32>(0.0);
      if (r < u.n) {
        for (var c = 0u; c < 4u; c++) { if (b0 + c < u.nb) { x[c] = v[r + (b0 + c) * u.n]; } }
      }
      vt[li * 4u + k] = x;
    }
    workgroupBarrier();
    if (live) {
      let base = j * u.wpc + r0 / 16u;
      let words = min(16u, (u.n - r0 + 15u) / 16u);
      for (var w = 0u; w < words; w++) {
        let word = codes[base + w];
        for (var t = 0u; t < 16u; t++) {
          acc = fma(vec4<f32>(tab[(word >> (2u * t)) & 3u]), vt[w * 16u + t], acc);
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    for (var c = 0u; c < 4u; c++) { if (b0 + c < u.nb) { out[jl + (b0 + c) * u.m] = acc[c]; } }
  }
}
`,
};

const zuProgram: GpuProgram<ZuUniform> = {
  name: 'packed2-zu',
  cacheKey: 'packed2-zu',
  workgroupSize: [64, 1, 1],
  uniforms: [['n', 'u32'], ['wpc', 'u32'], ['m', 'u32'], ['nb', 'u32'], ['words', 'u32']],
  storage: [
    { name: 'codes', access: 'read', element: 'u32' },
    { name: 'tables', access: 'read' },
    { name: 'uin', access: 'read' },
    { name: 'groups', access: 'read', element: 'i32' },
    { name: 'exclude', access: 'read', element: 'i32' },
    { name: 'scale', access: 'read' },
    { name: 'out', access: 'read_write' },
  ],
  body: () => `
var<workgroup> ut: array<vec4<f32>, 64>;
var<workgroup> tt: array<vec4<f32>, 64>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let w = wg.x * 64u + li;
  let b0 = wg.y * 4u;
  var acc: array<vec4<f32>, 16>;
  for (var t = 0u; t < 16u; t++) { acc[t] = vec4<f32>(0.0); }
  for (var c0 = 0u; c0 < u.m; c0 += 64u) {
    let c = c0 + li;
    var x = vec4<f32>(0.0);
    var tb = vec4<f32>(0.0);
    if (c < u.m) {
      for (var k = 0u; k < 4u; k++) {
        let b = b0 + k;
        if (b < u.nb) { x[k] = select(uin[c + b * u.m] * scale[b], 0.0, groups[c] == exclude[b]); }
      }
      tb = vec4<f32>(tables[4u * c], tables[4u * c + 1u], tables[4u * c + 2u], tables[4u * c + 3u]);
    }
    ut[li] = x;
    tt[li] = tb;
    workgroupBarrier();
    if (w < u.words) {
      let cols = min(64u, u.m - c0);
      for (var jj = 0u; jj < cols; jj++) {
        let word = codes[(c0 + jj) * u.wpc + w];
        let tab = tt[jj];
        let uv = ut[jj];
        for (var t = 0u; t < 16u; t++) { acc[t] = fma(vec4<f32>(tab[(word >> (2u * t)) & 3u]), uv, acc[t]); }
      }
    }
    workgroupBarrier();
  }
  if (w < u.words) {
    for (var t = 0u; t < 16u; t++) {
      let r = w * 16u + t;
      if (r < u.n) {
        for (var k = 0u; k < 4u; k++) { if (b0 + k < u.nb) { out[r + (b0 + k) * u.n] = acc[t][k]; } }
      }
    }
  }
}
`,
};

/** The products on one packed matrix held on a WebGPU device (see the module comment). */
export class WebGpuPacked2 implements Packed2Products {
  readonly precision = 'f32' as const;
  private codes: GPUBuffer | undefined;
  /** u32 words per column. */
  private readonly wpc: number;

  constructor(private readonly ctx: GpuContext, readonly matrix: Packed2Matrix) {
    this.wpc = Math.ceil(matrix.bytesPerCol / 4);
    const bytes = this.wpc * 4 * matrix.cols;
    if (bytes > ctx.maxBindingBytes) {
      throw new KernelError('gemm', 'webgpu', `packed2 ${matrix.rows} x ${matrix.cols}`, `the 2-bit codes need ${(bytes / 2 ** 20).toFixed(0)} MiB, more than this adapter's storage binding limit of ${(ctx.maxBindingBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const words = new Uint32Array(Math.max(1, this.wpc * matrix.cols));
    const view = new Uint8Array(words.buffer);
    for (let b = 0; b < matrix.blocks.length; b++) {
      const c0 = matrix.colStart[b]!;
      const c1 = matrix.colStart[b + 1]!;
      for (let c = c0; c < c1; c++) view.set(matrix.blocks[b]!.subarray((c - c0) * matrix.bytesPerCol, (c - c0 + 1) * matrix.bytesPerCol), c * this.wpc * 4);
    }
    this.codes = ctx.bufferFrom(null, words);
  }

  private live(): GPUBuffer {
    if (!this.codes) throw new KernelError('gemm', 'webgpu', 'packed2', 'used after dispose()');
    return this.codes;
  }

  async ztv(tables: Float64Array, v: F64Matrix, j0 = 0, j1 = this.matrix.cols): Promise<F64Matrix> {
    const m = checkPacked2(this.matrix, tables, j0, j1, 'WebGpuPacked2.ztv');
    const n = this.matrix.rows;
    if (v.rows !== n) throw new RangeError(`WebGpuPacked2.ztv: V is ${shapeOf(v)}, expected ${n} rows`);
    const codes = this.live();
    const nb = v.cols;
    return this.ctx.run('gemm', `packed2 ztv ${n} x ${m}, V ${shapeOf(v)}`, async (scope) => {
      if (m === 0 || nb === 0) return f64Matrix(m, nb);
      const dt = this.ctx.bufferFrom(scope, Float32Array.from(tables));
      const dv = this.ctx.upload(scope, 'V', v);
      const out = this.ctx.scratch(scope, 'U', m * nb);
      this.ctx.submit(scope, [{ program: ztvProgram, uniforms: { n, wpc: this.wpc, j0, m, nb }, buffers: [codes, dt, dv.buffer, out], workgroups: [Math.ceil(m / 64), Math.ceil(nb / 4), 1] }]);
      const r = await this.ctx.read(scope, out, m * nb);
      assertFiniteResult(scope, r, m);
      return f64Matrix(m, nb, Float64Array.from(r));
    });
  }

  async normal(tables: Float64Array, v: F64Matrix, groups: Int32Array, exclude: ArrayLike<number>, scale: ArrayLike<number>): Promise<F64Matrix> {
    const m = checkPacked2(this.matrix, tables, 0, this.matrix.cols, 'WebGpuPacked2.normal');
    const n = this.matrix.rows;
    const nb = v.cols;
    if (v.rows !== n) throw new RangeError(`WebGpuPacked2.normal: V is ${shapeOf(v)}, expected ${n} rows`);
    if (groups.length !== m) throw new RangeError(`WebGpuPacked2.normal: ${groups.length} column groups, expected ${m}`);
    if (exclude.length !== nb || scale.length !== nb) throw new RangeError(`WebGpuPacked2.normal: exclude and scale need ${nb} entries (one per column of V)`);
    const codes = this.live();
    return this.ctx.run('gemm', `packed2 normal ${n} x ${m}, V ${shapeOf(v)}`, async (scope) => {
      if (m === 0 || nb === 0) return f64Matrix(n, nb);
      const dt = this.ctx.bufferFrom(scope, Float32Array.from(tables));
      const dv = this.ctx.upload(scope, 'V', v);
      const du = this.ctx.scratch(scope, 'U', m * nb);
      const dg = this.ctx.bufferFrom(scope, new Uint32Array(Int32Array.from(groups).buffer));
      const de = this.ctx.bufferFrom(scope, new Uint32Array(Int32Array.from(exclude).buffer));
      const ds = this.ctx.bufferFrom(scope, Float32Array.from(scale));
      const out = this.ctx.scratch(scope, 'Y', n * nb);
      const words = Math.ceil(n / 16);
      this.ctx.submit(scope, [
        { program: ztvProgram, uniforms: { n, wpc: this.wpc, j0: 0, m, nb }, buffers: [codes, dt, dv.buffer, du], workgroups: [Math.ceil(m / 64), Math.ceil(nb / 4), 1] },
        { program: zuProgram, uniforms: { n, wpc: this.wpc, m, nb, words }, buffers: [codes, dt, du, dg, de, ds, out], workgroups: [Math.ceil(words / 64), Math.ceil(nb / 4), 1] },
      ]);
      const r = await this.ctx.read(scope, out, n * nb);
      assertFiniteResult(scope, r, n);
      return f64Matrix(n, nb, Float64Array.from(r));
    });
  }

  async dispose(): Promise<void> {
    this.codes?.destroy();
    this.codes = undefined;
  }
}
