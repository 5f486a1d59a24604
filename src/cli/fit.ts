/**
 * `gpulmm fit`: fits an lme4-style linear or generalised linear mixed model to a CSV file and prints a
 * summary laid out like lme4's (src/lmm/mixed); `--json` writes the record atomically.
 */
import type { Command } from 'commander';
import { readTable } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { anova, anovaType3, DataError, FormulaError, fit, formatComparison, formatSummary, formatType3, summaryJson, type ContrastDefaults, type ContrastKind, type DdfMethod, type Family, type LaplaceMode } from '../lmm/mixed/index.js';
import { UsageError } from '../errors.js';
import { action } from './command.js';

interface FitCliOptions {
  data: string;
  formula: string;
  family: Family;
  ml?: boolean;
  df: DdfMethod;
  laplace: LaplaceMode;
  contrasts?: string;
  anova?: boolean;
  compare?: string[];
  json?: string;
}

const CONTRAST_KINDS = ['treatment', 'sum', 'helmert', 'poly'] as const;

/** `--contrasts unordered[,ordered]` as R's options(contrasts = c("contr.unordered", "contr.ordered")). */
function parseContrasts(raw: string): ContrastDefaults {
  const parts = raw.split(',').map((x) => x.trim().replace(/^contr\./, ''));
  const bad = parts.find((x) => !(CONTRAST_KINDS as readonly string[]).includes(x));
  if (parts.length > 2 || bad !== undefined) throw new UsageError(`--contrasts ${raw}: expected UNORDERED[,ORDERED], each one of ${CONTRAST_KINDS.join(', ')}`);
  return { unordered: parts[0] as ContrastKind, ...(parts[1] ? { ordered: parts[1] as ContrastKind } : {}) };
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit a linear or generalized linear mixed model with an lme4 formula, e.g. "y ~ x + (x | g)"')
    .requiredOption('--data <file>', 'CSV (or tab/whitespace separated) table with a header row')
    .requiredOption('--formula <formula>', 'lme4 formula: y ~ fixed + (terms | group), cbind(s, f) for binomial counts; factors: factor(x, levels = c("b", "a")), relevel(x, "ref"), ordered(x), C(x, sum)')
    .option('--family <family>', 'gaussian | binomial | poisson', 'gaussian')
    .option('--ml', 'maximum likelihood instead of REML (gaussian)')
    .option('--df <method>', 'denominator df of the t tests: satterthwaite | kenward-roger | residual', 'satterthwaite')
    .option('--laplace <mode>', "GLMM Laplace deviance: glmer (lme4's numbers) | exact (converged PIRLS, as glmmTMB)", 'glmer')
    .option('--contrasts <kinds>', 'contrasts of factors without C(): UNORDERED[,ORDERED] from treatment, sum, helmert, poly (R: options(contrasts =))', 'treatment,poly')
    .option('--anova', "type III F tests of the fixed-effect terms with Satterthwaite df (lmerTest's anova(fit, type = 3)); gaussian")
    .option('--compare <formula>', "compare with another formula (repeatable): likelihood-ratio tests with ML refits and AIC/BIC, as anova(m0, m1)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--json <file>', 'also write the fit as JSON (fixef, varcorr, REMLcrit, deviance, logLik, AIC, BIC, ...)')
    .action(
      action('fit', async (opts: FitCliOptions) => {
        if (!['gaussian', 'binomial', 'poisson'].includes(opts.family)) throw new UsageError(`--family ${opts.family}: expected gaussian, binomial or poisson`);
        if (!['satterthwaite', 'kenward-roger', 'residual'].includes(opts.df)) throw new UsageError(`--df ${opts.df}: expected satterthwaite, kenward-roger or residual`);
        if (!['glmer', 'exact'].includes(opts.laplace)) throw new UsageError(`--laplace ${opts.laplace}: expected glmer or exact`);
        const contrasts = parseContrasts(opts.contrasts ?? 'treatment,poly');
        const table = await readTable(opts.data);
        if (opts.anova && opts.family !== 'gaussian') throw new UsageError('--anova: F tests need --family gaussian (a linear mixed model)');
        const fitOptions = { family: opts.family, REML: !opts.ml, ddf: opts.df, laplace: opts.laplace, contrasts };
        const json: Record<string, unknown> = {};
        try {
          const model = fit(table, opts.formula, fitOptions);
          process.stdout.write(formatSummary(model));
          Object.assign(json, summaryJson(model));
          if (opts.anova) {
            const rows = anovaType3(model);
            process.stdout.write(`\n${formatType3(rows, opts.df === 'residual' ? 'residual' : "Satterthwaite's")}`);
            json.anova = rows;
          }
          if (opts.compare?.length) {
            const others = opts.compare.map((f) => fit(table, f, fitOptions));
            const cmp = anova(model, ...others);
            process.stdout.write(`\n${formatComparison(cmp.rows, cmp.refitted)}`);
            json.comparison = cmp.rows;
          }
        } catch (e) {
          if (e instanceof FormulaError || e instanceof DataError) throw new UsageError(`${opts.data}: ${e.message}`);
          throw e;
        }
        if (opts.json) await writeFileAtomic(opts.json, `${JSON.stringify(json, null, 2)}\n`);
      }),
    );
}
