#!/usr/bin/env bash
# Kinship side by side in one command on the same machine: GEMMA 0.98.5 `-gk 1` (centred, cXX) and `gpulmm grm
# --grm centered --backend cpu`, REPS repetitions each (alternating), on mouse_hs1940 or, with SIM="N M", on a
# cohort made on the spot by the committed simulator (data/simulate/cohort.mjs --n N --m M --seed 1: structure,
# families, 2% missing). With BEFORE_DIST (a dist/ folder of an older build) that build's `gpulmm grm` runs too,
# labelled BEFORE_LABEL, and the record says whether its K file is byte-identical to this build's. Records wall
# and cpu (user + sys) seconds, peak RSS, medians, ratios, the load average, and how far our K is from GEMMA's
# printed K (max |ours - gemma| in units of GEMMA's 10th significant digit; entries whose 10th digit is below
# 1e-12 max|K| are compared at that level). Writes bench/results/grm-mouse-cpu2.json, or
# grm-sim<N>x<M>-cpu2.json with SIM (override with OUT=...).
# Usage: npm run build && [SIM="5000 50000"] [BEFORE_DIST=... BEFORE_LABEL=...] bash bench/grm-vs-gemma.sh [REPS]
# (needs `gemma` on PATH)
set -euo pipefail
REPS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/mouse_hs1940}
SIM=${SIM:-}
BEFORE_DIST=${BEFORE_DIST:-}
BEFORE_LABEL=${BEFORE_LABEL:-before}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -n "$SIM" ]; then
  read -r SIM_N SIM_M <<< "$SIM"
  PREFIX=sim; OUT=${OUT:-$ROOT/bench/results/grm-sim${SIM_N}x${SIM_M}-cpu2.json}
  node "$ROOT/data/simulate/cohort.mjs" --out "$WORK/sim" --n "$SIM_N" --m "$SIM_M" --seed 1 >&2
  DATASET="simulated cohort: node data/simulate/cohort.mjs --n $SIM_N --m $SIM_M --seed 1 (2 subpopulations, 30% in families, 2% missing genotypes)"
else
  PREFIX=mouse_hs1940; OUT=${OUT:-$ROOT/bench/results/grm-mouse-cpu2.json}
  cp "$DATA"/mouse_hs1940.{bed,bim,fam} "$WORK"/
  DATASET="mouse_hs1940 (1940 individuals; SNP filters on the 1410 with phenotype: 10768 of 12226 SNPs)"
fi
# Private copies of the builds (a concurrent build cannot change the code under measurement).
mkdir -p "$WORK/after"; cp -r "$ROOT/dist" "$WORK/after/dist"; ln -s "$ROOT/node_modules" "$WORK/after/node_modules"
if [ -n "$BEFORE_DIST" ]; then
  mkdir -p "$WORK/before"; cp -r "$BEFORE_DIST" "$WORK/before/dist"; ln -s "$ROOT/node_modules" "$WORK/before/node_modules"
fi
LOAD_BEFORE=$(cat /proc/loadavg)
cd "$WORK"
wall=(); cpu=(); rss=(); bwall=(); bcpu=(); brss=()
timed() { /usr/bin/time -f "%e %U %S %M" -o t.txt "$@" >/dev/null 2>&1; read -r e u s m < t.txt; T_WALL=$e; T_CPU=$(echo "$u + $s" | bc); T_RSS=$m; }
for r in $(seq 1 "$REPS"); do
  timed gemma -bfile $PREFIX -gk 1 -o kin; wall+=("$T_WALL"); cpu+=("$T_CPU"); rss+=("$T_RSS")
  timed node "$WORK/after/dist/src/cli/main.js" grm --bfile $PREFIX --grm centered --backend cpu --out ours.cXX.txt; wall+=("$T_WALL"); cpu+=("$T_CPU"); rss+=("$T_RSS")
  echo "rep $r: gemma ${wall[-2]} s (cpu ${cpu[-2]}), gpulmm ${wall[-1]} s (cpu ${cpu[-1]}); load $(cut -d' ' -f1 /proc/loadavg)" >&2
  if [ -n "$BEFORE_DIST" ]; then
    timed node "$WORK/before/dist/src/cli/main.js" grm --bfile $PREFIX --grm centered --backend cpu --out before.cXX.txt; bwall+=("$T_WALL"); bcpu+=("$T_CPU"); brss+=("$T_RSS")
    echo "rep $r: $BEFORE_LABEL ${bwall[-1]} s (cpu ${bcpu[-1]})" >&2
  fi
