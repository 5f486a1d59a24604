/**
 * Programs as data: a WGSL compute program is a small object (name, cache key, workgroup size, uniform
 * layout, storage bindings, body generator). The shared header (uniform struct and bindings) is generated
 * here, so every program binds the same way: binding 0 is the uniform block `u`, bindings 1.. are the
 * storage buffers in the order of {@link GpuProgram.storage}.
 *
 * Shapes travel in uniforms, so one pipeline serves every size; only what changes the shader text
 * (transposes, tile sizes, memory layout) goes into `cacheKey`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFlag } from '../../src/flags.js';

export type UniformType = 'u32' | 'f32';
export type StorageAccess = 'read' | 'read_write';

export interface StorageBinding {
  readonly name: string;
  readonly access: StorageAccess;
  /** WGSL element type of the runtime-sized array (default f32). */
  readonly element?: 'f32' | 'u32' | 'i32';
}

export interface GpuProgram<U extends string = string> {
  /** Kebab-case program name (also the shader dump file stem). */
  readonly name: string;
  /** Everything that changes the generated source; programs with equal keys share one pipeline. */
  readonly cacheKey: string;
  readonly workgroupSize: readonly [number, number, number];
  /** Uniform block fields, in order; all 4-byte scalars. */
  readonly uniforms: readonly (readonly [U, UniformType])[];
  readonly storage: readonly StorageBinding[];
  /** WGSL after the generated header: constants, workgroup memory and `fn main`. */
  body(): string;
}

/** One dispatch of a program: uniform values, storage buffers (same order as `storage`), workgroup grid. */
export interface Dispatch<U extends string = string> {
  readonly program: GpuProgram<U>;
  readonly uniforms: Readonly<Record<U, number>>;
  readonly buffers: readonly GPUBuffer[];
  readonly workgroups: readonly [number, number, number];
}

/** Full WGSL source: header (uniform struct, bindings) + the program's body. */
export function programSource(p: GpuProgram): string {
  const fields = p.uniforms.map(([name, type]) => `  ${name}: ${type},`).join('\n');
  const uniformBlock = p.uniforms.length > 0 ? `struct Uniforms {\n${fields}\n}\n@group(0) @binding(0) var<uniform> u: Uniforms;\n` : '';
  const storage = p.storage
    .map((s, i) => `@group(0) @binding(${i + 1}) var<storage, ${s.access}> ${s.name}: array<${s.element ?? 'f32'}>;`)
    .join('\n');
  return `// ${p.name} [${p.cacheKey}]\n${uniformBlock}${storage}\n${p.body()}`;
}

/** Packs uniform values into a 16-byte-aligned block in declaration order. */
export function packUniforms<U extends string>(p: GpuProgram<U>, values: Readonly<Record<U, number>>): ArrayBuffer {
  const bytes = Math.max(16, Math.ceil((p.uniforms.length * 4) / 16) * 16);
  const buf = new ArrayBuffer(bytes);
  const u32 = new Uint32Array(buf);
  const f32 = new Float32Array(buf);
  p.uniforms.forEach(([name, type], i) => {
    const v = values[name];
    if (v === undefined || !Number.isFinite(v)) throw new Error(`${p.name}: uniform '${name}' is ${v}`);
    if (type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${p.name}: uniform '${name}'=${v} is not a u32`);
      u32[i] = v;
    } else {
      f32[i] = v;
    }
  });
  return buf;
}

/**
 * Splits a 1-D count of workgroups into a grid within `maxPerDim` (WebGPU: maxComputeWorkgroupsPerDimension);
 * shaders recover the linear index as `wg.x + wg.y * nwg.x` and return when it is past the count.
 */
export function grid1d(count: number, maxPerDim = 65535): [number, number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1, 1];
  return [maxPerDim, Math.ceil(count / maxPerDim), 1];
}

const dumped = new Set<string>();

/** Writes the program's source once per cache key into the GPULMM_DUMP_SHADERS directory (when set). */
export function dumpShaderOnce(p: GpuProgram, source: string): void {
  const dir = getFlag('dumpShaders');
  if (dir === '' || dumped.has(p.cacheKey)) return;
  dumped.add(p.cacheKey);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${p.cacheKey.replace(/[^A-Za-z0-9_.-]+/g, '_')}.wgsl`), source);
}
