#!/usr/bin/env bash
# Sharded vs one process on mouse_hs1940, side by side in one command: `gpulmm gwas` in one process, and the same
# scan planned into S shards for each S of SHARDS (default "2 8": as many shards as cores, and eight) and run by
# Snakemake 7 with the shipped local profile (null step once on both cores, shards two at a time on one thread
# each, merge), REPS repetitions alternating. Records wall and CPU seconds (user + sys
# of every process), peak RSS (largest process), each job's own wall, CPU and peak RSS (/usr/bin/time around every
# gpulmm the workflow runs), the jobs' per-stage seconds (--verbose), the plan's time, and whether the merged
# dataset equals the single one value for value. Writes bench/results/shard-overhead-cpu2.json (OUT=... to override).
# Usage: flock /work/bench.lock bash bench/shard-overhead.sh [REPS] ["S1 S2 ..."]   (needs snakemake, npm run build)
set -euo pipefail
REPS=${1:-3}
SHARDS=${2:-2 8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/mouse_hs1940}
[ -f "$DATA/mouse_hs1940.bed" ] || DATA=$ROOT/../../shared/data/mouse_hs1940
OUT=${OUT:-$ROOT/bench/results/shard-overhead-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$DATA"/mouse_hs1940.{bed,bim,fam} "$WORK"/
# A private copy of the build and the workflow, so that a concurrent build cannot change what is measured.
cp -r "$ROOT/dist" "$WORK/dist"
cp -r "$ROOT/workflow" "$WORK/workflow"
ln -s "$ROOT/node_modules" "$WORK/node_modules"
COMMIT=$(git -C "$ROOT" rev-parse HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain -- src gwas kernels workflow)" ]; then COMMIT="$COMMIT-dirty"; fi
cd "$WORK"
export USER=${USER:-$(id -un)}
G="node $WORK/dist/src/cli/main.js"
LOAD_BEFORE=$(cat /proc/loadavg)
TIMEFORMAT='%R'
plan_s=()
for S in $SHARDS; do
  plan_s+=("$( { time $G plan --out "run$S/plan.json" --shards "$S" gwas --bfile mouse_hs1940 --test all --backend cpu 2>plan.log; } 2>&1 )")
done
one_s=(); one_cpu=(); one_rss=(); declare -A shard_s shard_cpu shard_rss
measure() { # measure LOG CMD...: runs CMD under /usr/bin/time -v; prints "wall cpu maxrss_kb"
  local log=$1; shift
  /usr/bin/time -v "$@" 2>"$log" >/dev/null
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); w=(n==3? a[1]*3600+a[2]*60+a[3] : a[1]*60+a[2])}
    /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2} END {printf "%.2f %.2f %d\n", w, u+s, m}' "$log"
}
for r in $(seq 1 "$REPS"); do
  rm -rf one
  read -r w c m < <(measure one.time $G gwas --bfile mouse_hs1940 --test all --backend cpu --out one/)
  one_s+=("$w"); one_cpu+=("$c"); one_rss+=("$m")
  line="rep $r: one process ${one_s[-1]} s (cpu ${one_cpu[-1]} s)"
  for S in $SHARDS; do
    rm -rf "run$S"/{null,shards,merged,logs,benchmarks} .snakemake "jobs$S.txt"
    read -r w c m < <(measure smk.time snakemake -s workflow/Snakefile --profile workflow/profiles/local --cores 2 \
      --config "plan=run$S/plan.json" "gpulmm=/usr/bin/time -a -o $WORK/jobs$S.txt -f '%e %U %S %M %C' $G" merge_args=--no-plot job_args=--verbose)
    shard_s[$S]="${shard_s[$S]:-} $w"; shard_cpu[$S]="${shard_cpu[$S]:-} $c"; shard_rss[$S]="${shard_rss[$S]:-} $m"
    line="$line, Snakemake $S shards $w s (cpu $c s)"
  done
  echo "$line; load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
