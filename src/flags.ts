/**
 * Knobs in one place: every tunable of gpulmm, its default, its documentation and its environment override.
 * Read with `getFlag(name)`; the CLI sets them with `setFlags({...})` from its options. Nothing else in the
 * code base reads process.env.
 */
import os from 'node:os';

interface FlagSpec<T> {
  env: string;
  doc: string;
  default: () => T;
  parse: (raw: string) => T;
}

function intFlag(env: string, doc: string, def: () => number, min = 1): FlagSpec<number> {
  return {
    env,
    doc,
    default: def,
    parse: (raw) => {
      const v = Number(raw);
      if (!Number.isInteger(v) || v < min) throw new Error(`${env}=${raw}: expected an integer >= ${min}`);
      return v;
    },
  };
}

function enumFlag<T extends string>(env: string, doc: string, values: readonly T[], def: T): FlagSpec<T> {
  return {
    env,
    doc,
    default: () => def,
    parse: (raw) => {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`${env}=${raw}: expected one of ${values.join(', ')}`);
      return raw as T;
    },
  };
}

function stringFlag(env: string, doc: string, def: string): FlagSpec<string> {
  return { env, doc, default: () => def, parse: (raw) => raw };
}

export const FLAG_SPECS = {
  backend: enumFlag('GPULMM_BACKEND', 'Kernel backend: auto picks WebGPU on a real (non-software) adapter, else cpu.', ['auto', 'cpu', 'webgpu', 'gpujs'] as const, 'auto'),
  threads: intFlag('GPULMM_THREADS', 'Worker threads for the cpu backend (default: available parallelism).', () => os.availableParallelism()),
  cpuFma: enumFlag('GPULMM_CPU_FMA', 'cpu f64 product kernel: auto fuses each multiply-add (wasm relaxed SIMD, where the runtime has it); off multiplies then adds. Read once, when the first product builds the kernel.', ['auto', 'off'] as const, 'auto'),
  dumpShaders: stringFlag('GPULMM_DUMP_SHADERS', 'Directory to write every generated WGSL program to (empty: off).', ''),
  webgpuTile: enumFlag('GPULMM_WEBGPU_TILE', 'WebGPU matrix-product tile: 64 (4x4 per thread), 128 (8x8 per thread) or auto (by output size).', ['auto', '64', '128'] as const, 'auto'),
  blockSize: intFlag('GPULMM_BLOCK_SIZE', 'SNPs per block streamed through a GWAS scan.', () => 4096),
  scanStoreMb: intFlag('GPULMM_SCAN_STORE_MB', 'MiB of analysed genotypes a GWAS scan keeps from its kinship pass instead of reading the genotype file again (0: always read twice).', () => 2048, 0),
} as const;

export type FlagName = keyof typeof FLAG_SPECS;
export type FlagValue<K extends FlagName> = ReturnType<(typeof FLAG_SPECS)[K]['default']>;

const overrides: Partial<{ [K in FlagName]: FlagValue<K> }> = {};

/** Current value: an explicit setFlags() value, else the environment override, else the default. */
export function getFlag<K extends FlagName>(name: K): FlagValue<K> {
  const set = overrides[name];
  if (set !== undefined) return set as FlagValue<K>;
  const spec = FLAG_SPECS[name];
  const raw = process.env[spec.env];
  if (raw !== undefined && raw !== '') return spec.parse(raw) as FlagValue<K>;
  return spec.default() as FlagValue<K>;
}

/** Sets flags for this process (the CLI calls this with its parsed options). Undefined entries are ignored. */
export function setFlags(values: Partial<{ [K in FlagName]: FlagValue<K> | undefined }>): void {
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined) (overrides as Record<string, unknown>)[k] = v;
  }
}
