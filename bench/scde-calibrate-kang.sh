#!/usr/bin/env bash
# Kang PBMC real-null calibration of scde for every cell type: all 35 balanced 4-vs-4 donor splits per cell type
# (gpulmm scde-calibrate), methods lmm, pseudobulk (TMM) and welch; one record per cell type.
#   bash bench/scde-calibrate-kang.sh [data=../shared/data/sc/kang_ctrl_8donors] [outDir=bench/results/scde-calibrate-kang]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/sc/kang_ctrl_8donors}"
out="${2:-bench/results/scde-calibrate-kang}"
mkdir -p "$out"
# Cell types with their cell counts, from cells.csv (column cluster_id).
mapfile -t types < <(tail -n +2 "$data/cells.csv" | awk -F'","|",|,"' '{gsub(/"/, "", $NF); print $NF}' | sort -u)
for ct in "${types[@]}"; do
  slug="$(echo "$ct" | tr -c 'A-Za-z0-9+\n' '_' | sed 's/_*$//')"
  node dist/src/cli/main.js scde-calibrate --counts "$data" --cells "$data/cells.csv" --donor sample_id \
    --celltype cluster_id --celltype-value "$ct" --methods lmm,pseudobulk,welch --json "$out/$slug.json" 2>/dev/null \
    | sed "s/^/$ct: /"
done
