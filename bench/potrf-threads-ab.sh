#!/usr/bin/env bash
# cpuPotrf and the InstEval fit on one thread and on two (GPULMM_THREADS=1 / 2), alternating in ROUNDS rounds
# so that both see the same machine load: per round, `node dist/bench/cpu-kernels.js --reps 7 --ops potrf`
# (n = 1159, the InstEval fit's dense block, and n = 1410; wall and cpu medians of 7 factorisations) and
# `node dist/bench/fit-lmm.js insteval.csv FORMULA 3` (InstEval exported by R to a temporary directory).
# The record keeps every round (wall, cpu, load average) and the medians over rounds of the per-round ratios
# two threads / one thread. Writes bench/results/potrf-threads-ab-cpu2.json (override with OUT=...).
# Usage: bash bench/potrf-threads-ab.sh [ROUNDS]   (needs R with lme4 and `npm run build` done)
set -euo pipefail
ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/potrf-threads-ab-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
Rscript -e 'suppressPackageStartupMessages(library(lme4)); write.csv(InstEval, commandArgs(TRUE)[1], row.names = FALSE)' "$WORK/insteval.csv"
FORMULA="y ~ factor(service) + (1 | s) + (1 | d) + (1 | dept:service)"
cd "$ROOT"
for r in $(seq 1 "$ROUNDS"); do
  for t in 1 2; do
    cut -d' ' -f1 /proc/loadavg > "$WORK/load-$r-$t"
    GPULMM_THREADS=$t node dist/bench/cpu-kernels.js --reps 7 --ops potrf --json "$WORK/potrf-$r-$t.json" > /dev/null
    GPULMM_THREADS=$t node dist/bench/fit-lmm.js "$WORK/insteval.csv" "$FORMULA" 3 > "$WORK/fit-$r-$t.json"
  done
done
node - "$OUT" "$ROUNDS" "$WORK" "$ROOT" <<'JS'
const [out, rounds, work, root] = process.argv.slice(2);
const fs = require('node:fs'), path = require('node:path');
const { execSync } = require('node:child_process');
const git = (args) => execSync('git -C ' + JSON.stringify(root) + ' ' + args).toString().trim();
const dirty = git('status --porcelain --untracked-files=no -- src kernels bench/cpu-kernels.ts bench/fit-lmm.ts');
const read = (f) => JSON.parse(fs.readFileSync(path.join(work, f), 'utf8'));
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const runs = [];
for (let r = 1; r <= Number(rounds); r++) {
  for (const t of [1, 2]) {
    const potrf = [read(`potrf-${r}-${t}.json`)].flat().filter((x) => x.op === 'potrf');
    const fit = read(`fit-${r}-${t}.json`);
    runs.push({
      round: r, threads: t, load_avg_1m_before: Number(fs.readFileSync(path.join(work, `load-${r}-${t}`), 'utf8')),
      potrf: potrf.map((x) => ({ shape: x.shape, median_s: x.median_s, median_cpu_s: x.median_cpu_s, llt_rel: x.errors.llt_rel, r_chol_s: x.reference?.median_s ?? null })),
      insteval: { times_s: fit.times_s, cpu_s: fit.cpu_s, median_s: median(fit.times_s), median_cpu_s: median(fit.cpu_s), evals: fit.evals, REMLcrit: fit.REMLcrit },
    });
  }
}
const pairs = (f) => Array.from({ length: Number(rounds) }, (_, i) => f(runs[2 * i + 1]) / f(runs[2 * i]));
const shapes = runs[0].potrf.map((p) => p.shape);
const rec = {
  benchmark: 'potrf-threads-ab', command: 'bash bench/potrf-threads-ab.sh ' + rounds, rounds: Number(rounds),
  commit: git('rev-parse --short HEAD') + (dirty ? '-dirty' : ''), date: new Date().toISOString(), node: process.version,
  summary: {
    potrf_wall_ratio_2_over_1: Object.fromEntries(shapes.map((s, j) => [s, median(pairs((x) => x.potrf[j].median_s))])),
    potrf_cpu_ratio_2_over_1: Object.fromEntries(shapes.map((s, j) => [s, median(pairs((x) => x.potrf[j].median_cpu_s))])),
    potrf_wall_median_s: Object.fromEntries(shapes.map((s, j) => [s, { threads1: median(runs.filter((x) => x.threads === 1).map((x) => x.potrf[j].median_s)), threads2: median(runs.filter((x) => x.threads === 2).map((x) => x.potrf[j].median_s)) }])),
    insteval_wall_ratio_2_over_1: median(pairs((x) => x.insteval.median_s)),
    insteval_cpu_ratio_2_over_1: median(pairs((x) => x.insteval.median_cpu_s)),
    insteval_wall_median_s: { threads1: median(runs.filter((x) => x.threads === 1).map((x) => x.insteval.median_s)), threads2: median(runs.filter((x) => x.threads === 2).map((x) => x.insteval.median_s)) },
    insteval_same_REMLcrit: runs.every((x) => x.insteval.REMLcrit === runs[0].insteval.REMLcrit),
  },
  runs,
};
const tmp = out + '.tmp';
fs.writeFileSync(tmp, JSON.stringify(rec, null, 1) + '\n');
fs.renameSync(tmp, out);
console.log(JSON.stringify(rec.summary, null, 1));
JS
