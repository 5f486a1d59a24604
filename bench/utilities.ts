/**
 * Benchmarks of the utilities (distribution tails, multiple testing, table and line readers, the Arrow writer,
 * the PNG plots) against R 4.2 doing the same work on the same inputs in the same command.
 *
 *   npm run build && node dist/bench/utilities.js --json bench/results/utilities-<machine>.json
 *
 * Each op is timed `reps` times (median kept). R reads the identical inputs (raw f64 files, the same CSV) and
 * times itself with proc.time(), so process start-up is excluded on both sides. Records: see UtilityRecord.
 * The plot rows are indicative only: R's png() device (cairo, antialiased, vector primitives) does more work
 * per point than the direct rasteriser.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArrowStreamWriter } from '../src/io/arrow-stream.js';
import { openAtomic, writeFileAtomic } from '../src/io/atomic-file.js';
import { numericColumn, readTable } from '../src/io/csv.js';
import { readLines } from '../src/io/lines.js';
import { manhattanPlot, qqPlot } from '../src/plot/index.js';
import { chi2Log10Survival, fLog10Survival, tLog10Survival2 } from '../src/stats/distributions.js';
import { benjaminiHochberg, genomicInflation } from '../src/stats/multiple-testing.js';
import { gitCommit, machineInfo, median, xorshiftUniforms, type MachineInfo } from '../src/bench/measure.js';

/** One committed measurement. */
interface UtilityRecord {
  op: string;
  /** Items processed per call (values, rows, lines or points). */
  n: number;
  median_s: number;
  reps: number;
  /** R's median seconds for the same work on the same inputs (null: no R counterpart timed). */
  r_median_s: number | null;
  /** r_median_s / median_s (> 1: gpulmm faster). */
  speedup_vs_r: number | null;
  /** What R ran. */
  r_code: string | null;
  node: string;
  r_version: string | null;
  commit: string | null;
  machine: MachineInfo;
  date: string;
}

interface Case {
  op: string;
  n: number;
  run: () => Promise<unknown> | unknown;
  /** R expression timed on the same inputs (variables from R_SETUP), or null. */
  r: string | null;
}

