/**
 * Predictions for new data, as lme4's predict.merMod with allow.new.levels = TRUE:
 *   conditional  eta = offset + x' beta + sum_k z_k' b_k[level_k]   (re.form = NULL; a level the fit has not seen
 *                contributes 0, i.e. its population value),
 *   population   eta0 = offset + x' beta                             (re.form = NA),
 * with the standard error of the fixed part se(eta0) = sqrt(x' C x), C = vcov(beta) (the uncertainty of b is not
 * included, as in lme4), and for GLMMs the response scale mu = g^-1(eta) (logit^-1, exp). Factor predictors are
 * coded with the fit's levels and contrasts; for GLMMs also the population-averaged mean E[mu] over the random
 * effects (src/lmm/mixed/marginal.ts). O(rows * (p^2 + sum_k p_k^2)).
 */
import { modelMatrix } from './design.js';
import { DataError, newDataFrame, type DataInput } from './model-frame.js';
import { addTermVariance, marginalMeans, termFactors } from './marginal.js';
import type { MixedModel } from './model.js';

/** One prediction per row of the new data (NaN where a used column is missing). */
export interface Predictions {
  /** conditional prediction on the link scale (the response scale for gaussian) */
  fit: Float64Array;
  /** population-level prediction x' beta (+ offset) */
  population: Float64Array;
  /** standard error of the population-level prediction */
  sePopulation: Float64Array;
  /** GLMMs: fit and population on the response scale */
  mu: Float64Array | null;
  muPopulation: Float64Array | null;
  /** GLMMs: the marginal mean, g^{-1} integrated over the random effects' distribution */
  muMarginal: Float64Array | null;
  /** per row, the grouping factors whose level the fit has not seen (predicted at the population level) */
  newLevels: string[][];
}

export function predict(model: MixedModel, newdata: DataInput): Predictions {
  const mi = model.internals;
  const { frame, complete, groups } = newDataFrame(newdata, mi.parsed, mi.frame);
  const nAll = complete.length;
  const p = mi.xNames.length;
  const full = modelMatrix(mi.parsed.fixed, frame);
  const cols = mi.xNames.map((name) => {
    const j = full.names.indexOf(name);
    if (j < 0) throw new DataError(`new data: the fixed-effect column ${name} cannot be formed`);
    return j;
  });
  const n = frame.n;
  const beta = mi.beta;
  const C = model.vcov;
  const population = new Float64Array(nAll).fill(Number.NaN);
  const sePopulation = new Float64Array(nAll).fill(Number.NaN);
  const fit = new Float64Array(nAll).fill(Number.NaN);
  const newLevels: string[][] = Array.from({ length: nAll }, () => []);
  const x = new Float64Array(p);
  const eta = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < p; j++) x[j] = full.x.data[k + cols[j]! * n]!;
    let e = frame.offset ? frame.offset[k]! : 0;
    for (let j = 0; j < p; j++) e += x[j]! * beta[j]!;
    let v = 0;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) v += x[a]! * C[a + b * p]! * x[b]!;
    const i = frame.rowIndex[k]!;
    population[i] = e;
    sePopulation[i] = Math.sqrt(Math.max(v, 0));
    eta[k] = e;
  }
  const etaPopulation = Float64Array.from(eta);
  const v = new Float64Array(n);
  const factors = termFactors(model);
  // random effects: each term's z row times b of the row's level
  let off = 0;
  for (const [ti, t] of mi.terms.entries()) {
    const z = modelMatrix(t.source.design, frame);
    addTermVariance(v, n, t.p, factors[ti]!, (k, r) => z.x.data[k + r * n]!);
    const index = new Map(t.levels.map((l, j) => [l, j]));
    const parts = t.source.group.map((g) => groups.get(g)!);
    for (let k = 0; k < n; k++) {
      const l = index.get(parts.map((g) => g[k]!).join(':'));
      if (l === undefined) {
        const row = newLevels[frame.rowIndex[k]!]!;
        if (!row.includes(t.factor)) row.push(t.factor);
        continue;
      }
      for (let r = 0; r < t.p; r++) eta[k]! += z.x.data[k + r * n]! * mi.b[off + l * t.p + r]!;
    }
    off += t.levels.length * t.p;
  }
  for (let k = 0; k < n; k++) fit[frame.rowIndex[k]!] = eta[k]!;
  let muMarginal: Float64Array | null = null;
  if (model.family !== 'gaussian') {
    const { mu } = marginalMeans(model.family, etaPopulation, v);
    muMarginal = new Float64Array(nAll).fill(Number.NaN);
    for (let k = 0; k < n; k++) muMarginal[frame.rowIndex[k]!] = mu[k]!;
  }
  const inv = model.family === 'binomial' ? (e: number) => 1 / (1 + Math.exp(-e)) : model.family === 'poisson' ? Math.exp : null;
  return {
    fit, population, sePopulation, newLevels,
    mu: inv ? fit.map(inv) : null,
    muPopulation: inv ? population.map(inv) : null,
    muMarginal,
  };
}
