/**
 * The WebGPU adapter and device, through Dawn (the `webgpu` package). The GPU object is created explicitly
 * (no global navigator). One device is shared by every WebGPU backend in the process (reference counted):
 * it is created on first use and destroyed when the last backend is disposed, so the process can exit.
 */
import type { AdapterInfo } from '../backend.js';

/** GPUBufferUsage / GPUMapMode flags (values fixed by the WebGPU spec; Dawn's globals are not installed). */
export const BufferUsage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MapMode = { READ: 0x1 } as const;

/** Adapter limits worth reporting (and that the device requests at their adapter maximum). */
const REPORTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Words by which software implementations name themselves in adapter strings. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|\bwarp\b|basic render|software/i;

/**
 * A software adapter (lavapipe/llvmpipe, SwiftShader, WARP). Dawn 0.6.2 on Mesa 25 lavapipe reports
 * vendor 'mesa', architecture 'software', device 'llvmpipe-llvm-15-…', description 'llvmpipe: Mesa …' and
 * isFallbackAdapter true; WebGPU does not expose the Vulkan device type, so the flag and all four strings
 * are checked (other builds fill fewer of them).
 */
export function isSoftwareAdapter(info: GPUAdapterInfo & { isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter === true) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE_NAMES.test(s ?? ''));
}

export function describeAdapter(adapter: GPUAdapter): AdapterInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number };
  const limits: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) limits[name] = adapter.limits[name];
  if (info.subgroupMinSize !== undefined) limits.subgroupMinSize = info.subgroupMinSize;
  if (info.subgroupMaxSize !== undefined) limits.subgroupMaxSize = info.subgroupMaxSize;
  return {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || 'unknown',
    description: info.description || 'unknown',
    isSoftware: isSoftwareAdapter(info),
    limits,
  };
}

/** What to tell a user whose machine offers Dawn no adapter. */
export const NO_ADAPTER = 'no WebGPU adapter: install a Vulkan driver (on a machine without a GPU, Mesa lavapipe from bookworm-backports)';

let dawn: Promise<GPU> | null = null;

/**
 * Dawn's GPU object, one per process and kept for its lifetime: with webgpu 0.6.2, dropping the instance and
 * creating another later leaves the next device unable to complete any work, while a kept instance does not keep
 * Node alive once its devices are destroyed. Shared by the webgpu and gpujs backends. Imported lazily, so a
 * machine whose Dawn build cannot load still gets the other backends (the promise rejects with the reason).
 */
export function dawnInstance(): Promise<GPU> {
  dawn ??= import('webgpu').then(({ create }) => create([]));
  return dawn;
}

/** The adapter Dawn offers for compute (high-performance preference), or null with the reason. */
export async function requestAdapter(): Promise<{ gpu?: GPU; adapter: GPUAdapter | null; reason?: string }> {
  let gpu: GPU;
  try {
    gpu = await dawnInstance();
  } catch (e) {
    return { adapter: null, reason: `Dawn (webgpu package) failed to load: ${(e as Error).message}` };
  }
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, reason: NO_ADAPTER };
    return { gpu, adapter };
  } catch (e) {
    return { adapter: null, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
}

export interface SharedDevice {
  /** Dawn's instance: it must stay referenced while the device is in use (it pumps the device's events). */
  readonly gpu: GPU;
  readonly device: GPUDevice;
  readonly adapter: AdapterInfo;
  /** Set (with Dawn's reason and message) once the device is lost for any cause other than dispose. */
  lost: string | null;
  users: number;
}

let current: Promise<SharedDevice> | null = null;

/** Acquires the process-wide device (created on first call, re-created after a loss). Pair with {@link releaseDevice}. */
export async function acquireDevice(): Promise<SharedDevice> {
  for (let attempt = 0; ; attempt++) {
    const pending = (current ??= openDevice());
    let s: SharedDevice;
    try {
      s = await pending;
    } catch (e) {
      if (current === pending) current = null;
      throw e;
    }
    if (s.lost === null) {
      s.users++;
      return s;
    }
    if (current === pending) current = null;
    if (attempt > 0) throw new Error(s.lost);
  }
}

/** Drops one user of `s`; the last one destroys the device (pending work is abandoned). */
export function releaseDevice(s: SharedDevice): void {
  if (s.users === 0) return;
  s.users--;
  if (s.users > 0) return;
  if (s.lost === null) s.lost = 'device destroyed by dispose()';
  s.device.destroy();
}

async function openDevice(): Promise<SharedDevice> {
  const { gpu, adapter, reason } = await requestAdapter();
  if (!adapter || !gpu) throw new Error(reason);
  const requiredLimits: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits });
  const s: SharedDevice = { gpu, device, adapter: describeAdapter(adapter), lost: null, users: 0 };
  void device.lost.then((info) => {
    s.lost ??= `device lost (${info.reason}): ${info.message}`;
  });
  return s;
}
