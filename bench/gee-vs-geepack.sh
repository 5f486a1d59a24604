#!/usr/bin/env bash
# GEE at scale: `gpulmm fit --method gee` against geepack::geeglm on the same simulated data, in one command on
# the same machine. G clusters x M visits (default 5000 x 20 = 100,000 rows), written to CSV by R in a temporary
# directory (not committed): x1 ~ N(0, 1) per row, x2 ~ Bernoulli(0.5) per cluster, t = 1..M, a cluster effect
# b ~ N(0, 0.8^2); y ~ Bernoulli(plogis(-0.5 + 0.4 x1 + 0.3 x2 - 0.02 t + b)), count ~ Poisson(exp(0.2 + 0.3 x1 +
# 0.2 x2 + 0.5 b)) (seed 1). Three fits: binomial exchangeable, binomial ar1, poisson exchangeable. Per fit:
#   gpulmm   the whole command `gpulmm fit --method gee ... --json` (CSV read, fit, sandwich) under
#            /usr/bin/time -v, REPS runs (median wall, CPU = user + sys, peak RSS);
#   geepack  one Rscript (read.csv + geeglm + summary) under /usr/bin/time -v and `timeout GEEPACK_TIMEOUT`
#            (default 600 s), with system.time() of geeglm alone;
# the estimates side by side (max |delta beta| / se, se and alpha relative) and the load before and after.
# Writes bench/results/gee-vs-geepack-cpu2.json (override with OUT=...).
# Usage: flock /work/bench.lock bash bench/gee-vs-geepack.sh [REPS] [G] [M]   (needs R with geepack; npm run build)
set -euo pipefail
REPS=${1:-3}
G=${2:-5000}
M=${3:-20}
GEEPACK_TIMEOUT=${GEEPACK_TIMEOUT:-600}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/gee-vs-geepack-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

Rscript - "$WORK/gee.csv" "$G" "$M" <<'R'
args <- commandArgs(TRUE); out <- args[1]; G <- as.integer(args[2]); m <- as.integer(args[3])
set.seed(1)
id <- rep(seq_len(G), each = m)
t <- rep(seq_len(m), G)
x1 <- round(rnorm(G * m), 4)
x2 <- rep(rbinom(G, 1, 0.5), each = m)
b <- rep(rnorm(G, 0, 0.8), each = m)
y <- rbinom(G * m, 1, plogis(-0.5 + 0.4 * x1 + 0.3 * x2 - 0.02 * t + b))
count <- rpois(G * m, exp(0.2 + 0.3 * x1 + 0.2 * x2 + 0.5 * b))
write.csv(data.frame(id = sprintf("c%05d", id), t = t, x1 = x1, x2 = x2, y = y, count = count), out, row.names = FALSE)
R

CASES=("binomial-exchangeable|y ~ x1 + x2 + t|binomial|exchangeable" "binomial-ar1|y ~ x1 + x2 + t|binomial|ar1" "poisson-exchangeable|count ~ x1 + x2 + t|poisson|exchangeable")
for c in "${CASES[@]}"; do
  IFS='|' read -r name formula family corstr <<< "$c"
  set +e
  /usr/bin/time -v timeout "$GEEPACK_TIMEOUT" Rscript - "$WORK/gee.csv" "$formula" "$family" "$corstr" "$WORK/geepack-$name.json" \
    > "$WORK/geepack-$name.out" 2> "$WORK/geepack-$name.time" <<'R'
suppressPackageStartupMessages(library(geepack))
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
st <- system.time(m <- geeglm(as.formula(args[2]), family = get(args[3]), data = d, id = id, corstr = args[4]))
s <- summary(m)
writeLines(jsonlite::toJSON(list(fit_s = st[["elapsed"]], fit_cpu_s = st[["user.self"]] + st[["sys.self"]],
  coefficients = unname(m$geese$beta), se = unname(sqrt(diag(m$geese$vbeta))), phi = unname(m$geese$gamma),
  alpha = unname(m$geese$alpha), geepack = as.character(packageVersion("geepack")), R = R.version.string),
  auto_unbox = TRUE, digits = NA), args[5])
R
  echo $? > "$WORK/geepack-$name.rc"
  set -e
  for r in $(seq "$REPS"); do
    /usr/bin/time -v node "$ROOT/dist/src/cli/main.js" fit --method gee --data "$WORK/gee.csv" --formula "$formula" \
      --family "$family" --id id --corstr "$corstr" --json "$WORK/gpulmm-$name.json" > "$WORK/gpulmm-$name-$r.out" 2> "$WORK/gpulmm-$name-$r.time"
  done
done

