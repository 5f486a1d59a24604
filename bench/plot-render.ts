/**
 * Plot rendering at GWAS scale: Manhattan and QQ of 10 M points (and a volcano of 1 M) as PNG, SVG and PDF with
 * gpulmm's plots (Skia, raster points, vector axes), beside R 4.2 drawing the same points with base graphics on
 * its png() (cairo) and pdf() devices, in the same command on the same inputs.
 *
 *   npm run build && flock /work/bench.lock node dist/bench/plot-render.js --json bench/results/plot-render-cpu2.json
 *
 * Each case is timed `--reps` times after one warm-up (median kept; R: proc.time() around the device, the plot and
 * dev.off(), `--r-reps` times). Peak RSS: this process's maxRSS (inputs included) and R's from /usr/bin/time -v.
 * Load averages before and after are in the record: compare ratios within one record.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic-file.js';
import { manhattanPlot, qqPlot, volcanoPlot, type PlotFormat } from '../src/plot/index.js';
import { gitCommit, machineInfo, median, xorshiftUniforms } from '../src/bench/measure.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const jsonOut = args.includes('--json') ? opt('--json', '') : undefined;
const N = Number(opt('--n', '10000000'));
const reps = Number(opt('--reps', '3'));
const rReps = Number(opt('--r-reps', '1'));
const scratch = opt('--scratch', os.tmpdir());

/** One committed measurement. */
interface PlotRecord {
  tool: 'gpulmm' | 'R';
  op: string;
  format: PlotFormat;
  points: number;
  width: number;
  height: number;
  median_s: number | null;
  times_s: number[];
  bytes: number | null;
  code?: string;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const dir = mkdtempSync(join(scratch, 'gpulmm-plot-bench-'));
  try {
    // 22 chromosomes of equal SNP counts; p uniform with 2,000 strong signals (p = 10^-8 .. 10^-30).
    const u = xorshiftUniforms(N, 2024);
    const p = Float64Array.from(u);
    for (let k = 0; k < 2000; k++) p[Math.floor(u[k]! * N)] = 10 ** -(8 + 22 * u[N - 1 - k]!);
    writeFileSync(join(dir, 'p.f64'), p);
    const perChr = Math.ceil(N / 22);
    const names = Array.from({ length: 22 }, (_, c) => String(c + 1));
    const chr = Array.from({ length: N }, (_, i) => names[Math.floor(i / perChr)]!);
    const pos = Int32Array.from({ length: N }, (_, i) => 1 + (i % perChr) * 20);
    const log10p = Float64Array.from(p, (v) => Math.log10(v));
    const nV = Math.min(N, 1_000_000);
    const beta = Float64Array.from(u.subarray(0, nV), (v, i) => (v - 0.5) * 2 * (1 + (i % 7)));
    const fdr = Float64Array.from(p.subarray(0, nV), (v) => Math.min(1, v * 100));

    const cases: { op: string; format: PlotFormat; points: number; width: number; height: number; run: () => Buffer }[] = [];
    for (const format of ['png', 'svg', 'pdf'] as const) {
      cases.push({ op: 'manhattan', format, points: N, width: 1200, height: 500, run: () => manhattanPlot({ chr, pos, log10p, title: 'bench', format }) });
      cases.push({ op: 'qq', format, points: N, width: 600, height: 600, run: () => qqPlot({ log10p, title: 'bench', lambda: 1, format }) });
    }
    cases.push({ op: 'volcano', format: 'png', points: nV, width: 600, height: 600, run: () => volcanoPlot({ beta, log10p: log10p.subarray(0, nV), fdr, title: 'bench' }) });

    const records: PlotRecord[] = [];
    for (const c of cases) {
      let out = c.run(); // warm-up
      const t: number[] = [];
      for (let k = 0; k < reps; k++) {
        const t0 = performance.now();
        out = c.run();
        t.push((performance.now() - t0) / 1000);
      }
      writeFileSync(join(dir, `${c.op}.${c.format}`), out);
      records.push({ tool: 'gpulmm', op: c.op, format: c.format, points: c.points, width: c.width, height: c.height, median_s: median(t), times_s: t, bytes: out.length });
      process.stdout.write(`gpulmm ${c.op.padEnd(9)} ${c.format} n=${c.points}  ${median(t).toFixed(3)} s  ${out.length} bytes\n`);
    }
    const nodeMaxRssMib = process.resourceUsage().maxRSS / 1024;

    // R: base graphics, 2x resolution PNG (res 144) like gpulmm's default, and pdf(); same points.
    const rCases: { op: string; format: PlotFormat; width: number; height: number; code: string }[] = [
      { op: 'manhattan', format: 'png', width: 1200, height: 500, code: 'png(f, 2400, 1000, res = 144); plot(cumpos, -log10(p), pch = 20, cex = 0.4, col = chrcol, xlab = "Chromosome", ylab = "-log10(p)"); abline(h = -log10(5e-8), lty = 2, col = "red"); dev.off()' },
      { op: 'qq', format: 'png', width: 600, height: 600, code: 'png(f, 1200, 1200, res = 144); o <- -log10(sort(p)); e <- -log10(ppoints(length(p))); plot(e, o, pch = 20, cex = 0.4); abline(0, 1, col = "red"); dev.off()' },
      { op: 'manhattan', format: 'pdf', width: 1200, height: 500, code: 'pdf(f, 12.5, 5.2); plot(cumpos, -log10(p), pch = 20, cex = 0.4, col = chrcol, xlab = "Chromosome", ylab = "-log10(p)"); abline(h = -log10(5e-8), lty = 2, col = "red"); dev.off()' },
    ];
    const rScript = [
      `p <- readBin("${join(dir, 'p.f64')}", "double", ${N})`,
      `per <- ${perChr}; chr <- 1 + (0:(${N} - 1)) %/% per; pos <- 1 + ((0:(${N} - 1)) %% per) * 20`,
      'cumpos <- (chr - 1) * (per * 20 * 1.01) + pos; chrcol <- ifelse(chr %% 2 == 0, "#6fa8dc", "#1f4e79")',
      'cat(R.version.string, "\\n")',
      ...rCases.map((c, k) => `for (r in 1:${rReps}) { f <- "${join(dir, `r${k}.${c.format}`)}"; t0 <- proc.time()[["elapsed"]]; invisible({ ${c.code} }); cat(${k}, proc.time()[["elapsed"]] - t0, file.size(f), "\\n") }`),
    ].join('\n');
    writeFileSync(join(dir, 'plots.R'), rScript);
    let rVersion: string | null = null;
    let rMaxRssMib: number | null = null;
    try {
      const timeFile = join(dir, 'r-time.txt');
      const res = execFileSync('/usr/bin/time', ['-v', '-o', timeFile, 'Rscript', join(dir, 'plots.R')], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
      if (m) rMaxRssMib = Number(m[1]) / 1024;
      const lines = res.trim().split('\n');
      rVersion = lines[0]!.trim();
      const times = rCases.map(() => [] as number[]);
      const sizes = rCases.map(() => 0);
      for (const l of lines.slice(1)) {
        const [k, t, size] = l.trim().split(/\s+/).map(Number);
        times[k!]!.push(t!);
        sizes[k!] = size!;
      }
      rCases.forEach((c, k) => {
        records.push({ tool: 'R', op: c.op, format: c.format, points: N, width: c.width, height: c.height, median_s: median(times[k]!), times_s: times[k]!, bytes: sizes[k]!, code: c.code });
        process.stdout.write(`R      ${c.op.padEnd(9)} ${c.format} n=${N}  ${median(times[k]!).toFixed(3)} s  ${sizes[k]} bytes\n`);
      });
    } catch (e) {
      process.stderr.write(`R reference failed: ${(e as Error).message.split('\n')[0]}\n`);
    }
    const ratio = (op: string, format: PlotFormat) => {
      const g = records.find((r) => r.tool === 'gpulmm' && r.op === op && r.format === format)?.median_s;
      const r = records.find((x) => x.tool === 'R' && x.op === op && x.format === format)?.median_s;
      return g && r ? g / r : null;
    };
    const summary = {
      bench: 'plot-render',
      points: N,
      gpulmm_over_R: { manhattan_png: ratio('manhattan', 'png'), qq_png: ratio('qq', 'png'), manhattan_pdf: ratio('manhattan', 'pdf') },
      peak_rss_mib: { node: Math.round(nodeMaxRssMib), R: rMaxRssMib === null ? null : Math.round(rMaxRssMib) },
      load_before: loadBefore,
      load_after: os.loadavg(),
      node: process.version,
      r_version: rVersion,
      commit: gitCommit(),
      machine: machineInfo(),
      date: new Date().toISOString(),
      command: `node dist/bench/plot-render.js ${args.join(' ')}`,
      records,
    };
    process.stdout.write(`${JSON.stringify({ ...summary, records: undefined }, null, 1)}\n`);
    if (jsonOut) {
      await writeFileAtomic(jsonOut, `${JSON.stringify(summary, null, 2)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
