/**
 * Memory of this process: the machine's memory (physical, or the cgroup limit when lower), sizes as the user
 * writes them ("8G", "512M"), and the peak resident set size, which Linux tracks exactly (VmHWM) and lets a
 * process reset, so a command can report the peak of each of its stages. Elsewhere the peak falls back to the
 * current RSS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes of memory this process may use at most: physical memory, or the cgroup limit when lower. */
export function machineMemoryBytes(): number {
  const total = os.totalmem();
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return limit > 0 && limit < total ? limit : total;
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses a size: a number of bytes, or a number with a binary unit K, M, G or T (optionally followed by B or
 * iB, any case): "512M", "8G", "1.5GiB". Throws RangeError on anything else or a size below 1 byte.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`'${text}' is not a size (examples: 8G, 512M, 1.5GiB)`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  if (!(bytes >= 1)) throw new RangeError(`'${text}' is below one byte`);
  return bytes;
}

/** "1.53 GB" style (decimal units, 3 significant digits), for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toPrecision(3)} ${units[u]}`;
}

function statusField(name: string): number | undefined {
  try {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size since the process started or since the last {@link resetPeakRss} (Linux), else the current RSS. */
export function peakRssBytes(): number {
  return statusField('VmHWM') ?? process.memoryUsage.rss();
}

/** Starts a new peak: afterwards {@link peakRssBytes} reports the peak from now on (Linux; elsewhere a no-op). */
export function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not permitted: peaks then run from the start of the process
  }
}

let fullGc: (() => void) | undefined;

/**
 * A full garbage collection of this thread's heap, now: the large buffers a finished stage dropped (wasm
 * memories, shared f64 workspaces) are returned before the next stage allocates its own, instead of whenever
 * V8 next feels the pressure (which can add a stage's garbage to the next stage's peak). A few milliseconds
 * (typed-array contents live outside the heap).
 */
export function collectGarbage(): void {
  if (!fullGc) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc') as () => void;
  }
  fullGc();
}
