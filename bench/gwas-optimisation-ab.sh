#!/usr/bin/env bash
# A/B of the GWAS scan's per-SNP stage: `gpulmm gwas --bfile mouse_hs1940 --grm centered --test all --backend cpu
# --verbose` run with two builds (dist/ folders, e.g. an older commit's `git archive` built with tsc, and this
# tree's), alternating, REPS times each. Records every rep's stage times (`optimisation` is the thread-seconds
# of the per-SNP tests on the worker threads), the medians, and whether the two builds' assoc files are
# byte-identical. Machine shared: compare the two builds within one run only.
# Usage: bash bench/gwas-optimisation-ab.sh BEFORE_DIST BEFORE_COMMIT AFTER_DIST AFTER_COMMIT [REPS]
# Writes bench/results/gwas-optimisation-ab-cpu2.json (override with OUT=...).
set -euo pipefail
BEFORE=$(cd "$1" && pwd); BEFORE_COMMIT=$2; AFTER=$(cd "$3" && pwd); AFTER_COMMIT=$4; REPS=${5:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/mouse_hs1940}
OUT=${OUT:-$ROOT/bench/results/gwas-optimisation-ab-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$DATA"/mouse_hs1940.{bed,bim,fam} "$WORK"/
# Private copies of both builds (a concurrent build cannot change the code under measurement).
for side in before after; do
  mkdir -p "$WORK/$side"
  cp -r "$([ $side = before ] && echo "$BEFORE" || echo "$AFTER")" "$WORK/$side/dist"
  ln -s "$ROOT/node_modules" "$WORK/$side/node_modules"
done
cd "$WORK"
lines=()
for r in $(seq 1 "$REPS"); do
  for side in before after; do
    node "$WORK/$side/dist/src/cli/main.js" gwas --bfile mouse_hs1940 --grm centered --test all --backend cpu \
      --tsv "$side.assoc.txt" --out "$side.arrows" --verbose 2>"$side.log"
    line="$side $(grep '^time (s)' "$side.log")"
    echo "rep $r: $line; load $(cut -d' ' -f1 /proc/loadavg)" >&2
    lines+=("$line")
  done
done
SAME=$(cmp -s before.assoc.txt after.assoc.txt && echo true || echo false)
node - "$OUT" "$REPS" "$SAME" "$BEFORE_COMMIT" "$AFTER_COMMIT" "${lines[@]}" <<'JS'
const [out, reps, same, beforeCommit, afterCommit, ...lines] = process.argv.slice(2);
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const stages = (line) => Object.fromEntries([...line.matchAll(/([a-z+ ]+?) ([0-9.]+)(?:,|\s\[)/g)].map((m) => [m[1].trim(), Number(m[2])]));
const side = (name) => {
  const runs = lines.filter((l) => l.startsWith(name + ' ')).map(stages);
  return { runs, median_optimisation_s: median(runs.map((r) => r.optimisation)), median_total_s: median(runs.map((r) => r.total)) };
};
const before = side('before'), after = side('after');
const rec = {
  benchmark: 'gwas-optimisation-ab', dataset: 'mouse_hs1940 (1410 analysed individuals, 10768 SNPs tested)',
  command: `bash bench/gwas-optimisation-ab.sh BEFORE_DIST ${beforeCommit} AFTER_DIST ${afterCommit} ${reps}`,
  op: 'gpulmm gwas --grm centered --test all --backend cpu --verbose; optimisation = thread-seconds of the per-SNP tests',
  reps: Number(reps), before: { commit: beforeCommit, ...before }, after: { commit: afterCommit, ...after },
  ratio_optimisation_after_over_before: after.median_optimisation_s / before.median_optimisation_s,
  assoc_files_byte_identical: same === 'true',
  load_average_after: require('node:fs').readFileSync('/proc/loadavg', 'utf8').trim(),
  machine: { cpu: require('node:os').cpus()[0]?.model ?? 'unknown', logical_cores: require('node:os').availableParallelism() },
  node: process.version, date: new Date().toISOString(), note: 'machine shared with other work; stage seconds are wall seconds per thread',
};
require('node:fs').writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify({ before: before.median_optimisation_s, after: after.median_optimisation_s, ratio: rec.ratio_optimisation_after_over_before, same }));
JS
