/**
 * `gpulmm fit --method gee`: generalized estimating equations (src/lmm/gee) on the fit command's data, formula
 * and family, with the cluster column from --id, the working correlation from --corstr and the within-cluster
 * order from --waves. Prints a summary laid out as geepack's summary(geeglm); --json writes the record.
 */
import { readTable } from '../io/csv.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { CORSTRS, fitGee, formatGee, geeJson, type CorStr, type GeeFamily } from '../lmm/gee/index.js';
import type { ContrastDefaults } from '../lmm/mixed/index.js';
import { UsageError } from '../errors.js';
import { modelDataError } from './model-errors.js';
import { parseNumberOption, OPEN_UNIT } from './option-values.js';

export interface GeeCliOptions {
  data: string;
  formula: string;
  family: GeeFamily;
  id?: string;
  corstr: string;
  waves?: string;
  tolerance: string;
  json?: string;
}

/** Options of the mixed-model path that a GEE fit does not take (named as given on the command line). */
const LMM_ONLY = ['ml', 'anova', 'compare', 'confint', 'predict', 'predictOut', 'simulate', 'simulateOut', 'correlation', 'weights', 'marginal'] as const;

/** Checks the GEE options (those of the mixed-model path must be unset). */
export function checkGeeOptions(o: GeeCliOptions & Record<string, unknown>): { corstr: CorStr; tolerance: number; id: string } {
  const bad = LMM_ONLY.find((k) => o[k] !== undefined && o[k] !== false);
  if (bad) throw new UsageError(`--${bad.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: not available with --method gee (mixed-model option)`);
  if (!['gaussian', 'binomial', 'poisson'].includes(o.family)) throw new UsageError(`--family ${o.family}: expected gaussian, binomial or poisson`);
  if (!o.id) throw new UsageError('--method gee needs --id COLUMN, the column identifying the clusters (subjects)');
  if (!(CORSTRS as readonly string[]).includes(o.corstr)) throw new UsageError(`--corstr ${o.corstr}: expected ${CORSTRS.join(', ')}`);
  const tolerance = parseNumberOption(o.tolerance, '--tolerance', OPEN_UNIT);
  return { corstr: o.corstr as CorStr, tolerance, id: o.id };
}

export async function runGee(o: GeeCliOptions & Record<string, unknown>, contrasts: ContrastDefaults): Promise<void> {
  const opts = checkGeeOptions(o);
  const table = await readTable(o.data);
  let fit;
  try {
    fit = fitGee(table, o.formula, { family: o.family, id: opts.id, corstr: opts.corstr, waves: o.waves ?? null, contrasts, tolerance: opts.tolerance });
  } catch (e) {
    throw modelDataError(o.data, e) ?? e;
  }
  process.stdout.write(formatGee(fit));
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify(geeJson(fit), null, 2)}\n`);
}
