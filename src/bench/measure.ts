/** Small helpers shared by the bench scripts: medians, CPU time, the commit a record names, reproducible inputs. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Median of `v` (mean of the two middle values for an even count); NaN when empty. */
export function median(v: readonly number[]): number {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU seconds (user + system, all threads) this process has used so far. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The machine a record was measured on (field names are the committed record format, bench/README.md). */
export interface MachineInfo {
  platform: string;
  arch: string;
  cpu: string;
  logical_cores: number;
  total_memory_gib: number;
}

/** This machine: OS platform, architecture, the first CPU's model, logical cores, memory in GiB (1 decimal). */
export function machineInfo(): MachineInfo {
  return {
    platform: os.platform(),
    arch: os.arch(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    logical_cores: os.availableParallelism(),
    total_memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** `git rev-parse --short HEAD` of the checkout this code runs from, `-dirty` when tracked files changed; null outside git. */
export function gitCommit(): string | null {
  const cwd = dirname(fileURLToPath(import.meta.url));
  const git = (...args: string[]): string => execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return null;
  }
}

/**
 * n deterministic uniforms in (0, 1) from xorshift32 (13, 17, 5) seeded with `seed` (0 -> 1): the same inputs on
 * every run, written to raw f64 files for the reference tool to read.
 */
export function xorshiftUniforms(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s + 0.5) / 4294967296;
  }
  return out;
}
