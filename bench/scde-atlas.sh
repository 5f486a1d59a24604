#!/usr/bin/env bash
# Single-cell DE at atlas scale (issue 14): a simulated atlas (bench/scde-atlas-sim.ts) read by `gpulmm scde`
# from .h5ad and from a Cell Ranger .h5, lmm and pseudobulk timed with peak RSS (/usr/bin/time -v), the read alone
# timed separately; then lmerTest and limma-voom side by side with gpulmm on a 5,000-cell x 200-gene subsample.
#
#   bash bench/scde-atlas.sh data DIR                                   # simulate (long; run it niced, no lock)
#   flock /work/bench.lock bash bench/scde-atlas.sh run DIR OUT.json    # the timed runs and the agreement
#
# Scale: CELLS (default 1000000), GENES (10000), DONORS (100), SEED (1). DIR holds several GB: keep it out of
# the repository and delete it afterwards. The record (OUT.json) is assembled by bench/scde-atlas-record.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?data or run}"
dir="${2:?atlas directory}"
CELLS="${CELLS:-1000000}" GENES="${GENES:-10000}" DONORS="${DONORS:-100}" SEED="${SEED:-1}"
node_=node
if [ "$mode" = data ]; then
  exec node dist/bench/scde-atlas-sim.js --cells "$CELLS" --genes "$GENES" --donors "$DONORS" --seed "$SEED" --out "$dir"
fi
[ "$mode" = run ] || { echo "unknown mode $mode" >&2; exit 2; }
out="${3:?record file}"
work="$dir/run"
rm -rf "$work" && mkdir -p "$work"
timed() { # name, command...: /usr/bin/time -v around the command, stdout and stderr kept
  local name="$1"; shift
  echo "$*" > "$work/$name.cmd"
  /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.log"
}
common=(--donor donor --condition condition --contrast stim:ctrl --celltype cell_type --verbose)
uptime > "$work/uptime-before"
timed read-h5ad $node_ dist/bench/scde-read.js --h5ad "$dir/atlas.h5ad"
timed h5ad-lmm $node_ dist/src/cli/main.js scde --h5ad "$dir/atlas.h5ad" "${common[@]}" --method lmm --tsv "$work/h5ad-lmm.tsv"
timed h5ad-pseudobulk $node_ dist/src/cli/main.js scde --h5ad "$dir/atlas.h5ad" "${common[@]}" --method pseudobulk --tsv "$work/h5ad-pseudobulk.tsv"
# The crossed donor x batch model fits ~100 deviance evaluations per gene: one cell type keeps the lock short.
timed h5ad-lmm-random-batch-type1 $node_ dist/src/cli/main.js scde --h5ad "$dir/atlas.h5ad" "${common[@]}" --celltype-value type1 --method lmm --random batch --tsv "$work/h5ad-lmm-random-batch-type1.tsv"
timed read-h5 $node_ dist/bench/scde-read.js --h5 "$dir/atlas_10x.h5"
timed h5-lmm-pseudobulk $node_ dist/src/cli/main.js scde --h5 "$dir/atlas_10x.h5" --cells "$dir/cells.csv" "${common[@]}" --method lmm,pseudobulk --tsv "$work/h5-lmm-pseudobulk.tsv"
uptime > "$work/uptime-after"
# Agreement on a subsample (not timed against the targets).
sub="$work/subsample"
node dist/bench/scde-atlas-subsample.js --h5ad "$dir/atlas.h5ad" --cell-type type1 --n-cells 5000 --n-genes 200 --seed "$SEED" --out "$sub" > "$work/subsample.out"
for m in lmm pseudobulk; do
  node dist/src/cli/main.js scde --counts "$sub" --cells "$sub/cells.csv" --donor donor --condition condition --contrast stim:ctrl --method "$m" --tsv "$sub/gpulmm-$m.tsv" 2> /dev/null
done
node dist/src/cli/main.js scde --counts "$sub" --cells "$sub/cells.csv" --donor donor --condition condition --contrast stim:ctrl --method lmm --random batch --tsv "$sub/gpulmm-crossed.tsv" 2> /dev/null
Rscript bench/scde-atlas-agreement.R "$sub" "$sub/r.tsv" > "$sub/r.json"
node dist/bench/scde-atlas-record.js --dir "$dir" --work "$work" --out "$out"
