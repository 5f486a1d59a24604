/**
 * The few WebAssembly JS-API entry points the cpu kernels use, typed locally (the project's lib settings
 * carry no DOM/WebAssembly declarations). Node 20+ provides them, SIMD128 included; relaxed SIMD (fused
 * multiply-add) is on by default from Node 22 and behind a V8 flag in Node 20 ({@link relaxedSimdAvailable}).
 */
import v8 from 'node:v8';

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module (opaque; structured-cloneable to worker threads). */
export type WasmModule = object;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate: (bytes: Uint8Array) => boolean;
  Memory: new (desc: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}

export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f64x2.relaxed_madd). */
const RELAXED_MADD_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x87, 0x02, 0x0b, // code section
]);

let relaxed: boolean | undefined;

/**
 * Whether this runtime compiles wasm relaxed SIMD (f64x2.relaxed_madd). Where it is off by default (Node
 * 20's V8 11.3 ships it behind `--experimental-wasm-relaxed-simd`), the flag is switched on once for the
 * process before any module using it is compiled: it only widens what the wasm decoder accepts, and
 * modules compiled before are unaffected. Worker threads receive the compiled module, so they run the
 * same code.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed === undefined) {
    relaxed = wasm.validate(RELAXED_MADD_PROBE);
    if (!relaxed) {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      relaxed = wasm.validate(RELAXED_MADD_PROBE);
    }
  }
  return relaxed;
}
