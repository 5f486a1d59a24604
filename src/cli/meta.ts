/**
 * `gpulmm meta`: random-effects meta-analysis and meta-regression of study estimates (`--data`, metafor's rma;
 * src/lmm/meta), or the per-variant meta-analysis of several GWAS results (`--gwas`, gwas/meta-analysis.ts).
 */
import { Option, type Command } from 'commander';
import { readTable, numericColumn, columnIndex, stringColumn, type Table } from '../io/csv.js';
import { fileIdentity, writeFileAtomic } from '../io/atomic-file.js';
import { DataError, FormulaError } from '../lmm/mixed/index.js';
import { formatRma, rma, rmaJson, rmaPredict, studyData, TAU2_METHODS, type MetaTest, type Tau2Method } from '../lmm/meta/index.js';
import { InputError, UsageError } from '../errors.js';
import { checkMetaOutputs, runGwasMeta, type GwasMetaReport } from '../../gwas/meta/run.js';
import { PLOT_FORMATS, type PlotFormat } from '../plot/index.js';
import type { AmbiguousPolicy } from '../../gwas/meta/alleles.js';
import { action } from './command.js';
import { parseNumberOption, OPEN_UNIT } from './option-values.js';
import { createProgress } from './progress.js';

interface MetaCliOptions {
  data?: string;
  yi: string;
  vi?: string;
  sei?: string;
  mods?: string;
  method: string;
  test: string;
  level: string;
  slab?: string;
  predictOut?: string;
  json?: string;
  gwas?: string[];
  pheno?: string;
  ambiguous: AmbiguousPolicy;
  ambiguousMaf: string;
  minCohorts: string;
  out?: string;
  tsv?: string;
  plot?: string;
  plotFormat: PlotFormat;
}

export function registerMeta(program: Command): void {
  program
    .command('meta')
    .description('Random-effects meta-analysis and meta-regression of study estimates (as metafor::rma), or of GWAS results per variant (--gwas)')
    .option('--data <file>', 'CSV (or tab/whitespace separated) table of studies: one row per study, with a header row')
    .option('--gwas <files...>', 'GWAS results to combine per variant (2 or more): gpulmm/GEMMA assoc.txt, BOLT table, GWAS-SSF .tsv.gz, gpulmm Arrow (.arrows, .arrow, dataset DIR/), each sorted by chromosome and position (else sorted in memory)')
    .option('--yi <col>', 'column of the estimates (log odds ratios, mean differences, ...)', 'yi')
    .option('--vi <col>', 'column of the sampling variances (default: vi, unless --sei is given)')
    .option('--sei <col>', 'column of the standard errors, instead of --vi')
    .option('--mods <moderators>', 'meta-regression moderators: a formula "~ x1 + factor(x2)" or a column list "x1,x2"')
    .addOption(new Option('--method <m>', 'tau^2 estimator: REML, ML, DL (DerSimonian-Laird), PM (Paule-Mandel), FE (fixed effect, tau^2 = 0)').default('REML'))
    .addOption(new Option('--test <t>', 'tests and intervals: z (normal), knha (Knapp-Hartung: t and F on k - p df)').choices(['z', 'knha']).default('z'))
    .option('--level <p>', 'confidence and prediction level', '0.95')
    .option('--slab <col>', 'study label column for --predict-out (default: the row number)')
    .option('--predict-out <file>', 'CSV of the fitted value of each study with its confidence and prediction interval')
    .option('--json <file>', 'also write the fit as JSON (coefficients, tau2, I2, H2, Q tests, fit statistics, predictions); with --gwas, the per-cohort counts and summary')
    .option('--pheno <name>', '--gwas: the phenotype to take from Arrow results of a multi-phenotype scan')
    .addOption(new Option('--ambiguous <policy>', '--gwas: strand-ambiguous A/T and C/G SNPs: keep (aligned by allele labels as METAL does, flagged in the ambiguous column), af (put on the first cohort\'s strand by allele frequency; dropped when a frequency is missing or the MAF exceeds --ambiguous-maf) or drop').choices(['keep', 'af', 'drop']).default('keep'))
    .option('--ambiguous-maf <x>', '--gwas --ambiguous af: the largest minor allele frequency that tells the strand', '0.4')
    .option('--min-cohorts <n>', '--gwas: output only variants found in at least n cohorts', '1')
    .option('--out <path>', '--gwas: Arrow output: FILE.arrows (stream), FILE.arrow (file) or DIR/ (dataset partitioned by chr=)')
    .option('--tsv <file>', '--gwas: tab-separated output (gzip when FILE ends in .gz)')
    .option('--plot <prefix>', '--gwas: Manhattan and QQ plots of the fixed- and random-effects p: PREFIX.fe.manhattan.png, PREFIX.fe.qq.png, PREFIX.re.*')
    .addOption(new Option('--plot-format <format>', 'plot file format').choices([...PLOT_FORMATS]).default('png'))
    .action(action('meta', async (o: MetaCliOptions) => (o.gwas ? runGwas(o) : runMeta(o))));
}