node - "$OUT" "$REPS" "$WORK" "$LOAD_BEFORE" "$ROOT" "$G" "$M" "$GEEPACK_TIMEOUT" "${CASES[@]}" <<'JS'
const [out, reps, work, loadBefore, root, G, M, timeoutS, ...cases] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { execSync } = require('node:child_process');
const git = (args) => execSync('git -C ' + JSON.stringify(root) + ' ' + args).toString().trim();
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const read = (f) => fs.readFileSync(path.join(work, f), 'utf8');
// /usr/bin/time -v: wall "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:02.31", CPU user + system, peak RSS
const timeV = (f) => {
  const t = read(f);
  const num = (re) => Number(t.match(re)[1]);
  return {
    wall_s: t.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/)[1].split(':').map(Number).reduce((a, v) => a * 60 + v, 0),
    cpu_s: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
    peak_rss_mib: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
  };
};
let versions = null;
const fits = cases.map((c) => {
  const [name, formula, family, corstr] = c.split('|');
  const runs = Array.from({ length: Number(reps) }, (_, r) => timeV(`gpulmm-${name}-${r + 1}.time`));
  const ours = JSON.parse(read(`gpulmm-${name}.json`));
  const rc = Number(read(`geepack-${name}.rc`).trim());
  const refFile = path.join(work, `geepack-${name}.json`);
  const ref = rc === 0 && fs.existsSync(refFile) ? JSON.parse(fs.readFileSync(refFile, 'utf8')) : null;
  if (ref) versions = `geepack ${ref.geepack} (${ref.R})`;
  const refRun = timeV(`geepack-${name}.time`);
  const gp = {
    wall_s: runs.map((r) => r.wall_s), wall_median_s: median(runs.map((r) => r.wall_s)), cpu_median_s: median(runs.map((r) => r.cpu_s)),
    peak_rss_mib: Math.max(...runs.map((r) => r.peak_rss_mib)), iterations: ours.iterations, converged: ours.converged,
    coefficients: ours.coefficients.map((r) => ({ term: r.term, estimate: r.estimate, se: r.se })), phi: ours.phi, alpha: ours.alpha,
  };
  return {
    name, formula, family, corstr,
    gpulmm: gp,
    geepack: ref
      ? { finished: true, command_wall_s: refRun.wall_s, command_cpu_s: refRun.cpu_s, peak_rss_mib: refRun.peak_rss_mib, fit_s: ref.fit_s, fit_cpu_s: ref.fit_cpu_s,
          coefficients: ref.coefficients, se: ref.se, phi: ref.phi, alpha: ref.alpha }
      : { finished: false, exit_code: rc, note: rc === 124 ? `killed by timeout after ${timeoutS} s` : 'failed (see exit code)', command_wall_s: refRun.wall_s },
    ratio_wall_gpulmm_over_geepack_command: ref ? gp.wall_median_s / refRun.wall_s : null,
    ratio_cpu_gpulmm_over_geepack_command: ref ? gp.cpu_median_s / refRun.cpu_s : null,
    parity: ref ? {
      max_abs_beta_diff_over_se: Math.max(...ours.coefficients.map((r, j) => Math.abs(r.estimate - ref.coefficients[j]) / ref.se[j])),
      max_se_rel: Math.max(...ours.coefficients.map((r, j) => Math.abs(r.se / ref.se[j] - 1))),
      phi_rel: ours.phi / ref.phi - 1, alpha_rel: ref.alpha === undefined || ours.alpha === null ? null : ours.alpha / ref.alpha - 1,
    } : null,
    target: '< 10 s (issue 15)', meets_target: gp.wall_median_s < 10,
  };
});
const rec = {
  benchmark: 'gee-vs-geepack', op: 'GEE fit (geeglm) with a working correlation and sandwich standard errors', backend: 'cpu', precision: 'f64',
  data: { clusters: Number(G), per_cluster: Number(M), rows: Number(G) * Number(M), simulated: 'logistic and Poisson with a N(0, 0.8^2) cluster effect, seed 1' },
  reference: versions ?? 'geepack::geeglm defaults (epsilon 1e-4)',
  command: `flock /work/bench.lock bash bench/gee-vs-geepack.sh ${reps} ${G} ${M}`, reps: Number(reps), fits,
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: git('rev-parse HEAD') + (git('status --porcelain -- src kernels bench/gee-vs-geepack.sh') ? '-dirty' : ''),
  date: new Date().toISOString(), load_average_before: loadBefore, load_average_after: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  note: 'machine shared with other work (see the load averages); both sides timed as whole commands (CSV read, fit, standard errors; gpulmm at its default tolerance 1e-8, geepack at its default epsilon 1e-4); geepack fit_s: geeglm alone (system.time), including its starting glm',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
