/**
 * `gpulmm fit`: fits an lme4-style linear or generalised linear mixed model to a CSV file and prints a
 * summary laid out like lme4's (src/lmm/mixed); then, on request, lmerTest's type III anova, a likelihood-ratio
 * comparison with other formulas, confidence intervals, predictions for new data and simulated responses.
 * `--json` writes the record, `--predict-out` / `--simulate-out` the tables, each atomically.
 */
import type { Command } from 'commander';
import { readTable } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import {
  anova, anovaType3, confint, FormulaError, fit, formatComparison, formatConfint, formatMarginal, formatSummary, marginalEffects, formatType3, parseCorrelation, parseWeights, predict,
  simulate, summaryJson, type ConfintMethod, type ContrastDefaults, type ContrastKind, type CorrelationSpec, type DdfMethod, type Family, type LaplaceMode,
  type VarianceSpec,
} from '../lmm/mixed/index.js';
import { UsageError } from '../errors.js';
import { modelDataError } from './model-errors.js';
import { action } from './command.js';
import { runGee, type GeeCliOptions } from './fit-gee.js';
import { parseNumberOption, OPEN_UNIT } from './option-values.js';

interface FitCliOptions {
  data: string;
  formula: string;
  family: Family;
  ml?: boolean;
  df: DdfMethod;
  laplace: LaplaceMode;
  contrasts: string;
  correlation?: string;
  weights?: string;
  anova?: boolean;
  compare?: string[];
  confint?: string | boolean;
  level: string;
  predict?: string;
  predictOut?: string;
  simulate?: string;
  simulateOut?: string;
  seed: string;
  json?: string;
  marginal?: boolean;
  method: string;
  id?: string;
  corstr: string;
  waves?: string;
  tolerance: string;
}

const CONTRAST_KINDS = ['treatment', 'sum', 'helmert', 'poly'] as const;

/** `--contrasts unordered[,ordered]` as R's options(contrasts = c("contr.unordered", "contr.ordered")). */
function parseContrasts(raw: string): ContrastDefaults {
  const parts = raw.split(',').map((x) => x.trim().replace(/^contr\./, ''));
  const bad = parts.find((x) => !(CONTRAST_KINDS as readonly string[]).includes(x));
  if (parts.length > 2 || bad !== undefined) throw new UsageError(`--contrasts ${raw}: expected UNORDERED[,ORDERED], each one of ${CONTRAST_KINDS.join(', ')}`);
  return { unordered: parts[0] as ContrastKind, ...(parts[1] ? { ordered: parts[1] as ContrastKind } : {}) };
}

/** A CSV field: numbers in full precision, NaN as NA, text quoted when it needs to be. */
const csvField = (v: number | string): string =>
  typeof v === 'number' ? (Number.isNaN(v) ? 'NA' : String(v)) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
