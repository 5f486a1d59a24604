#!/usr/bin/env bash
# Kinship of mouse_hs1940, side by side in one command on the same machine: GEMMA 0.98.5 `-gk 1` (centred,
# cXX) and `gpulmm grm --grm centered --backend cpu`, REPS repetitions each (alternating). Records wall and
# cpu (user + sys) seconds, medians, ratios, the load average, and how far our K is from GEMMA's printed K
# (max |ours - gemma| in units of GEMMA's 10th significant digit; entries whose 10th digit is below 1e-12 max|K|
# are compared at that level). Writes bench/results/grm-mouse-cpu2.json (override with OUT=...).
# Usage: npm run build && bash bench/grm-vs-gemma.sh [REPS]     (needs `gemma` on PATH)
set -euo pipefail
REPS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/mouse_hs1940}
OUT=${OUT:-$ROOT/bench/results/grm-mouse-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$DATA"/mouse_hs1940.{bed,bim,fam} "$WORK"/
cd "$WORK"
wall=(); cpu=()
timed() { /usr/bin/time -f "%e %U %S" -o t.txt "$@" >/dev/null 2>&1; read -r e u s < t.txt; wall+=("$e"); cpu+=("$(echo "$u + $s" | bc)"); }
for r in $(seq 1 "$REPS"); do
  timed gemma -bfile mouse_hs1940 -gk 1 -o kin
  timed node "$ROOT/dist/src/cli/main.js" grm --bfile mouse_hs1940 --grm centered --backend cpu --out ours.cXX.txt
  echo "rep $r: gemma ${wall[-2]} s (cpu ${cpu[-2]}), gpulmm ${wall[-1]} s (cpu ${cpu[-1]})" >&2
done
node - "$ROOT" "$OUT" "$REPS" "$WORK/output/kin.cXX.txt" "$WORK/ours.cXX.txt" "${wall[@]}" "${cpu[@]}" <<'JS'
const [root, out, reps, gemmaK, oursK, ...t] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os');
const { execSync } = require('node:child_process');
const n = Number(reps);
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pick = (arr, k) => arr.filter((_, i) => i % 2 === k).map(Number);
const wall = t.slice(0, 2 * n), cpu = t.slice(2 * n);
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
  benchmark: 'grm-vs-gemma', dataset: 'mouse_hs1940 (1940 individuals; SNP filters on the 1410 with phenotype: 10768 of 12226 SNPs)',
  op: 'centred kinship (GEMMA -gk 1) from PLINK files to a GEMMA text file', backend: 'cpu', precision: 'exact integer Gram + f64 centring',
  reference: 'GEMMA 0.98.5 (Debian, OpenBLAS): gemma -bfile mouse_hs1940 -gk 1',
  command: `bash bench/grm-vs-gemma.sh ${n}`,
  reps: n,
  gemma_wall_s: pick(wall, 0), gpulmm_wall_s: pick(wall, 1),
  gemma_median_wall_s: median(pick(wall, 0)), gpulmm_median_wall_s: median(pick(wall, 1)),
  ratio_wall_gpulmm_over_gemma: median(pick(wall, 1)) / median(pick(wall, 0)),
  gemma_cpu_s: pick(cpu, 0), gpulmm_cpu_s: pick(cpu, 1),
  gemma_median_cpu_s: median(pick(cpu, 0)), gpulmm_median_cpu_s: median(pick(cpu, 1)),
  ratio_cpu_gpulmm_over_gemma: median(pick(cpu, 1)) / median(pick(cpu, 0)),
  max_error_last_digit_units: units, identical_printed_entries: `${identical}/${total}`,
  load_average_after: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: execSync(`git -C ${JSON.stringify(root)} rev-parse HEAD`).toString().trim(),
  date: new Date().toISOString(), note: 'machine shared with other work: wall seconds depend on its load; cpu seconds are steadier',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
