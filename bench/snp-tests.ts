/**
 * The per-SNP LMM tests alone (src/lmm/snp SnpAssociation: GEMMA -lmm 4, i.e. score, REML Wald and ML LRT) on
 * the mouse_hs1940 scan inputs: 1410 analysed individuals, the 10768 SNPs the scan tests, rotated by the
 * eigenvectors of the centred kinship exactly as `gpulmm gwas --grm centered` does. Two models: c = 1 (the
 * intercept, the scan's model) and c = 3 (the intercept and two seeded N(0,1) covariates, to time the c > 1
 * path). Everything before the tests (kinship, eigh, rotation) is untimed preparation.
 * Timed: one thread's CPU seconds (user + sys of this single-threaded process) for SnpAssociation.testInto over
 * all SNPs, REPS repetitions, median; wall seconds too. `results_sha256` hashes every result column and status,
 * so two commits can be checked for bit-identical output.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/snp-tests.js [--reps 3] [--json bench/results/snp-tests-cpu2.json]
 *     [--cache /tmp/snp-tests-inputs.bin]   (rotated inputs stored/reused there: skips the untimed preparation)
 *     [--commit SHA]   (recorded commit when the tree is an export without git, e.g. an older commit's `git archive`)
 */
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '../kernels/cpu/index.js';
import { argValue } from './args.js';
import { f64Matrix } from '../kernels/matrix.js';
import { decomposeKinship } from '../gwas/eigen-cache.js';
import { loadAnalysisInputs } from '../gwas/inputs.js';
import { computeKinship, restrictAndCenter } from '../gwas/kinship.js';
import { SnpFilter } from '../gwas/snp-filter.js';
import { allocAssocColumns, SnpAssociation, type AssocColumns } from '../src/lmm/snp/assoc.js';
import { fitNullModel, type RotatedInputs } from '../src/lmm/snp/null-model.js';
import { cpuSeconds, median } from '../src/bench/measure.js';

const reps = Number(argValue('reps') ?? 3);
const json = argValue('json');
const cache = argValue('cache');
const root = new URL('../..', import.meta.url).pathname;
const prefix = join(root, '../shared/data/mouse_hs1940/mouse_hs1940');
const EXTRA_COVARIATES = 2;


/** The scan's rotated inputs: d (n), U'y (n), U'W for [1, z1, z2] (n x 3), U'x of the kept SNPs (n x m). */
interface Prepared {
  n: number;
  m: number;
  d: Float64Array;
  uy: Float64Array;
  uw: Float64Array;
  ux: Float64Array;
}

async function prepare(): Promise<Prepared> {
  const inputs = await loadAnalysisInputs({ bfile: prefix });
  const backend = await createCpuBackend();
  const rows = inputs.samples.indices;
  const n = rows.length;
  const filter = new SnpFilter({ covariates: inputs.design.w });
  const kin = await computeKinship(inputs.source, { mode: 'centered', filter, filterRows: rows, rows, backend });
  const { values, vectors } = await decomposeKinship(restrictAndCenter(kin.k, Int32Array.from({ length: n }, (_, i) => i)), backend);
  // W = [intercept, two covariates from a fixed-seed generator (xorshift32 + Box-Muller)].
  const w = f64Matrix(n, 1 + EXTRA_COVARIATES);
  let s = 20240611;
  const u = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i++) w.data[i] = 1;
  for (let i = n; i < w.data.length; i++) w.data[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const uw = await backend.gemm(vectors, w, { transA: true });
  const uy = await backend.gemm(vectors, inputs.y, { transA: true });
  const cols: Float64Array[] = [];
  let m = 0;
  for await (const block of inputs.source.blocks(4096)) {
    const verdict = filter.apply(block.dosages, rows);
    if (verdict.keptIndex.length === 0) continue;
    const ux = await backend.gemm(vectors, verdict.imputed, { transA: true });
    cols.push(ux.data.slice(0, n * ux.cols));
    m += ux.cols;
  }
  const ux = new Float64Array(n * m);
  let at = 0;
  for (const c of cols) {
    ux.set(c, at);
    at += c.length;
  }
  return { n, m, d: values, uy: uy.data.slice(0, n), uw: uw.data.slice(0, n * w.cols), ux };
}

