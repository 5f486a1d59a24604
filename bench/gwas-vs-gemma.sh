#!/usr/bin/env bash
# GEMMA 0.98.5 (-gk 1 then -lmm 4) and `gpulmm gwas` (kinship + eigh + lmm 4 in one command) on mouse_hs1940,
# side by side in one command on the same machine, REPS repetitions each (alternating), medians and the ratio.
# Wall-clock seconds are the headline; CPU seconds (user + sys of all threads) are recorded too, because the
# machine is shared and wall time swings with other people's load.
# Writes the record to bench/results/gwas-mouse-cpu2.json (override with OUT=...).
# Usage: bash bench/gwas-vs-gemma.sh [REPS]   (needs `gemma` on PATH and `npm run build` done)
set -euo pipefail
REPS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/mouse_hs1940}
OUT=${OUT:-$ROOT/bench/results/gwas-mouse-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$DATA"/mouse_hs1940.{bed,bim,fam} "$WORK"/
# A private copy of the build, so that a concurrent `npm run build` cannot change the code under measurement.
cp -r "$ROOT/dist" "$WORK/dist"
# The commit the copied build was made from (taken now: others may commit during the run), '-dirty' when the
# measured code (src, gwas, kernels) differs from it.
COMMIT=$(git -C "$ROOT" rev-parse HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain -- src gwas kernels)" ]; then COMMIT="$COMMIT-dirty"; fi
ln -s "$ROOT/node_modules" "$WORK/node_modules"
cd "$WORK"
gemma_s=(); ours_s=(); gemma_cpu=(); ours_cpu=(); ours_verbose=()
TIMEFORMAT='%R %U %S'
run_gemma() {
  gemma -bfile mouse_hs1940 -gk 1 -o kin >/dev/null 2>&1
  gemma -bfile mouse_hs1940 -k output/kin.cXX.txt -lmm 4 -n 1 -o lmm >/dev/null 2>&1
}
run_ours() {
  node "$WORK/dist/src/cli/main.js" gwas --bfile mouse_hs1940 --grm centered --test all --backend cpu \
    --tsv ours.assoc.txt --out ours.arrows --verbose 2>ours.log
}
for r in $(seq 1 "$REPS"); do
  read -r gw gu gs < <( { time run_gemma; } 2>&1 )
  read -r ow ou os < <( { time run_ours; } 2>&1 )
  ours_verbose+=("$(grep '^time (s)' ours.log)")
  gemma_s+=("$gw"); ours_s+=("$ow")
  gemma_cpu+=("$(echo "$gu + $gs" | bc)"); ours_cpu+=("$(echo "$ou + $os" | bc)")
  echo "rep $r: gemma ${gw} s (cpu ${gemma_cpu[-1]} s), gpulmm ${ow} s (cpu ${ours_cpu[-1]} s) [${ours_verbose[-1]}]; load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
SAME=$(paste <(tail -n +2 output/lmm.assoc.txt) <(tail -n +2 ours.assoc.txt) | awk -F'\t' '{n++; h=NF/2; s=1; for(i=1;i<=h;i++) if($i!=$(i+h)) s=0; same+=s} END {print same "/" n}')
node - "$OUT" "$COMMIT" "$REPS" "$SAME" "$(printf '%s\n' "${ours_verbose[@]}")" "${gemma_s[@]}" "${ours_s[@]}" "${gemma_cpu[@]}" "${ours_cpu[@]}" <<'JS'
const [out, commit, reps, same, verbose, ...times] = process.argv.slice(2);
const n = Number(reps);
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const gemma = times.slice(0, n).map(Number), ours = times.slice(n, 2 * n).map(Number);
const gemmaCpu = times.slice(2 * n, 3 * n).map(Number), oursCpu = times.slice(3 * n).map(Number);
const os = require('node:os');
const rec = {
  benchmark: 'gwas-vs-gemma', dataset: 'mouse_hs1940 (1940 individuals, 1410 analysed, 12226 SNPs, 10768 analysed)',
  op: 'kinship (-gk 1) + eigh + lmm 4 (Wald, LRT, score), end to end from PLINK files', backend: 'cpu', precision: 'f64',
  reference: 'GEMMA 0.98.5 (Debian, OpenBLAS), gemma -gk 1 then gemma -k ... -lmm 4',
  command: 'bash bench/gwas-vs-gemma.sh ' + n,
  reps: n, gemma_s: gemma, gpulmm_s: ours, gemma_median_s: median(gemma), gpulmm_median_s: median(ours),
  ratio_gpulmm_over_gemma: median(ours) / median(gemma),
  gemma_cpu_s: gemmaCpu, gpulmm_cpu_s: oursCpu, gemma_median_cpu_s: median(gemmaCpu), gpulmm_median_cpu_s: median(oursCpu),
  ratio_cpu_gpulmm_over_gemma: median(oursCpu) / median(gemmaCpu),
  load_average_after: require('node:fs').readFileSync('/proc/loadavg', 'utf8').trim(),
  gpulmm_stage_times: verbose.split('\n'),
  identical_assoc_lines: same,
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit,
  date: new Date().toISOString(), note: 'machine shared with other work; wall-clock seconds',
};
require('node:fs').writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
