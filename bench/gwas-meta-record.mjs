// Assembles bench/results/gwas-meta-cpu2.json from a bench/gwas-meta.sh run: timings (median wall / cpu, peak RSS)
// of gpulmm meta --gwas, METAL and the metafor loop, and the largest differences of gpulmm's per-variant results from
// METAL's (markers joined by name, alleles oriented as METAL reports them) and from metafor's (subsample).
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import os from 'node:os';

const a = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (v.startsWith('--') ? [...acc, [v.slice(2), all[i + 1] ?? '']] : acc), []));
const S = a.scratch;
const median = (v) => { const s = [...v].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const times = {};
for (const line of readFileSync(`${S}/times.txt`, 'utf8').trim().split('\n')) {
  const [tool, e, u, s, m] = line.split(' ');
  (times[tool] ??= []).push({ wall: +e, cpu: +u + +s, rssMiB: +m / 1024 });
}
const summary = (v) => v && { runs: v.length, wall_s: v.map((x) => x.wall), median_wall_s: median(v.map((x) => x.wall)), median_cpu_s: median(v.map((x) => x.cpu)), peak_rss_mib: Math.max(...v.map((x) => x.rssMiB)) };

function readTsv(path) {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const cols = lines[0].split('\t');
  return { cols, rows: lines.slice(1).map((l) => l.split('\t')) };
}
const ours = readTsv(`${S}/ours.tsv`);
const ix = Object.fromEntries(ours.cols.map((c, j) => [c, j]));
const report = JSON.parse(readFileSync(`${S}/ours.json`, 'utf8'));

// ---- against METAL: join by marker name ----
let metal = null;
if (a.metal) {
  const m = readTsv(`${S}/metal/META1.TBL`);
  const mi = Object.fromEntries(m.cols.map((c, j) => [c, j]));
  const byName = new Map(ours.rows.map((r) => [r[ix.rs], r]));
  const COMP = { A: 'T', T: 'A', C: 'G', G: 'C' };
  const comp = (x) => (x.length === 1 ? COMP[x] : undefined);
  let shared = 0, onlyMetal = 0, maxBeta = 0, maxSe = 0, maxLogP = 0, maxI2 = 0, maxHetP = 0, unoriented = 0;
  for (const r of m.rows) {
    const o = byName.get(r[mi.MarkerName]);
    if (!o) { onlyMetal++; continue; }
    shared++;
    const [M1, M2] = [r[mi.Allele1].toUpperCase(), r[mi.Allele2].toUpperCase()];
    const [E, O] = [o[ix.allele1], o[ix.allele0]];
    const sign = M1 === E && M2 === O ? 1 : M1 === O && M2 === E ? -1 : comp(E) === M1 && comp(O) === M2 ? 1 : comp(O) === M1 && comp(E) === M2 ? -1 : 0;
    if (sign === 0) { unoriented++; continue; }
    const se = +o[ix.se];
    maxBeta = Math.max(maxBeta, Math.abs(sign * +r[mi.Effect] - +o[ix.beta]) / se);
    maxSe = Math.max(maxSe, Math.abs(+r[mi.StdErr] - se) / se);
    // METAL prints p with 4 significant digits: compare log10 p
    const pm = +r[mi['P-value']];
    if (pm > 0) maxLogP = Math.max(maxLogP, Math.abs(Math.log10(pm) - +o[ix.log10p]));
    if (+o[ix.n_cohorts] > 1) {
      maxI2 = Math.max(maxI2, Math.abs(+r[mi.HetISq] - +o[ix.i2]));
      const hp = +r[mi.HetPVal];
      if (hp > 0) maxHetP = Math.max(maxHetP, Math.abs(Math.log10(hp) - Math.log10(+o[ix.p_het])));
    }
  }
  metal = {
    markers: m.rows.length, ours_variants: ours.rows.length, shared, only_metal: onlyMetal, only_ours: ours.rows.length - shared, alleles_not_oriented: unoriented,
    max_abs_beta_diff_over_se: maxBeta, max_rel_se_diff: maxSe, max_abs_log10p_diff: maxLogP, max_abs_i2_diff_percent: maxI2, max_abs_log10_phet_diff: maxHetP,
    note: 'METAL prints Effect/StdErr with 8 decimals here, P-value and HetPVal with 4 significant digits, HetISq with 1 decimal',
  };
}

// ---- against metafor on the subsample ----
const g = JSON.parse(readFileSync(`${S}/metafor-sub.json`, 'utf8'));
const byKey = new Map(ours.rows.map((r) => [`${r[ix.chr]}:${r[ix.ps]}:${r[ix.allele1]}:${r[ix.allele0]}`, r]));
let compared = 0, missing = 0;
const mx = { beta: 0, se: 0, p: 0, beta_re: 0, se_re: 0, tau2: 0, i2: 0, p_het: 0 };
const rel = (x, y) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-300);
for (const v of g.variants) {
  if (!(v.chr === g.complete_below.chr && v.ps < g.complete_below.ps)) continue;
  const o = byKey.get(`${v.chr}:${v.ps}:${v.allele1}:${v.allele0}`);
  if (!o) { missing++; continue; }
  compared++;
  mx.beta = Math.max(mx.beta, Math.abs(+o[ix.beta] - v.beta) / v.se);
  mx.se = Math.max(mx.se, rel(+o[ix.se], v.se));
  mx.p = Math.max(mx.p, rel(+o[ix.p], v.p));
  if (v.beta_re !== undefined) {
    mx.beta_re = Math.max(mx.beta_re, Math.abs(+o[ix.beta_re] - v.beta_re) / v.se_re);
    mx.se_re = Math.max(mx.se_re, rel(+o[ix.se_re], v.se_re));
    mx.tau2 = Math.max(mx.tau2, Math.abs(+o[ix.tau2] - v.tau2) / Math.max(v.tau2, 1e-12));
    mx.i2 = Math.max(mx.i2, Math.abs(+o[ix.i2] - v.i2));
    mx.p_het = Math.max(mx.p_het, rel(+o[ix.p_het], v.p_het));
  }
}
const git = (c) => { try { return execSync(c, { cwd: a.root }).toString().trim(); } catch { return null; } };
const oursT = summary(times.ours);
const record = {
  bench: 'gwas-meta', command: `${a.metal ? `METAL=${a.metal} ` : ''}flock /work/bench.lock bash bench/gwas-meta.sh ${a.reps} ${a.variants} ${a.sub}`,
  commit: git('git rev-parse --short HEAD'), node: process.version, cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, date: new Date().toISOString(),
  load_before: a['load-before'], load_after: a['load-after'],
  data: { cohorts: 3, variants_simulated: +a.variants, layouts: ['gemma assoc.txt', 'GWAS-SSF tsv.gz', 'BOLT table'], generator: 'data/meta/make-gwas-cohorts.mjs --seed 15' },
  outputs: 'TSV, Arrow stream, 4 plots (Manhattan + QQ, fixed and random effects), JSON report',
  gpulmm: { ...oursT, variants_out: report.variants, by_cohort_count: report.byCohortCount, lambda_fe: report.lambdaFe, lambda_re: report.lambdaRe, cohorts: report.cohorts.map((c) => ({ format: c.format, ...c.counts })) },
  metal: a.metal ? { binary: a.metal, ...summary(times.metal), gpulmm_over_metal_wall: oursT.median_wall_s / summary(times.metal).median_wall_s, agreement: metal } : 'not run (METAL unset)',
  metafor: {
    what: `rma(method = "FE") + rma(method = "DL") per variant after R's own allele alignment, on the first ${a.sub} lines of each cohort`, ...summary(times.metafor),
    rma_loop_seconds: g.rma_seconds, variants: g.variants.length, seconds_per_variant: g.rma_seconds / g.variants.length,
    extrapolated_hours_for_all: (g.rma_seconds / g.variants.length) * report.variants / 3600,
    compared_variants: compared, missing_in_gpulmm: missing,
    max_diff: { beta_over_se: mx.beta, se_rel: mx.se, p_rel: mx.p, beta_re_over_se: mx.beta_re, se_re_rel: mx.se_re, tau2_rel: mx.tau2, i2_abs_percent: mx.i2, p_het_rel: mx.p_het },
  },
  target: 'GWAS meta-analysis of 3 cohorts x 1 M variants in < 60 s on the 2-core machine',
  target_met: +a.variants >= 1e6 && oursT.median_wall_s < 60,
};
writeFileSync(a.out, `${JSON.stringify(record, null, 2)}\n`);
console.log(JSON.stringify({ gpulmm: oursT, metal: record.metal.median_wall_s, metafor: record.metafor.max_diff, agreement: metal }, null, 1));
