#!/usr/bin/env bash
# GWAS meta-analysis of 3 cohorts x VARIANTS (default 1,000,000) simulated variants (data/meta/make-gwas-cohorts.mjs:
# a GEMMA assoc.txt, a GWAS-SSF .tsv.gz and a BOLT table with swapped alleles, strand flips, mismatches, failed
# fits), `gpulmm meta --gwas` writing what a scan writes (TSV, Arrow stream, Manhattan and QQ plots of the fixed- and
# random-effects p), side by side with METAL (SCHEME STDERR + ANALYZE HETEROGENEITY, when $METAL names its binary;
# built from github.com/statgen/METAL at ab5d191 (2020-05-05): cmake -DCMAKE_BUILD_TYPE=Release .. && make) and, for correctness and the per-variant cost of a scripted reference, R's
# metafor rma(FE) + rma(DL) loop (data/meta/make-gwas-golden.R, which aligns alleles itself) on the first SUB lines of
# each cohort. Records wall / cpu seconds (median of REPS), peak RSS, load average before and after, and the
# largest differences from METAL (all shared markers) and from metafor (the subsample) in
# bench/results/gwas-meta-cpu2.json (override with OUT=...). Data and outputs go to $SCRATCH (deleted at the end
# unless KEEP=1).
# Usage: npm run build && METAL=/path/to/metal flock /work/bench.lock bash bench/gwas-meta.sh [REPS] [VARIANTS] [SUB]
set -euo pipefail
REPS=${1:-3}
VARIANTS=${2:-1000000}
SUB=${3:-1500}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/gwas-meta-cpu2.json}
SCRATCH=${SCRATCH:-/tmp/gpulmm-gwas-meta}
METAL=${METAL:-}
mkdir -p "$SCRATCH/cohorts" "$SCRATCH/metal"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH"
C="$SCRATCH/cohorts"
/usr/bin/time -f "%e %U %S %M" -o gen.time node "$ROOT/data/meta/make-gwas-cohorts.mjs" --variants "$VARIANTS" --out "$C" --seed 15 >/dev/null
LOAD_BEFORE=$(cat /proc/loadavg)
: > times.txt
for r in $(seq 1 "$REPS"); do
  rm -rf ours.*
  /usr/bin/time -f "%e %U %S %M" -o t node "$ROOT/dist/src/cli/main.js" meta --gwas "$C/cohort1.assoc.txt" "$C/cohort2.tsv.gz" "$C/cohort3.bolt.tsv" \
    --tsv ours.tsv --out ours.arrows --plot ours --json ours.json > ours.log
  echo "ours $(cat t)" >> times.txt
  echo "rep $r ours: $(cat t)" >&2
  if [ -n "$METAL" ]; then
    cat > metal.cfg <<CFG
SCHEME STDERR
EFFECT_PRINT_PRECISION 8
STDERR_PRINT_PRECISION 8
MARKER rs
ALLELE allele1 allele0
EFFECT beta
STDERR se
PROCESS $C/cohort1.assoc.txt
MARKER rsid
ALLELE effect_allele other_allele
EFFECT beta
STDERR standard_error
PROCESS $C/cohort2.tsv.gz
MARKER SNP
ALLELE ALLELE1 ALLELE0
EFFECT BETA
STDERR SE
PROCESS $C/cohort3.bolt.tsv
OUTFILE $SCRATCH/metal/META .TBL
ANALYZE HETEROGENEITY
QUIT
CFG
    rm -f metal/META*
    /usr/bin/time -f "%e %U %S %M" -o t "$METAL" metal.cfg > metal.log
    echo "metal $(cat t)" >> times.txt
    echo "rep $r metal: $(cat t)" >&2
  fi
done
/usr/bin/time -f "%e %U %S %M" -o t Rscript "$ROOT/data/meta/make-gwas-golden.R" "$C" "$SUB" metafor-sub.json >/dev/null 2>&1
echo "metafor $(cat t)" >> times.txt
LOAD_AFTER=$(cat /proc/loadavg)
node "$ROOT/bench/gwas-meta-record.mjs" --root "$ROOT" --out "$OUT" --scratch "$SCRATCH" --reps "$REPS" --variants "$VARIANTS" --sub "$SUB" \
  --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" --metal "$METAL"
