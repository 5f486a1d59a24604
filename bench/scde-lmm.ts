/**
 * Benchmark of the donor LMM (`scde --method lmm`) side by side with lmerTest on the same data and split.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/scde-lmm.js --counts DIR --cells FILE --donor COL \
 *       [--condition COL] [--r-genes 40] [--reps 5] [--synthetic 2000x12000x8] [--json bench/results/scde-lmm-<machine>.json]
 *
 * Without --condition the donors are split in two halves (a null); with it, the data's own two-level condition
 * is tested (e.g. a paired design).
 * 1. Real data: all cells, donors split in two halves (sorted order), y = log1p(1e4 c / L). gpulmm fits every
 *    gene (median of --reps runs of stats + fit, reading excluded); lmerTest (bench/scde-lmertest.R) fits the
 *    first --r-genes tested genes one lmer() call each, timed inside R. Per-gene times and their ratio, plus the
 *    agreement (|delta log10 p|, |delta beta| / se) on those genes.
 * 2. Synthetic genes x cells x donors (Poisson counts with donor effects): gpulmm time only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SparseCounts } from '../src/io/mtx.js';
import { sortedLevels } from '../src/sc/design.js';
import { loadScdeInput } from '../src/sc/load-input.js';
import { runScde, type ScdeBlock, type ScdeInput } from '../src/sc/scde.js';
import { argValue, requiredArg } from './args.js';
import { median } from '../src/bench/measure.js';



/**
 * Adds the tested column __cond: the data's condition (levels sorted, second = B) when `condition` is given, else
 * a split of the sorted donors in halves. Returns the argument telling bench/scde-lmertest.R the same thing.
 */
function withSplit(input: ScdeInput, donorCol: string, condition?: string): { input: ScdeInput; rArg: string } {
  const donor = input.cells.table.columns.get(donorCol);
  if (!donor) throw new Error(`no column ${donorCol}`);
  if (condition !== undefined) {
    const col = input.cells.table.columns.get(condition);
    if (!col) throw new Error(`no column ${condition}`);
    const levels = sortedLevels([...input.cells.present].map((i) => col[i]!));
    if (levels.length !== 2) throw new Error(`${condition} has ${levels.length} levels, expected 2`);
    const columns = new Map(input.cells.table.columns);
    columns.set('__cond', col.map((v) => (v === levels[1] ? 'B' : 'A')));
    return { input: { ...input, cells: { ...input.cells, table: { ...input.cells.table, columns } } }, rArg: `cond=${condition}` };
  }
  const donors = sortedLevels([...input.cells.present].map((i) => donor[i]!));
  const groupB = donors.slice(Math.ceil(donors.length / 2));
  const columns = new Map(input.cells.table.columns);
  columns.set('__cond', donor.map((d) => (groupB.includes(d) ? 'B' : 'A')));
  return { input: { ...input, cells: { ...input.cells, table: { ...input.cells.table, columns } } }, rArg: groupB.join(',') };
}

function timeLmm(input: ScdeInput, donor: string, reps: number): { seconds: number; block: ScdeBlock } {
  const times: number[] = [];
  let block: ScdeBlock | undefined;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    [block] = [...runScde(input, { donor, condition: '__cond', contrast: 'B:A', method: 'lmm', minFrac: 0 })];
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times), block: block! };
}

function synthetic(nGenes: number, nCells: number, nDonors: number): ScdeInput {
  let s = 12345;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const z = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const donorOf = Array.from({ length: nCells }, (_, c) => c % nDonors);
  const base = Array.from({ length: nGenes }, () => Math.exp(-3 + 4 * u()));
  const eff = Array.from({ length: nGenes * nDonors }, () => Math.exp(0.3 * z()));
  const colPtr = new Float64Array(nCells + 1);
  const rows: number[] = [];
  const vals: number[] = [];
  for (let c = 0; c < nCells; c++) {
    for (let g = 0; g < nGenes; g++) {
      const lambda = base[g]! * eff[g * nDonors + donorOf[c]!]!;
      // Poisson by inversion (lambda is small for most genes).
      let k = 0;
      let p = Math.exp(-lambda);
      let cdf = p;
      const v = u();
      while (v > cdf && k < 200) {
        k++;
        p *= lambda / k;
        cdf += p;
      }
      if (k > 0) {
        rows.push(g);
        vals.push(k);
      }
    }
    colPtr[c + 1] = rows.length;
  }
  const counts: SparseCounts = { nGenes, nCells, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(vals), integer: true };
  const columns = new Map<string, string[]>([['donor', donorOf.map((d) => `d${d}`)]]);
  return {
    counts,
    genes: Array.from({ length: nGenes }, (_, g) => `g${g}`),
    cells: { table: { columns, nCells, source: 'synthetic' }, present: Int32Array.from({ length: nCells }, (_, i) => i), missing: 0, missingExamples: [] },
  };
}