args=()
for S in $SHARDS; do args+=("$S" "${shard_s[$S]}" "${shard_cpu[$S]}" "${shard_rss[$S]}"); done
node - "$OUT" "$COMMIT" "$REPS" "${plan_s[*]}" "$LOAD_BEFORE" "$(snakemake --version)" "${one_s[*]}" "${one_cpu[*]}" "${one_rss[*]}" "${args[@]}" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { tableFromIPC } = require(path.join(process.cwd(), 'node_modules/apache-arrow/Arrow.node.js'));
const [out, commit, reps, planList, loadBefore, smk, oneList, oneCpuList, oneRssList, ...rest] = process.argv.slice(2);
const nums = (l) => l.trim().split(/\s+/).map(Number);
const [oneS, oneCpu, oneRss] = [oneList, oneCpuList, oneRssList].map(nums);
const planS = nums(planList);
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const files = (d) => fs.readdirSync(d, { recursive: true }).filter((f) => f.endsWith('.arrow')).sort();
/** The merged dataset of `run` against the single one, file by file, value for value. */
function sameAsOne(run) {
  let identical = JSON.stringify(files('one')) === JSON.stringify(files(`${run}/merged/results`));
  let rows = 0;
  for (const f of files('one')) {
    const a = tableFromIPC(fs.readFileSync(path.join('one', f))), b = tableFromIPC(fs.readFileSync(path.join(run, 'merged/results', f)));
    rows += a.numRows;
    if (a.numRows !== b.numRows) identical = false;
    for (const fld of a.schema.fields) {
      const x = a.getChild(fld.name).toArray(), y = b.getChild(fld.name).toArray();
      for (let i = 0; i < a.numRows; i++) if (!(x[i] === y[i] || (x[i] !== x[i] && y[i] !== y[i]))) identical = false;
    }
  }
  return { identical, rows };
}
const sharded = [];
for (let k = 0; k < rest.length; k += 4) {
  const S = Number(rest[k]);
  const [wall, cpu, rss] = rest.slice(k + 1, k + 4).map(nums);
  const run = `run${S}`;
  // Each job's own cost (/usr/bin/time around each gpulmm) and per-stage seconds, of the last repetition.
  const jobs = fs.readFileSync(`jobs${S}.txt`, 'utf8').trim().split('\n').map((l) => {
    const [wall, user, sys, rssKb, ...cmd] = l.split(' ');
    const c = cmd.join(' ');
    const job = / null /.test(` ${c} `) ? 'null' : / merge /.test(` ${c} `) ? 'merge' : `shard-${/--shard (\d+)/.exec(c)?.[1]}`;
    return { job, wall_s: Number(wall), cpu_s: Number(user) + Number(sys), max_rss_mb: Number(rssKb) / 1024 };
  }).sort((a, b) => a.job.localeCompare(b.job, 'en', { numeric: true }));
  const shardJobs = jobs.filter((j) => j.job.startsWith('shard-'));
  const stages = fs.readdirSync(`${run}/logs`).sort().flatMap((f) => fs.readFileSync(path.join(run, 'logs', f), 'utf8').split('\n').filter((l) => l.startsWith('time (s)')).map((l) => `${f}: ${l}`));
  const eq = sameAsOne(run);
  sharded.push({
    shards: S, plan_s: planS[k / 4], snakemake_s: wall, snakemake_cpu_s: cpu, snakemake_max_rss_kb: rss,
    snakemake_median_s: median(wall), snakemake_median_cpu_s: median(cpu),
    ratio_snakemake_over_one_process: median(wall) / median(oneS), ratio_with_plan: (median(wall) + planS[k / 4]) / median(oneS), ratio_cpu: median(cpu) / median(oneCpu),
    jobs_last_rep: jobs, shard_job_median_wall_s: median(shardJobs.map((j) => j.wall_s)), shard_job_median_cpu_s: median(shardJobs.map((j) => j.cpu_s)),
    stage_times_last_rep: stages, merged_equals_one_process: eq.identical, rows_compared: eq.rows,
  });
}
const rec = {
  benchmark: 'shard-overhead', dataset: 'mouse_hs1940 (1940 individuals, 1410 analysed, 12226 SNPs, 10768 tested)',
  op: 'gwas --test all (kinship, eigh, lmm 4) in one process vs gpulmm plan + Snakemake local (null once, shards, merge --no-plot)',
  backend: 'cpu', precision: 'f64', snakemake: smk,
  command: `flock /work/bench.lock bash bench/shard-overhead.sh ${reps} "${sharded.map((x) => x.shards).join(' ')}"`,
  reps: Number(reps),
  one_process_s: oneS, one_process_cpu_s: oneCpu, one_process_max_rss_kb: oneRss,
  one_process_median_s: median(oneS), one_process_median_cpu_s: median(oneCpu),
  sharded,
  load_average_before: loadBefore, load_average_after: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit, date: new Date().toISOString(),
  note: 'shared 2-core machine: compare the columns of one record, not seconds across records',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
