#!/usr/bin/env bash
# `gpulmm fit` end to end (a new process per run: start-up, CSV read, fit, Satterthwaite df, summary) against
# lmerTest / lme4 side by side in one command, for the issue-18 targets:
#   InstEval  y ~ service + (1 | s) + (1 | d) + (1 | dept:service)   (73,421 rows): lmerTest::lmer + summary
#   sleepstudy Reaction ~ Days + (Days | Subject)                    (180 rows):    lmerTest::lmer + summary
#   VerbAgg   r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), binomial (7,584 rows): glmer + summary
# R is timed two ways: the fit + summary inside one R session (data already loaded: R's best case), and end to end
# as `Rscript` runs (start-up, library(lmerTest), read.csv, fit, summary). gpulmm is timed end to end only.
# REPS repetitions of each, tools alternating; medians of wall-clock and CPU seconds (user + system, all threads,
# /usr/bin/time), ratios gpulmm / R, estimates side by side, load average before and after.
# Usage: bash bench/fit-cli-vs-lmertest.sh [REPS]     (needs R with lme4 + lmerTest, `npm run build` done)
# Writes bench/results/fit-cli-vs-lmertest-cpu2.json (override with OUT=...).
set -euo pipefail
REPS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/fit-cli-vs-lmertest-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# a private copy of the build, so that a concurrent `npm run build` cannot change the code under measurement
cp -r "$ROOT/dist" "$WORK/dist"
ln -s "$ROOT/node_modules" "$WORK/node_modules"
cp "$ROOT/package.json" "$WORK/package.json"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
Rscript -e 'suppressPackageStartupMessages(library(lme4)); a <- commandArgs(TRUE)
  write.csv(InstEval, file.path(a[1], "insteval.csv"), row.names = FALSE)
  write.csv(sleepstudy, file.path(a[1], "sleepstudy.csv"), row.names = FALSE)
  write.csv(VerbAgg, file.path(a[1], "verbagg.csv"), row.names = FALSE)' "$WORK"

declare -A FORMULA=(
  [insteval]='y ~ service + (1 | s) + (1 | d) + (1 | dept:service)'
  [sleepstudy]='Reaction ~ Days + (Days | Subject)'
  [verbagg]='r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)'
)
declare -A FAMILY=([insteval]=gaussian [sleepstudy]=gaussian [verbagg]=binomial)
CASES=(insteval sleepstudy verbagg)

# R, in-process: fit + summary REPS times per case after reading the data once
Rscript - "$WORK" "$REPS" "${FORMULA[insteval]}" "${FORMULA[sleepstudy]}" "${FORMULA[verbagg]}" > "$WORK/r-inproc.json" <<'R'
suppressPackageStartupMessages({ library(lmerTest); library(jsonlite) })
a <- commandArgs(TRUE); work <- a[1]; reps <- as.integer(a[2])
cases <- list(insteval = a[3], sleepstudy = a[4], verbagg = a[5])
res <- lapply(names(cases), function(k) {
  d <- read.csv(file.path(work, paste0(k, ".csv")), stringsAsFactors = TRUE)
  f <- as.formula(cases[[k]])
  run <- function() if (k == "verbagg") summary(glmer(f, data = d, family = binomial)) else summary(lmer(f, data = d))
  t <- numeric(reps); cpu <- numeric(reps)
  for (i in seq_len(reps)) { st <- system.time(s <- run()); t[i] <- st[["elapsed"]]; cpu[i] <- st[["user.self"]] + st[["sys.self"]] }
  cs <- s$coefficients
  list(times_s = t, cpu_s = cpu, terms = rownames(cs), estimate = unname(cs[, 1]), se = unname(cs[, 2]),
    df = if (k == "verbagg") NULL else unname(cs[, 3]))
})
names(res) <- names(cases)
res$versions <- list(lme4 = as.character(packageVersion("lme4")), lmerTest = as.character(packageVersion("lmerTest")), R = R.version.string)
cat(toJSON(res, auto_unbox = TRUE, digits = NA))
R

# end to end, alternating tools: R as an Rscript run, gpulmm as a CLI run
for k in "${CASES[@]}"; do
  for r in $(seq 1 "$REPS"); do
    /usr/bin/time -f '%e %U %S' -o "$WORK/t" Rscript -e 'suppressPackageStartupMessages(library(lmerTest)); a <- commandArgs(TRUE)
      d <- read.csv(a[1], stringsAsFactors = TRUE); f <- as.formula(a[2])
      s <- if (a[3] == "binomial") summary(glmer(f, data = d, family = binomial)) else summary(lmer(f, data = d)); invisible(s)' \
      "$WORK/$k.csv" "${FORMULA[$k]}" "${FAMILY[$k]}" > /dev/null 2>&1
    echo "R $k $(cat "$WORK/t")" >> "$WORK/e2e.txt"
    /usr/bin/time -f '%e %U %S' -o "$WORK/t" node "$WORK/dist/src/cli/main.js" fit --data "$WORK/$k.csv" --formula "${FORMULA[$k]}" \
      --family "${FAMILY[$k]}" --json "$WORK/g-$k.json" > /dev/null
    echo "gpulmm $k $(cat "$WORK/t")" >> "$WORK/e2e.txt"
  done
