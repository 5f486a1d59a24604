#!/usr/bin/env bash
# GWAS at scale, gpulmm and GEMMA side by side in one command: for each n (default 2000 5000 10000), a seeded
# simulated cohort (data/simulate/cohort.mjs: two subpopulations, families, 2% missing genotypes; m SNPs,
# default 50000) is scanned end to end by
#   GEMMA 0.98.5:  gemma -bfile C -gk 1, then gemma -bfile C -k C.cXX.txt -lmm 4      (two commands)
#   gpulmm:        gpulmm gwas --bfile C --grm centered --test all --mode exact --backend cpu --verbose
# each under /usr/bin/time (wall, user + sys cpu, peak RSS), with gpulmm's own stage times and per-stage peak
# RSS (--verbose) and its memory plan. The results are compared SNP by SNP (same SNP set, af and n_miss as
# printed, max |delta log10 p| of Wald, LRT and score). Writes bench/results/gwas-scale-cpu2.json and a plot
# of time and peak memory against n, bench/results/gwas-scale-cpu2.svg (override with OUT=PREFIX).
# Usage: npm run build && flock /work/bench.lock bash bench/gwas-scale.sh [N ...]
#   M=50000 SEED=1 SCRATCH=/tmp (where the cohorts go; 4 n m / 16 bytes each, deleted at the end)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=("${@:-2000 5000 10000}")
read -r -a SIZES <<< "${SIZES[*]}"
M=${M:-50000}
SEED=${SEED:-1}
OUT=${OUT:-$ROOT/bench/results/gwas-scale-cpu2}
WORK=$(mktemp -d "${SCRATCH:-/tmp}/gwas-scale.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# A private copy of the build, so that a concurrent `npm run build` cannot change the code under measurement.
cp -r "$ROOT/dist" "$WORK/dist"
ln -s "$ROOT/node_modules" "$WORK/node_modules"
# The commit measured (COMMIT=... when ROOT is an exported copy of it, not a checkout).
if [ -z "${COMMIT:-}" ]; then
  COMMIT=$(git -C "$ROOT" rev-parse HEAD)
  if [ -n "$(git -C "$ROOT" status --porcelain -- src gwas kernels)" ]; then COMMIT="$COMMIT-dirty"; fi
fi
LOAD_BEFORE=$(cat /proc/loadavg)
cd "$WORK"
# One timed command: "wall user sys maxrss_kb" appended to $1.
timed() { local rec=$1; shift; /usr/bin/time -f "%e %U %S %M" -o t.txt "$@"; cat t.txt >> "$rec"; }
for n in "${SIZES[@]}"; do
  c="c$n"
  node "$ROOT/data/simulate/cohort.mjs" --out "$c" --n "$n" --m "$M" --seed "$SEED" >&2
  rm -rf output
  timed "$c.gemma-gk.time" gemma -bfile "$c" -gk 1 -o "$c" >/dev/null 2>&1
  timed "$c.gemma-lmm.time" gemma -bfile "$c" -k "output/$c.cXX.txt" -lmm 4 -o "$c.lmm" >/dev/null 2>&1
  timed "$c.gpulmm.time" node "$WORK/dist/src/cli/main.js" gwas --bfile "$c" --grm centered --test all --mode exact \
    --backend cpu --tsv "$c.gpulmm.assoc.txt" --verbose 2> "$c.gpulmm.log"
  mv "output/$c.lmm.assoc.txt" "$c.gemma.assoc.txt"
  echo "n=$n: gemma -gk $(cut -d' ' -f1 "$c.gemma-gk.time") s, -lmm 4 $(cut -d' ' -f1 "$c.gemma-lmm.time") s; gpulmm $(cut -d' ' -f1 "$c.gpulmm.time") s; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  rm -f "$c.bed" "output/$c.cXX.txt"
done
node "$ROOT/bench/gwas-scale-report.mjs" "$OUT" "$COMMIT" "$M" "$SEED" "$LOAD_BEFORE" "${SIZES[@]}"
