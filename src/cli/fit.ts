/**
 * `gpulmm fit`: fits an lme4-style linear or generalised linear mixed model to a CSV file and prints a
 * summary laid out like lme4's (src/lmm/mixed); `--json` writes the record atomically.
 */
import type { Command } from 'commander';
import { readTable } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { DataError, FormulaError, fit, formatSummary, summaryJson, type DdfMethod, type Family, type LaplaceMode } from '../lmm/mixed/index.js';
import { UsageError } from '../errors.js';
import { action } from './command.js';

interface FitCliOptions {
  data: string;
  formula: string;
  family: Family;
  ml?: boolean;
  df: DdfMethod;
  laplace: LaplaceMode;
  json?: string;
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit a linear or generalized linear mixed model with an lme4 formula, e.g. "y ~ x + (x | g)"')
    .requiredOption('--data <file>', 'CSV (or tab/whitespace separated) table with a header row')
    .requiredOption('--formula <formula>', 'lme4 formula: y ~ fixed + (terms | group), cbind(s, f) for binomial counts')
    .option('--family <family>', 'gaussian | binomial | poisson', 'gaussian')
    .option('--ml', 'maximum likelihood instead of REML (gaussian)')
    .option('--df <method>', 'denominator df of the t tests: satterthwaite | kenward-roger | residual', 'satterthwaite')
    .option('--laplace <mode>', "GLMM Laplace deviance: glmer (lme4's numbers) | exact (converged PIRLS, as glmmTMB)", 'glmer')
    .option('--json <file>', 'also write the fit as JSON (fixef, varcorr, REMLcrit, deviance, logLik, AIC, BIC, ...)')
    .action(
      action('fit', async (opts: FitCliOptions) => {
        if (!['gaussian', 'binomial', 'poisson'].includes(opts.family)) throw new UsageError(`--family ${opts.family}: expected gaussian, binomial or poisson`);
        if (!['satterthwaite', 'kenward-roger', 'residual'].includes(opts.df)) throw new UsageError(`--df ${opts.df}: expected satterthwaite, kenward-roger or residual`);
        if (!['glmer', 'exact'].includes(opts.laplace)) throw new UsageError(`--laplace ${opts.laplace}: expected glmer or exact`);
        const table = await readTable(opts.data);
        let model;
        try {
          model = fit(table, opts.formula, { family: opts.family, REML: !opts.ml, ddf: opts.df, laplace: opts.laplace });
        } catch (e) {
          if (e instanceof FormulaError || e instanceof DataError) throw new UsageError(`${opts.data}: ${e.message}`);
          throw e;
        }
        process.stdout.write(formatSummary(model));
        if (opts.json) {
          await writeFileAtomic(opts.json, `${JSON.stringify(summaryJson(model), null, 2)}\n`);
        }
      }),
    );
}
