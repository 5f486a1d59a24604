/**
 * F tests of fixed-effect terms and of any contrast L beta = 0, with Satterthwaite denominator df, as lmerTest's
 * anova(model, type = 3) and contestMD compute them (Kuznetsova, Brockhoff & Christensen 2017, section 3.3).
 *
 * Contrast test (L: q x p, C = vcov(beta), A = 2 H^{-1} the covariance of varpar, satterthwaite.ts):
 *   L C L' = P D P' (eigen; directions with d_m <= eps d_max dropped, q = their number),
 *   F = (1/q) sum_m (P_m' L beta)^2 / d_m,
 *   nu_m = 2 d_m^2 / (g_m' A g_m),   g_m,i = P_m' L (dC/dvarpar_i) L' P_m,
 *   ddf = nu_1 when q = 1, else 2 E / (E - q) with E = sum_m nu_m / (nu_m - 2) (2 when some nu_m <= 2).
 * Type III hypotheses (SAS's, which lmerTest's anova reproduces): for a term T, the coefficients of T are zero
 * when every factor is coded by contrasts that sum to zero (sum, helmert, poly), whatever coding the fit used.
 * With X_s = X M the model matrix so recoded (M = (X'X)^{-1} X' X_s, exact: both span the same columns),
 * beta_s = M^{-1} beta and the hypothesis is L = S_T M^{-1} with S_T the rows of T's columns. Cost O(n p^2 + p^3)
 * plus the 1 + 2t + t(t-1) PLS factorisations of the varpar derivatives.
 */
import { cpuEigh } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { fSurvival } from '../../stats/distributions.js';
import { modelMatrix } from './design.js';
import { DataError, type FrameColumn } from './model-frame.js';
import type { MixedModel } from './model.js';
import { invertSmall } from './numeric-derivatives.js';
import { varparDerivatives, type VarparDerivatives } from './satterthwaite.js';

/** One row of the type III table (lmerTest's anova columns). */
export interface Type3Row {
  term: string;
  sumSq: number;
  meanSq: number;
  numDf: number;
  denDf: number;
  F: number;
  p: number;
}

/** An F test of L beta = 0: F on (numDf, denDf) and its p-value. */
export interface ContrastTest {
  F: number;
  numDf: number;
  denDf: number;
  p: number;
}

/** lmerTest's get_Fstat_ddf: combines the per-direction df of a q-dimensional test. */
function combinedDdf(nu: number[]): number {
  if (nu.length === 1) return nu[0]!;
  if (nu.every((v) => Math.abs(v - nu[0]!) < 1e-8)) return nu.reduce((a, b) => a + b, 0) / nu.length;
  if (nu.some((v) => v <= 2)) return 2;
  const E = nu.reduce((s, v) => s + v / (v - 2), 0);
  return (2 * E) / (E - nu.length);
}

/** x' M y for a k x k column-major M. */
function qform(x: ArrayLike<number>, M: ArrayLike<number>, k: number, y: ArrayLike<number> = x): number {
  let s = 0;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) s += x[a]! * M[a + b * k]! * y[b]!;
  return s;
}