/** Cache layout: n, m as two f64, then d, uy, uw, ux. */
function load(path: string): Prepared {
  const b = readFileSync(path);
  const all = new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  const n = all[0]!;
  const m = all[1]!;
  let at = 2;
  const take = (k: number): Float64Array => all.slice(at, (at += k));
  return { n, m, d: take(n), uy: take(n), uw: take(n * (1 + EXTRA_COVARIATES)), ux: take(n * m) };
}

function store(path: string, p: Prepared): void {
  const parts = [Float64Array.of(p.n, p.m), p.d, p.uy, p.uw, p.ux];
  const all = new Float64Array(parts.reduce((k, v) => k + v.length, 0));
  let at = 0;
  for (const v of parts) {
    all.set(v, at);
    at += v.length;
  }
  writeFileSync(`${path}.tmp`, all);
  renameSync(`${path}.tmp`, path);
}

function hashResults(out: AssocColumns): string {
  const h = createHash('sha256');
  for (const [key, v] of Object.entries(out)) {
    h.update(key);
    if (v instanceof Float64Array) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else h.update((v as string[]).join('\n'));
  }
  return h.digest('hex');
}

const prep = cache && existsSync(cache) ? load(cache) : await prepare();
if (cache && !existsSync(cache)) store(cache, prep);
const { n, m } = prep;
const tests = { wald: true, lrt: true, score: true };
const commit = argValue('commit') ?? (() => {
  try {
    return execSync('git rev-parse HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
})();
const records = [];
for (const c of [1, 1 + EXTRA_COVARIATES]) {
  const inputs: RotatedInputs = { d: prep.d, uw: prep.uw.subarray(0, n * c), c, uy: prep.uy };
  const nullModel = fitNullModel(inputs);
  const cpu: number[] = [];
  const wall: number[] = [];
  let out = allocAssocColumns(m);
  for (let r = 0; r < reps; r++) {
    out = allocAssocColumns(m);
    const w0 = performance.now();
    const c0 = cpuSeconds();
    const tester = new SnpAssociation(inputs, nullModel, tests);
    tester.testInto(prep.ux, m, out, 0);
    cpu.push(cpuSeconds() - c0);
    wall.push((performance.now() - w0) / 1000);
  }
  const ok = out.status.filter((s) => s === 'ok').length;
  const rec = {
    benchmark: 'snp-tests', dataset: 'mouse_hs1940 (1410 analysed individuals, centred kinship)', snps: m, individuals: n, covariates: c,
    op: 'SnpAssociation.testInto: score + REML Wald + ML LRT (GEMMA -lmm 4), one thread', backend: 'cpu (wasm SIMD128)', precision: 'f64',
    reps, cpu_s: cpu, wall_s: wall, median_cpu_s: median(cpu), median_wall_s: median(wall),
    median_cpu_us_per_snp: (median(cpu) / m) * 1e6, snps_ok: ok, results_sha256: hashResults(out),
    load_average: readFileSync('/proc/loadavg', 'utf8').trim(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', logical_cores: os.availableParallelism() },
    node: process.version, commit, date: new Date().toISOString(),
  };
  console.error(`c=${c}: median ${rec.median_cpu_s.toFixed(3)} cpu-s (${rec.median_cpu_us_per_snp.toFixed(1)} us/SNP), wall ${rec.median_wall_s.toFixed(3)} s, ${ok}/${m} ok, sha256 ${rec.results_sha256.slice(0, 16)}`);
  records.push(rec);
}
if (json) writeFileSync(json, JSON.stringify(records, null, 2) + '\n');
