#!/usr/bin/env bash
# AR(1) residual correlation at scale: `gpulmm fit --correlation "ar1(t | id)"` against nlme::lme(correlation =
# corAR1(form = ~ t | id)) on the same simulated data, in one command on the same machine. G clusters x M
# visits (default 5000 x 20 = 100,000 rows): y = 1 + 0.5 x + 0.1 t + b_id + e, b ~ N(0, 0.8^2), e AR(1) with
# phi = 0.6 and SD 1.2 (seed 1), written to CSV by R in a temporary directory (not committed). Times:
#   nlme    the lme() fit alone (data in memory), one run under `timeout NLME_TIMEOUT` (default 900 s); a run
#           that does not finish is recorded as such;
#   gpulmm  the fit alone (data in memory, REPS fits, dist/bench/fit-lmm.js) and the whole command
#           `gpulmm fit ... --correlation ... --json` (CSV read, fit, Satterthwaite df) under /usr/bin/time -v
#           (wall, peak RSS), REPS runs;
# medians, the ratio, the estimates side by side (logLik, phi, fixed effects) and the load before and after.
# Writes bench/results/ar1-vs-nlme-cpu2.json (override with OUT=...).
# Usage: flock /work/bench.lock bash bench/ar1-vs-nlme.sh [REPS] [G] [M]   (needs R with nlme; npm run build)
set -euo pipefail
REPS=${1:-3}
G=${2:-5000}
M=${3:-20}
NLME_TIMEOUT=${NLME_TIMEOUT:-900}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/ar1-vs-nlme-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

Rscript - "$WORK/ar1.csv" "$G" "$M" <<'R'
args <- commandArgs(TRUE); out <- args[1]; G <- as.integer(args[2]); m <- as.integer(args[3])
set.seed(1)
z <- matrix(rnorm(G * m), m)
for (k in seq_len(m)[-1]) z[k, ] <- 0.6 * z[k - 1, ] + sqrt(1 - 0.6^2) * z[k, ]
x <- round(rnorm(G * m), 4)
t <- rep(seq_len(m), G)
y <- round(1 + 0.5 * x + 0.1 * t + rep(rnorm(G, 0, 0.8), each = m) + 1.2 * as.vector(z), 5)
write.csv(data.frame(y = y, x = x, t = t, id = rep(sprintf("c%05d", seq_len(G)), each = m)), out, row.names = FALSE)
R

# nlme: the fit alone, once, under a timeout (a killed run leaves no nlme.json)
set +e
timeout "$NLME_TIMEOUT" Rscript - "$WORK/ar1.csv" "$WORK/nlme.json" <<'R'
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
st <- system.time(m <- lme(y ~ x + t, data = d, random = ~ 1 | id, correlation = corAR1(form = ~ t | id)))
writeLines(jsonlite::toJSON(list(time_s = st[["elapsed"]], cpu_s = st[["user.self"]] + st[["sys.self"]], logLik = as.numeric(logLik(m)),
  phi = unname(coef(m$modelStruct$corStruct, unconstrained = FALSE)), sigma = m$sigma,
  fixef = lapply(names(fixef(m)), function(t) list(term = t, estimate = unname(fixef(m)[t]), se = sqrt(vcov(m)[t, t]))),
  nlme = as.character(packageVersion("nlme")), R = R.version.string), auto_unbox = TRUE, digits = NA), args[2])
R
NLME_RC=$?
set -e

node "$ROOT/dist/bench/fit-lmm.js" "$WORK/ar1.csv" "y ~ x + t + (1 | id)" "$REPS" "ar1(t | id)" > "$WORK/ours.json"
for r in $(seq "$REPS"); do
  /usr/bin/time -v node "$ROOT/dist/src/cli/main.js" fit --data "$WORK/ar1.csv" --formula "y ~ x + t + (1 | id)" \
    --correlation "ar1(t | id)" --json "$WORK/cli.json" > "$WORK/cli-$r.out" 2> "$WORK/cli-$r.time"
done

