/**
 * Times `fit` (src/lmm/mixed) on one CSV and formula: reads the table once, fits REPS times, prints one JSON
 * line { times_s, REMLcrit, theta, evals, nobs } on stdout. Driven by bench/fit-vs-lme4.sh.
 * Usage: node dist/bench/fit-lmm.js FILE.csv "FORMULA" [REPS]
 */
import { readTable } from '../src/io/csv.js';
import { fit } from '../src/lmm/mixed/index.js';

const [file, formula, repsArg] = process.argv.slice(2);
if (!file || !formula) {
  process.stderr.write('usage: node dist/bench/fit-lmm.js FILE.csv "FORMULA" [REPS]\n');
  process.exit(2);
}
const reps = Number(repsArg ?? 3);
const table = await readTable(file);
const times: number[] = [];
let last = null as ReturnType<typeof fit> | null;
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  last = fit(table, formula, { ddf: 'residual' });
  times.push((performance.now() - t0) / 1000);
}
process.stdout.write(`${JSON.stringify({ times_s: times, REMLcrit: last!.REMLcrit, theta: last!.theta, evals: last!.evals, nobs: last!.nobs })}\n`);
