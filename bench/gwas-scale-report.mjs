// The record of bench/gwas-scale.sh (run in its work folder): per n, GEMMA's two commands and gpulmm's one
// (wall, cpu, peak RSS; gpulmm's stage times, per-stage peak RSS and memory plan), the parity of the two
// assoc files, the ratios; then a plot of time and peak memory against n (SVG, no dependencies).
//   node bench/gwas-scale-report.mjs OUT_PREFIX COMMIT M SEED LOAD_BEFORE N...
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const [out, commit, m, seed, loadBefore, ...sizes] = process.argv.slice(2);
const time = (file) => {
  const [wall, user, sys, rssKb] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return { wall_s: wall, cpu_s: Math.round((user + sys) * 100) / 100, peak_rss_mb: Math.round(rssKb / 1024) };
};
const table = (file) => {
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  const header = lines[0];
  return { col: (name) => header.indexOf(name), rows: new Map(lines.slice(1).map((r) => [r[header.indexOf('rs')], r])) };
};

/** Same SNP set, af and n_miss as printed, max |delta log10 p| per test (where both p are positive). */
function parity(gemmaFile, oursFile) {
  const g = table(gemmaFile), o = table(oursFile);
  let missing = 0, afDiff = 0, nMissDiff = 0;
  const worst = { wald: 0, lrt: 0, score: 0 };
  for (const [rs, gr] of g.rows) {
    const or = o.rows.get(rs);
    if (!or) { missing++; continue; }
    if (or[o.col('af')] !== gr[g.col('af')]) afDiff++;
    if (or[o.col('n_miss')] !== gr[g.col('n_miss')]) nMissDiff++;
    for (const t of ['wald', 'lrt', 'score']) {
      const a = Number(gr[g.col(`p_${t}`)]), b = Number(or[o.col(`p_${t}`)]);
      if (a > 0 && b > 0) worst[t] = Math.max(worst[t], Math.abs(Math.log10(a) - Math.log10(b)));
    }
  }
  return {
    gemma_snps: g.rows.size, gpulmm_snps: o.rows.size, snps_missing_from_gpulmm: missing, af_differ: afDiff, n_miss_differ: nMissDiff,
    max_abs_delta_log10p: worst, within_issue_tolerance: missing === 0 && g.rows.size === o.rows.size && afDiff === 0 && nMissDiff === 0 && worst.wald <= 1e-3 && worst.score <= 1e-3 && worst.lrt <= 5e-3,
  };
}

const runs = sizes.map((n) => {
  const c = `c${n}`;
  const gk = time(`${c}.gemma-gk.time`), lmm = time(`${c}.gemma-lmm.time`), ours = time(`${c}.gpulmm.time`);
  const log = readFileSync(`${c}.gpulmm.log`, 'utf8');
  const verbose = log.split('\n').filter((l) => /^(memory plan|  kinship|  decompositions|  stream|peak memory|time \(s\))/.test(l));
  const gemma = { wall_s: Math.round((gk.wall_s + lmm.wall_s) * 100) / 100, cpu_s: Math.round((gk.cpu_s + lmm.cpu_s) * 100) / 100, peak_rss_mb: Math.max(gk.peak_rss_mb, lmm.peak_rss_mb) };
  return {
    n: Number(n), m: Number(m),
    gemma: { gk, lmm4: lmm, total: gemma },
    gpulmm: { ...ours, verbose },
    ratio_wall_gpulmm_over_gemma: Math.round((ours.wall_s / gemma.wall_s) * 1000) / 1000,
    ratio_cpu_gpulmm_over_gemma: Math.round((ours.cpu_s / gemma.cpu_s) * 1000) / 1000,
    ratio_peak_rss_gpulmm_over_gemma: Math.round((ours.peak_rss_mb / gemma.peak_rss_mb) * 1000) / 1000,
    parity: parity(`${c}.gemma.assoc.txt`, `${c}.gpulmm.assoc.txt`),
  };
});

