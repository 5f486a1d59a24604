#!/usr/bin/env bash
# f64 eigh (values and vectors) and gemm at large n, gpulmm's cpu backend (2 threads) side by side with R's
# OpenBLAS/LAPACK (eigen(symmetric = TRUE): dsyevr; %*%: dgemm) in one command. Each case runs in its own
# process under /usr/bin/time -v (wall, user + sys cpu, peak RSS); tools alternate per size. With BEFORE_DIST
# (a dist/ folder of an older build, e.g. a `git archive` of a commit built with tsc) that build runs too,
# labelled BEFORE_LABEL, for a before/after comparison measured in the same run.
# Usage: npm run build && bash bench/eigh-vs-lapack.sh ["5000 10000"] [OPS (default "eigh gemm")] [BEFORE_DIST BEFORE_LABEL]
# Writes bench/results/eigh-vs-lapack-cpu2.json (override with OUT=...).
set -euo pipefail
SIZES=${1:-5000 10000}
OPS=${2:-eigh gemm}
BEFORE=${3:-}
BEFORE_LABEL=${4:-before}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/eigh-vs-lapack-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Private copies of the builds (a concurrent build cannot change the code under measurement).
mkdir -p "$WORK/after"; cp -r "$ROOT/dist" "$WORK/after/dist"; ln -s "$ROOT/node_modules" "$WORK/after/node_modules"
if [ -n "$BEFORE" ]; then
  mkdir -p "$WORK/before"; cp -r "$BEFORE" "$WORK/before/dist"; ln -s "$ROOT/node_modules" "$WORK/before/node_modules"
  cp "$ROOT/dist/bench/eigh-scale.js" "$WORK/before/dist/bench/eigh-scale.js"
fi
LOAD_BEFORE=$(cat /proc/loadavg)
rows=()
run() { # label command...
  local label=$1; shift
  /usr/bin/time -v -o "$WORK/t.txt" "$@" > "$WORK/o.txt"
  local rss; rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/t.txt")
  local line; line=$(tail -1 "$WORK/o.txt")
  rows+=("{\"label\":\"$label\",\"peak_rss_kb\":$rss,\"load_1m\":$(cut -d' ' -f1 /proc/loadavg),\"result\":$line}")
  echo "$label: $line peak ${rss} kB; load $(cut -d' ' -f1 /proc/loadavg)" >&2
}
for n in $SIZES; do
  for op in $OPS; do
    run "R" Rscript "$ROOT/bench/eigh-vs-lapack.R" "$op" "$n"
    run "gpulmm" node "$WORK/after/dist/bench/eigh-scale.js" "$op" "$n"
    [ -z "$BEFORE" ] || run "$BEFORE_LABEL" node "$WORK/before/dist/bench/eigh-scale.js" "$op" "$n"
  done
done
LOAD_AFTER=$(cat /proc/loadavg)
CMD="bash bench/eigh-vs-lapack.sh \"$SIZES\" \"$OPS\"${BEFORE:+ BEFORE_DIST $BEFORE_LABEL}"
node - "$OUT" "$ROOT" "$SIZES" "$OPS" "$BEFORE_LABEL" "$LOAD_BEFORE" "$LOAD_AFTER" "$CMD" "${rows[@]}" <<'JS'
const [out, root, sizes, ops, beforeLabel, loadBefore, loadAfter, command, ...rows] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os');
const { execSync } = require('node:child_process');
const runs = rows.map((r) => JSON.parse(r));
const ratios = [];
for (const n of sizes.split(' ').map(Number)) {
  for (const op of ops.split(' ')) {
    const get = (label) => runs.find((r) => r.label === label && r.result.n === n && r.result.op === op);
    const r = get('R'), g = get('gpulmm'), b = get(beforeLabel);
    if (!r || !g) continue;
    ratios.push({ op, n, wall_gpulmm_over_R: g.result.wall_s / r.result.wall_s, cpu_gpulmm_over_R: g.result.cpu_s / r.result.cpu_s,
      peak_rss_gpulmm_over_R: g.peak_rss_kb / r.peak_rss_kb, ...(b ? { wall_before_over_R: b.result.wall_s / r.result.wall_s, wall_gpulmm_over_before: g.result.wall_s / b.result.wall_s } : {}) });
  }
}
const dirty = execSync(`git -C ${JSON.stringify(root)} status --porcelain --untracked-files=no -- kernels bench src`).toString().trim() !== '';
const rec = {
  benchmark: 'eigh-vs-lapack', command,
  what: 'one call each, in its own process: eigh = symmetric eigendecomposition with vectors of an n x n uniform [-1,1) symmetric matrix; gemm = n x n times n x n; wall and cpu (user+sys, all threads) of the call alone; peak RSS of the whole process (input included)',
  ratios, runs, load_before: loadBefore, load_after: loadAfter,
  adapter: { device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), memory_gb: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version, commit: execSync(`git -C ${JSON.stringify(root)} rev-parse --short HEAD`).toString().trim() + (dirty ? '-dirty' : ''),
  date: new Date().toISOString(),
  note: 'machine shared with other engineers (2 cores): compare tools within one record; cpu seconds are steadier than wall',
};
fs.writeFileSync(out + '.tmp', JSON.stringify(rec, null, 2) + '\n');
fs.renameSync(out + '.tmp', out);
console.log(JSON.stringify(ratios, null, 2));
JS
