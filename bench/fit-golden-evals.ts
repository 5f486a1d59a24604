/**
 * Optimiser cost and accuracy of `fit` (src/lmm/mixed) on the lme4 golden fits (data/lme4/golden.json, made
 * by data/lme4/make-golden.R): per fit the objective evaluations and, for each compared quantity, the
 * largest error as a fraction of the issue's tolerance (fixed effects 1e-3 se, se and variance components
 * 1e-3 relative, REML criterion / deviance 1e-2, logLik 1e-2). With a CSV and formula of a further REML fit
 * (InstEval) and its lme4 REML criterion and theta, adds that fit. Writes one JSON record (default
 * bench/results/fit-golden-evals.json). Usage:
 *   node dist/bench/fit-golden-evals.js [OUT.json] [EXTRA.csv "FORMULA" REMLCRIT THETA_JSON]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { readTable } from '../src/io/csv.js';
import { fit, type Family } from '../src/lmm/mixed/index.js';

interface Golden {
  id: string;
  data: string;
  formula: string;
  family: Family;
  REML: boolean;
  fixef: { estimate: number; se: number }[];
  REMLcrit: number | null;
  logLik: number;
  varcorr: { vcov: number }[];
}

const root = new URL('../../', import.meta.url).pathname;
const [outArg, extraCsv, extraFormula, extraCrit, extraTheta] = process.argv.slice(2);
const out = outArg ?? `${root}bench/results/fit-golden-evals.json`;
const golden = JSON.parse(readFileSync(`${root}data/lme4/golden.json`, 'utf8')) as { fits: Golden[] };
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

const fits = [];
for (const g of golden.fits) {
  const m = fit(await readTable(`${root}data/lme4/${g.data}`), g.formula, { family: g.family, REML: g.REML, ddf: 'residual' });
  const worst: Record<string, number> = { logLik: Math.abs(m.logLik - g.logLik) / 1e-2 };
  if (g.family === 'gaussian') {
    worst.fixef = Math.max(...m.fixef.map((r, j) => Math.abs(r.estimate - g.fixef[j]!.estimate) / g.fixef[j]!.se / 1e-3));
    worst.se = Math.max(...m.fixef.map((r, j) => rel(r.se, g.fixef[j]!.se) / 1e-3));
    worst.vcov = Math.max(...m.varcorr.map((r, j) => (g.varcorr[j]!.vcov === 0 ? Math.abs(r.vcov) / 1e-6 : rel(r.vcov, g.varcorr[j]!.vcov) / 1e-3)));
    worst.criterion = g.REML ? Math.abs(m.REMLcrit! - g.REMLcrit!) / 1e-2 : Math.abs(m.deviance! + 2 * g.logLik) / 1e-2;
  }
  fits.push({ id: g.id, formula: g.formula, family: g.family, evals: m.evals, worst_error_over_tolerance: worst });
}
if (extraCsv && extraFormula && extraCrit && extraTheta) {
  const m = fit(await readTable(extraCsv), extraFormula, { ddf: 'residual' });
  const theta = JSON.parse(extraTheta) as number[];
  fits.push({
    id: extraCsv.split('/').pop()!, formula: extraFormula, family: 'gaussian', evals: m.evals,
    worst_error_over_tolerance: {
      criterion: Math.abs(m.REMLcrit! - Number(extraCrit)) / 1e-2,
      // variance components relative to sigma^2 (theta^2): the residual variance is compared by the criterion
      vcov: Math.max(...m.theta.map((t, i) => rel(t * t, theta[i]! ** 2) / 1e-3)),
    },
  });
}
const git = (args: string) => execSync(`git -C ${JSON.stringify(root)} ${args}`).toString().trim();
const record = {
  benchmark: 'fit-golden-evals', op: 'objective evaluations of the mixed-model optimiser and errors against lme4 as fractions of the tolerances',
  command: `node dist/bench/fit-golden-evals.js ${process.argv.slice(2).map((a) => JSON.stringify(a)).join(' ')}`.trim(),
  total_evals: fits.reduce((s, f) => s + f.evals, 0), fits,
  node: process.version, commit: git('rev-parse HEAD') + (git('status --porcelain -- src/lmm/mixed') ? '-dirty' : ''), date: new Date().toISOString(),
};
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
process.stdout.write(`${fits.map((f) => `${f.id.padEnd(24)} evals ${String(f.evals).padStart(4)}  worst/tol ${Math.max(...Object.values(f.worst_error_over_tolerance)).toExponential(2)}`).join('\n')}\ntotal evals ${record.total_evals}\n`);