function checkOptions(o: MetaCliOptions): { method: Tau2Method; test: MetaTest; level: number } {
  if (o.data === undefined) throw new UsageError('--data FILE (a table of studies) or --gwas FILES (GWAS results) is required');
  for (const [flag, v] of [['--out', o.out], ['--tsv', o.tsv], ['--plot', o.plot], ['--pheno', o.pheno]] as const) {
    if (v !== undefined) throw new UsageError(`${flag} goes with --gwas; with --data use --json / --predict-out`);
  }
  const method = o.method.toUpperCase() as Tau2Method;
  if (!TAU2_METHODS.includes(method)) throw new UsageError(`--method ${o.method}: expected one of ${TAU2_METHODS.join(', ')}`);
  if (o.vi !== undefined && o.sei !== undefined) throw new UsageError('--vi and --sei: give one of them');
  const level = parseNumberOption(o.level, '--level', OPEN_UNIT);
  return { method, test: o.test as MetaTest, level };
}

/** Validates a numeric column up front so that a bad cell is reported with its line and column. */
function checkNumeric(table: Table, name: string, option: string): void {
  if (!table.header.includes(name)) throw new UsageError(`${option} ${name}: ${table.path} has no such column; columns are: ${table.header.join(', ')}`);
  numericColumn(table, name);
}

async function runMeta(o: MetaCliOptions): Promise<void> {
  const opts = checkOptions(o);
  const table = await readTable(o.data!);
  const varCol = o.sei !== undefined ? { sei: o.sei } : { vi: o.vi ?? 'vi' };
  checkNumeric(table, o.yi, '--yi');
  checkNumeric(table, o.sei ?? o.vi ?? 'vi', o.sei !== undefined ? '--sei' : '--vi');
  if (o.slab !== undefined) columnIndex(table, o.slab);
  let s;
  try {
    s = studyData(table, { yi: o.yi, ...varCol, mods: o.mods ?? null });
  } catch (e) {
    if (e instanceof FormulaError) throw new UsageError(`--mods: ${e.message}`);
    if (e instanceof DataError) throw new InputError(o.data!, undefined, undefined, e.message);
    throw e;
  }
  for (const m of s.messages) process.stderr.write(`${m}\n`);
  const fit = rma(s.data, opts);
  const predictions = rmaPredict(fit);
  const intercept = fit.p === 1 && fit.names[0] === '(Intercept)';
  process.stdout.write(formatRma(fit, intercept && fit.method !== 'FE' ? predictions[0]! : null));
  const labels = o.slab !== undefined ? stringColumn(table, o.slab) : table.rows.map((_, i) => String(i + 1));
  const rowLabels = Array.from(s.rowIndex, (i) => labels[i]!);
  if (o.predictOut) {
    const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const lines = [['study', 'pred', 'se', 'ci_lb', 'ci_ub', 'pi_lb', 'pi_ub'].join(',')];
    predictions.forEach((p, i) => lines.push([quote(rowLabels[i]!), p.pred, p.se, p.ciLower, p.ciUpper, p.piLower, p.piUpper].join(',')));
    await writeFileAtomic(o.predictOut, `${lines.join('\n')}\n`);
  }
  if (o.json) {
    const preds = intercept ? [predictions[0]!] : predictions.map((p, i) => ({ ...p, label: rowLabels[i]! }));
    await writeFileAtomic(o.json, `${JSON.stringify({ data: o.data, mods: o.mods ?? null, ...rmaJson(fit, preds) }, null, 2)}\n`);
  }
}

