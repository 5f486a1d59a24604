/**
 * The WebGPU Backend: WGSL compute shaders through Dawn (the `webgpu` package), f32 on the device.
 *
 * Contract (on top of kernels/backend.ts): inputs are f64 views (any ld, any transpose), rounded to f32 on
 * upload; every op accumulates in f32 and returns fresh f64 storage. One process-wide device is shared by
 * all WebGPU backends and destroyed by the last dispose(). Pipelines are cached per program cache key.
 * Operand sizes are limited by the adapter's maxStorageBufferBindingSize (128 MiB on lavapipe, i.e. a
 * 5792 x 5792 f32 matrix); a larger operand fails with a KernelError that names the limit.
 * Device loss (driver reset, out of memory) makes every later op throw a KernelError with Dawn's reason.
 * Op files: gemm.ts, syrk.ts, potrf.ts, trsm.ts (trsm, potrs), eigh.ts, batched-weighted-dot.ts.
 */
import type { Packed2Matrix, Packed2Products } from '../packed2.js';
import { WebGpuPacked2 } from './packed2.js';
import { KernelError, type Backend, type BackendInfo, type EighResult, type GemmOptions, type Int8Gram, type OpName, type SyrkOptions, type TrsmOptions } from '../backend.js';
import type { F64Matrix } from '../matrix.js';
import { webGpuBatchedWeightedDot } from './batched-weighted-dot.js';
import { GpuContext } from './context.js';
import { acquireDevice, describeAdapter, releaseDevice, requestAdapter } from './device.js';
import { webGpuEigh } from './eigh.js';
import { webGpuGemm } from './gemm.js';
import { webGpuPotrf } from './potrf.js';
import { webGpuSyrk } from './syrk.js';
import { WebGpuSyrkInt8Accumulator } from './syrk-int8.js';
import { webGpuPotrs, webGpuTrsm } from './trsm.js';

let infoCache: Promise<BackendInfo> | null = null;

/**
 * What the WebGPU adapter says about itself (vendor, architecture, device, description, selected limits,
 * isSoftware for lavapipe/llvmpipe/SwiftShader/WARP), or available: false with the reason. Cached.
 */
export function webGpuBackendInfo(): Promise<BackendInfo> {
  infoCache ??= (async (): Promise<BackendInfo> => {
    const { adapter, reason } = await requestAdapter();
    if (!adapter) return { name: 'webgpu', available: false, precision: 'f32', adapter: null, reason: reason ?? 'no adapter' };
    return { name: 'webgpu', available: true, precision: 'f32', adapter: describeAdapter(adapter) };
  })();
  return infoCache;
}

/** Opens (or shares) the WebGPU device. Throws a KernelError naming the reason when there is no adapter. */
export async function createWebGpuBackend(): Promise<Backend> {
  try {
    return new WebGpuBackend(new GpuContext(await acquireDevice()));
  } catch (e) {
    throw new KernelError('init', 'webgpu', '', (e as Error).message);
  }
}

class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly precision = 'f32' as const;
  private disposed = false;

  constructor(private readonly ctx: GpuContext) {}

  async info(): Promise<BackendInfo> {
    return { name: 'webgpu', available: !this.disposed && this.ctx.shared.lost === null, precision: 'f32', adapter: this.ctx.shared.adapter };
  }

  supports(_op: OpName): boolean {
    return true;
  }

  async gemm(a: F64Matrix, b: F64Matrix, opts?: GemmOptions): Promise<F64Matrix> {
    return webGpuGemm(this.live(), a, b, opts);
  }

  async syrk(a: F64Matrix, opts?: SyrkOptions): Promise<F64Matrix> {
    return webGpuSyrk(this.live(), a, opts);
  }

  async potrf(a: F64Matrix): Promise<F64Matrix> {
    return webGpuPotrf(this.live(), a);
  }

  async trsm(t: F64Matrix, b: F64Matrix, opts?: TrsmOptions): Promise<F64Matrix> {
    return webGpuTrsm(this.live(), t, b, opts);
  }

  async potrs(l: F64Matrix, b: F64Matrix): Promise<F64Matrix> {
    return webGpuPotrs(this.live(), l, b);
  }

  async eigh(a: F64Matrix): Promise<EighResult> {
    return webGpuEigh(this.live(), a);
  }

  async batchedWeightedDot(w: F64Matrix, a: F64Matrix, b: F64Matrix): Promise<Float64Array> {
    return webGpuBatchedWeightedDot(this.live(), w, a, b);
  }

  int8Gram(n: number): Int8Gram {
    return new WebGpuSyrkInt8Accumulator(this.live(), n);
  }

  packed2(z: Packed2Matrix): Packed2Products {
    return new WebGpuPacked2(this.live(), z);
  }

  hold(m: F64Matrix): void {
    this.live().hold(m);
  }

  release(m: F64Matrix): void {
    if (!this.disposed) this.ctx.release(m);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ctx.releaseAll();
    releaseDevice(this.ctx.shared);
  }

  private live(): GpuContext {
    if (this.disposed) throw new KernelError('init', 'webgpu', '', 'backend used after dispose()');
    return this.ctx;
  }
}
