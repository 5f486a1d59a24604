/**
 * GpuContext: what every WebGPU op needs from the device: cached pipelines, f32 device matrices
 * (upload from f64 views, download widened to f64), held matrices, batched dispatch, and error capture
 * (validation, out-of-memory, device loss) turned into KernelError naming op, backend and shapes.
 */
import { KernelError, type OpName } from '../backend.js';
import { f64Matrix, type F64Matrix } from '../matrix.js';
import { BufferUsage, MapMode, type SharedDevice } from './device.js';
import { dumpShaderOnce, packUniforms, programSource, type Dispatch, type GpuProgram } from './program.js';

/** A column-major f32 matrix on the device: element (i, j) at buffer index offset + i + j * ld. */
export interface DeviceMatrix {
  readonly buffer: GPUBuffer;
  readonly rows: number;
  readonly cols: number;
  readonly ld: number;
  readonly offset: number;
}

/** Which part of a square result to keep when widening to f64. */
export type Triangle = 'full' | 'lower-mirror' | 'lower-zero';

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Per-op scope: buffers created for one op are destroyed when it ends. */
export class OpScope {
  readonly temporaries: GPUBuffer[] = [];
  constructor(
    readonly op: OpName,
    readonly shapes: string,
  ) {}
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly held = new Map<F64Matrix, DeviceMatrix>();
  /** Largest buffer one binding may cover, in bytes. */
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDim: number;
  /** maxComputeWorkgroupStorageSize of the device, in bytes. */
  readonly maxWorkgroupBytes: number;

  constructor(readonly shared: SharedDevice) {
    const lim = shared.device.limits;
    this.maxBindingBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    this.maxWorkgroupsPerDim = lim.maxComputeWorkgroupsPerDimension;
    this.maxWorkgroupBytes = lim.maxComputeWorkgroupStorageSize;
  }

  get device(): GPUDevice {
    return this.shared.device;
  }

  /**
   * Runs `body` as op `op`: checks the device is alive, captures validation and out-of-memory errors,
   * frees the op's temporary buffers, and rethrows anything as a KernelError naming op and shapes.
   */
  async run<T>(op: OpName, shapes: string, body: (scope: OpScope) => Promise<T>): Promise<T> {
    this.assertAlive(op, shapes);
    const scope = new OpScope(op, shapes);
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T | undefined;
    let failure: unknown = null;
    try {
      result = await body(scope);
    } catch (e) {
      failure = e;
    }
    const validation = await this.device.popErrorScope().catch(() => null);
    const oom = await this.device.popErrorScope().catch(() => null);
    for (const b of scope.temporaries) b.destroy();
    if (failure instanceof KernelError) throw failure;
    if (this.shared.lost !== null) throw new KernelError(op, 'webgpu', shapes, this.shared.lost);
    if (oom) throw new KernelError(op, 'webgpu', shapes, `out of device memory: ${oom.message}`);
    if (validation) throw new KernelError(op, 'webgpu', shapes, `WebGPU validation error: ${validation.message}`);
    if (failure !== null) throw new KernelError(op, 'webgpu', shapes, (failure as Error).message ?? String(failure));
    return result as T;
  }

  assertAlive(op: OpName | 'init', shapes: string): void {
    if (this.shared.lost !== null) throw new KernelError(op, 'webgpu', shapes, this.shared.lost);
  }

  /** Checks that `elements` f32 values fit one storage binding; names the limit when they do not. */
  checkFits(scope: OpScope, what: string, elements: number): void {
    const bytes = elements * 4;
    if (bytes > this.maxBindingBytes) {
      throw new KernelError(scope.op, 'webgpu', scope.shapes, `${what} needs ${formatBytes(bytes)}, more than this adapter's storage binding limit of ${formatBytes(this.maxBindingBytes)}`);
    }
  }

  /** A zero-filled device buffer of `elements` f32 (at least one), freed with the op. */
  scratch(scope: OpScope, what: string, elements: number): GPUBuffer {
    this.checkFits(scope, what, elements);
    const b = this.device.createBuffer({ size: Math.max(16, elements * 4), usage: STORAGE_USAGE });
    scope.temporaries.push(b);
    return b;
  }

