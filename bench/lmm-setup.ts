/**
 * Times the set-up of a mixed-model fit (src/lmm/mixed), stage by stage, on one CSV and formula: the model
 * frame (buildModelFrame), the designs (modelMatrix + dropRankDeficient + buildReTerms) and the one-time
 * cross-products of the blocked PLS (the BlockedPls constructor). Reads the table once, repeats the set-up
 * REPS times and prints one JSON line { cpu_s: { frame, design, pls, total } (process user + system seconds
 * per repetition), nobs, m (dense block size) } on stdout. Driven by bench/lmm-setup-ab.sh.
 * Usage: node dist/bench/lmm-setup.js FILE.csv "FORMULA" [REPS]
 */
import { readTable } from '../src/io/csv.js';
import { parseFormula } from '../src/lmm/mixed/formula.js';
import { buildModelFrame } from '../src/lmm/mixed/model-frame.js';
import { buildReTerms, dropRankDeficient, modelMatrix } from '../src/lmm/mixed/design.js';
import { BlockedPls } from '../src/lmm/mixed/pls.js';
import { cpuSeconds } from '../src/bench/measure.js';

const [file, formula, repsArg] = process.argv.slice(2);
if (!file || !formula) {
  process.stderr.write('usage: node dist/bench/lmm-setup.js FILE.csv "FORMULA" [REPS]\n');
  process.exit(2);
}
const reps = Number(repsArg ?? 7);
const table = await readTable(file);
const stages = { frame: [] as number[], design: [] as number[], pls: [] as number[], total: [] as number[] };
let nobs = 0;
let m = 0;
for (let r = 0; r < reps; r++) {
  const t0 = cpuSeconds();
  const parsed = parseFormula(formula);
  const frame = buildModelFrame(table, parsed);
  const t1 = cpuSeconds();
  const { design } = dropRankDeficient(modelMatrix(parsed.fixed, frame));
  const terms = buildReTerms(parsed.random, frame);
  const t2 = cpuSeconds();
  const pls = new BlockedPls(terms, design.x, frame.y);
  const t3 = cpuSeconds();
  stages.frame.push(t1 - t0);
  stages.design.push(t2 - t1);
  stages.pls.push(t3 - t2);
  stages.total.push(t3 - t0);
  nobs = frame.n;
  m = pls.m;
}
process.stdout.write(`${JSON.stringify({ cpu_s: stages, nobs, m })}\n`);
