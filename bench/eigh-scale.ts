/**
 * One large f64 case on the cpu backend, for bench/eigh-vs-lapack.sh (run once per process, so that the
 * caller's /usr/bin/time measures this case's peak RSS): eigh (values and vectors) or gemm of n x n uniform
 * [-1, 1) matrices (eigh: symmetrised), on the backend's threads (the `threads` flag). Prints one JSON line:
 * wall and process cpu seconds of the call alone (input generation excluded), and its accuracy
 * (eigh: ||A V - V diag(w)||max / ||A||max over 32 sampled columns and ||V^T V - I||max over 32 sampled
 * pairs; gemm: max relative error of 32 sampled entries).
 *
 *   node dist/bench/eigh-scale.js eigh|gemm N
 */
import { createCpuBackend } from '../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import { getFlag } from '../src/flags.js';

const [op, nArg] = process.argv.slice(2);
const n = Number(nArg);
if ((op !== 'eigh' && op !== 'gemm') || !Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: node dist/bench/eigh-scale.js eigh|gemm N\n');
  process.exit(2);
}

function uniform(symmetric: boolean): F64Matrix {
  const m = f64Matrix(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = symmetric ? j : 0; i < n; i++) {
      const v = 2 * Math.random() - 1;
      m.data[i + j * n] = v;
      if (symmetric) m.data[j + i * n] = v;
    }
  }
  return m;
}

const backend = await createCpuBackend();
const sample = (k: number): number[] => Array.from({ length: k }, () => Math.floor(Math.random() * n));
const errors: Record<string, number> = {};
let wall = 0, cpu = 0;
const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  cpu = (c.user + c.system) / 1e6;
  return out;
};
if (op === 'eigh') {
  const a = uniform(true);
  const { values, vectors: v } = await timed(() => backend.eigh(a));
  let amax = 0;
  for (const x of a.data) amax = Math.max(amax, Math.abs(x));
  let res = 0, orth = 0;
  for (const j of sample(32)) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a.data[i + p * n]! * v.data[p + j * n]!;
      res = Math.max(res, Math.abs(s - values[j]! * v.data[i + j * n]!));
    }
  }
  const cols = sample(32);
  for (let t = 0; t < cols.length; t++) {
    const i = cols[t]!, j = cols[(t + 1) % cols.length]!;
    let s = 0;
    for (let p = 0; p < n; p++) s += v.data[p + i * n]! * v.data[p + j * n]!;
    orth = Math.max(orth, Math.abs(s - (i === j ? 1 : 0)));
  }
  errors.residual = res / amax;
  errors.orthogonality = orth;
} else {
  const a = uniform(false), b = uniform(false);
  const c = await timed(() => backend.gemm(a, b));
  let err = 0;
  const rows = sample(32), cols = sample(32);
  for (let t = 0; t < 32; t++) {
    const i = rows[t]!, j = cols[t]!;
    let s = 0, sa = 0;
    for (let p = 0; p < n; p++) {
      s += a.data[i + p * n]! * b.data[p + j * n]!;
      sa += Math.abs(a.data[i + p * n]! * b.data[p + j * n]!);
    }
    err = Math.max(err, Math.abs(c.data[i + j * n]! - s) / sa);
  }
  errors.max_rel_err = err;
}
await backend.dispose();
console.log(JSON.stringify({ tool: 'gpulmm', op, n, threads: getFlag('threads'), wall_s: wall, cpu_s: cpu, errors }));