  /** A device buffer initialised from `data`, freed with the op (or kept, when `scope` is null). */
  bufferFrom(scope: OpScope | null, data: Float32Array | Uint32Array): GPUBuffer {
    const b = this.device.createBuffer({ size: Math.max(16, data.byteLength), usage: STORAGE_USAGE, mappedAtCreation: true });
    const view = data instanceof Float32Array ? new Float32Array(b.getMappedRange()) : new Uint32Array(b.getMappedRange());
    view.set(data);
    b.unmap();
    scope?.temporaries.push(b);
    return b;
  }

  /** A packed f32 device copy of an f64 view (the held copy when `m` is held). Rounds to nearest f32. */
  upload(scope: OpScope, what: string, m: F64Matrix): DeviceMatrix {
    return this.held.get(m) ?? this.uploadCopy(scope, what, m);
  }

  /** Like {@link upload} but always a fresh buffer, for operands the op overwrites. */
  uploadCopy(scope: OpScope, what: string, m: F64Matrix): DeviceMatrix {
    this.checkFits(scope, what, m.rows * m.cols);
    const packed = packF32(m, (i, j, v) => {
      throw new KernelError(scope.op, 'webgpu', scope.shapes, `${what}[${i},${j}] = ${v} is outside the f32 range of this backend`);
    });
    return { buffer: this.bufferFrom(scope, packed), rows: m.rows, cols: m.cols, ld: Math.max(1, m.rows), offset: 0 };
  }

  /** A zero-filled packed rows x cols device matrix freed with the op. */
  zeros(scope: OpScope, what: string, rows: number, cols: number): DeviceMatrix {
    return { buffer: this.scratch(scope, what, rows * cols), rows, cols, ld: Math.max(1, rows), offset: 0 };
  }

  /** Keeps a device copy of `m` until {@link release}; ops given `m` use it instead of uploading. */
  hold(m: F64Matrix): void {
    if (this.held.has(m)) return;
    const shapes = `${m.rows}x${m.cols}`;
    this.assertAlive('init', shapes);
    if (m.rows * m.cols * 4 > this.maxBindingBytes) {
      throw new KernelError('init', 'webgpu', shapes, `hold: the matrix needs ${formatBytes(m.rows * m.cols * 4)}, more than this adapter's storage binding limit of ${formatBytes(this.maxBindingBytes)}`);
    }
    const packed = packF32(m, (i, j, v) => {
      throw new KernelError('init', 'webgpu', shapes, `hold: [${i},${j}] = ${v} is outside the f32 range of this backend`);
    });
    this.held.set(m, { buffer: this.bufferFrom(null, packed), rows: m.rows, cols: m.cols, ld: Math.max(1, m.rows), offset: 0 });
  }

  release(m: F64Matrix): void {
    this.held.get(m)?.buffer.destroy();
    this.held.delete(m);
  }

  releaseAll(): void {
    for (const d of this.held.values()) d.buffer.destroy();
    this.held.clear();
  }