const countsDir = requiredArg('counts');
const cellsFile = requiredArg('cells');
const donorCol = requiredArg('donor');
const rGenes = Number(requiredArg('r-genes', '40'));
const reps = Number(requiredArg('reps', '5'));
const [sg, sc, sd] = requiredArg('synthetic', '2000x12000x8').split('x').map(Number) as [number, number, number];
const jsonOut = argValue('json') ?? null;
const condition = argValue('condition');

const loaded = await loadScdeInput({ countsDir, cellsFile });
const { input, rArg } = withSplit(loaded, donorCol, condition);
const nCells = input.cells.present.length;
const nDonors = new Set([...input.cells.present].map((i) => input.cells.table.columns.get(donorCol)![i]!)).size;
const real = timeLmm(input, donorCol, reps);
const tested = real.block.status.flatMap((s, g) => (s === 'ok' || s === 'singular' ? [g] : []));
process.stderr.write(`gpulmm lmm: ${input.counts.nGenes} genes x ${nCells} cells x ${nDonors} donors: ${real.seconds.toFixed(3)} s (median of ${reps})\n`);

// lmerTest on the first rGenes tested genes, same y and split.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'scde-bench-'));
const pick = tested.slice(0, rGenes);
writeFileSync(path.join(tmp, 'genes.txt'), pick.map((g) => String(g + 1)).join('\n') + '\n');
const rOut = path.join(tmp, 'lmertest.tsv');
const rScript = path.resolve('bench/scde-lmertest.R'); // run from the repository root
execFileSync('Rscript', [rScript, countsDir, cellsFile, donorCol, path.join(tmp, 'genes.txt'), rArg, rOut], { stdio: ['ignore', 'ignore', 'inherit'] });
const rRows = readFileSync(rOut, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split('\t').map(Number));
let maxDlogp = 0;
let maxDbeta = 0;
let rSeconds = 0;
for (const [gene, beta, se, , p, seconds] of rRows as [number, number, number, number, number, number][]) {
  const g = gene - 1;
  maxDlogp = Math.max(maxDlogp, Math.abs(Math.log10(real.block.p[g]!) - Math.log10(p)));
  maxDbeta = Math.max(maxDbeta, Math.abs(real.block.beta[g]! - beta) / se);
  rSeconds += seconds;
}
const rPerGene = rSeconds / rRows.length;
const ourPerGene = real.seconds / input.counts.nGenes;

const synth = synthetic(sg, sc, sd);
const synthSplit = withSplit(synth, 'donor').input;
const synthRun = timeLmm(synthSplit, 'donor', reps);
process.stderr.write(`gpulmm lmm synthetic ${sg} x ${sc} x ${sd}: ${synthRun.seconds.toFixed(3)} s\n`);

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const record = {
  op: 'scde lmm: y ~ cond + (1 | donor), REML, Satterthwaite t, all genes',
  backend: 'cpu',
  precision: 'f64',
  adapter: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
  node: process.version,
  commit,
  date: new Date().toISOString(),
  command: `node dist/bench/scde-lmm.js ${process.argv.slice(2).join(' ')}`,
  real: {
    data: countsDir,
    tested: condition === undefined ? 'donor split in halves (null)' : `condition ${condition}`,
    shape: { genes: input.counts.nGenes, cells: nCells, donors: nDonors, nnz: input.counts.rowIdx.length },
    gpulmm_median_s: real.seconds,
    gpulmm_per_gene_s: ourPerGene,
    genes_per_s: input.counts.nGenes / real.seconds,
    lmertest_genes: rRows.length,
    lmertest_per_gene_s: rPerGene,
    speedup_per_gene: rPerGene / ourPerGene,
    max_abs_delta_log10p_vs_lmertest: maxDlogp,
    max_abs_delta_beta_over_se_vs_lmertest: maxDbeta,
  },
  synthetic: {
    shape: { genes: sg, cells: sc, donors: sd, nnz: synth.counts.rowIdx.length },
    gpulmm_median_s: synthRun.seconds,
    genes_per_s: sg / synthRun.seconds,
  },
};
process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(record, null, 2)}\n`);
