// PLACEHOLDER: replaced by the gpujs backend implementation.
import type { Backend, BackendInfo } from '../backend.js';

export async function createGpuJsBackend(): Promise<Backend> {
  throw new Error('gpujs backend: not built yet');
}

export async function gpuJsBackendInfo(): Promise<BackendInfo> {
  return { name: 'gpujs', available: false, precision: 'f32', adapter: null, reason: 'not built yet' };
}