  /** The pipeline for `p`, compiled once per cache key (and dumped when GPULMM_DUMP_SHADERS is set). */
  pipeline(p: GpuProgram): GPUComputePipeline {
    let pipe = this.pipelines.get(p.cacheKey);
    if (!pipe) {
      const code = programSource(p);
      dumpShaderOnce(p, code);
      const module = this.device.createShaderModule({ code, label: p.cacheKey });
      pipe = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: p.cacheKey });
      this.pipelines.set(p.cacheKey, pipe);
    }
    return pipe;
  }

  /** A bind group for `d` (its uniform buffer is a temporary of `scope`); reusable across submissions. */
  bindGroup(scope: OpScope, d: Dispatch): GPUBindGroup {
    const pipe = this.pipeline(d.program);
    const entries: GPUBindGroupEntry[] = d.buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }));
    if (d.program.uniforms.length > 0) {
      const data = packUniforms(d.program, d.uniforms);
      const ub = this.device.createBuffer({ size: data.byteLength, usage: BufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint8Array(ub.getMappedRange()).set(new Uint8Array(data));
      ub.unmap();
      scope.temporaries.push(ub);
      entries.push({ binding: 0, resource: { buffer: ub } });
    }
    return this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
  }

  /** Encodes `dispatches` in order into one compute pass and submits them (each sees the previous writes). */
  submit(scope: OpScope, dispatches: readonly (Dispatch | PreparedDispatch)[]): void {
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (const d of dispatches) {
      const prepared = 'bindGroup' in d ? d : this.prepare(scope, d);
      pass.setPipeline(prepared.pipeline);
      pass.setBindGroup(0, prepared.bindGroup);
      pass.dispatchWorkgroups(...prepared.workgroups);
    }
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Builds pipeline and bind group once, for dispatches replayed many times (e.g. Jacobi rounds). */
  prepare(scope: OpScope, d: Dispatch): PreparedDispatch {
    return { pipeline: this.pipeline(d.program), bindGroup: this.bindGroup(scope, d), workgroups: d.workgroups };
  }

  /** Reads `count` f32 values from `buffer` starting at element `offset`. */
  async read(scope: OpScope, buffer: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
    const bytes = Math.max(4, count * 4);
    const staging = this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    scope.temporaries.push(staging);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offset * 4, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(MapMode.READ);
    } catch (e) {
      throw new KernelError(scope.op, 'webgpu', scope.shapes, this.shared.lost ?? `reading the result failed: ${(e as Error).message}`);
    }
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return out;
  }

  /** Downloads a packed device matrix and widens it to a fresh f64 matrix (optionally mirroring a triangle). */
  async download(scope: OpScope, d: DeviceMatrix, triangle: Triangle = 'full'): Promise<F64Matrix> {
    if (d.ld !== Math.max(1, d.rows) || d.offset !== 0) throw new Error('download: only packed device matrices');
    const out = f64Matrix(d.rows, d.cols);
    if (d.rows * d.cols === 0) return out;
    const v = await this.read(scope, d.buffer, d.rows * d.cols);
    assertFiniteResult(scope, v, d.rows, triangle);
    const n = d.rows;
    if (triangle === 'full') {
      for (let k = 0; k < v.length; k++) out.data[k] = v[k]!;
      return out;
    }
    for (let j = 0; j < d.cols; j++) {
      for (let i = j; i < n; i++) {
        const x = v[i + j * n]!;
        out.data[i + j * n] = x;
        if (triangle === 'lower-mirror') out.data[j + i * n] = x;
      }
    }
    return out;
  }
}

export interface PreparedDispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** A finite input can still overflow f32 on the way: that becomes an error, never a silent Inf or NaN. */
export function assertFiniteResult(scope: OpScope, v: Float32Array, rows: number, triangle: Triangle = 'full'): void {
  for (let k = 0; k < v.length; k++) {
    const i = k % Math.max(1, rows);
    const j = Math.floor(k / Math.max(1, rows));
    if (!Number.isFinite(v[k]!) && (triangle === 'full' || i >= j)) {
      throw new KernelError(scope.op, 'webgpu', scope.shapes, `result[${i},${j}] is ${v[k]} in f32: the inputs are too large (or too ill-conditioned) for this f32 backend`);
    }
  }
}

function formatBytes(b: number): string {
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${b} bytes`;
}

/**
 * Packed f32 copy of an f64 view (respects ld). Values that round to an infinite f32 go to `overflow`
 * (NaN is left alone: the ops' entry checks reject it where it matters, and triangles never read may hold it).
 */
function packF32(m: F64Matrix, overflow: (i: number, j: number, v: number) => never): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let j = 0; j < m.cols; j++) {
    const base = j * m.ld;
    const o = j * m.rows;
    for (let i = 0; i < m.rows; i++) {
      const v = m.data[base + i]!;
      out[o + i] = v;
      if (out[o + i] === Infinity || out[o + i] === -Infinity) {
        if (Number.isFinite(v)) overflow(i, j, v);
      }
    }
  }
  return out;
}