const csv = (header: string[], rows: (number | string)[][]) => `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;

/** A --correlation / --weights value parsed, its syntax errors as UsageError naming the option. */
function parseStructure<T>(option: string, raw: string | undefined, parse: (text: string) => T): T | null {
  if (raw === undefined) return null;
  try {
    return parse(raw);
  } catch (e) {
    if (e instanceof FormulaError) throw new UsageError(`${option}: ${e.message}`);
    throw e;
  }
}

function checkOptions(o: FitCliOptions): {
  contrasts: ContrastDefaults; confint: ConfintMethod | null; level: number; nsim: number; seed: number;
  correlation: CorrelationSpec | null; weights: VarianceSpec | null;
} {
  if (!['gaussian', 'binomial', 'poisson'].includes(o.family)) throw new UsageError(`--family ${o.family}: expected gaussian, binomial or poisson`);
  if (!['satterthwaite', 'kenward-roger', 'residual'].includes(o.df)) throw new UsageError(`--df ${o.df}: expected satterthwaite, kenward-roger or residual`);
  if (!['glmer', 'exact'].includes(o.laplace)) throw new UsageError(`--laplace ${o.laplace}: expected glmer or exact`);
  if (o.marginal && o.family === 'gaussian') throw new UsageError('--marginal: population-averaged effects are for --family binomial or poisson (with the identity link they equal the conditional ones)');
  if (o.anova && o.family !== 'gaussian') throw new UsageError('--anova: F tests need --family gaussian (a linear mixed model)');
  const ci = o.confint === undefined ? null : o.confint === true ? 'profile' : o.confint === 'wald' || o.confint === 'Wald' ? 'Wald' : o.confint === 'profile' ? 'profile' : undefined;
  if (ci === undefined) throw new UsageError(`--confint ${String(o.confint)}: expected profile or wald`);
  if (ci === 'profile' && o.family !== 'gaussian') throw new UsageError('--confint profile: implemented for --family gaussian; use --confint wald for GLMMs');
  const level = parseNumberOption(o.level, '--level', OPEN_UNIT);
  if ((o.predict === undefined) !== (o.predictOut === undefined)) throw new UsageError('--predict NEWDATA and --predict-out FILE go together');
  if ((o.simulate === undefined) !== (o.simulateOut === undefined)) throw new UsageError('--simulate N and --simulate-out FILE go together');
  const nsim = o.simulate === undefined ? 0 : parseNumberOption(o.simulate, '--simulate', { integer: true, min: 1, max: 1e6 });
  const seed = parseNumberOption(o.seed, '--seed', { integer: true, min: 0, max: 2 ** 32, maxExclusive: true });
  const correlation = parseStructure('--correlation', o.correlation, parseCorrelation);
  const weights = parseStructure('--weights', o.weights, parseWeights);
  if ((correlation || weights) && o.family !== 'gaussian') throw new UsageError('--correlation / --weights: residual structures need --family gaussian');
  if ((correlation || weights) && o.df === 'kenward-roger') throw new UsageError('--df kenward-roger: implemented for iid residuals; use satterthwaite with --correlation / --weights');
  return { contrasts: parseContrasts(o.contrasts), confint: ci, level, nsim, seed, correlation, weights };
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('Fit a linear or generalized linear mixed model with an lme4 formula, e.g. "y ~ x + (x | g)"')
    .requiredOption('--data <file>', 'CSV (or tab/whitespace separated) table with a header row')
    .requiredOption('--formula <formula>', 'lme4 formula: y ~ fixed + (terms | group), cbind(s, f) for binomial counts; factors: factor(x, levels = c("b", "a")), relevel(x, "ref"), ordered(x), C(x, sum)')
    .option('--family <family>', 'gaussian | binomial | poisson', 'gaussian')
    .option('--ml', 'maximum likelihood instead of REML (gaussian)')
    .option('--df <method>', 'denominator df of the t tests: satterthwaite | kenward-roger | residual', 'satterthwaite')
    .option('--laplace <mode>', "GLMM Laplace deviance: glmer (lme4's numbers) | exact (converged PIRLS, as glmmTMB)", 'glmer')
    .option('--contrasts <kinds>', 'contrasts of factors without C(): UNORDERED[,ORDERED] from treatment, sum, helmert, poly (R: options(contrasts =))', 'treatment,poly')
    .option('--correlation <structure>', "residual correlation within groups (nlme's correlation =): ar1(time | g) (integer times; ar1(| g): the rows' order within g), car1(time | g) (real times), cs(| g) (compound symmetry); g1/g2 groups by their interaction. Gaussian")
    .option('--weights <structure>', "residual variance function (nlme's weights =): ident(| s), one residual SD per level of s (varIdent; the first stratum is the reference). Gaussian")
    .option('--anova', "type III F tests of the fixed-effect terms with Satterthwaite df (lmerTest's anova(fit, type = 3)); gaussian")
    .option('--compare <formula>', 'compare with another formula (repeatable): likelihood-ratio tests with ML refits and AIC/BIC, as anova(m0, m1)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--confint [method]', "confidence intervals: profile (likelihood, lme4's default; gaussian) or wald", undefined)
    .option('--level <p>', 'confidence level of --confint', '0.95')
    .option('--predict <newdata>', 'predict for the rows of NEWDATA (CSV with the predictors and grouping factors); with --predict-out')
    .option('--predict-out <file>', 'CSV of predictions: fit (conditional; new levels at the population value), population, se_population, mu / mu_population (GLMM), mu_marginal (GLMM with --marginal), new_levels')
    .option('--simulate <n>', 'simulate N response vectors from the fit (new random effects each time, as lme4 simulate); with --simulate-out')
    .option('--simulate-out <file>', 'CSV of simulated responses: one row per observation, columns sim_1..sim_N')
    .option('--seed <n>', 'random seed of --simulate', '1')
    .option('--json <file>', 'also write the fit as JSON (fixef, varcorr, REMLcrit, deviance, logLik, AIC, BIC, ..., and anova, comparison, confint when asked)')
    .option('--marginal', 'GLMM: population-averaged (marginal) coefficients beside the conditional ones, and mu_marginal in --predict-out (means integrated over the random effects)')
    .option('--method <method>', 'lmm (mixed model, lme4) | gee (generalized estimating equations, geepack geeglm: formula without random terms, with --id)', 'lmm')
    .option('--id <column>', 'gee: the column identifying the clusters (rows need not be contiguous)')
    .option('--corstr <structure>', 'gee: working correlation independence | exchangeable | ar1', 'independence')
    .option('--waves <column>', "gee: the within-cluster order (ar1 distances: rank of the value among all distinct values, as geeglm's waves); default: the rows' order")
    .option('--tolerance <x>', 'gee: stop when no parameter changes by more than X (geepack: epsilon = 1e-4)', '1e-8')
    .action(action('fit', runFit));
}

async function runFit(o: FitCliOptions): Promise<void> {
  if (o.method !== 'lmm' && o.method !== 'gee') throw new UsageError(`--method ${o.method}: expected lmm or gee`);
  if (o.method === 'gee') return runGee(o as unknown as GeeCliOptions & Record<string, unknown>, parseContrasts(o.contrasts));
  const geeOnly = (['id', 'waves'] as const).find((k) => o[k] !== undefined) ?? (o.corstr !== 'independence' ? 'corstr' : undefined);
  if (geeOnly) throw new UsageError(`--${geeOnly}: only with --method gee`);
  const opts = checkOptions(o);
  const table = await readTable(o.data);
  const newdata = o.predict ? await readTable(o.predict) : null;
  const fitOptions = { family: o.family, REML: !o.ml, ddf: o.df, laplace: o.laplace, contrasts: opts.contrasts, correlation: opts.correlation, weights: opts.weights };
  const json: Record<string, unknown> = {};
  const outputs: [string, string][] = [];
  const withFile = <T>(file: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw modelDataError(file, e) ?? e;
    }
  };
  withFile(o.data, () => {
    const model = fit(table, o.formula, fitOptions);
    process.stdout.write(formatSummary(model));
    Object.assign(json, summaryJson(model));
    if (o.marginal) {
      const me = marginalEffects(model);
      process.stdout.write(`\n${formatMarginal(me)}`);
      json.marginal = me.rows;
    }
    if (o.anova) {
      const rows = anovaType3(model);
      process.stdout.write(`\n${formatType3(rows, o.df === 'residual' ? 'residual' : "Satterthwaite's")}`);
      json.anova = rows;
    }
    if (o.compare?.length) {
      const cmp = anova(model, ...o.compare.map((f) => fit(table, f, fitOptions)));
      process.stdout.write(`\n${formatComparison(cmp.rows, cmp.refitted)}`);
      json.comparison = cmp.rows;
    }
    if (opts.confint) {
      const rows = confint(model, opts.confint, opts.level);
      process.stdout.write(`\n${formatConfint(rows, opts.confint, opts.level)}`);
      json.confint = { method: opts.confint, level: opts.level, rows: rows.map((r) => ({ ...r, lower: Number.isNaN(r.lower) ? null : r.lower, upper: Number.isNaN(r.upper) ? null : r.upper })) };
    }
    if (o.predict) {
      const pr = withFile(o.predict, () => predict(model, newdata!));
      const glmm = pr.mu !== null;
      const marginal = glmm && o.marginal === true;
      const header = ['fit', 'population', 'se_population', ...(glmm ? ['mu', 'mu_population'] : []), ...(marginal ? ['mu_marginal'] : []), 'new_levels'];
      const rows = Array.from(pr.fit, (f, i) => [
        f, pr.population[i]!, pr.sePopulation[i]!, ...(glmm ? [pr.mu![i]!, pr.muPopulation![i]!] : []), ...(marginal ? [pr.muMarginal![i]!] : []), pr.newLevels[i]!.join(';'),
      ]);
      outputs.push([o.predictOut!, csv(header, rows)]);
    }
    if (opts.nsim > 0) {
      const sims = simulate(model, opts.nsim, opts.seed);
      const rows = Array.from({ length: model.nobs }, (_, i) => sims.map((y) => y[i]!));
      outputs.push([o.simulateOut!, csv(sims.map((_, s) => `sim_${s + 1}`), rows)]);
    }
  });
  for (const [path, text] of outputs) await writeFileAtomic(path, text);
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify(json, null, 2)}\n`);
}
