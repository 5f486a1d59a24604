/**
 * Reporting of a GEE fit: the printed summary laid out as geepack's print.summary.geeglm (with the naive
 * standard error beside the robust one), and the JSON record of `gpulmm fit --method gee --json`.
 */
import type { GeeFit } from './gee.js';

const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e7)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
};
const pFmt = (p: number): string => (p < 2e-16 ? '< 2e-16' : p.toExponential(2));
const stars = (p: number) => (p < 0.001 ? '***' : p < 0.01 ? '**' : p < 0.05 ? '*' : p < 0.1 ? '.' : '');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join(' ');
  return [line(header), ...rows.map(line)].map((l) => l.trimEnd()).join('\n');
}

/** The text summary of a GEE fit. */
export function formatGee(f: GeeFit): string {
  const out: string[] = [];
  out.push(`Generalized estimating equations (geeglm) fit, family: ${f.family} (${f.link})`);
  out.push(`Formula: ${f.formula}`);
  out.push(`Clusters: ${f.id}${f.waves ? `, waves: ${f.waves}` : ''}`);
  out.push('', ' Coefficients (Std.err: robust sandwich; Naive.se: model-based; Wald chi-square on 1 df):');
  out.push(table(['', 'Estimate', 'Std.err', 'Naive.se', 'Wald', 'Pr(>|W|)', ''], f.coefficients.map((c) => [c.term, fmt(c.estimate), fmt(c.se), fmt(c.seNaive), fmt(c.wald), pFmt(c.p), stars(c.p)])));
  out.push("---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1");
  out.push('', `Correlation structure = ${f.corstr}`, 'Estimated Scale Parameters:', '');
  out.push(table(['', 'Estimate', 'Std.err'], [['(Intercept)', fmt(f.phi), fmt(f.phiSe)]]), '  Link = identity');
  if (f.alpha !== null) {
    out.push('', 'Estimated Correlation Parameters:');
    out.push(table(['', 'Estimate', 'Std.err'], [['alpha', fmt(f.alpha), fmt(f.alphaSe!)]]));
  }
  out.push(`Number of clusters:   ${f.clusters}  Maximum cluster size: ${f.maxClusterSize}  Observations: ${f.nobs}`);
  if (!f.converged) out.push('warning: the estimating equations did not converge');
  for (const m of f.messages) out.push(m);
  return `${out.join('\n')}\n`;
}

/** The `--json` record: coefficients with robust and naive se, Wald tests, both covariance matrices, phi, alpha. */
export function geeJson(f: GeeFit): Record<string, unknown> {
  const p = f.coefficients.length;
  const rows = (m: Float64Array) => Array.from({ length: p }, (_, i) => Array.from(m.subarray(i * p, (i + 1) * p)));
  return {
    method: 'gee', family: f.family, link: f.link, corstr: f.corstr, formula: f.formula, id: f.id, waves: f.waves,
    nobs: f.nobs, clusters: f.clusters, maxClusterSize: f.maxClusterSize,
    coefficients: f.coefficients, vcov: rows(f.vcov), vcovNaive: rows(f.vcovNaive),
    phi: f.phi, phiSe: f.phiSe, alpha: f.alpha, alphaSe: f.alphaSe, iterations: f.iterations, converged: f.converged,
  };
}
