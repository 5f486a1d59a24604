#!/usr/bin/env bash
# Binary traits (issue 12): calibration, power and per-variant cost of `gpulmm gwas --trait binary` (logistic
# mixed model, score test with SPA p, Firth below p 0.05) beside the linear LMM on the same 0/1 phenotype
# (`--trait quantitative --test wald`, GEMMA -lmm 1), on one seeded cohort from data/simulate/cohort.mjs:
# N individuals (2 subpopulations, 30% in nuclear families), M null SNPs plus 20 causal (30% of SNPs with
# ancestral MAF 0.001-0.01), a liability-threshold trait with prevalence 2% (1:49), h2 0.4, age + sex covariates.
# Both scans read one kinship file (`gpulmm grm --format binary`). Writes bench/results/gwas-binary-cpu2.json
# (OUT=... overrides bench/results/gwas-binary-nN-cpu2.json) via dist/bench/gwas-binary-summary.js; generated data go to SCRATCH and are deleted.
# Usage (timings: under the bench lock, after npm run build):
#   flock /work/bench.lock bash bench/gwas-binary.sh [SCRATCH] [N] [M]      (defaults /tmp/gpulmm-gwas-binary 5000 100000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=${1:-/tmp/gpulmm-gwas-binary}; N=${2:-5000}; M=${3:-100000}; CAUSAL=20
OUT=${OUT:-$ROOT/bench/results/gwas-binary-n$N-cpu2.json}
mkdir -p "$SCRATCH"
WORK=$(mktemp -d -p "$SCRATCH")
trap 'cp -f "$WORK"/*.log "$WORK"/*.time "$SCRATCH"/ 2>/dev/null || true; rm -rf "$WORK"' EXIT
# A private copy of the build (a concurrent `npm run build` cannot change the code under measurement).
cp -r "$ROOT/dist" "$WORK/dist"
ln -s "$ROOT/node_modules" "$WORK/node_modules"
COMMIT=$(git -C "$ROOT" rev-parse HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain -- src gwas kernels bench)" ]; then COMMIT="$COMMIT-dirty"; fi
cd "$WORK"
P=$WORK/c
COHORT=(--n "$N" --m $((M + CAUSAL)) --causal $CAUSAL --h2 0.4 --prevalence 0.02 --maf 0.001-0.01:0.3,0.01-0.5:0.7 --seed 7)
node "$ROOT/data/simulate/cohort.mjs" --out "$P" "${COHORT[@]}" 2> cohort.log
echo "cohort.mjs ${COHORT[*]}: $(cat cohort.log)" > cohort.txt
LOAD_BEFORE=$(cat /proc/loadavg)
GPULMM="node $WORK/dist/src/cli/main.js"
COMMON=(--bfile "$P" --pheno "$P.pheno.txt" --pheno-col 2 --covar "$P.covar.txt" --kinship K.bin --maf 0.001 --backend cpu --verbose)
/usr/bin/time -v $GPULMM grm --bfile "$P" --format binary --out K.bin --backend cpu --verbose 2> grm.log
/usr/bin/time -v -o lin.time $GPULMM gwas "${COMMON[@]}" --trait quantitative --test wald --out lin.arrows 2> lin.log
/usr/bin/time -v -o bin.time $GPULMM gwas "${COMMON[@]}" --trait binary --out bin.arrows 2> bin.log
LOAD_AFTER=$(cat /proc/loadavg)
node dist/bench/gwas-binary-summary.js "$WORK" "$P" summary.json
node -e '
const s = JSON.parse(require("fs").readFileSync("summary.json", "utf8"));
const [out, commit, before, after, grm] = process.argv.slice(1);
const rec = { command: "flock /work/bench.lock bash bench/gwas-binary.sh", commit, node: process.version,
  machine: "2-core development machine (shared), cpu backend", loadavgBefore: before, loadavgAfter: after,
  kinship: grm.split("\n").filter((l) => /time|K /.test(l)).slice(-2), ...s };
require("fs").writeFileSync(out, JSON.stringify(rec, null, 2) + "\n");
' "$OUT" "$COMMIT" "$LOAD_BEFORE" "$LOAD_AFTER" "$(cat grm.log)"
echo "wrote $OUT" >&2
