// PLACEHOLDER: replaced by the cpu backend implementation.
import type { Backend, BackendInfo } from '../backend.js';

export async function createCpuBackend(): Promise<Backend> {
  throw new Error('cpu backend: not built yet');
}

export async function cpuBackendInfo(): Promise<BackendInfo> {
  return { name: 'cpu', available: false, precision: 'f64', adapter: null, reason: 'not built yet' };
}
