/**
 * Reporting: the printed summary laid out as lme4's summary(), and the JSON record of `gpulmm fit --json`.
 */
import type { AnovaRow } from './anova.js';
import type { ConfintMethod, ConfintRow } from './confint.js';
import type { MarginalEffects } from './marginal.js';
import type { MixedModel } from './model.js';
import type { Type3Row } from './type3.js';
import { normalSurvival } from '../../stats/distributions.js';

/** R-like significant-digit formatting (5 significant digits, exponent for tiny or huge values). */
const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e7)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
};

const pad = (s: string, w: number, left = false) => (left ? s.padEnd(w) : s.padStart(w));

function table(header: string[], rows: string[][], leftCols = 1): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => pad(c, widths[j]!, j < leftCols)).join(' ');
  return [line(header), ...rows.map(line)].join('\n');
}

const pFmt = (p: number): string => (p < 2e-16 ? '< 2e-16' : p.toExponential(2));

/** The text summary: method, criterion, variance components, fixed effects, as lme4 prints them. */
export function formatSummary(m: MixedModel): string {
  const out: string[] = [];
  const method =
    m.family === 'gaussian'
      ? `Linear mixed model fit by ${m.REML ? 'REML' : 'maximum likelihood'}${m.ddf !== 'residual' ? `. t-tests use ${m.ddf === 'satterthwaite' ? "Satterthwaite's" : 'Kenward-Roger'} method` : ''}`
      : `Generalized linear mixed model fit by maximum likelihood (Laplace Approximation) [glmerMod]\n Family: ${m.family}  ( ${m.family === 'binomial' ? 'logit' : 'log'} )`;
  out.push(method);
  out.push(`Formula: ${m.formula}`);
  out.push('');
  if (m.REML) out.push(`REML criterion at convergence: ${m.REMLcrit!.toFixed(1)}`);
  else {
    out.push(table(['AIC', 'BIC', 'logLik', 'deviance'], [[m.AIC.toFixed(1), m.BIC.toFixed(1), m.logLik.toFixed(1), m.deviance!.toFixed(1)]], 0));
  }
  out.push('');
  out.push('Random effects:');
  const vcRows: string[][] = [];
  const corr = new Map<string, number[]>();
  for (const r of m.varcorr) if (r.var2 !== null) corr.set(`${r.grp}\u0000${r.var2}`, (corr.get(`${r.grp}\u0000${r.var2}`) ?? []).concat(r.sdcor));
  let lastGrp = '';
  for (const r of m.varcorr) {
    if (r.var2 !== null) continue;
    const grp = r.grp === lastGrp ? '' : r.grp;
    lastGrp = r.grp;
    const c = r.var1 !== null ? corr.get(`${r.grp}\u0000${r.var1}`) : undefined;
    vcRows.push([` ${grp}`, r.var1 ?? '', fmt(r.vcov), fmt(r.sdcor), c ? c.map((v) => (Number.isFinite(v) ? v.toFixed(2) : 'NaN')).join(' ') : '']);
  }
  const anyCorr = corr.size > 0;
  out.push(table([' Groups', 'Name', 'Variance', 'Std.Dev.', ...(anyCorr ? ['Corr'] : [])], vcRows.map((r) => (anyCorr ? r : r.slice(0, 4))), 2));
  const groups = Object.entries(m.ngrps).map(([g, n]) => `${g}, ${n}`).join('; ');
  out.push(`Number of obs: ${m.nobs}, groups:  ${groups}`);
  const res = m.residual;
  if (res?.correlation) out.push('', `Correlation structure: ${res.correlationSpec}`, ` Parameter estimate: ${res.correlation.name} = ${fmt(res.correlation.value)}`);
  if (res && res.ratios.length) {
    out.push('', `Variance function: ${res.weightsSpec} (residual SD of each stratum / the first's)`);
    out.push(` ${res.ratios.map((r) => `${r.stratum}: ${fmt(r.ratio)}`).join(', ')}`);
  }
  out.push('');
  out.push('Fixed effects:');
  const gaussian = m.family === 'gaussian';
  const head = gaussian ? ['', 'Estimate', 'Std. Error', 'df', 't value', 'Pr(>|t|)'] : ['', 'Estimate', 'Std. Error', 'z value', 'Pr(>|z|)'];
  const rows = m.fixef.map((r) =>
    gaussian
      ? [r.term, fmt(r.estimate), fmt(r.se), fmt(r.df), r.t.toFixed(3), pFmt(r.p)]
      : [r.term, fmt(r.estimate), fmt(r.se), r.t.toFixed(3), pFmt(r.p)],
  );
  out.push(table(head, rows));
  if (!m.converged) out.push('\nwarning: the optimiser did not converge');
  for (const msg of m.messages) out.push(msg);
  return out.join('\n') + '\n';
}