done

node - "$OUT" "$REPS" "$WORK" "$LOAD_BEFORE" "$ROOT" <<'JS'
const [out, reps, work, loadBefore, root] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { execSync } = require('node:child_process');
const git = (args) => execSync('git -C ' + JSON.stringify(root) + ' ' + args).toString().trim();
const r = JSON.parse(fs.readFileSync(path.join(work, 'r-inproc.json'), 'utf8'));
const median = (v) => { const s = [v].flat().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const e2e = {};
for (const line of fs.readFileSync(path.join(work, 'e2e.txt'), 'utf8').trim().split('\n')) {
  const [tool, k, wall, user, sys] = line.split(' ');
  ((e2e[k] ??= {})[tool] ??= { wall: [], cpu: [] }).wall.push(Number(wall));
  e2e[k][tool].cpu.push(Number(user) + Number(sys));
}
const cases = Object.keys(e2e).map((k) => {
  const g = JSON.parse(fs.readFileSync(path.join(work, `g-${k}.json`), 'utf8'));
  const ri = r[k];
  const gw = median(e2e[k].gpulmm.wall), rw = median(e2e[k].R.wall), rin = median(ri.times_s);
  const terms = [ri.terms].flat();
  const maxEstSe = Math.max(...terms.map((t, j) => Math.abs(g.fixef[j].estimate - [ri.estimate].flat()[j]) / [ri.se].flat()[j]));
  const maxDfRel = ri.df ? Math.max(...terms.map((t, j) => Math.abs(g.fixef[j].df - [ri.df].flat()[j]) / [ri.df].flat()[j])) : null;
  return {
    dataset: k,
    gpulmm_e2e_wall_s: e2e[k].gpulmm.wall, gpulmm_e2e_cpu_s: e2e[k].gpulmm.cpu,
    r_e2e_wall_s: e2e[k].R.wall, r_e2e_cpu_s: e2e[k].R.cpu, r_inprocess_wall_s: ri.times_s, r_inprocess_cpu_s: ri.cpu_s,
    gpulmm_e2e_median_s: gw, r_e2e_median_s: rw, r_inprocess_median_s: rin,
    ratio_gpulmm_e2e_over_r_inprocess: gw / rin, ratio_gpulmm_e2e_over_r_e2e: gw / rw,
    cpu_ratio_gpulmm_e2e_over_r_inprocess: median(e2e[k].gpulmm.cpu) / median(ri.cpu_s),
    terms: g.fixef.map((f) => f.term), max_abs_estimate_diff_in_se: maxEstSe, max_rel_df_diff: maxDfRel,
  };
});
const rec = {
  benchmark: 'fit-cli-vs-lmertest', op: 'gpulmm fit end to end (process start, CSV read, fit, Satterthwaite df, summary) vs lmerTest lmer + summary / glmer + summary',
  backend: 'cpu', precision: 'f64', reference: `lme4 ${r.versions.lme4}, lmerTest ${r.versions.lmerTest} (${r.versions.R})`,
  command: 'bash bench/fit-cli-vs-lmertest.sh ' + reps, reps: Number(reps), cases,
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: git('rev-parse HEAD') + (git('status --porcelain -- src kernels') ? '-dirty' : ''),
  date: new Date().toISOString(), load_average_before: loadBefore, load_average_after: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  note: 'R in-process: the fit + summary inside one R session with the data loaded (R start-up and library loading excluded: the targets compare against this); R end to end: an Rscript run (start-up, library(lmerTest), read.csv, fit, summary). gpulmm always end to end. cpu_s: user + system seconds of all threads.',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
for (const c of cases) console.log(`${c.dataset}: gpulmm ${c.gpulmm_e2e_median_s.toFixed(2)} s, R in-process ${c.r_inprocess_median_s.toFixed(2)} s (${c.ratio_gpulmm_e2e_over_r_inprocess.toFixed(3)}x), R end to end ${c.r_e2e_median_s.toFixed(2)} s (${c.ratio_gpulmm_e2e_over_r_e2e.toFixed(3)}x); max |d beta| ${c.max_abs_estimate_diff_in_se.toExponential(1)} se`);
JS