/** The Satterthwaite F test of L beta = 0 (L: q x p, rows as arrays) for a linear mixed model. */
export function contrastTest(model: MixedModel, L: number[][], deriv: VarparDerivatives = derivativesOf(model)): ContrastTest {
  const p = model.fixef.length;
  if (L.length === 0 || L.some((r) => r.length !== p)) throw new DataError(`contrast: expected rows of length ${p} (one per fixed effect)`);
  const beta = model.fixef.map((r) => r.estimate);
  const C = deriv.vcov;
  const q0 = L.length;
  // V = L C L' (q0 x q0)
  const LC = L.map((row) => Array.from({ length: p }, (_, j) => row.reduce((s, v, a) => s + v * C[a + j * p]!, 0)));
  const V = f64Matrix(q0, q0);
  for (let a = 0; a < q0; a++) for (let b = 0; b < q0; b++) V.data[a + b * q0] = LC[a]!.reduce((s, v, j) => s + v * L[b]![j]!, 0);
  const { values, vectors } = cpuEigh(V);
  const dmax = Math.max(...values);
  const keep = [...values.keys()].filter((m) => values[m]! > Math.max(1e-12 * dmax, 0) && dmax > 0);
  if (keep.length === 0) throw new DataError('contrast: L vcov(beta) L\' is zero: the contrast tests nothing');
  const q = keep.length;
  const denom = model.ddf === 'residual' ? model.nobs - p : NaN;
  let t2 = 0;
  const nu: number[] = [];
  for (const m of keep) {
    const Pm = vectors.data.subarray(m * q0, (m + 1) * q0);
    const PtL = Array.from({ length: p }, (_, j) => L.reduce((s, row, a) => s + Pm[a]! * row[j]!, 0));
    const est = PtL.reduce((s, v, j) => s + v * beta[j]!, 0);
    t2 += (est * est) / values[m]!;
    if (Number.isNaN(denom)) {
      const g = deriv.jacobian.map((J) => qform(PtL, J, p));
      nu.push((2 * values[m]! ** 2) / qform(g, deriv.A, deriv.d));
    }
  }
  const F = t2 / q;
  const denDf = Number.isNaN(denom) ? combinedDdf(nu) : denom;
  return { F, numDf: q, denDf, p: fSurvival(F, q, denDf) };
}

function derivativesOf(model: MixedModel): VarparDerivatives {
  if (model.family !== 'gaussian') throw new DataError('F tests with Satterthwaite df need a linear (gaussian) mixed model');
  return varparDerivatives(model.internals, model.theta, model.sigma, model.REML);
}

/**
 * lmerTest's anova(model, type = 3): one F test per fixed-effect term (intercept excluded), Satterthwaite
 * denominator df (residual df n - p when the model was fitted with ddf 'residual').
 */
export function anovaType3(model: MixedModel): Type3Row[] {
  const mi = model.internals;
  if (mi.droppedColumns.length) throw new DataError(`type III tests need a full-rank fixed-effects design; ${mi.droppedColumns.join(', ')} were dropped as aliased`);
  const terms = mi.parsed.fixed.terms;
  if (terms.length === 0) return [];
  const p = mi.x.cols;
  const n = mi.x.rows;
  // X_s: the same model with every factor coded by contrasts that sum to zero (treatment -> sum)
  const frame = { ...mi.frame, columns: new Map<string, FrameColumn>() };
  for (const [k, c] of mi.frame.columns) frame.columns.set(k, c.kind === 'factor' && (c.contrasts ?? 'treatment') === 'treatment' ? { ...c, contrasts: 'sum' } : c);
  const xs = modelMatrix(mi.parsed.fixed, frame);
  if (xs.x.cols !== p) throw new DataError('type III tests: the recoded design does not match the fitted one');
  // M = (X'X)^{-1} X' X_s, then Minv = M^{-1}
  const X = mi.x.data;
  const XtX = new Float64Array(p * p);
  const XtXs = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      let s = 0;
      let t = 0;
      for (let i = 0; i < n; i++) {
        s += X[i + a * n]! * X[i + b * n]!;
        t += X[i + a * n]! * xs.x.data[i + b * n]!;
      }
      XtX[a + b * p] = s;
      XtXs[a + b * p] = t;
    }
  }
  const XtXinv = invertSmall(XtX, p);
  const M = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) for (let c = 0; c < p; c++) M[a + b * p]! += XtXinv[a + c * p]! * XtXs[c + b * p]!;
  const Minv = invertSmall(M, p);
  const deriv = derivativesOf(model);
  return terms.map((term, k) => {
    const cols = xs.assign.map((a, j) => (a === k ? j : -1)).filter((j) => j >= 0);
    const L = cols.map((r) => Array.from({ length: p }, (_, j) => Minv[r + j * p]!));
    const t = contrastTest(model, L, deriv);
    const meanSq = t.F * model.sigma * model.sigma;
    return { term: term.map((v) => v.label).join(':'), sumSq: meanSq * t.numDf, meanSq, numDf: t.numDf, denDf: t.denDf, F: t.F, p: t.p };
  });
}
