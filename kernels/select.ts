/**
 * Backend choice: `auto | cpu | webgpu | gpujs`, from the caller or the `backend` flag (GPULMM_BACKEND).
 * `auto` takes WebGPU only on a real GPU adapter (never a software one such as lavapipe), else cpu.
 */
import { readdirSync } from 'node:fs';
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
      if (!mayHaveHardwareGpu()) return createCpuBackend();
      const gpu = await webGpuBackendInfo();
      if (gpu.available && gpu.adapter && !gpu.adapter.isSoftware) return createWebGpuBackend();
      return createCpuBackend();
    }
    default:
      throw new Error(`unknown backend '${String(choice)}': expected auto, cpu, webgpu or gpujs`);
  }
}

/**
 * False only where no hardware GPU can exist: on Linux every GPU driver exposes a device node (NVIDIA
 * /dev/nvidiaN, DRM render nodes /dev/dri/renderD*, WSL's /dev/dxg). Without one, only a software adapter could
 * answer, which `auto` never takes, so Dawn is not started at all (it is slow to start and its Vulkan layer
 * prints driver warnings). Explicit `webgpu` and `info` always ask Dawn.
 */
function mayHaveHardwareGpu(): boolean {
  if (process.platform !== 'linux') return true;
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return list('/dev/dri').some((n) => n.startsWith('renderD')) || list('/dev').some((n) => /^nvidia\d+$/.test(n) || n === 'dxg');
}

/** What every backend reports about itself, available or not (for `gpulmm info`). */
export async function listBackends(): Promise<BackendInfo[]> {
  return [await cpuBackendInfo(), await webGpuBackendInfo(), await gpuJsBackendInfo()];
}
