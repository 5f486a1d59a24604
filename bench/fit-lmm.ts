/**
 * Times `fit` (src/lmm/mixed) on one CSV and formula: reads the table once, fits REPS times, prints one JSON
 * line { times_s, cpu_s (process user + system seconds, all threads), REMLcrit, theta, evals, nobs, and with a
 * residual correlation structure residual, logLik, fixef } on stdout. Driven by bench/fit-vs-lme4.sh and
 * bench/ar1-vs-nlme.sh.
 * Usage: node dist/bench/fit-lmm.js FILE.csv "FORMULA" [REPS] [CORRELATION]
 */
import { readTable } from '../src/io/csv.js';
import { fit } from '../src/lmm/mixed/index.js';

const [file, formula, repsArg, correlation] = process.argv.slice(2);
if (!file || !formula) {
  process.stderr.write('usage: node dist/bench/fit-lmm.js FILE.csv "FORMULA" [REPS]\n');
  process.exit(2);
}
const reps = Number(repsArg ?? 3);
const table = await readTable(file);
const times: number[] = [];
const cpuTimes: number[] = [];
let last = null as ReturnType<typeof fit> | null;
for (let r = 0; r < reps; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  last = fit(table, formula, { ddf: 'residual', ...(correlation ? { correlation } : {}) });
  times.push((performance.now() - t0) / 1000);
  const c = process.cpuUsage(c0);
  cpuTimes.push((c.user + c.system) / 1e6);
}
const out = {
  times_s: times, cpu_s: cpuTimes, REMLcrit: last!.REMLcrit, theta: last!.theta, evals: last!.evals, nobs: last!.nobs,
  ...(correlation ? { residual: last!.residual, logLik: last!.logLik, sigma: last!.sigma, fixef: last!.fixef.map((r) => ({ term: r.term, estimate: r.estimate, se: r.se })) } : {}),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
