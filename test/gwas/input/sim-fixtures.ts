/** Paths and parsers for the simulated cohort (data/sim) and GEMMA's golden outputs, shared by these tests. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const SIM = join(ROOT, 'data/sim');
export const SIM_PREFIX = join(SIM, 'sim');
export const GOLDEN = join(SIM, 'gemma');
export const MOUSE_DIR = join(ROOT, '../shared/data/mouse_hs1940');
export const MOUSE_PREFIX = join(MOUSE_DIR, 'mouse_hs1940');
export const hasMouse = existsSync(`${MOUSE_PREFIX}.bed`);

/** True when GEMMA 0.98.5 is on the PATH. */
export const hasGemma = (() => {
  try {
    return execFileSync('gemma', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes('0.98.5');
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '').includes('0.98.5');
  }
})();

export function gunzipText(path: string): string {
  const b = readFileSync(path);
  return (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b).toString('utf8');
}

/** Rows of a GEMMA assoc.txt (gz) as records keyed by its header. */
export function readAssoc(path: string): Record<string, string>[] {
  const [head, ...rows] = gunzipText(path).trim().split('\n');
  const cols = head!.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, j) => [cols[j]!, v])));
}

/** A "## name = value" entry of a GEMMA log. */
export function logValue(path: string, name: string): string {
  const line = gunzipText(path)
    .split('\n')
    .find((l) => l.startsWith(`## ${name} =`));
  if (!line) throw new Error(`${path}: no '${name}'`);
  return line.split('=')[1]!.trim();
}

/** A GEMMA text kinship (plain or gz) as a matrix. */
export function readGemmaMatrix(path: string): F64Matrix {
  const rows = gunzipText(path).trim().split('\n').map((r) => r.split('\t').map(Number));
  const n = rows.length;
  const m = f64Matrix(n, rows[0]!.length);
  rows.forEach((r, i) => r.forEach((v, j) => (m.data[i + j * n] = v)));
  return m;
}

/**
 * Largest difference between `ours` and GEMMA's printed K in units of the last printed digit (10 significant
 * digits): <= 1 means equal to GEMMA's printed precision up to a last-digit rounding tie. Entries so small that
 * their 10th digit lies below f64 summation noise (1e-12 max|K|, which GEMMA's own sums carry too) are
 * compared at that absolute level instead.
 */
export function lastDigitUnits(ours: F64Matrix, gemma: F64Matrix): number {
  let scale = 0;
  for (let i = 0; i < gemma.rows; i++) scale = Math.max(scale, Math.abs(gemma.data[i + i * gemma.ld]!));
  let worst = 0;
  for (let j = 0; j < gemma.cols; j++) {
    for (let i = 0; i < gemma.rows; i++) {
      const g = gemma.data[i + j * gemma.ld]!;
      const digit = g === 0 ? 0 : 10 ** (Math.floor(Math.log10(Math.abs(g))) - 9);
      worst = Math.max(worst, Math.abs(ours.data[i + j * ours.ld]! - g) / Math.max(digit, 1e-12 * scale));
    }
  }
  return worst;
}

/** Runs gemma with `args` in a fresh temporary directory; returns the path of output/<name>. */
export function runGemma(args: string[], output: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-gemma-'));
  execFileSync('gemma', args, { cwd: dir, stdio: 'ignore' });
  return join(dir, 'output', output);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gpulmm-input-'));
}

/** BIMBAM dosages parsed with nothing but string splitting: dosage[snp][individual], NaN for NA. */
export function simBimbamDosages(): { rs: string[]; a1: string[]; a0: string[]; dosage: Float64Array[] } {
  const out = { rs: [] as string[], a1: [] as string[], a0: [] as string[], dosage: [] as Float64Array[] };
  for (const line of gunzipText(join(SIM, 'sim.geno.txt.gz')).trim().split('\n')) {
    const f = line.split(', ');
    out.rs.push(f[0]!);
    out.a1.push(f[1]!);
    out.a0.push(f[2]!);
    out.dosage.push(Float64Array.from(f.slice(3), (v) => (v === 'NA' ? Number.NaN : Number(v))));
  }
  return out;
}
