/**
 * The gpu.js runtime in its WebGPU mode, shared by every gpujs backend in the process.
 *
 * gpu.js (2.24) finds WebGPU through the global `navigator.gpu` and keeps one module-level device
 * (`WebGPUContext`) for all its kernels; it never loads the `webgpu` package itself. This module is the one
 * place that bridges the two: it creates Dawn's GPU object (the project's `webgpu` package, which the npm
 * override also gives gpu.js), installs it as `navigator.gpu` only while some backend holds the runtime,
 * and removes it again on the last release, after destroying gpu.js's device (a live device keeps Node
 * from exiting).
 * Both packages are imported lazily so that a machine without a Vulkan driver still loads the CLI and
 * reports the backend as unavailable instead of crashing.
 */
import type { AdapterInfo } from '../backend.js';
import { dawnInstance, describeAdapter, NO_ADAPTER } from '../webgpu/device.js';

/** A built gpu.js kernel: call it with its arguments; set the output shape before each call. */
export interface GpuJsKernel {
  (...args: unknown[]): Promise<unknown>;
  setOutput(output: number[]): GpuJsKernel;
  destroy(): void;
}

/**
 * A gpu.js pipeline-mode result (its WebGPUBufferResult): a device buffer that the next kernel can read
 * without a round trip. `buffer` and `context` are the fields gpu.js documents on that class.
 */
export interface GpuJsBuffer {
  readonly type: 'WebGPUBuffer';
  readonly buffer: GPUBuffer;
  readonly context: { readonly device: GPUDevice };
  delete(): void;
}

/** GPUBufferUsage / GPUMapMode values (fixed by the WebGPU spec; Dawn's globals are not installed). */
const MAP_READ = 0x1;
const COPY_DST = 0x8;

/**
 * The first `length` f32 values of a pipeline result, as laid out on the device (a 2-D output [x, y] of
 * vec`c` is x*c values per y, so column-major with leading dimension x*c). gpu.js's own `toArray` would
 * build one typed-array view per row, or per element for vec4 results: millions of objects at large n.
 */
export async function readRaw(buf: GpuJsBuffer, length: number): Promise<Float32Array> {
  const device = buf.context.device;
  const bytes = Math.max(4, length * 4);
  const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buf.buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_READ);
    return new Float32Array(staging.getMappedRange().slice(0, length * 4));
  } finally {
    staging.destroy();
  }
}

/** Settings gpu.js accepts for `createKernel` (only those this backend uses). */
export interface GpuJsKernelSettings {
  argumentTypes: Record<string, string>;
  returnType: 'Number' | 'Array(4)';
  dynamicOutput: true;
  dynamicArguments: true;
  loopMaxIterations: number;
  pipeline: true;
  immutable: true;
  output: number[];
}

/** One gpu.js GPU instance: owns the kernels it created. */
export interface GpuJsInstance {
  createKernel(source: string, settings: GpuJsKernelSettings): GpuJsKernel;
  destroy(): void;
}

interface GpuJsModule {
  GPU: new (settings: { mode: 'webgpu' }) => GpuJsInstance;
  WebGPUContext: {
    acquire(): Promise<{ adapter: GPUAdapter; device: GPUDevice; isLost: boolean }>;
    destroy(): Promise<void>;
  };
}

/** What a held runtime offers a backend. */
export interface GpuJsRuntime {
  /** A fresh gpu.js instance in webgpu mode (the caller destroys it). */
  newInstance(): GpuJsInstance;
  /** The adapter gpu.js's shared device runs on. */
  readonly adapter: AdapterInfo;
  /** True once Dawn reported the shared device lost. */
  isLost(): boolean;
}

let holders = 0;
let opening: Promise<GpuJsRuntime> | null = null;
let uninstall: (() => void) | null = null;
let gpuJs: GpuJsModule | null = null;
/**
 * Holds the shared runtime (opening it on first use): loads Dawn and gpu.js, installs `navigator.gpu`,
 * and acquires gpu.js's device. Every successful call must be paired with {@link releaseGpuJsRuntime}.
 * Throws an Error with the reason (no Vulkan driver, no adapter, package not loadable) when it cannot.
 */
export async function holdGpuJsRuntime(): Promise<GpuJsRuntime> {
  holders++;
  try {
    opening ??= openRuntime();
    return await opening;
  } catch (err) {
    await releaseGpuJsRuntime();
    throw err;
  }
}

/** Releases one hold; the last one destroys gpu.js's device and removes `navigator.gpu` so Node can exit. */
export async function releaseGpuJsRuntime(): Promise<void> {
  holders = Math.max(0, holders - 1);
  if (holders > 0) return;
  const pending = opening;
  opening = null;
  if (pending) await pending.catch(() => undefined);
  if (holders > 0) return; // a new holder arrived while we waited: keep the runtime for it
  // forget the device and navigator.gpu synchronously, so that a holder arriving meanwhile opens afresh
  const destroyed = gpuJs?.WebGPUContext.destroy();
  uninstall?.();
  uninstall = null;
  await destroyed;
}

async function openRuntime(): Promise<GpuJsRuntime> {
  const [dawnGpu, gpuJsModule] = await Promise.all([dawnInstance(), import('gpu.js')]);
  gpuJs = (gpuJsModule as unknown as { default: GpuJsModule }).default;
  uninstall ??= installNavigatorGpu(dawnGpu);
  const context = await gpuJs.WebGPUContext.acquire().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    // gpu.js words this for browsers; on Node it means Dawn found no usable Vulkan (or other) driver
    throw new Error(/no adapter/i.test(message) ? NO_ADAPTER : message);
  });
  const mod = gpuJs;
  return {
    newInstance: () => new mod.GPU({ mode: 'webgpu' }),
    adapter: describeAdapter(context.adapter),
    isLost: () => context.isLost,
  };
}

/**
 * Makes `navigator.gpu` the given GPU object unless one is already there (a browser, or another module);
 * returns the undo. Node 20 has no `navigator`; Node 21+ has one without `gpu`.
 */
function installNavigatorGpu(gpu: GPU): () => void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return () => undefined;
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return () => {
      delete g.navigator;
    };
  }
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return () => {
    delete g.navigator?.gpu;
  };
}
