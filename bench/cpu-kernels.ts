/**
 * Micro-benchmark of the f64 cpu kernels at the sizes the product needs, side by side with R's LAPACK/BLAS
 * (OpenBLAS here) on the same shapes in the same run. Not a test: it measures and writes a record.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/cpu-kernels.js [--reps 5] [--ops gemm,rotation,syrk,potrs,potrf,eigh] [--json bench/results/cpu-kernels-<machine>.json]
 *
 * Each case runs `reps` times; the record keeps the median wall time and the median process cpu time of
 * the calling thread's work (on a shared machine, cpu time is the steadier of the two for the
 * single-threaded kernels; it sums all threads). Accuracy columns: gemm/syrk max relative error of 64
 * sampled entries against direct dot products (int8 syrk: max |difference| from the f64 syrk, exactly 0
 * expected); potrf ||L L^T - A||max / ||A||max; potrs ||A X - B||max / ||B||max; eigh
 * ||A V - V diag(w)||max / ||A||max and ||V^T V - I||max.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import os from 'node:os';
import { cpuBatchedWeightedDot, cpuEigh, cpuGemm, cpuPotrf, cpuPotrs, cpuSyrk, cpuSyrkInt8, createCpuBackend } from '../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import { getFlag } from '../src/flags.js';
import { median } from '../src/bench/measure.js';

/** The code this script measures: a record's commit gets `-dirty` when any of it differs from HEAD. */
const MEASURED_PATHS = ['kernels/cpu', 'kernels/matrix.ts', 'kernels/validate.ts', 'kernels/backend.ts', 'src/flags.ts', 'bench/cpu-kernels.ts'];

interface CpuKernelRecord {
  op: string;
  variant: string;
  shape: string;
  precision: 'f64';
  threads: number;
  reps: number;
  median_s: number;
  median_cpu_s: number;
  gflops: number | null;
  /** Flops per second of process cpu time (all threads): the kernel's speed when it gets whole cores. */
  gflops_per_cpu_s: number | null;
  errors: Record<string, number>;
  /** 1-minute load average when the case finished (the machine is shared: above the core count, expect wall >> cpu). */
  load_avg_1m: number;
  /** The command that produced the record. */
  command: string;
  reference: { tool: string; median_s: number } | null;
  adapter: string;
  node: string;
  commit: string;
  date: string;
}

function uniform(rows: number, cols: number): F64Matrix {
  const m = f64Matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = 2 * Math.random() - 1;
  return m;
}

async function time(reps: number, fn: () => unknown): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** max relative error of 64 sampled entries of C = A op(B) against direct dot products. */
function sampledError(c: F64Matrix, rowOf: (i: number, p: number) => number, colOf: (p: number, j: number) => number, k: number): number {
  let err = 0, scale = 0;
  for (let t = 0; t < 64; t++) {
    const i = Math.floor(Math.random() * c.rows), j = Math.floor(Math.random() * c.cols);
    let s = 0, sa = 0;
    for (let p = 0; p < k; p++) {
      s += rowOf(i, p) * colOf(p, j);
      sa += Math.abs(rowOf(i, p) * colOf(p, j));
    }
    err = Math.max(err, Math.abs(c.data[i + j * c.ld]! - s));
    scale = Math.max(scale, sa);
  }
  return err / scale;
}

function maxAbsDiff(x: F64Matrix, y: F64Matrix): number {
  let m = 0;
  for (let j = 0; j < x.cols; j++) for (let i = 0; i < x.rows; i++) m = Math.max(m, Math.abs(x.data[i + j * x.ld]! - y.data[i + j * y.ld]!));
  return m;
}

function maxAbs(x: F64Matrix): number {
  let m = 0;
  for (let j = 0; j < x.cols; j++) for (let i = 0; i < x.rows; i++) m = Math.max(m, Math.abs(x.data[i + j * x.ld]!));
  return m;
}

