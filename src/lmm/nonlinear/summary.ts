/** Reporting of nonlinear mixed models: a summary laid out as nlme's summary(), and the `--json` record. */
import type { NlmeModel } from './nlme.js';

const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e7)) return v.toExponential(4);
  return String(Number(v.toPrecision(7)));
};

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join(' ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** Standard deviations and correlations of the random effects, from their covariance. */
function reSdCor(m: NlmeModel): { sd: number[]; cor: number[][] } {
  const q = m.randomNames.length;
  const C = m.reCovariance;
  const sd = Array.from({ length: q }, (_, r) => Math.sqrt(C[r + r * q]!));
  const cor = sd.map((_, a) => sd.map((__, b) => (sd[a]! > 0 && sd[b]! > 0 ? C[a + b * q]! / (sd[a]! * sd[b]!) : 0)));
  return { sd, cor };
}

/** The printed summary: method, fit criteria, random effects, fixed effects with containment df, sizes. */
export function formatNlmeSummary(m: NlmeModel): string {
  const out: string[] = [];
  out.push(`Nonlinear mixed-effects model fit by ${m.REML ? 'REML' : 'maximum likelihood'} (Lindstrom-Bates)`);
  out.push(`  Model: ${m.model}`);
  out.push(`  Fixed: ${m.fixed.join(', ')}`);
  out.push(table(['AIC', 'BIC', 'logLik'], [[fmt(m.AIC), fmt(m.BIC), fmt(m.logLik)]]));
  out.push('');
  out.push(`Random effects: ${m.random}   (${m.covariance === 'diag' ? 'diagonal' : 'general positive-definite'} covariance)`);
  const { sd, cor } = reSdCor(m);
  const rows = m.randomNames.map((nm, r) => [` ${nm}`, fmt(sd[r]!), ...(m.covariance === 'symm' ? cor[r]!.slice(0, r).map((c) => c.toFixed(3)) : [])]);
  rows.push([' Residual', fmt(m.sigma)]);
  const corHead = m.covariance === 'symm' ? m.randomNames.slice(0, -1).map((nm) => `Corr ${nm}`) : [];
  out.push(table(['', 'StdDev', ...corHead], rows.map((r) => [...r, ...Array(2 + corHead.length - r.length).fill('')])));
  out.push('');
  out.push('Fixed effects:');
  const pFmt = (p: number) => (p < 2e-16 ? '< 2e-16' : p.toExponential(2));
  out.push(table(['', 'Value', 'Std.Error', 'DF', 't-value', 'p-value'], m.fixef.map((r) => [r.term, fmt(r.estimate), fmt(r.se), String(r.df), r.t.toFixed(3), pFmt(r.p)])));
  out.push('');
  out.push(`Number of Observations: ${m.nobs}`);
  out.push(`Number of Groups: ${m.ngroups} (${m.group})`);
  out.push(`Iterations: ${m.iterations}${m.converged ? '' : ' (did not converge)'}`);
  for (const msg of m.messages) out.push(msg);
  return `${out.join('\n')}\n`;
}

/** The `--json` record; NaN / infinite numbers become null. */
export function nlmeJson(m: NlmeModel): Record<string, unknown> {
  const num = (v: number) => (Number.isFinite(v) ? v : null);
  const p = m.fixef.length;
  const q = m.randomNames.length;
  const { sd, cor } = reSdCor(m);
  return {
    model: m.model, fixed: m.fixed, random: m.random, covariance: m.covariance, method: m.REML ? 'REML' : 'ML',
    fixef: m.fixef.map((r) => ({ term: r.term, estimate: num(r.estimate), se: num(r.se), df: r.df, t: num(r.t), p: num(r.p) })),
    vcov: Array.from({ length: p }, (_, a) => Array.from({ length: p }, (__, b) => num(m.vcov[a + b * p]!))),
    randomEffects: { names: m.randomNames, sd: sd.map(num), cor: cor.map((r) => r.map(num)), covariance: Array.from({ length: q }, (_, a) => Array.from({ length: q }, (__, b) => num(m.reCovariance[a + b * q]!))) },
    sigma: num(m.sigma), logLik: num(m.logLik), AIC: num(m.AIC), BIC: num(m.BIC), npar: m.npar, nobs: m.nobs,
    group: m.group, ngroups: m.ngroups,
    ranef: m.ranef.levels.map((level, l) => ({ level, ...Object.fromEntries(m.randomNames.map((nm, r) => [nm, num(m.ranef.values[l * q + r]!)])) })),
    iterations: m.iterations, converged: m.converged, messages: m.messages,
  };
}
