/**
 * `gpulmm meta`: random-effects meta-analysis and meta-regression of study estimates (`--data`, metafor's rma;
 * src/lmm/meta), or the per-variant meta-analysis of several GWAS results (`--gwas`, gwas/meta-analysis.ts).
 */
import { Option, type Command } from 'commander';
import { readTable, numericColumn, columnIndex, stringColumn, type Table } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { DataError, FormulaError } from '../lmm/mixed/index.js';
import { formatRma, rma, rmaJson, rmaPredict, studyData, TAU2_METHODS, type MetaTest, type Tau2Method } from '../lmm/meta/index.js';
import { InputError, UsageError } from '../errors.js';
import { action } from './command.js';

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
}

export function registerMeta(program: Command): void {
  program
    .command('meta')
    .description('random-effects meta-analysis and meta-regression of study estimates (as metafor::rma)')
    .option('--data <file>', 'CSV (or tab/whitespace separated) table of studies: one row per study, with a header row')
    .option('--yi <col>', 'column of the estimates (log odds ratios, mean differences, ...)', 'yi')
    .option('--vi <col>', 'column of the sampling variances (default: vi, unless --sei is given)')
    .option('--sei <col>', 'column of the standard errors, instead of --vi')
    .option('--mods <moderators>', 'meta-regression moderators: a formula "~ x1 + factor(x2)" or a column list "x1,x2"')
    .addOption(new Option('--method <m>', 'tau^2 estimator: REML, ML, DL (DerSimonian-Laird), PM (Paule-Mandel), FE (fixed effect, tau^2 = 0)').default('REML'))
    .addOption(new Option('--test <t>', 'tests and intervals: z (normal), knha (Knapp-Hartung: t and F on k - p df)').choices(['z', 'knha']).default('z'))
    .option('--level <p>', 'confidence and prediction level', '0.95')
    .option('--slab <col>', 'study label column for --predict-out (default: the row number)')
    .option('--predict-out <file>', 'CSV of the fitted value of each study with its confidence and prediction interval')
    .option('--json <file>', 'also write the fit as JSON (coefficients, tau2, I2, H2, Q tests, fit statistics, predictions)')
    .action(action('meta', runMeta));
}

function checkOptions(o: MetaCliOptions): { method: Tau2Method; test: MetaTest; level: number } {
  if (o.data === undefined) throw new UsageError('--data FILE is required (the table of studies)');
  const method = o.method.toUpperCase() as Tau2Method;
  if (!TAU2_METHODS.includes(method)) throw new UsageError(`--method ${o.method}: expected one of ${TAU2_METHODS.join(', ')}`);
  if (o.vi !== undefined && o.sei !== undefined) throw new UsageError('--vi and --sei: give one of them');
  const level = Number(o.level);
  if (!(level > 0 && level < 1)) throw new UsageError(`--level ${o.level}: expected a number in (0, 1)`);
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