/** The `--json` record (layout fixed by issue 5): NaN / infinite numbers become null. */
export function summaryJson(m: MixedModel): Record<string, unknown> {
  const num = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);
  return {
    fixef: m.fixef.map((r) => ({ term: r.term, estimate: num(r.estimate), se: num(r.se), df: num(r.df), t: num(r.t), p: num(r.p) })),
    varcorr: m.varcorr.map((r) => ({ grp: r.grp, var1: r.var1, var2: r.var2, vcov: num(r.vcov), sdcor: num(r.sdcor) })),
    REMLcrit: num(m.REMLcrit),
    deviance: num(m.deviance),
    logLik: num(m.logLik),
    AIC: num(m.AIC),
    BIC: num(m.BIC),
    nobs: m.nobs,
    ngrps: m.ngrps,
    theta: m.theta,
    converged: m.converged,
    singular: m.singular,
    ...(m.residual
      ? {
          residual: {
            correlation: m.residual.correlationSpec ? { structure: m.residual.correlationSpec, name: m.residual.correlation!.name, value: m.residual.correlation!.value } : null,
            weights: m.residual.weightsSpec ? { structure: m.residual.weightsSpec, ratios: Object.fromEntries(m.residual.ratios.map((r) => [r.stratum, r.ratio])) } : null,
          },
        }
      : {}),
  };
}

/** lmerTest's anova(type = 3) table. */
export function formatType3(rows: Type3Row[], ddfName: string): string {
  const head = ['', 'Sum Sq', 'Mean Sq', 'NumDF', 'DenDF', 'F value', 'Pr(>F)'];
  const body = rows.map((r) => [r.term, fmt(r.sumSq), fmt(r.meanSq), String(r.numDf), fmt(r.denDf), fmt(r.F), pFmt(r.p)]);
  return `Type III Analysis of Variance Table with ${ddfName} method\n${table(head, body)}\n`;
}

/** lme4's anova(m0, m1, ...) table: models by number of parameters, likelihood-ratio tests between neighbours. */
export function formatComparison(rows: AnovaRow[], refitted: boolean): string {
  const head = ['', 'npar', 'AIC', 'BIC', 'logLik', 'deviance', 'Chisq', 'Df', 'Pr(>Chisq)'];
  const body = rows.map((r, k) => [`m${k}`, String(r.npar), fmt(r.AIC), fmt(r.BIC), fmt(r.logLik), fmt(r.deviance), r.Chisq === null ? '' : fmt(r.Chisq), r.Df === null ? '' : String(r.Df), r.p === null ? '' : pFmt(r.p)]);
  const models = rows.map((r, k) => `m${k}: ${r.formula}`).join('\n');
  return `${refitted ? 'refitting model(s) with ML (instead of REML)\n' : ''}Models:\n${models}\n${table(head, body)}\n`;
}

/** confint's table: one row per parameter, the two percentage columns as R labels them. */
export function formatConfint(rows: ConfintRow[], method: ConfintMethod, level: number): string {
  const a = (1 - level) / 2;
  const pct = (q: number) => `${String(Number((100 * q).toPrecision(3)))} %`;
  const body = rows.map((r) => [r.parm, Number.isNaN(r.lower) ? 'NA' : fmt(r.lower), Number.isNaN(r.upper) ? 'NA' : fmt(r.upper)]);
  return `${method === 'profile' ? 'Profile likelihood' : 'Wald'} confidence intervals\n${table(['', pct(a), pct(1 - a)], body)}\n`;
}

/**
 * The conditional (subject-specific) coefficients beside the marginal (population-averaged) ones, with the
 * delta-method standard error and Wald z test of the marginal coefficient.
 */
export function formatMarginal(m: MarginalEffects): string {
  const rows = m.rows.map((r) => {
    const z = r.marginal / r.se;
    return [r.term, fmt(r.conditional), fmt(r.conditionalSe), fmt(r.marginal), fmt(r.se), z.toFixed(3), pFmt(2 * normalSurvival(Math.abs(z)))];
  });
  return `Marginal (population-averaged) effects, integrated over the random effects:\n${table(['', 'Conditional', 'Std. Error', 'Marginal', 'Std. Error', 'z value', 'Pr(>|z|)'], rows)}\n`;
}
