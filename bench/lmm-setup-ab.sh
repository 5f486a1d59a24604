#!/usr/bin/env bash
# A/B of the mixed-model set-up on InstEval (y ~ factor(service) + (1 | s) + (1 | d) + (1 | dept:service),
# 73421 rows; R exports lme4's InstEval to a temporary CSV): two private builds of this working tree, "before"
# with the changes of COMMITS (comma-separated, newest first) to FILES reversed and "after" as it is
# (everything else, other commits' and uncommitted edits of FILES included, identical on both sides, so no
# other change enters the comparison). Alternating, ROUNDS times each: the set-up stages
# (node dist/bench/lmm-setup.js, 7 repetitions per process: cpu seconds of the frame, designs and PLS
# cross-products) and the whole fit (node dist/bench/fit-lmm.js, 3 fits per process: wall and cpu seconds).
# Records every value, the medians over all repetitions, the after / before ratios, and whether the two
# builds' REML criteria are identical. Machine shared: compare the two sides within one run only.
# Usage: bash bench/lmm-setup-ab.sh COMMITS [ROUNDS] [FILES...]
#   (FILES default: src/lmm/mixed/model-frame.ts src/lmm/mixed/design.ts src/lmm/mixed/pls.ts; needs R + lme4)
# Writes bench/results/lmm-setup-ab-cpu2.json (override with OUT=...).
set -euo pipefail
COMMITS_ARG=$1; IFS=, read -r -a COMMITS <<< "$1"; ROUNDS=${2:-3}; shift 2 || shift 1
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=(src/lmm/mixed/model-frame.ts src/lmm/mixed/design.ts src/lmm/mixed/pls.ts)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/lmm-setup-ab-cpu2.json}
FORMULA="y ~ factor(service) + (1 | s) + (1 | d) + (1 | dept:service)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
Rscript -e 'suppressPackageStartupMessages(library(lme4)); write.csv(InstEval, commandArgs(TRUE)[1], row.names = FALSE)' "$WORK/insteval.csv"
for side in before after; do
  mkdir -p "$WORK/$side"
  (cd "$ROOT" && cp -r src kernels gwas bench tsconfig.json package.json "$WORK/$side/")
  ln -s "$ROOT/node_modules" "$WORK/$side/node_modules"
  if [ $side = before ]; then
    for c in "${COMMITS[@]}"; do
      patch=$(git -C "$ROOT" show --format= "$c" -- "${FILES[@]}")
      [ -z "$patch" ] || printf '%s\n' "$patch" | (cd "$WORK/before" && git apply -R)
    done
  fi
  (cd "$WORK/$side" && npx tsc -p tsconfig.json)
done
for r in $(seq 1 "$ROUNDS"); do
  for side in before after; do
    node "$WORK/$side/dist/bench/lmm-setup.js" "$WORK/insteval.csv" "$FORMULA" 7 > "$WORK/$side-setup-$r.json"
    node "$WORK/$side/dist/bench/fit-lmm.js" "$WORK/insteval.csv" "$FORMULA" 3 > "$WORK/$side-fit-$r.json"
    echo "round $r $side: load $(cut -d' ' -f1 /proc/loadavg)" >&2
  done
done
AFTER_DIRTY=$(git -C "$ROOT" status --porcelain -- "${FILES[@]}" bench/lmm-setup.ts bench/fit-lmm.ts)
node - "$OUT" "$ROUNDS" "$WORK" "$COMMITS_ARG" "$(git -C "$ROOT" rev-parse HEAD)${AFTER_DIRTY:+-dirty}" "${FILES[*]}" <<'JS'
const [out, rounds, work, beforeCommit, afterCommit, files] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const side = (name) => {
  const read = (kind) => Array.from({ length: Number(rounds) }, (_, i) => JSON.parse(fs.readFileSync(path.join(work, `${name}-${kind}-${i + 1}.json`), 'utf8')));
  const setups = read('setup'), fits = read('fit');
  const stage = (k) => setups.flatMap((s) => s.cpu_s[k]);
  const setup_cpu_s = Object.fromEntries(['frame', 'design', 'pls', 'total'].map((k) => [k, stage(k)]));
  const setup_cpu_median_s = Object.fromEntries(Object.entries(setup_cpu_s).map(([k, v]) => [k, median(v)]));
  const fit_s = fits.flatMap((f) => f.times_s), fit_cpu_s = fits.flatMap((f) => f.cpu_s);
  return {
    setup_cpu_s, setup_cpu_median_s, fit_s, fit_cpu_s, fit_median_s: median(fit_s), fit_cpu_median_s: median(fit_cpu_s),
    REMLcrit: fits.map((f) => f.REMLcrit), evals: fits.map((f) => f.evals), nobs: fits[0].nobs, m: setups[0].m,
  };
};
const before = side('before'), after = side('after');
const rec = {
  benchmark: 'lmm-setup-ab', dataset: 'InstEval (lme4), 73421 rows', formula: 'y ~ factor(service) + (1 | s) + (1 | d) + (1 | dept:service)',
  command: `bash bench/lmm-setup-ab.sh ${beforeCommit} ${rounds}`, rounds: Number(rounds),
  stages: 'frame = parseFormula + buildModelFrame; design = modelMatrix + dropRankDeficient + buildReTerms; pls = new BlockedPls (cross-products); cpu seconds, 7 repetitions per process (the first of each includes JIT warm-up)',
  before: { commit: `${afterCommit} with the changes of ${beforeCommit} to the files reversed`, files: files.split(' '), ...before }, after: { commit: afterCommit, ...after },
  ratio_setup_total_after_over_before: after.setup_cpu_median_s.total / before.setup_cpu_median_s.total,
  ratio_fit_after_over_before: after.fit_median_s / before.fit_median_s,
  REMLcrit_identical: before.REMLcrit.every((v, i) => v === after.REMLcrit[i]),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', logical_cores: os.availableParallelism() },
  node: process.version, date: new Date().toISOString(), load_average_after: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  note: 'machine shared with other work; fit_s wall-clock seconds per fit, fit_cpu_s user + system seconds of all threads',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify({ before: before.setup_cpu_median_s, after: after.setup_cpu_median_s, fit_before: before.fit_median_s, fit_after: after.fit_median_s, same: rec.REMLcrit_identical }));
JS
