/**
 * Likelihood-ratio comparison of nested mixed models, as lme4's anova(m0, m1): models are ordered by the
 * number of parameters, REML fits are refitted by ML first, and each model is tested against the previous
 * one by chi^2 = 2 (logLik_1 - logLik_0) on npar_1 - npar_0 df (Wilks).
 */
import { chi2Survival } from '../../stats/distributions.js';
import { fit, type MixedModel } from './model.js';
import { DataError } from './model-frame.js';

export interface AnovaRow {
  formula: string;
  npar: number;
  AIC: number;
  BIC: number;
  logLik: number;
  deviance: number;
  /** null on the first (smallest) model */
  Chisq: number | null;
  Df: number | null;
  p: number | null;
}

/** LRT table of two or more nested models fitted to the same data. Refits REML models with ML. */
export function anova(...models: MixedModel[]): { rows: AnovaRow[]; refitted: boolean } {
  if (models.length < 2) throw new DataError('anova needs at least two models');
  const n = models[0]!.nobs;
  for (const m of models) {
    if (m.nobs !== n) throw new DataError(`anova: models were fitted to different numbers of observations (${n} vs ${m.nobs})`);
    if (m.family !== models[0]!.family) throw new DataError('anova: models of different families');
  }
  const refitted = models.some((m) => m.REML);
  const ml = models.map((m) => (m.REML ? fit(m.internals.data, m.internals.parsed, { ...m.internals.options, family: m.family, REML: false, ddf: 'residual' }) : m));
  const order = ml.map((_, i) => i).sort((a, b) => ml[a]!.npar - ml[b]!.npar);
  const rows: AnovaRow[] = [];
  order.forEach((i, k) => {
    const m = ml[i]!;
    const prev = k > 0 ? ml[order[k - 1]!]! : null;
    const chisq = prev ? Math.max(0, 2 * (m.logLik - prev.logLik)) : null;
    const df = prev ? m.npar - prev.npar : null;
    rows.push({
      formula: m.formula, npar: m.npar, AIC: m.AIC, BIC: m.BIC, logLik: m.logLik, deviance: -2 * m.logLik,
      Chisq: chisq, Df: df, p: chisq !== null && df !== null && df > 0 ? chi2Survival(chisq, df) : null,
    });
  });
  return { rows, refitted };
}