done
IDENTICAL=null
[ -z "$BEFORE_DIST" ] || IDENTICAL=$(cmp -s before.cXX.txt ours.cXX.txt && echo true || echo false)
LOAD_AFTER=$(cat /proc/loadavg)
CMD="${SIM:+SIM=\"$SIM\" }${BEFORE_DIST:+BEFORE_DIST=... BEFORE_LABEL=$BEFORE_LABEL }bash bench/grm-vs-gemma.sh $REPS"
node - "$ROOT" "$OUT" "$REPS" "$WORK/output/kin.cXX.txt" "$WORK/ours.cXX.txt" "$DATASET" "$CMD" "$LOAD_BEFORE" "$LOAD_AFTER" "$IDENTICAL" "$BEFORE_LABEL" \
  "${wall[*]}" "${cpu[*]}" "${rss[*]}" "${bwall[*]:-}" "${bcpu[*]:-}" "${brss[*]:-}" <<'JS'
const [root, out, reps, gemmaK, oursK, dataset, command, loadBefore, loadAfter, beforeSame, beforeLabel, ...lists] = process.argv.slice(2);
const [wall, cpu, rss, bwall, bcpu, brss] = lists.map((l) => (l.trim() === '' ? [] : l.trim().split(' ').map(Number)));
const fs = require('node:fs'), os = require('node:os');
const { execSync } = require('node:child_process');
const n = Number(reps);
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pick = (arr, k) => arr.filter((_, i) => i % 2 === k).map(Number);
const g = fs.readFileSync(gemmaK, 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
const o = fs.readFileSync(oursK, 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
const scale = Math.max(...g.map((r, i) => Math.abs(r[i])));
let units = 0, identical = 0, total = 0;
g.forEach((r, i) => r.forEach((v, j) => {
  const digit = v === 0 ? 0 : 10 ** (Math.floor(Math.log10(Math.abs(v))) - 9);
  units = Math.max(units, Math.abs(o[i][j] - v) / Math.max(digit, 1e-12 * scale));
  total++; if (o[i][j] === v) identical++;
}));
const rec = {
  benchmark: 'grm-vs-gemma', dataset,
  op: 'centred kinship (GEMMA -gk 1) from PLINK files to a GEMMA text file', backend: 'cpu', precision: 'exact integer Gram + f64 centring',
  reference: 'GEMMA 0.98.5 (Debian, OpenBLAS): gemma -bfile PREFIX -gk 1',
  command,
  reps: n,
  gemma_wall_s: pick(wall, 0), gpulmm_wall_s: pick(wall, 1),
  gemma_median_wall_s: median(pick(wall, 0)), gpulmm_median_wall_s: median(pick(wall, 1)),
  ratio_wall_gpulmm_over_gemma: median(pick(wall, 1)) / median(pick(wall, 0)),
  gemma_cpu_s: pick(cpu, 0), gpulmm_cpu_s: pick(cpu, 1),
  gemma_median_cpu_s: median(pick(cpu, 0)), gpulmm_median_cpu_s: median(pick(cpu, 1)),
  ratio_cpu_gpulmm_over_gemma: median(pick(cpu, 1)) / median(pick(cpu, 0)),
  gemma_peak_rss_kb: pick(rss, 0), gpulmm_peak_rss_kb: pick(rss, 1),
  ...(bwall.length ? {
    before: { label: beforeLabel, wall_s: bwall, cpu_s: bcpu, peak_rss_kb: brss, median_wall_s: median(bwall), median_cpu_s: median(bcpu),
      ratio_wall_gpulmm_over_before: median(pick(wall, 1)) / median(bwall), k_file_identical_to_gpulmm: beforeSame === "true" },
  } : {}),
  max_error_last_digit_units: units, identical_printed_entries: `${identical}/${total}`,
  load_average_before: loadBefore, load_average_after: loadAfter,
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: execSync(`git -C ${JSON.stringify(root)} rev-parse HEAD`).toString().trim(),
  date: new Date().toISOString(), note: 'machine shared with other work: wall seconds depend on its load; cpu seconds are steadier',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
