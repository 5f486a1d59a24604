/**
 * The few WebAssembly JS-API entry points the cpu kernels use, typed locally (the project's lib settings
 * carry no DOM/WebAssembly declarations). Node 20+ provides them, SIMD128 included.
 */

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module (opaque; structured-cloneable to worker threads). */
export type WasmModule = object;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (desc: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}

export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