const args = process.argv.slice(2);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const quick = args.includes('--quick');
const reps = quick ? 3 : 5;
const N_TAIL = 200_000;
const N_P = 1_000_000;
const N_ROWS = quick ? 50_000 : 200_000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'gpulmm-bench-'));
  try {
    // Inputs shared with R.
    const u = xorshiftUniforms(N_P, 12345);
    const stat = Float64Array.from(u.subarray(0, N_TAIL), (v) => 10 ** (5 * v - 2)); // 0.01 .. 1000
    const tstat = Float64Array.from(u.subarray(0, N_TAIL), (v) => 10 ** (3 * v - 1.5)); // 0.03 .. 30
    const p = Float64Array.from(u, (v) => v * v);
    writeFileSync(join(dir, 'stat.f64'), stat);
    writeFileSync(join(dir, 'tstat.f64'), tstat);
    writeFileSync(join(dir, 'p.f64'), p);
    const csvLines = ['id,chr,pos,beta,se'];
    for (let i = 0; i < N_ROWS; i++) csvLines.push(`rs${i},${1 + (i % 22)},${i * 37},${(u[i]! - 0.5).toFixed(6)},${(0.01 + u[N_ROWS + i]!).toFixed(6)}`);
    const csvPath = join(dir, 'table.csv');
    writeFileSync(csvPath, `${csvLines.join('\n')}\n`);
    const gzPath = join(dir, 'table.csv.gz');
    writeFileSync(gzPath, gzipSync(`${csvLines.join('\n')}\n`));
    const chr = Array.from({ length: N_P }, (_, i) => String(1 + Math.floor((i / N_P) * 22)));
    const pos = Float64Array.from({ length: N_P }, (_, i) => (i % (N_P / 22)) * 150);
    const log10p = Float64Array.from(p, (v) => Math.log10(v));

    const cases: Case[] = [
      { op: 'fLog10Survival(x, 1, 1400)', n: N_TAIL, run: () => { for (let i = 0; i < N_TAIL; i++) fLog10Survival(stat[i]!, 1, 1400); }, r: 'pf(stat, 1, 1400, lower.tail = FALSE, log.p = TRUE)' },
      { op: 'chi2Log10Survival(x, 1)', n: N_TAIL, run: () => { for (let i = 0; i < N_TAIL; i++) chi2Log10Survival(stat[i]!, 1); }, r: 'pchisq(stat, 1, lower.tail = FALSE, log.p = TRUE)' },
      { op: 'tLog10Survival2(t, 1400)', n: N_TAIL, run: () => { for (let i = 0; i < N_TAIL; i++) tLog10Survival2(tstat[i]!, 1400); }, r: 'log(2) + pt(-tstat, 1400, log.p = TRUE)' },
      { op: 'benjaminiHochberg', n: N_P, run: () => benjaminiHochberg(p), r: 'p.adjust(p, "BH")' },
      { op: 'genomicInflation', n: N_P, run: () => genomicInflation(p), r: 'median(qchisq(1 - p, 1)) / qchisq(0.5, 1)' },
      { op: 'readTable csv + numericColumn', n: N_ROWS, run: async () => numericColumn(await readTable(csvPath), 'beta'), r: 'read.csv(csv)$beta' },
      { op: 'readLines gzip', n: N_ROWS + 1, run: async () => { let k = 0; for await (const _ of readLines(gzPath)) k++; return k; }, r: 'con <- gzfile(gz); n <- length(readLines(con)); close(con)' },
      {
        op: 'ArrowStreamWriter 10 batches x 4 cols',
        n: N_P,
        run: async () => {
          const w = await ArrowStreamWriter.open(join(dir, 'out.arrow'), { columns: [{ name: 'chr', type: 'utf8' }, { name: 'pos', type: 'i32' }, { name: 'beta', type: 'f64' }, { name: 'log10p', type: 'f64' }], metadata: { bench: '1' } });
          const b = N_P / 10;
          for (let k = 0; k < 10; k++) {
            await w.write({ chr: chr.slice(k * b, (k + 1) * b), pos: Int32Array.from(pos.subarray(k * b, (k + 1) * b)), beta: u.subarray(k * b, (k + 1) * b), log10p: log10p.subarray(k * b, (k + 1) * b) });
          }
          await w.close();
        },
        r: null,
      },
      {
        op: 'openAtomic text 1M lines',
        n: N_P,
        run: async () => {
          const f = await openAtomic(join(dir, 'out.tsv'));
          for (let k = 0; k < N_P; k += 10_000) {
            let s = '';
            for (let i = k; i < k + 10_000; i++) s += `${chr[i]}\t${pos[i]}\t${log10p[i]}\n`;
            await f.write(s);
          }
          await f.commit();
        },
        r: 'write.table(data.frame(chr, pos, log10p), out, sep = "\\t", quote = FALSE, row.names = FALSE, col.names = FALSE)',
      },
      { op: 'manhattanPlot png 1200x500 @1x', n: N_P, run: () => manhattanPlot({ chr, pos, log10p, title: 'bench', pixelRatio: 1 }), r: 'png(png1, 1200, 500); plot(cumpos, -log10(p), pch = 20, cex = 0.4, col = chrcol); dev.off()' },
      { op: 'qqPlot png 600x600 @1x', n: N_P, run: () => qqPlot({ log10p, title: 'bench', pixelRatio: 1 }), r: 'png(png2, 600, 600); o <- -log10(sort(p)); e <- -log10(ppoints(length(p))); plot(e, o, pch = 20, cex = 0.4); abline(0, 1); dev.off()' },
    ];

    // R side: same inputs, each expression timed `reps` times.
    const rSetup = [
      `stat <- readBin("${join(dir, 'stat.f64')}", "double", ${N_TAIL})`,
      `tstat <- readBin("${join(dir, 'tstat.f64')}", "double", ${N_TAIL})`,
      `p <- readBin("${join(dir, 'p.f64')}", "double", ${N_P})`,
      `csv <- "${csvPath}"; gz <- "${gzPath}"; out <- "${join(dir, 'r-out.tsv')}"`,
      `png1 <- "${join(dir, 'r1.png')}"; png2 <- "${join(dir, 'r2.png')}"`,
      `chr <- 1 + floor((0:(${N_P} - 1)) / ${N_P} * 22); pos <- ((0:(${N_P} - 1)) %% (${N_P} / 22)) * 150; log10p <- log10(p)`,
      `cumpos <- chr * 1e9 + pos; chrcol <- ifelse(chr %% 2 == 0, "steelblue", "navy")`,
      'tm <- function(f) { t <- numeric(0); for (k in 1:REPS) { t0 <- proc.time()[["elapsed"]]; f(); t <- c(t, proc.time()[["elapsed"]] - t0) }; median(t) }',
    ].join('\n').replace('REPS', String(reps));
    const rCases = cases.filter((c) => c.r !== null);
    const rScript = `${rSetup}\ncat(R.version.string, "\\n")\n${rCases.map((c) => `cat(tm(function() invisible({ ${c.r} })), "\\n")`).join('\n')}\n`;
    writeFileSync(join(dir, 'bench.R'), rScript);
    let rTimes: number[] = [];
    let rVersion: string | null = null;
    try {
      const outR = execFileSync('Rscript', [join(dir, 'bench.R')], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n');
      rVersion = outR[0]!.trim();
      rTimes = outR.slice(1).map(Number);
    } catch (e) {
      process.stderr.write(`R reference not run: ${(e as Error).message}\n`);
    }

    const records: UtilityRecord[] = [];
    const base = {
      node: process.version,
      r_version: rVersion,
      commit: gitCommit(),
      machine: machineInfo(),
    };
    for (const c of cases) {
      await c.run(); // warm-up
      const t: number[] = [];
      for (let k = 0; k < reps; k++) {
        const t0 = performance.now();
        await c.run();
        t.push((performance.now() - t0) / 1000);
      }
      const m = median(t);
      const ri = rCases.indexOf(c);
      const rm = ri >= 0 && rTimes[ri] !== undefined && Number.isFinite(rTimes[ri]) ? rTimes[ri]! : null;
      records.push({ op: c.op, n: c.n, median_s: m, reps, r_median_s: rm, speedup_vs_r: rm !== null && m > 0 ? rm / m : null, r_code: c.r, ...base, date: new Date().toISOString() });
      process.stdout.write(`${c.op.padEnd(40)} n=${String(c.n).padStart(8)}  ${m.toFixed(4)} s${rm !== null ? `   R ${rm.toFixed(4)} s   x${(rm / m).toFixed(2)}` : ''}\n`);
    }
    if (jsonOut) {
      await writeFileAtomic(jsonOut, `${JSON.stringify(records, null, 2)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
