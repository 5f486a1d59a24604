// PLACEHOLDER: replaced by the webgpu backend implementation.
import type { Backend, BackendInfo } from '../backend.js';

export async function createWebGpuBackend(): Promise<Backend> {
  throw new Error('webgpu backend: not built yet');
}

export async function webGpuBackendInfo(): Promise<BackendInfo> {
  return { name: 'webgpu', available: false, precision: 'f32', adapter: null, reason: 'not built yet' };
}
