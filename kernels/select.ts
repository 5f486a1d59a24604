/**
 * Backend choice: `auto | cpu | webgpu | gpujs`, from the caller or the `backend` flag (GPULMM_BACKEND).
 * `auto` takes WebGPU only on a real GPU adapter (never a software one such as lavapipe), else cpu.
 */
import { getFlag } from '../src/flags.js';
import type { Backend, BackendChoice, BackendInfo } from './backend.js';
import { createCpuBackend, cpuBackendInfo } from './cpu/backend.js';
import { createGpuJsBackend, gpuJsBackendInfo } from './gpujs/backend.js';
import { createWebGpuBackend, webGpuBackendInfo } from './webgpu/backend.js';

/** Creates the chosen backend. Throws (naming the backend and the reason) when it is not available. */
export async function createBackend(choice: BackendChoice = getFlag('backend')): Promise<Backend> {
  switch (choice) {
    case 'cpu':
      return createCpuBackend();
    case 'webgpu':
      return createWebGpuBackend();
    case 'gpujs':
      return createGpuJsBackend();
    case 'auto': {
      const gpu = await webGpuBackendInfo();
      if (gpu.available && gpu.adapter && !gpu.adapter.isSoftware) return createWebGpuBackend();
      return createCpuBackend();
    }
    default:
      throw new Error(`unknown backend '${String(choice)}': expected auto, cpu, webgpu or gpujs`);
  }
}

/** What every backend reports about itself, available or not (for `gpulmm info`). */
export async function listBackends(): Promise<BackendInfo[]> {
  return [await cpuBackendInfo(), await webGpuBackendInfo(), await gpuJsBackendInfo()];
}
