/**
 * Kinship computation in process on mouse_hs1940 (no file output): centred over all 1940 individuals (what
 * `gemma -gk 1` computes), centred for the 1410 analysed individuals only (what a scan needs: its kinship
 * pass reads blocks of KINSHIP_BLOCK_SNPS, with the integer Gram on the helper thread, or on the calling
 * thread with threads = 1), and standardized (all 1940). Median wall and cpu (user + sys, all threads)
 * seconds over REPS runs each.
 * Not a test: it measures and writes a record. Compare with GEMMA through bench/grm-vs-gemma.sh.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kinship-mouse.js [--reps 3] [--json bench/results/kinship-mouse-cpu2.json]
 */
import { execSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '../kernels/cpu/index.js';
import { argValue } from './args.js';
import { computeKinship, KINSHIP_BLOCK_SNPS, type KinshipMode } from '../gwas/kinship.js';
import { loadAnalysisInputs } from '../gwas/inputs.js';
import { SnpFilter } from '../gwas/snp-filter.js';
import { getFlag } from '../src/flags.js';
import { cpuSeconds, median } from '../src/bench/measure.js';

const reps = Number(argValue('reps') ?? 3);
const json = argValue('json');
const root = new URL('../..', import.meta.url).pathname;
const prefix = join(root, '../shared/data/mouse_hs1940/mouse_hs1940');


const inputs = await loadAnalysisInputs({ bfile: prefix });
const backend = await createCpuBackend();
const cases: { name: string; mode: KinshipMode; rows?: Int32Array; blockSize?: number; threads?: number }[] = [
  { name: 'centered, all 1940 individuals (gemma -gk 1)', mode: 'centered' },
  { name: 'centered, 1410 analysed individuals (scan input)', mode: 'centered', rows: inputs.samples.indices, blockSize: KINSHIP_BLOCK_SNPS },
  { name: 'centered, 1410 analysed individuals (scan input), 1 thread', mode: 'centered', rows: inputs.samples.indices, blockSize: KINSHIP_BLOCK_SNPS, threads: 1 },
  { name: 'standardized, all 1940 individuals (gemma -gk 2)', mode: 'standardized' },
];
const records = [];
for (const c of cases) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let nSnps = 0;
  for (let r = 0; r < reps; r++) {
    const w0 = performance.now();
    const c0 = cpuSeconds();
    const res = await computeKinship(inputs.source, { mode: c.mode, filter: new SnpFilter(), filterRows: inputs.samples.indices, backend, rows: c.rows, blockSize: c.blockSize, threads: c.threads });
    wall.push((performance.now() - w0) / 1000);
    cpu.push(cpuSeconds() - c0);
    nSnps = res.nSnps;
  }
  const rec = {
    benchmark: 'kinship-mouse', case: c.name, mode: c.mode, individuals: c.rows?.length ?? inputs.source.samples.length, snps_used: nSnps,
    block_snps: c.blockSize ?? 4096, threads: c.threads ?? getFlag('threads'),
    backend: 'cpu', precision: c.mode === 'centered' ? 'exact integer Gram (SyrkInt8Accumulator) + f64 centring' : 'f64 syrk',
    reps, wall_s: wall, cpu_s: cpu, median_wall_s: median(wall), median_cpu_s: median(cpu),
    load_average_after: readFileSync('/proc/loadavg', 'utf8').trim(),
    adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
    node: process.version, commit: execSync(`git -C ${JSON.stringify(root)} rev-parse HEAD`).toString().trim(), date: new Date().toISOString(),
    command: `node dist/bench/kinship-mouse.js --reps ${reps}${json ? ` --json ${json}` : ''}`,
  };
  console.log(`${c.name}: median wall ${rec.median_wall_s.toFixed(2)} s, cpu ${rec.median_cpu_s.toFixed(2)} s (${nSnps} SNPs)`);
  records.push(rec);
}
await backend.dispose();
if (json) {
  writeFileSync(`${json}.tmp`, JSON.stringify(records, null, 2) + '\n');
  renameSync(`${json}.tmp`, json);
}
