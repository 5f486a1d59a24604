#!/usr/bin/env bash
# lme4::lmer and `fit` (src/lmm/mixed) side by side in one command on the same machine: sleepstudy
# (Reaction ~ Days + (Days | Subject), 180 rows) and InstEval (y ~ service + (1 | s) + (1 | d) +
# (1 | dept:service), 73421 rows). R exports both datasets to CSV in a temporary directory (not committed);
# each tool then times the model fit alone (data already in memory), REPS repetitions (sleepstudy 20x more):
# wall-clock and CPU (user + system, all threads) medians, their ratios gpulmm / lme4, evaluation counts and
# the load average before and after. Writes bench/results/fit-vs-lme4-cpu2.json (override with OUT=...).
# Usage: bash bench/fit-vs-lme4.sh [REPS]   (needs R with lme4 and `npm run build` done)
set -euo pipefail
REPS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/fit-vs-lme4-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SMALL_REPS=$((REPS * 20))
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
Rscript - "$WORK" "$REPS" "$SMALL_REPS" > "$WORK/r.json" <<'R'
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(TRUE); work <- args[1]; reps <- as.integer(args[2]); small <- as.integer(args[3])
write.csv(sleepstudy, file.path(work, "sleepstudy.csv"), row.names = FALSE)
write.csv(InstEval, file.path(work, "insteval.csv"), row.names = FALSE)
time_fit <- function(f, n) {
  t <- numeric(n); cpu <- numeric(n)
  for (i in seq_len(n)) { st <- system.time(fit <- f()); t[i] <- st[["elapsed"]]; cpu[i] <- st[["user.self"]] + st[["sys.self"]] }
  list(t = t, cpu = cpu, fit = fit)
}
s <- time_fit(function() lmer(Reaction ~ Days + (Days | Subject), sleepstudy), small)
ie <- time_fit(function() lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept:service), InstEval), reps)
cat(jsonlite::toJSON(list(
  sleepstudy = list(times_s = s$t, cpu_s = s$cpu, REMLcrit = REMLcrit(s$fit), theta = unname(getME(s$fit, "theta")), evals = s$fit@optinfo$feval),
  insteval = list(times_s = ie$t, cpu_s = ie$cpu, REMLcrit = REMLcrit(ie$fit), theta = unname(getME(ie$fit, "theta")), evals = ie$fit@optinfo$feval),
  lme4 = as.character(packageVersion("lme4")), R = R.version.string), auto_unbox = TRUE, digits = NA))
R
node "$ROOT/dist/bench/fit-lmm.js" "$WORK/sleepstudy.csv" "Reaction ~ Days + (Days | Subject)" "$SMALL_REPS" > "$WORK/ours-s.json"
node "$ROOT/dist/bench/fit-lmm.js" "$WORK/insteval.csv" "y ~ factor(service) + (1 | s) + (1 | d) + (1 | dept:service)" "$REPS" > "$WORK/ours-ie.json"
node - "$OUT" "$REPS" "$WORK" "$LOAD_BEFORE" "$ROOT" <<'JS'
const [out, reps, work, loadBefore, root] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { execSync } = require('node:child_process');
// the record's commit gets '-dirty' when the measured code (src, kernels, the timing script) differs from it
const git = (args) => execSync('git -C ' + JSON.stringify(root) + ' ' + args).toString().trim();
const r = JSON.parse(fs.readFileSync(path.join(work, 'r.json'), 'utf8'));
const ours = { sleepstudy: JSON.parse(fs.readFileSync(path.join(work, 'ours-s.json'), 'utf8')), insteval: JSON.parse(fs.readFileSync(path.join(work, 'ours-ie.json'), 'utf8')) };
// jsonlite's auto_unbox writes a one-repetition vector as a scalar
const median = (v) => { const s = [v].flat().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const cases = ['sleepstudy', 'insteval'].map((k) => ({
  dataset: k,
  formula: k === 'sleepstudy' ? 'Reaction ~ Days + (Days | Subject)' : 'y ~ service + (1 | s) + (1 | d) + (1 | dept:service)',
  nobs: ours[k].nobs,
  lme4_s: r[k].times_s, gpulmm_s: ours[k].times_s,
  lme4_median_s: median(r[k].times_s), gpulmm_median_s: median(ours[k].times_s),
  ratio_gpulmm_over_lme4: median(ours[k].times_s) / median(r[k].times_s),
  lme4_cpu_median_s: median(r[k].cpu_s), gpulmm_cpu_median_s: median(ours[k].cpu_s),
  cpu_ratio_gpulmm_over_lme4: median(ours[k].cpu_s) / median(r[k].cpu_s),
  REMLcrit_lme4: r[k].REMLcrit, REMLcrit_gpulmm: ours[k].REMLcrit, REMLcrit_diff: ours[k].REMLcrit - r[k].REMLcrit,
  theta_lme4: r[k].theta, theta_gpulmm: ours[k].theta, lme4_evals: r[k].evals, gpulmm_evals: ours[k].evals,
}));
const rec = {
  benchmark: 'fit-vs-lme4', op: 'REML fit of a linear mixed model (model fit only, data in memory)', backend: 'cpu', precision: 'f64',
  reference: `lme4 ${r.lme4} (${r.R}), lmer defaults`, command: 'bash bench/fit-vs-lme4.sh ' + reps, reps: Number(reps), cases,
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: git('rev-parse HEAD') + (git('status --porcelain -- src kernels bench/fit-lmm.ts') ? '-dirty' : ''),
  date: new Date().toISOString(), load_average_before: loadBefore, load_average_after: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  note: 'machine shared with other work; times_s wall-clock seconds, cpu_s user + system seconds of all threads (R links a multi-threaded OpenBLAS; gpulmm factors its dense block on the cpu worker pool, GPULMM_THREADS)',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
