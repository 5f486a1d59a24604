/**
 * The per-pass cost of the biobank mode's kinship product (Packed2Pool.normal, kernels/cpu/packed2.ts): one pass
 * Y = Z (M o Z'V) over an n x m matrix of 2-bit codes for B right-hand sides (4 n m B flops), at the column counts
 * of the scan's two phases (B = 11: h2, one phenotype and 10 probes; B = 52: LOCO solves, 22 chromosomes and 30
 * calibration SNPs), on 1 thread and on all. The record gives seconds per pass and nanoseconds per
 * (genotype x right-hand side), from which the README projects larger scans: a scan costs about
 * (h2 steps x (P + probes) + CG iterations x B) passes' worth of genotype x right-hand-side products.
 *
 *   npm run build && node dist/bench/packed2-pass.js [--n 20000] [--m 20000] [--reps 3] [--json FILE]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Packed2Pool } from '../kernels/cpu/packed2.js';
import { f64Matrix } from '../kernels/matrix.js';
import { packed2FromCodes } from '../kernels/packed2.js';
import { median } from '../src/bench/measure.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const n = arg('n', 20000);
const m = arg('m', 20000);
const reps = arg('reps', 3);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;

// Codes with 2% missing, tables as the scan's standardisation would give.
const codes = new Uint8Array(n * m);
let s = 12345;
for (let i = 0; i < codes.length; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  const u = s / 4294967296;
  codes[i] = u < 0.02 ? 1 : u < 0.27 ? 0 : u < 0.77 ? 2 : 3;
}
const z = packed2FromCodes(codes, n, m, Math.max(1, Math.floor(2 ** 26 / Math.ceil(n / 4))));
const tables = new Float64Array(4 * m);
for (let j = 0; j < m; j++) tables.set([1.41, 0, 0, -1.41], 4 * j);
const groups = Int32Array.from({ length: m }, (_, j) => j % 22);
const records: object[] = [];
for (const threads of [1, os.availableParallelism()]) {
  const pool = new Packed2Pool(z, threads);
  for (const b of [11, 52]) {
    const v = f64Matrix(n, b, Float64Array.from({ length: n * b }, (_, i) => Math.sin(i)));
    const exclude = Array.from({ length: b }, (_, k) => (k < 22 ? k : -1));
    const scale = new Array<number>(b).fill(1 / m);
    await pool.normal(tables, v, groups, exclude, scale);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < reps; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await pool.normal(tables, v, groups, exclude, scale);
      wall.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
    }
    const w = median(wall);
    const rec = {
      op: 'packed2 normal pass', n, m, rhs: b, threads, precision: 'f64', median_s: w, median_cpu_s: median(cpu), reps,
      gflops: (4 * n * m * b) / w / 1e9, ns_per_genotype_rhs: (w * 1e9) / (n * m * b),
    };
    records.push(rec);
    process.stderr.write(`${JSON.stringify(rec)}\n`);
  }
  await pool.dispose();
}
let commit: string | null = null;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  commit = null;
}
const out = {
  benchmark: 'packed2-pass', command: `node dist/bench/packed2-pass.js --n ${n} --m ${m} --reps ${reps}${jsonOut ? ` --json ${jsonOut}` : ''}`, records,
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', logical_cores: os.availableParallelism(), total_memory_gib: os.totalmem() / 2 ** 30 },
  load_average_after: os.loadavg(), node: process.version, commit, date: new Date().toISOString(),
};
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