node - "$OUT" "$REPS" "$WORK" "$LOAD_BEFORE" "$ROOT" "$G" "$M" "$NLME_RC" "$NLME_TIMEOUT" <<'JS'
const [out, reps, work, loadBefore, root, G, M, nlmeRc, nlmeTimeout] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { execSync } = require('node:child_process');
const git = (args) => execSync('git -C ' + JSON.stringify(root) + ' ' + args).toString().trim();
const median = (v) => { const s = [v].flat().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const ours = JSON.parse(fs.readFileSync(path.join(work, 'ours.json'), 'utf8'));
const nlmeFile = path.join(work, 'nlme.json');
const nlme = fs.existsSync(nlmeFile) ? JSON.parse(fs.readFileSync(nlmeFile, 'utf8')) : null;
// /usr/bin/time -v: "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:02.31", "Maximum resident set size (kbytes): 123"
const cli = Array.from({ length: Number(reps) }, (_, i) => {
  const t = fs.readFileSync(path.join(work, `cli-${i + 1}.time`), 'utf8');
  const wall = t.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/)[1].split(':').map(Number).reduce((a, v) => a * 60 + v, 0);
  return { wall_s: wall, peak_rss_mib: Number(t.match(/Maximum resident set size \(kbytes\): (\d+)/)[1]) / 1024 };
});
const cliFit = JSON.parse(fs.readFileSync(path.join(work, 'cli.json'), 'utf8'));
const rec = {
  benchmark: 'ar1-vs-nlme', op: 'REML fit of y ~ x + t + (1 | id) with AR(1) residuals within id (integer times)', backend: 'cpu', precision: 'f64',
  data: { clusters: Number(G), per_cluster: Number(M), rows: Number(G) * Number(M), simulated: 'phi 0.6, residual SD 1.2, random-intercept SD 0.8, seed 1' },
  reference: nlme ? `nlme ${nlme.nlme} (${nlme.R}), lme defaults` : 'nlme::lme defaults',
  command: `flock /work/bench.lock bash bench/ar1-vs-nlme.sh ${reps} ${G} ${M}`, reps: Number(reps),
  nlme: nlme
    ? { finished: true, fit_s: nlme.time_s, cpu_s: nlme.cpu_s, logLik: nlme.logLik, phi: nlme.phi, sigma: nlme.sigma, fixef: nlme.fixef }
    : { finished: false, exit_code: Number(nlmeRc), note: Number(nlmeRc) === 124 ? `killed by timeout after ${nlmeTimeout} s` : 'failed (see exit code)' },
  gpulmm: {
    fit_s: ours.times_s, fit_median_s: median(ours.times_s), fit_cpu_median_s: median(ours.cpu_s), evals: ours.evals,
    cli_wall_s: cli.map((c) => c.wall_s), cli_wall_median_s: median(cli.map((c) => c.wall_s)), cli_peak_rss_mib: Math.max(...cli.map((c) => c.peak_rss_mib)),
    logLik: ours.logLik, phi: ours.residual.correlation.value, sigma: ours.sigma, fixef: ours.fixef,
    cli_fixef_df_satterthwaite: cliFit.fixef.map((r) => ({ term: r.term, df: r.df })),
  },
  ratio_fit_gpulmm_over_nlme: nlme ? median(ours.times_s) / nlme.time_s : null,
  parity: nlme ? {
    logLik_diff: ours.logLik - nlme.logLik, phi_rel: ours.residual.correlation.value / nlme.phi - 1, sigma_rel: ours.sigma / nlme.sigma - 1,
    fixef_diff_over_se: ours.fixef.map((r, j) => (r.estimate - nlme.fixef[j].estimate) / nlme.fixef[j].se),
  } : null,
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: git('rev-parse HEAD') + (git('status --porcelain -- src kernels bench/fit-lmm.ts bench/ar1-vs-nlme.sh') ? '-dirty' : ''),
  date: new Date().toISOString(), load_average_before: loadBefore, load_average_after: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  note: 'machine shared with other work (see the load averages); fit_s: the model fit alone with the data in memory (wall seconds); cli_wall_s: the whole gpulmm fit command (CSV read, fit, Satterthwaite df, JSON written)',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
