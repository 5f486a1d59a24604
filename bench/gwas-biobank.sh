#!/usr/bin/env bash
# `gpulmm gwas --mode biobank` and BOLT-LMM 2.4 `bolt --lmmInfOnly` side by side on the same simulated cohort
# (data/simulate/cohort.mjs: 2 subpopulations Fst 0.05, 30% in nuclear families, 2% missing genotypes, polygenic
# trait h2 0.5 with 500 causal SNPs, covariates age and sex), REPS repetitions each (alternating): wall, CPU
# (user + sys, all threads) and peak RSS (/usr/bin/time), h2 of both, and the agreement of the statistics
# (chi-square correlation, lambda_GC of each, top-10/top-100 overlap, mean chi-square). With EXACT=1 the exact
# mode (--grm standardized --loco --vc fixed: the same model solved with eigendecompositions) runs once too and
# both are compared with it.
# Both tools use the same SNPs (BOLT's default QC: missing rate <= 0.1, no MAF filter; gpulmm --maf 0 --miss 0.1)
# and the same covariates. gpulmm runs on THREADS threads (default: all cores); BOLT-LMM on 1 and on THREADS
# (its OpenMP threads busy-wait, so on a loaded machine one thread can be the faster) and the ratio is taken
# against the faster of the two (BOLT_THREADS="1 2" by default; the first is the one compared in statistics).
# With BOLT_THREADS="" (empty) only gpulmm runs (its time, memory and h2: the n = 200,000 record).
# Usage: bash bench/gwas-biobank.sh N M [REPS]   (needs `bolt` on PATH and `npm run build` done)
# The cohort is written to COHORTS (default a temp dir; kept there when given) as c<N>x<M>.*; the record to
# bench/results/gwas-biobank-<N>x<M>-cpu2.json (override with OUT=...).
set -euo pipefail
N=${1:?usage: gwas-biobank.sh N M [REPS]}
M=${2:?usage: gwas-biobank.sh N M [REPS]}
REPS=${3:-1}
THREADS=${THREADS:-$(nproc)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/gwas-biobank-${N}x${M}-cpu2.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
COHORTS=${COHORTS:-$WORK}
mkdir -p "$COHORTS"
C="$COHORTS/c${N}x${M}"
SIM_ARGS=(--n "$N" --m "$M" --seed 7)
if [ ! -f "$C.bed" ]; then node "$ROOT/data/simulate/cohort.mjs" --out "$C" "${SIM_ARGS[@]}" >&2; fi
# A private copy of the build (a concurrent `npm run build` cannot change the code under measurement).
cp -r "$ROOT/dist" "$WORK/dist"
ln -s "$ROOT/node_modules" "$WORK/node_modules"
COMMIT=$(git -C "$ROOT" rev-parse HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain -- src gwas kernels)" ]; then COMMIT="$COMMIT-dirty"; fi
cd "$WORK"
LOAD_BEFORE=$(cat /proc/loadavg)
TIMEF='%e %U %S %M'
run_ours() {
  /usr/bin/time -f "$TIMEF" -o ours.time node "$WORK/dist/src/cli/main.js" gwas --bfile "$C" --covar "$C.covar.txt" \
    --mode biobank --maf 0 --miss 0.1 --threads "$THREADS" --tsv ours.stats --tsv-format bolt --out ours.arrows --verbose 2>ours.log
}
BOLT_THREADS=${BOLT_THREADS-"1 $THREADS"}
run_bolt() {
  /usr/bin/time -f "$TIMEF" -o "bolt$1.time" bolt --bfile "$C" --phenoFile "$C.phe" --phenoCol quant --covarFile "$C.cov" \
    --qCovarCol age --qCovarCol sex --lmmInfOnly --LDscoresUseChip --numThreads "$1" --maxMissingPerSnp 0.1 \
    --statsFile "bolt$1.stats" --verboseStats >"bolt$1.log" 2>&1
}
times=()
read -r -a BT <<<"$BOLT_THREADS"
for r in $(seq 1 "$REPS"); do
  run_ours
  line="rep $r: gpulmm $(cat ours.time)"
  times+=("$(cat ours.time)")
  for t in "${BT[@]}"; do
    run_bolt "$t"
    times+=("$(cat "bolt$t.time")")
    line="$line | bolt --numThreads $t $(cat "bolt$t.time")"
  done
  echo "$line (wall user sys maxRSS-KB); load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
if [ "${#BT[@]}" -gt 0 ]; then
  ln -sf "bolt${BT[0]}.stats" bolt.stats
  ln -sf "bolt${BT[0]}.log" bolt.log
fi
EXACT_TIME=""
if [ "${EXACT:-0}" = 1 ]; then
  /usr/bin/time -f "$TIMEF" -o exact.time node "$WORK/dist/src/cli/main.js" gwas --bfile "$C" --covar "$C.covar.txt" \
    --mode exact --grm standardized --loco --vc fixed --test wald --maf 0 --miss 0.1 --threads "$THREADS" --tsv exact.assoc.txt 2>exact.log
  EXACT_TIME=$(cat exact.time)
  echo "exact mode: $EXACT_TIME" >&2
fi
node - "$OUT" "$COMMIT" "$N" "$M" "$REPS" "$THREADS" "$LOAD_BEFORE" "$EXACT_TIME" "${SIM_ARGS[*]}" "$BOLT_THREADS" "${times[@]}" <<'JS'
const fs = require('node:fs');
const os = require('node:os');
function median(v) { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; }
const [out, commit, n, m, reps, threads, loadBefore, exactTime, simArgs, boltThreads, ...times] = process.argv.slice(2);
const R = Number(reps);
const bt = boltThreads.split(' ').filter(Boolean);
const parseTime = (s) => { const [wall, user, sys, rss] = s.split(' ').map(Number); return { wall_s: wall, cpu_s: user + sys, peak_rss_mb: rss / 1024 }; };
const ours = [], boltBy = Object.fromEntries(bt.map((t) => [t, []]));
for (let r = 0; r < R; r++) {
  ours.push(parseTime(times[r * (1 + bt.length)]));
  bt.forEach((t, k) => boltBy[t].push(parseTime(times[r * (1 + bt.length) + 1 + k])));
}
const fastest = bt.length ? bt.reduce((a, t) => (median(boltBy[t].map((x) => x.wall_s)) < median(boltBy[a].map((x) => x.wall_s)) ? t : a), bt[0]) : undefined;
const bolt = fastest ? boltBy[fastest] : undefined;
const med = (rows, k) => median(rows.map((x) => x[k]));
/** SNP -> chi2 from a BOLT-layout stats file (ours: CHISQ_BOLT_LMM_INF; exact: GEMMA p_wald -> chi2 via the F(1, df) p). */
const readStats = (path, col) => {
  const [head, ...lines] = fs.readFileSync(path, 'utf8').trimEnd().split('\n');
  const h = head.split('\t');
  const i = h.indexOf(col), s = h.indexOf('SNP') >= 0 ? h.indexOf('SNP') : h.indexOf('rs');
  return new Map(lines.map((l) => { const f = l.split('\t'); return [f[s], Number(f[i])]; }));
};
// chi2 quantile of an upper-tail p (1 df) by bisection on the complementary error function.
const erfc = (x) => { const t = 1 / (1 + 0.5 * Math.abs(x)); const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))); return x >= 0 ? y : 2 - y; };
const chi2FromP = (p) => { let lo = 0, hi = 2000; for (let k = 0; k < 200; k++) { const mid = (lo + hi) / 2; if (erfc(Math.sqrt(mid / 2)) > p) lo = mid; else hi = mid; } return (lo + hi) / 2; };
const a = readStats('ours.stats', 'CHISQ_BOLT_LMM_INF');
const b = bolt ? readStats('bolt.stats', 'CHISQ_BOLT_LMM_INF') : undefined;
const compare = (x, y) => {
  const keys = [...x.keys()].filter((k) => y.has(k) && Number.isFinite(x.get(k)) && Number.isFinite(y.get(k)));
  const u = keys.map((k) => x.get(k)), v = keys.map((k) => y.get(k));
  const mu = u.reduce((s, t) => s + t, 0) / u.length, mv = v.reduce((s, t) => s + t, 0) / v.length;
  let suv = 0, suu = 0, svv = 0;
  for (let i = 0; i < u.length; i++) { suv += (u[i] - mu) * (v[i] - mv); suu += (u[i] - mu) ** 2; svv += (v[i] - mv) ** 2; }
  const top = (vals, k) => new Set(keys.map((_, i) => i).sort((i, j) => vals[j] - vals[i]).slice(0, k).map((i) => keys[i]));
  const overlap = (k) => { const s = top(u, k); return [...top(v, k)].filter((q) => s.has(q)).length; };
  return { snps: keys.length, chi2_correlation: suv / Math.sqrt(suu * svv), mean_chi2: [mu, mv], lambda_gc: [median(u) / 0.454936423119572, median(v) / 0.454936423119572], top10_overlap: overlap(10), top100_overlap: overlap(100) };
};
const log = fs.readFileSync('ours.log', 'utf8');
const boltLog = bolt ? fs.readFileSync('bolt.log', 'utf8') : '';
const sidecar = JSON.parse(fs.readFileSync('ours.json', 'utf8'));
const model = Object.values(sidecar.biobank_model)[0];
const rec = {
  benchmark: 'gwas-biobank', cohort: `data/simulate/cohort.mjs ${simArgs} (n = ${n}, m = ${m}; 2 subpopulations Fst 0.05, 30% in nuclear families, 2% missing, quant h2 0.5 from 500 causal SNPs, covariates age + sex)`,
  op: 'BOLT-LMM-inf: h2 by REML, LOCO residuals, calibrated retrospective statistic; end to end from PLINK files', backend: 'cpu', precision: 'f64', threads: Number(threads),
  reference: `BOLT-LMM 2.4 (Debian bolt-lmm): bolt --lmmInfOnly --LDscoresUseChip --numThreads T --maxMissingPerSnp 0.1 --qCovarCol age --qCovarCol sex, T in {${bt.join(', ')}}; ratios against the faster (--numThreads ${fastest})`,
  command: `bash bench/gwas-biobank.sh ${n} ${m} ${R}`,
  reps: R, gpulmm: ours, bolt_by_threads: boltBy, bolt_compared_threads: Number(fastest),
  gpulmm_median_wall_s: med(ours, 'wall_s'), gpulmm_median_cpu_s: med(ours, 'cpu_s'), gpulmm_peak_rss_mb: med(ours, 'peak_rss_mb'),
  gpulmm_packed_genotypes_mb: (Math.ceil(Number(n) / 4) * Number(m)) / 2 ** 20,
  ...(bolt ? {
    bolt_median_wall_s: med(bolt, 'wall_s'), ratio_wall_gpulmm_over_bolt: med(ours, 'wall_s') / med(bolt, 'wall_s'),
    bolt_median_cpu_s: med(bolt, 'cpu_s'), ratio_cpu_gpulmm_over_bolt: med(ours, 'cpu_s') / med(bolt, 'cpu_s'), bolt_peak_rss_mb: med(bolt, 'peak_rss_mb'),
  } : {}),
  h2: { gpulmm: model.h2, gpulmm_se_reml: model.h2SeReml, gpulmm_se_monte_carlo: model.h2SeMc, ...(bolt ? { bolt: Number((/h2g = ([0-9.]+)/.exec(boltLog) ?? [])[1]) } : {}) },
  calibration: { gpulmm: model.calibration.factor, gpulmm_method: model.calibration.method, gpulmm_bolt_rule: model.calibration.alternative, ...(bolt ? { bolt: (/Calibration: .*$/m.exec(boltLog) ?? [''])[0], bolt_ratio_of_medians_line: (/Ratio of medians.*$/m.exec(boltLog) ?? [''])[0] } : {}) },
  ...(b ? { agreement_gpulmm_vs_bolt: compare(a, b) } : {}),
  gpulmm_verbose: log.split('\n').filter((l) => /^(biobank|time|h2|calibration|analysed)/.test(l)),
  ...(bolt ? { bolt_phase_times: boltLog.split('\n').filter((l) => /^Time for|Total elapsed/.test(l)) } : {}),
  load_average_before: loadBefore.trim(), load_average_after: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit, date: new Date().toISOString(),
  note: 'machine shared with other work (see the load averages): wall seconds swing with it; CPU seconds less so',
};
if (exactTime) {
  const [head, ...lines] = fs.readFileSync('exact.assoc.txt', 'utf8').trimEnd().split('\n');
  const h = head.split('\t');
  const e = new Map(lines.map((l) => { const f = l.split('\t'); return [f[h.indexOf('rs')], chi2FromP(Number(f[h.indexOf('p_wald')]))]; }));
  rec.exact_mode = { time: parseTime(exactTime), command: 'gpulmm gwas --mode exact --grm standardized --loco --vc fixed --test wald --maf 0 --miss 0.1', gpulmm_vs_exact: compare(a, e), ...(b ? { bolt_vs_exact: compare(b, e) } : {}), null_model: fs.readFileSync('exact.log', 'utf8').split('\n').filter((l) => /pve|lambda_GC/.test(l)) };
}
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