async function runGwas(o: MetaCliOptions): Promise<void> {
  if (o.data !== undefined) throw new UsageError('--data and --gwas: give one of them');
  for (const [flag, v] of [['--mods', o.mods], ['--predict-out', o.predictOut], ['--sei', o.sei], ['--vi', o.vi], ['--slab', o.slab]] as const) {
    if (v !== undefined) throw new UsageError(`${flag} goes with --data, not --gwas`);
  }
  if (o.gwas!.length < 2) throw new UsageError(`--gwas: ${o.gwas!.length} file given; a meta-analysis needs 2 or more`);
  const ids = await Promise.all(o.gwas!.map(fileIdentity));
  ids.forEach((a, i) => {
    const j = ids.findIndex((b) => (a.inode !== undefined && a.inode === b.inode) || a.real === b.real);
    if (j < i) throw new UsageError(`--gwas: ${o.gwas![i]} is the same file as ${o.gwas![j]}: give each cohort once`);
  });
  const minCohorts = parseNumberOption(o.minCohorts, '--min-cohorts', { integer: true, min: 1, max: o.gwas!.length });
  const ambiguousMaxMaf = parseNumberOption(o.ambiguousMaf, '--ambiguous-maf', { min: 0, max: 0.5, maxExclusive: true });
  if (!o.out && !o.tsv && !o.plot && !o.json) throw new UsageError('--gwas: nothing would be written; give --out, --tsv, --plot or --json');
  await checkMetaOutputs(o, '--out');
  const progress = createProgress({ label: 'meta', unit: 'variants' });
  let last = 0;
  const report = await runGwasMeta({
    inputs: o.gwas!, pheno: o.pheno, ambiguous: o.ambiguous, ambiguousMaxMaf, minCohorts, out: o.out, tsv: o.tsv, plot: o.plot, plotFormat: o.plotFormat,
    onProgress: (n) => {
      progress.tick(n - last);
      last = n;
    },
    onMessage: (m) => process.stderr.write(`${m}\n`),
  });
  progress.done();
  process.stdout.write(formatGwasReport(report));
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify(report, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}

/** The run's summary: per cohort what was read and what happened to it, then variants, lambda_GC and the top hits. */
function formatGwasReport(r: GwasMetaReport): string {
  const out: string[] = [];
  r.cohorts.forEach((c, i) => {
    const k = c.counts;
    out.push(`cohort ${i + 1}: ${c.path} (${c.format}${c.sortedInMemory ? ', sorted in memory' : ''}): ${k.read} variants read, ${k.used} used` +
      ` (${k.swapped} with effect/other alleles swapped, ${k.strandFlipped} on the other strand${k.ambiguousKept ? `, ${k.ambiguousKept} strand-ambiguous kept` : ''});` +
      ` dropped: ${k.unplaced ? `${k.unplaced} without a position, ` : ''}${k.invalid} without beta/se, ${k.mismatched} with mismatched alleles, ${k.duplicates} duplicates${k.ambiguousDropped ? `, ${k.ambiguousDropped} strand-ambiguous` : ''}${k.ambiguousUnresolved ? `, ${k.ambiguousUnresolved} strand-ambiguous with allele frequencies that do not tell the strand` : ''}`);
  });
  const by = r.byCohortCount.map((n, m) => (m > 0 ? `${n} in ${m}` : '')).filter((x) => x).join(', ');
  out.push(`${r.variants} variants meta-analysed (${by} cohort${r.byCohortCount.length > 2 ? 's' : ''}); ${r.ambiguous} strand-ambiguous (flagged)`);
  out.push(`lambda_GC: fixed effects ${r.lambdaFe.toFixed(4)}, random effects ${r.lambdaRe.toFixed(4)}`);
  if (r.top.length) {
    out.push('top hits (fixed effects):');
    for (const h of r.top) out.push(`  ${h.chr}\t${h.rs}\t${h.ps}\t${h.allele1}/${h.allele0}\tbeta ${h.beta.toPrecision(4)}\tse ${h.se.toPrecision(4)}\tlog10 p ${h.log10p.toFixed(2)}\t${h.direction}`);
  }
  return `${out.join('\n')}\n`;
}