/** Median seconds of an R expression over `reps` runs (setup excluded), or null without Rscript. */
function rTime(setup: string, expr: string, reps: number): number | null {
  const code = `${setup}; t <- replicate(${reps}, system.time(${expr})[["elapsed"]]); cat(median(t))`;
  const res = spawnSync('Rscript', ['-e', code], { encoding: 'utf8' });
  if (res.status !== 0) return null;
  const v = Number(res.stdout.trim().split(/\s+/).pop());
  return Number.isFinite(v) ? v : null;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const reps = Number(arg('--reps', '5'));
  const out = arg('--json', '');
  const ops = arg('--ops', 'gemm,syrk,potrs,potrf,eigh').split(',');
  const want = (...names: string[]): boolean => names.some((x) => ops.includes(x));
  const commit = (() => {
    try {
      const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', ...MEASURED_PATHS], { encoding: 'utf8' }).trim();
      return dirty ? `${head}-dirty` : head;
    } catch {
      return 'unknown';
    }
  })();
  const command = ['node', relative(process.cwd(), process.argv[1]!), ...process.argv.slice(2)].join(' ');
  const adapter = `${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${os.availableParallelism()} logical cores`;
  const threads = getFlag('threads');
  const records: CpuKernelRecord[] = [];
  const push = (r: Omit<CpuKernelRecord, 'precision' | 'reps' | 'adapter' | 'node' | 'commit' | 'date' | 'gflops_per_cpu_s' | 'load_avg_1m' | 'command'>): void => {
    const gflops_per_cpu_s = r.gflops === null ? null : (r.gflops * r.median_s) / r.median_cpu_s;
    const rec = { ...r, gflops_per_cpu_s, load_avg_1m: os.loadavg()[0]!, command, precision: 'f64' as const, reps, adapter, node: process.version, commit, date: new Date().toISOString() };
    records.push(rec);
    const ref = rec.reference ? `  R ${rec.reference.median_s.toFixed(3)} s` : '';
    const gf = rec.gflops === null ? '' : `  ${rec.gflops.toFixed(2)} GFLOP/s (${rec.gflops_per_cpu_s!.toFixed(2)} per cpu-s)`;
    console.log(`${rec.op.padEnd(6)} ${rec.variant.padEnd(14)} ${rec.shape.padEnd(16)} ${rec.median_s.toFixed(3)} s (cpu ${rec.median_cpu_s.toFixed(3)} s)${gf}${ref}  ${JSON.stringify(rec.errors)}`);
  };
  const backend = await createCpuBackend();
  try {
    // gemm n = 1024.
    if (want('gemm')) {
      const n = 1024;
      const a = uniform(n, n), b = uniform(n, n);
      const rref = rTime(`set.seed(1); a <- matrix(runif(${n * n}), ${n}); b <- matrix(runif(${n * n}), ${n})`, 'a %*% b', reps);
      let c = cpuGemm(a, b);
      const err = sampledError(c, (i, p) => a.data[i + p * n]!, (p, j) => b.data[p + j * n]!, n);
      const s = await time(reps, () => (c = cpuGemm(a, b)));
      push({ op: 'gemm', variant: 'sync', shape: `${n}x${n}x${n}`, threads: 1, median_s: s.wall, median_cpu_s: s.cpu, gflops: (2 * n ** 3) / s.wall / 1e9, errors: { sampled_rel: err }, reference: rref === null ? null : { tool: 'R %*% (OpenBLAS)', median_s: rref } });
      const p = await time(reps, () => backend.gemm(a, b));
      push({ op: 'gemm', variant: 'backend', shape: `${n}x${n}x${n}`, threads, median_s: p.wall, median_cpu_s: p.cpu, gflops: (2 * n ** 3) / p.wall / 1e9, errors: { sampled_rel: err }, reference: null });
    }
    // The GWAS rotation U^T X at the mouse scan's shape (1410 samples, 10768 SNPs), the scan's largest product.
    if (want('rotation')) {
      const [n, m] = [1410, 10768];
      const u = uniform(n, n), x = uniform(n, m);
      const rref = rTime(`set.seed(1); u <- matrix(runif(${n * n}), ${n}); x <- matrix(runif(${n * m}), ${n})`, 'crossprod(u, x)', Math.min(reps, 3));
      const c = await backend.gemm(u, x, { transA: true });
      const err = sampledError(c, (i, p) => u.data[p + i * n]!, (p, j) => x.data[p + j * n]!, n);
      const rtool = rref === null ? null : { tool: 'R crossprod (OpenBLAS)', median_s: rref };
      const shape = `${n}x${n}^T x ${n}x${m}`;
      const s1 = await time(Math.min(reps, 3), () => cpuGemm(u, x, { transA: true }));
      push({ op: 'gemm', variant: 'rotation-sync', shape, threads: 1, median_s: s1.wall, median_cpu_s: s1.cpu, gflops: (2 * n * n * m) / s1.wall / 1e9, errors: { sampled_rel: err }, reference: rtool });
      const s = await time(Math.min(reps, 3), () => backend.gemm(u, x, { transA: true }));
      push({ op: 'gemm', variant: 'rotation-backend', shape, threads, median_s: s.wall, median_cpu_s: s.cpu, gflops: (2 * n * n * m) / s.wall / 1e9, errors: { sampled_rel: err }, reference: rtool });
    }
    // syrk: the GWAS kinship shape (1940 samples x 12226 SNPs).
    if (want('syrk')) {
      const [n, k] = [1940, 12226];
      const x = uniform(n, k);
      const rref = rTime(`set.seed(1); x <- matrix(runif(${n * k}), ${n})`, 'tcrossprod(x)', Math.min(reps, 3));
      const c = await backend.syrk(x);
      const err = sampledError(c, (i, p) => x.data[i + p * n]!, (p, j) => x.data[j + p * n]!, k);
      const rtool = rref === null ? null : { tool: 'R tcrossprod (OpenBLAS)', median_s: rref };
      const s = await time(Math.min(reps, 3), () => backend.syrk(x));
      push({ op: 'syrk', variant: 'backend', shape: `${n}x${k}`, threads, median_s: s.wall, median_cpu_s: s.cpu, gflops: (n * n * k) / s.wall / 1e9, errors: { sampled_rel: err }, reference: rtool });
      const s1 = await time(Math.min(reps, 3), () => cpuSyrk(x));
      push({ op: 'syrk', variant: 'sync', shape: `${n}x${k}`, threads: 1, median_s: s1.wall, median_cpu_s: s1.cpu, gflops: (n * n * k) / s1.wall / 1e9, errors: { sampled_rel: err }, reference: rtool });
      // Exact integer syrk on dosages 0/1/2 (GWAS kinship before centring): compared with the f64 syrk.
      const g = new Int8Array(n * k);
      for (let i = 0; i < g.length; i++) g[i] = Math.floor(Math.random() * 3);
      const gx = { rows: n, cols: k, ld: n, data: g };
      const gf = cpuSyrk(f64Matrix(n, k, Float64Array.from(g)));
      const gi = cpuSyrkInt8(gx);
      const s8 = await time(Math.min(reps, 3), () => cpuSyrkInt8(gx));
      push({ op: 'syrk', variant: 'int8-sync', shape: `${n}x${k}`, threads: 1, median_s: s8.wall, median_cpu_s: s8.cpu, gflops: (n * n * k) / s8.wall / 1e9, errors: { max_abs_vs_f64_syrk: maxAbsDiff(gi, gf) }, reference: rtool });
    }
    // Triangular solves and the batched reduction at GWAS-like shapes.
    if (want('potrs')) {
      const n = 1410, r = 256;
      const a = cpuSyrk(uniform(n, n), { alpha: 1 / n });
      for (let i = 0; i < n; i++) a.data[i + i * n]! += 1;
      const l = cpuPotrf(a);
      const b = uniform(n, r);
      const x = cpuPotrs(l, b);
      const res = cpuGemm(a, x, { beta: -1, c: b });
      const s = await time(reps, () => cpuPotrs(l, b));
      push({ op: 'potrs', variant: 'sync', shape: `${n}x${n}, ${r} rhs`, threads: 1, median_s: s.wall, median_cpu_s: s.cpu, gflops: (2 * n * n * r) / s.wall / 1e9, errors: { residual_rel: maxAbs(res) / maxAbs(b) }, reference: null });
      const m = 4096;
      const w = uniform(n, 1), aa = uniform(n, m), bb = uniform(n, 1);
      const sb = await time(reps, () => cpuBatchedWeightedDot(w, aa, bb));
      push({ op: 'batchedWeightedDot', variant: 'sync', shape: `${n}x${m}, w/b broadcast`, threads: 1, median_s: sb.wall, median_cpu_s: sb.cpu, gflops: (3 * n * m) / sb.wall / 1e9, errors: {}, reference: null });
    }
    // potrf at the InstEval fit's dense block (n = 1159, issue 5) and, with eigh, at the kinship size n = 1410.
    const spd = (n: number): { a: F64Matrix; rSetup: string } => {
      const a = cpuSyrk(uniform(n, n), { alpha: 1 / n });
      for (let i = 0; i < n; i++) a.data[i + i * n]! += 1;
      return { a, rSetup: `set.seed(1); g <- matrix(runif(${n * n}), ${n}); a <- tcrossprod(g) / ${n} + diag(${n})` };
    };
    const potrfCase = async (n: number, a: F64Matrix, rSetup: string): Promise<void> => {
      const l = cpuPotrf(a);
      const perr = maxAbsDiff(cpuGemm(l, l, { transB: true }), a) / maxAbs(a);
      const s = await time(reps, () => cpuPotrf(a));
      const rchol = rTime(rSetup, 'chol(a)', reps);
      // cpuPotrf splits its large products over the `threads` flag's pool (GPULMM_THREADS=1: one thread).
      push({ op: 'potrf', variant: 'sync', shape: `${n}x${n}`, threads, median_s: s.wall, median_cpu_s: s.cpu, gflops: n ** 3 / 3 / s.wall / 1e9, errors: { llt_rel: perr }, reference: rchol === null ? null : { tool: 'R chol (OpenBLAS LAPACK)', median_s: rchol } });
    };
    if (want('potrf')) {
      const { a, rSetup } = spd(1159);
      await potrfCase(1159, a, rSetup);
    }
    if (want('potrf', 'eigh')) {
      const n = 1410;
      const { a, rSetup } = spd(n);
      if (want('potrf')) await potrfCase(n, a, rSetup);
      if (want('eigh')) {
        const { values, vectors } = cpuEigh(a);
        const av = cpuGemm(a, vectors);
        for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) av.data[i + j * n]! -= vectors.data[i + j * n]! * values[j]!;
        const vtv = cpuGemm(vectors, vectors, { transA: true });
        for (let i = 0; i < n; i++) vtv.data[i + i * n]! -= 1;
        const errors = { residual_rel: maxAbs(av) / maxAbs(a), orthogonality: maxAbs(vtv) };
        const e = await time(reps, () => cpuEigh(a));
        const reig = rTime(rSetup, 'eigen(a, symmetric = TRUE)', reps);
        const rtool = reig === null ? null : { tool: 'R eigen (OpenBLAS LAPACK dsyevr)', median_s: reig };
        push({ op: 'eigh', variant: 'sync', shape: `${n}x${n}`, threads: 1, median_s: e.wall, median_cpu_s: e.cpu, gflops: null, errors, reference: rtool });
        // The backend's eigh (what the GWAS scan calls): the same result, its products split over the pool.
        const same = (await backend.eigh(a)).vectors.data.every((x, i) => x === vectors.data[i]);
        const eb = await time(reps, () => backend.eigh(a));
        push({ op: 'eigh', variant: 'backend', shape: `${n}x${n}`, threads, median_s: eb.wall, median_cpu_s: eb.cpu, gflops: null, errors: { ...errors, differs_from_sync: same ? 0 : 1 }, reference: rtool });
      }
    }
  } finally {
    await backend.dispose();
  }
  if (out) {
    const tmp = `${out}.tmp`;
    writeFileSync(tmp, JSON.stringify(records, null, 2) + '\n');
    renameSync(tmp, out);
    console.log(`wrote ${out}`);
  }
}

await main();