const rec = {
  benchmark: 'gwas-scale',
  dataset: `data/simulate/cohort.mjs --n N --m ${m} --seed ${seed} (2 subpopulations Fst 0.05, 30% in nuclear families, 2% missing genotypes, quant trait h2 0.5)`,
  op: 'kinship (-gk 1) + eigh + lmm 4 (Wald, LRT, score), end to end from PLINK files', backend: 'cpu', precision: 'f64 (exact integer Gram for K)',
  reference: 'GEMMA 0.98.5 (Debian, OpenBLAS): gemma -bfile C -gk 1, then gemma -bfile C -k C.cXX.txt -lmm 4',
  command: `flock /work/bench.lock bash bench/gwas-scale.sh ${sizes.join(' ')}`,
  targets: 'issue 9: n=5000 wall <= 0.25x GEMMA and peak RSS <= GEMMA; n=10000 wall <= 0.5x and peak RSS <= GEMMA; |delta log10 p| <= 1e-3 (Wald, score), 5e-3 (LRT)',
  runs,
  load_average_before: loadBefore, load_average_after: readFileSync('/proc/loadavg', 'utf8').trim(),
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), memory_gib: Math.round(os.totalmem() / 2 ** 30) },
  node: process.version, commit, date: new Date().toISOString(),
  note: 'one run per tool and size (the large runs take minutes); wall seconds depend on the machine load recorded before and after; cpu seconds are steadier',
};
writeFileSync(`${out}.json`, JSON.stringify(rec, null, 2) + '\n');
writeFileSync(`${out}.svg`, plot(runs));
console.log(JSON.stringify(rec, null, 2));

/** Two panels (wall seconds, peak RSS in GB) against n, GEMMA and gpulmm. */
function plot(rs) {
  const W = 360, H = 260, L = 56, B = 40, T = 28, R = 12;
  const xs = rs.map((r) => r.n);
  const panel = (x0, title, series) => {
    const ymax = Math.max(...series.flatMap((s) => s.values)) * 1.1;
    const xmin = Math.min(...xs), xmax = Math.max(...xs);
    const px = (x) => x0 + L + ((x - xmin) / Math.max(1, xmax - xmin)) * (W - L - R);
    const py = (y) => T + (1 - y / ymax) * (H - T - B);
    let s = `<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="13">${title}</text>`;
    s += `<line x1="${x0 + L}" y1="${H - B}" x2="${x0 + W - R}" y2="${H - B}" stroke="#000"/><line x1="${x0 + L}" y1="${T}" x2="${x0 + L}" y2="${H - B}" stroke="#000"/>`;
    for (const x of xs) s += `<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${x}</text>`;
    s += `<text x="${x0 + L + (W - L - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">n (individuals; m = ${m} SNPs)</text>`;
    for (let k = 0; k <= 4; k++) {
      const y = (ymax / 4) * k;
      s += `<text x="${x0 + L - 4}" y="${py(y) + 4}" text-anchor="end" font-size="10">${y >= 100 ? y.toFixed(0) : y.toPrecision(2)}</text>`;
    }
    series.forEach((ser, k) => {
      s += `<polyline fill="none" stroke="${ser.color}" stroke-width="2" points="${xs.map((x, i) => `${px(x)},${py(ser.values[i])}`).join(' ')}"/>`;
      for (let i = 0; i < xs.length; i++) s += `<circle cx="${px(xs[i])}" cy="${py(ser.values[i])}" r="3" fill="${ser.color}"/>`;
      s += `<text x="${x0 + L + 8}" y="${T + 14 + 14 * k}" font-size="11" fill="${ser.color}">${ser.name}</text>`;
    });
    return s;
  };
  const gem = '#d62728', ours = '#1f77b4';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" font-family="sans-serif">` +
    panel(0, 'wall time (s), kinship + lmm 4', [{ name: 'GEMMA 0.98.5', color: gem, values: rs.map((r) => r.gemma.total.wall_s) }, { name: 'gpulmm (cpu)', color: ours, values: rs.map((r) => r.gpulmm.wall_s) }]) +
    panel(W, 'peak RSS (GB)', [{ name: 'GEMMA 0.98.5', color: gem, values: rs.map((r) => r.gemma.total.peak_rss_mb / 1024) }, { name: 'gpulmm (cpu)', color: ours, values: rs.map((r) => r.gpulmm.peak_rss_mb / 1024) }]) +
    '</svg>\n';
}
