#!/usr/bin/env node
// The cost model of a sharded exact-mode scan, from the measured per-job costs of bench/shard-overhead.sh:
// per-SNP and per-shard constants at mouse_hs1940's size (n = 1410 analysed of N = 1940, c = 1, one phenotype,
// --test all, cpu backend, one thread per shard), scaled by each stage's complexity to other sizes:
//   null job:   reads the genotypes once (N/4 bytes per SNP); kinship n^2 m (integer syrk), eigh ~n^3 (CPU
//               seconds scaled from the measured stages; a K from all 10 M SNPs is rarely wanted: a pruned set);
//               writes U, d, U'W, U'y: 8 n^2 + 8 n (2 + c + p) bytes (one set per chromosome with --loco).
//   shard job:  reads the plan, U (8 n^2 bytes, hash-checked) and its m_s SNPs (N/4 bytes each);
//               rotation 2 n^2 m_s flops, tests ~m_s p n (per-SNP likelihood evaluations are O(n));
//               writes m_s p rows (~170 bytes each in Arrow); start-up (process, modules, checks) once.
//   merge:      reads every shard's rows, writes the dataset, keeps ~40 bytes per SNP and test in memory.
// Usage: node bench/shard-cost-model.mjs bench/results/shard-overhead-cpu2.json [OUT.json]
import { readFileSync, writeFileSync } from 'node:fs';

const [recordPath, outPath] = process.argv.slice(2);
if (!recordPath) throw new Error('usage: node bench/shard-cost-model.mjs RECORD.json [OUT.json]');
const rec = JSON.parse(readFileSync(recordPath, 'utf8'));
const n0 = 1410, N0 = 1940, m0 = 10768, snps0 = 12226;
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const stage = (line, name) => Number(new RegExp(`${name} ([0-9.]+)`).exec(line)?.[1] ?? NaN);

// Step 1: constants from the run with the most shards (smallest shards: start-up weighs most there). The jobs
// print wall seconds per stage; on a shared machine a job waits for a core, so each stage's CPU is taken as its
// wall seconds times the job's CPU / wall (shard jobs run on one thread).
const run = [...rec.sharded].sort((a, b) => b.shards - a.shards)[0];
const jobOf = (name) => run.jobs_last_rep.find((j) => j.job === name);
const perShardSnps = snps0 / run.shards;
const shardStages = run.stage_times_last_rep.filter((l) => l.startsWith('shard-')).map((l) => {
  const j = jobOf(l.slice(0, l.indexOf('.log')));
  const f = j.cpu_s / j.wall_s;
  return { rotation: stage(l, 'rotation') * f, tests: stage(l, 'optimisation') * f, read: stage(l, 'read\\+filter') * f, total: stage(l, 'total') * f, cpu: j.cpu_s };
});
const rotation = median(shardStages.map((x) => x.rotation));
const tests = median(shardStages.map((x) => x.tests));
const read = median(shardStages.map((x) => x.read));
const total = median(shardStages.map((x) => x.total));
const jobCpu = median(shardStages.map((x) => x.cpu));
const startup = median(shardStages.map((x) => x.cpu - x.total)); // process start, modules, plan/input/null checks
const nullLine = run.stage_times_last_rep.find((l) => l.startsWith('null'));
const gflops = (2 * n0 * n0 * perShardSnps) / rotation / 1e9;
const testUsPerSnpPerK = (tests / (perShardSnps * m0 / snps0)) / (n0 / 1000) * 1e6; // µs per tested SNP per 1000 individuals
const readUsPerSnpPerK = read / perShardSnps / (N0 / 1000) * 1e6;
const nullCpuPerWall = jobOf('null').cpu_s / jobOf('null').wall_s;
const kinship = stage(nullLine, 'kinship') * nullCpuPerWall, eigh = stage(nullLine, 'eigh') * nullCpuPerWall;
const constants = {
  from: recordPath, shards: run.shards, snps_per_shard: Math.round(perShardSnps),
  shard_job_cpu_s: jobCpu, shard_stages_cpu_s: { read_filter: read, rotation, tests, total },
  startup_cpu_s: startup, rotation_gflops_per_thread: gflops,
  test_us_per_snp_per_1000_individuals: testUsPerSnpPerK, read_us_per_snp_per_1000_genotyped: readUsPerSnpPerK,
  null_stages_cpu_s: { kinship, eigh }, null_job: jobOf('null'), merge_job: jobOf('merge'),
};

// Step 2: a scan of n analysed (N genotyped) x m SNPs, p phenotypes, in shards of ms SNPs.
function project({ n, N, m, p, ms, label }) {
  const shards = Math.ceil(m / ms);
  const uBytes = 8 * n * n;
  const shardRotation = (2 * n * n * ms) / (gflops * 1e9);
  const shardTests = (testUsPerSnpPerK * (n / 1000) * ms * p) / 1e6;
  const shardRead = (readUsPerSnpPerK * (N / 1000) * ms) / 1e6;
  const shardCpu = startup + shardRotation + shardTests + shardRead;
  const nullKinship = kinship * (n / n0) ** 2 * (m / snps0);
  const nullEigh = eigh * (n / n0) ** 3;
  return {
    label, n, N, m, p, snps_per_shard: ms, jobs: { null: 1, shards, merge: 1 },
    null_job: { reads_gb: (N / 4) * m / 1e9, kinship_cpu_s: nullKinship, eigh_cpu_s: nullEigh, writes_gb: uBytes / 1e9, holds_gb: 2 * uBytes / 1e9 },
    shard_job: { reads_gb: (uBytes + (N / 4) * ms) / 1e9, rotation_cpu_s: shardRotation, tests_cpu_s: shardTests, read_cpu_s: shardRead, startup_cpu_s: startup, cpu_s: shardCpu, writes_mb: (ms * p * 170) / 1e6, holds_gb: uBytes / 1e9 },
    all_shards_cpu_hours: (shards * shardCpu) / 3600,
    merge_job: { reads_gb: (m * p * 170) / 1e9, holds_gb: (m * p * 40 * 3) / 1e9 },
  };
}
const out = {
  model: 'bench/shard-cost-model.mjs', constants,
  projections: [
    project({ label: 'mouse_hs1940 as measured', n: n0, N: N0, m: snps0, p: 1, ms: Math.round(perShardSnps) }),
    project({ label: 'exact mode at its auto limit: 20,000 x 10 M, 1,000 shards', n: 20000, N: 20000, m: 10e6, p: 1, ms: 10000 }),
    project({ label: 'the issue: 500,000 x 10 M, 1,000 shards (exact mode)', n: 500000, N: 500000, m: 10e6, p: 1, ms: 10000 }),
  ],
};
if (outPath) writeFileSync(outPath, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
