/**
 * `gpulmm nlme`: fits a nonlinear mixed-effects model (src/lmm/nonlinear: nlme's Lindstrom-Bates algorithm) to a
 * CSV file: a model expression (a formula, or SSfol / SSlogis / SSasymp / SSbiexp), the parameters' fixed-effects
 * models (covariates allowed, e.g. weight on clearance), random effects on parameters, starting values. Prints a
 * summary laid out as nlme's; `--json` writes the record and `--fitted-out` the fitted values, each atomically.
 */
import type { Command } from 'commander';
import { readTable } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { ExpressionError, formatNlmeSummary, nlmeFit, nlmeJson, type CovarianceKind } from '../lmm/nonlinear/index.js';
import { PlsError } from '../lmm/mixed/pls.js';
import { NumericError, UsageError } from '../errors.js';
import { modelDataError } from './model-errors.js';
import { action } from './command.js';
import { parseNumberOption, OPEN_UNIT, POSITIVE_INT } from './option-values.js';

interface NlmeCliOptions {
  data: string;
  model: string;
  fixed: string[];
  random: string;
  cov: string;
  start: string;
  reml?: boolean;
  maxIter: string;
  tolerance: string;
  json?: string;
  fittedOut?: string;
}

/** `--start "lKe=-2.5,lKa=0.5,lCl=-3"` (by name) or `"-2.5,0.5,-3"` (in order). */
export function parseStart(raw: string): number[] | Record<string, number> {
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = (s: string): never => {
    throw new UsageError(`--start ${raw}: '${s}' is not NAME=NUMBER or a number`);
  };
  if (parts.length === 0) bad(raw);
  if (parts.every((s) => !s.includes('='))) return parts.map((s) => (Number.isFinite(Number(s)) ? Number(s) : bad(s)));
  const out: Record<string, number> = {};
  for (const s of parts) {
    const at = s.indexOf('=');
    const v = Number(s.slice(at + 1));
    if (at <= 0 || !Number.isFinite(v)) bad(s);
    out[s.slice(0, at).trim()] = v;
  }
  return out;
}

export function registerNlme(program: Command): void {
  program
    .command('nlme')
    .description('Fit a nonlinear mixed-effects model (nlme, Lindstrom-Bates), e.g. a one-compartment PK model with SSfol')
    .requiredOption('--data <file>', 'CSV (or tab/whitespace separated) table with a header row')
    .requiredOption('--model <formula>', 'response ~ expression: + - * / ^, exp log sqrt sin cos tan abs expm1 log1p, or SSfol(Dose, time, lKe, lKa, lCl), SSlogis(x, Asym, xmid, scal), SSasymp(x, Asym, R0, lrc), SSbiexp(x, A1, lrc1, A2, lrc2)')
    .requiredOption('--fixed <formula>', 'fixed effects of parameters (repeatable): "lKe + lKa + lCl ~ 1", or "lCl ~ Wt" for a covariate on a parameter', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('--random <formula>', 'random effects on parameters and the grouping factor: "lKa + lCl ~ 1 | Subject"')
    .option('--cov <kind>', 'covariance of the random effects: symm (general, nlme pdSymm) | diag (nlme pdDiag)', 'symm')
    .requiredOption('--start <values>', 'starting fixed effects: "lKe=-2.5,lKa=0.5,lCl=-3" (a parameter name is its intercept; other coefficients start at 0) or all in order "-2.5,0.5,-3"')
    .option('--reml', 'REML instead of maximum likelihood (nlme: method = "REML")')
    .option('--max-iter <n>', 'outer (LME + PNLS) iterations at most', '200')
    .option('--tolerance <x>', 'relative change of the fixed effects and variance parameters that ends the iterations', '1e-8')
    .option('--json <file>', 'also write the fit as JSON (fixef, vcov, random-effect SDs and correlations, sigma, logLik, AIC, BIC, ranef, ...)')
    .option('--fitted-out <file>', 'CSV per fitted row: row (1-based data row), fitted, fitted_population (random effects 0), residual')
    .action(action('nlme', runNlme));
}

async function runNlme(o: NlmeCliOptions): Promise<void> {
  if (!['symm', 'diag'].includes(o.cov)) throw new UsageError(`--cov ${o.cov}: expected symm or diag`);
  const maxIter = parseNumberOption(o.maxIter, '--max-iter', POSITIVE_INT);
  const tolerance = parseNumberOption(o.tolerance, '--tolerance', OPEN_UNIT);
  const start = parseStart(o.start);
  const table = await readTable(o.data);
  let model;
  try {
    model = nlmeFit(table, o.model, { fixed: o.fixed, random: o.random, covariance: o.cov as CovarianceKind, start, REML: o.reml === true, maxIter, tolerance });
  } catch (e) {
    const mapped = modelDataError(o.data, e);
    if (mapped) throw mapped;
    if (e instanceof ExpressionError) throw new UsageError(`${o.data}: ${e.message}`);
    if (e instanceof PlsError) throw new NumericError(`${o.data}: the nonlinear model cannot be fitted: ${e.message}`);
    throw e;
  }
  process.stdout.write(formatNlmeSummary(model));
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify(nlmeJson(model), null, 2)}\n`);
  if (o.fittedOut) {
    const lines = ['row,fitted,fitted_population,residual'];
    for (let i = 0; i < model.nobs; i++) lines.push(`${model.rowIndex[i]! + 1},${model.fitted[i]},${model.fittedPopulation[i]},${model.residuals[i]}`);
    await writeFileAtomic(o.fittedOut, `${lines.join('\n')}\n`);
  }
}
