/**
 * Reporting of a meta-analysis: the printed summary laid out as metafor's print.rma.uni, and the JSON record of
 * `gpulmm meta --json`.
 */
import type { MetaPrediction, RmaFit } from './rma.js';

/** metafor's name of the intercept. */
const termName = (t: string) => (t === '(Intercept)' ? 'intrcpt' : t);
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
const pv = (p: number) => (p < 1e-4 ? '<.0001' : p.toFixed(4));
const pvEq = (p: number) => (p < 1e-4 ? '< .0001' : `= ${p.toFixed(4)}`);
const stars = (p: number) => (p < 0.001 ? '***' : p < 0.01 ? '**' : p < 0.05 ? '*' : p < 0.1 ? '.' : '');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  return [line(header), ...rows.map(line)].map((l) => l.trimEnd()).join('\n');
}

/** The text summary of a fit (and its prediction interval for an intercept-only model). */
export function formatRma(fit: RmaFit, prediction: MetaPrediction | null): string {
  const out: string[] = [];
  const mods = fit.p > 1 || fit.names[0] !== '(Intercept)';
  const kind = fit.method === 'FE' ? 'Fixed-Effects' : mods ? 'Mixed-Effects' : 'Random-Effects';
  out.push(`${kind} Model (k = ${fit.k}${fit.method === 'FE' ? '' : `; tau^2 estimator: ${fit.method}`})`, '');
  const res = mods ? 'residual ' : 'total ';
  const lines: [string, string][] = [];
  if (fit.method !== 'FE') {
    const se = fit.seTau2 === null ? '' : ` (SE = ${f4(fit.seTau2)})`;
    lines.push([`tau^2 (estimated amount of ${res}heterogeneity):`, `${f4(fit.tau2)}${se}`], ['tau (square root of estimated tau^2 value):', f4(Math.sqrt(fit.tau2))]);
  }
  lines.push(
    [`I^2 (${mods ? 'residual heterogeneity / unaccounted variability' : 'total heterogeneity / total variability'}):`, `${fit.I2.toFixed(2)}%`],
    [`H^2 (${mods ? 'unaccounted variability' : 'total variability'} / sampling variability):`, fit.H2.toFixed(2)],
  );
  if (fit.R2 !== null) lines.push(['R^2 (amount of heterogeneity accounted for):', `${fit.R2.toFixed(2)}%`]);
  const width = Math.max(...lines.map(([a]) => a.length));
  for (const [a, b] of lines) out.push(`${a.padEnd(width)} ${b}`);
  out.push('', `Test for ${mods ? 'Residual ' : ''}Heterogeneity:`, `${mods ? 'QE' : 'Q'}(df = ${fit.QEdf}) = ${f4(fit.QE)}, p-val ${pvEq(fit.QEp)}`);
  if (mods) {
    const which = fit.QMterms.map((j) => j + 1);
    const coefs = which.length === 1 ? `coefficient ${which[0]}` : `coefficients ${which[0]}:${which[which.length - 1]}`;
    const stat = fit.QMdf[1] === null ? `QM(df = ${fit.QMdf[0]})` : `F(df1 = ${fit.QMdf[0]}, df2 = ${fit.QMdf[1]})`;
    const value = fit.QMdf[1] === null ? fit.QM : fit.QM / fit.QMdf[0];
    out.push('', `Test of Moderators (${coefs}):`, `${stat} = ${f4(value)}, p-val ${pvEq(fit.QMp)}`);
  }
  out.push('', 'Model Results:', '');
  const statName = fit.test === 'knha' ? 'tval' : 'zval';
  const head = ['', 'estimate', 'se', statName, ...(fit.test === 'knha' ? ['df'] : []), 'pval', 'ci.lb', 'ci.ub', ''];
  const rows = fit.coefficients.map((c) => [
    termName(c.term), f4(c.estimate), f4(c.se), f4(c.stat), ...(fit.test === 'knha' ? [String(fit.df)] : []), pv(c.p), f4(c.ciLower), f4(c.ciUpper), stars(c.p),
  ]);
  out.push(table(head, rows));
  out.push('', "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1");
  if (prediction) {
    const pct = `${Number((100 * fit.level).toPrecision(4))}%`;
    out.push(
      '',
      `Prediction (${pct}): ${f4(prediction.pred)} (se ${f4(prediction.se)}), confidence interval [${f4(prediction.ciLower)}, ${f4(prediction.ciUpper)}], prediction interval [${f4(prediction.piLower)}, ${f4(prediction.piUpper)}]`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** The `--json` record: coefficients, tau^2, heterogeneity, moderator test, fit statistics and predictions. */
export function rmaJson(fit: RmaFit, predictions: (MetaPrediction & { label?: string })[]): Record<string, unknown> {
  const num = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);
  return {
    method: fit.method, test: fit.test, level: fit.level, k: fit.k, p: fit.p,
    coefficients: fit.coefficients.map((c) => ({ term: termName(c.term), estimate: c.estimate, se: c.se, stat: num(c.stat), p: num(c.p), ci_lb: c.ciLower, ci_ub: c.ciUpper })),
    df: num(fit.df), tau2: fit.tau2, se_tau2: num(fit.seTau2), I2: num(fit.I2), H2: num(fit.H2), R2: num(fit.R2),
    QE: fit.QE, QE_df: fit.QEdf, QE_p: num(fit.QEp), QM: num(fit.QM), QM_df: fit.QMdf, QM_p: num(fit.QMp), s2w: fit.s2w,
    logLik: fit.logLik, deviance: fit.deviance, AIC: fit.AIC, BIC: fit.BIC, AICc: fit.AICc, parms: fit.parms, iterations: fit.iterations,
    predictions: predictions.map((p) => ({ ...(p.label !== undefined ? { label: p.label } : {}), pred: p.pred, se: p.se, ci_lb: p.ciLower, ci_ub: p.ciUpper, pi_lb: p.piLower, pi_ub: p.piUpper })),
  };
}
