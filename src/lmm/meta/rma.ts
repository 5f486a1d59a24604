/**
 * Random-effects meta-analysis and meta-regression of k estimates y_i with known sampling variances v_i
 * (metafor's rma.uni): y = X beta + u + e, u ~ N(0, tau^2 I), e ~ N(0, diag(v)).
 *
 * tau^2 estimators (Viechtbauer 2005; Veroniki et al. 2016), with W = diag(w), P = W - W X (X'WX)^-1 X'W:
 * - DL (DerSimonian-Laird): w = 1/v, tau^2 = max(0, (y'Py - (k - p)) / tr P);
 * - PM (Paule-Mandel): the root of y'P(tau^2)y = k - p with w = 1/(v + tau^2) (0 when y'P(0)y < k - p);
 * - REML / ML: Fisher scoring, tau^2 += (y'PPy - tr P) / tr(PP) (REML) or (y'PPy - sum w) / sum w^2 (ML), from the
 *   Hedges (HE) estimate, halving steps that would go below 0; then, as metafor, tau^2 = 0 when the likelihood at 0
 *   is higher;
 * - FE: tau^2 = 0 (fixed / equal effects).
 * Then beta = (X'WX)^-1 X'W y with w = 1/(v + tau^2), Var(beta) = (X'WX)^-1, times s^2 = y'Py / (k - p) under the
 * Knapp-Hartung test (t and F on k - p df). Heterogeneity: Q_E = y'P y at w = 1/v on k - p df; I^2 = 100 tau^2 /
 * (tau^2 + vt), H^2 = (tau^2 + vt) / vt with the typical sampling variance vt = (k - p) / tr P(w = 1/v) (for FE,
 * from Q_E). Omnibus Q_M of the moderators (every coefficient but the intercept). Prediction interval
 * x'beta +- crit sqrt(x' Var(beta) x + tau^2). Log-likelihoods, AIC, BIC, AICc as metafor's fit.stats (REML with
 * its + log|X'X| / 2 term).
 *
 * Everything is O(k p^2) (no k x k matrix is formed: tr P, tr PP and y'PPy come from p x p products); f64.
 * Parity with metafor 3.8 (data/meta/make-golden.R): test/lmm/meta/rma-golden.test.ts.
 */
import { chi2Survival, fSurvival, normalQuantile, normalSurvival, tQuantile, tSurvival2 } from '../../stats/distributions.js';
import { NumericError, UsageError } from '../../errors.js';
import { cholInPlace, cholInverseInto } from '../small-linalg.js';

export type Tau2Method = 'REML' | 'ML' | 'DL' | 'PM' | 'FE';
export type MetaTest = 'z' | 'knha';
export const TAU2_METHODS: readonly Tau2Method[] = ['REML', 'ML', 'DL', 'PM', 'FE'];

/** The studies: estimates, sampling variances and (optionally) the moderators' design. */
export interface MetaData {
  /** estimates y_i, length k */
  yi: Float64Array;
  /** sampling variances v_i > 0, length k */
  vi: Float64Array;
  /** k x p design, column-major (default: the intercept alone) */
  x?: Float64Array;
  /** column names of x ('(Intercept)' marks the intercept) */
  names?: string[];
}

export interface RmaOptions {
  /** tau^2 estimator (default REML) */
  method?: Tau2Method;
  /** z (normal) tests, or Knapp-Hartung t / F tests on k - p df (default z) */
  test?: MetaTest;
  /** confidence / prediction level (default 0.95) */
  level?: number;
}

export interface MetaCoef {
  term: string;
  estimate: number;
  se: number;
  /** z or t statistic */
  stat: number;
  p: number;
  ciLower: number;
  ciUpper: number;
}

/** Fit statistics as metafor's fit.stats: one value per likelihood (ML, REML). */
export interface PerLikelihood {
  ML: number;
  REML: number;
}

export interface RmaFit {
  method: Tau2Method;
  test: MetaTest;
  level: number;
  k: number;
  p: number;
  coefficients: MetaCoef[];
  /** Var(beta), p x p (row-major = column-major: symmetric) */
  vcov: Float64Array;
  /** residual df of the t / F tests (k - p), or Infinity for z tests */
  df: number;
  tau2: number;
  /** standard error of tau^2 (null for FE) */
  seTau2: number | null;
  /** percent */
  I2: number;
  H2: number;
  /** typical within-study variance (k - p) / tr P at w = 1/v */
  vt: number;
  /** pseudo-R^2 of a meta-regression in percent (moderators with an intercept), else null */
  R2: number | null;
  QE: number;
  QEdf: number;
  QEp: number;
  QM: number;
  /** [numerator df, denominator df] (the latter null for chi-square) */
  QMdf: [number, number | null];
  QMp: number;
  /** the coefficients Q_M tests (indices into coefficients) */
  QMterms: number[];
  /** Knapp-Hartung scale s^2 (1 for z tests) */
  s2w: number;
  logLik: PerLikelihood;
  deviance: PerLikelihood;
  AIC: PerLikelihood;
  BIC: PerLikelihood;
  AICc: PerLikelihood;
  /** number of parameters (p + 1, or p for FE) */
  parms: number;
  /** iterations of the tau^2 estimator (0 for closed forms) */
  iterations: number;
  /** the design (for predictions) */
  x: Float64Array;
  names: string[];
}

/** One row of predictions: the mean x'beta with its confidence interval and the prediction interval. */
export interface MetaPrediction {
  pred: number;
  se: number;
  ciLower: number;
  ciUpper: number;
  piLower: number;
  piUpper: number;
}

/** Weighted least squares at weights w, with the traces the estimators need. */
interface Wls {
  beta: Float64Array;
  /** (X'WX)^-1 packed p x p */
  ainv: Float64Array;
  /** y'Py = sum w r^2 */
  rss: number;
  logDetA: number;
  sumW: number;
  sumW2: number;
  trP: number;
  trPP: number;
  /** y'PPy = sum (w r)^2 */
  yPPy: number;
}

/** Solves the WLS problem at weights w: O(k p^2). Throws NumericError when X'WX is singular. */
function wls(y: Float64Array, w: Float64Array, x: Float64Array, k: number, p: number): Wls {
  const a = new Float64Array(p * p);
  const b = new Float64Array(p * p);
  const c = new Float64Array(p * p);
  const xwy = new Float64Array(p);
  let sumW = 0;
  let sumW2 = 0;
  for (let i = 0; i < k; i++) {
    const wi = w[i]!;
    sumW += wi;
    sumW2 += wi * wi;
    for (let s = 0; s < p; s++) {
      const xs = x[i + s * k]!;
      xwy[s]! += wi * xs * y[i]!;
      for (let t = 0; t <= s; t++) {
        const xx = xs * x[i + t * k]!;
        a[s * p + t]! += wi * xx;
        b[s * p + t]! += wi * wi * xx;
        c[s * p + t]! += wi * wi * wi * xx;
      }
    }
  }
  for (let s = 0; s < p; s++) for (let t = 0; t < s; t++) {
    a[t * p + s] = a[s * p + t]!;
    b[t * p + s] = b[s * p + t]!;
    c[t * p + s] = c[s * p + t]!;
  }
  const l = a.slice();
  const logDetA = cholInPlace(l, p);
  if (Number.isNaN(logDetA)) throw new NumericError("the moderators' design X'WX is singular (collinear moderators or too few studies)");
  const ainv = new Float64Array(p * p);
  cholInverseInto(l, p, ainv, new Float64Array(p));
  const beta = new Float64Array(p);
  for (let s = 0; s < p; s++) for (let t = 0; t < p; t++) beta[s]! += ainv[s * p + t]! * xwy[t]!;
  let rss = 0;
  let yPPy = 0;
  for (let i = 0; i < k; i++) {
    let fit = 0;
    for (let s = 0; s < p; s++) fit += x[i + s * k]! * beta[s]!;
    const r = y[i]! - fit;
    rss += w[i]! * r * r;
    yPPy += w[i]! * w[i]! * r * r;
  }
  // M = A^-1 B; tr P = sum w - tr M; tr PP = sum w^2 - 2 tr(A^-1 C) + tr(M M)
  const m = new Float64Array(p * p);
  for (let s = 0; s < p; s++) for (let t = 0; t < p; t++) {
    let v = 0;
    for (let u = 0; u < p; u++) v += ainv[s * p + u]! * b[u * p + t]!;
    m[s * p + t] = v;
  }
  let trM = 0;
  let trAC = 0;
  let trMM = 0;
  for (let s = 0; s < p; s++) {
    trM += m[s * p + s]!;
    for (let t = 0; t < p; t++) {
      trAC += ainv[s * p + t]! * c[t * p + s]!;
      trMM += m[s * p + t]! * m[t * p + s]!;
    }
  }
  return { beta, ainv, rss, logDetA, sumW, sumW2, trP: sumW - trM, trPP: sumW2 - 2 * trAC + trMM, yPPy };
}

const weightsAt = (vi: Float64Array, tau2: number) => Float64Array.from(vi, (v) => 1 / (v + tau2));

/** Hedges' (HE) moment estimate, REML/ML's starting value: (RSS_ols - tr(P_ols V)) / (k - p), at least 0. */
function hedges(y: Float64Array, vi: Float64Array, x: Float64Array, k: number, p: number): number {
  const ols = wls(y, new Float64Array(k).fill(1), x, k, p);
  // tr(P_ols V) = sum v - tr((X'X)^-1 X'VX)
  let tr = 0;
  for (let i = 0; i < k; i++) {
    let h = 0;
    for (let s = 0; s < p; s++) for (let t = 0; t < p; t++) h += x[i + s * k]! * ols.ainv[s * p + t]! * x[i + t * k]!;
    tr += vi[i]! * (1 - h);
  }
  return Math.max(0, (ols.rss - tr) / (k - p));
}

/** The ML (reml = false) or REML log-likelihood of tau^2, beta profiled out (metafor's with REMLf = TRUE). */
function logLikAt(y: Float64Array, vi: Float64Array, x: Float64Array, k: number, p: number, tau2: number, reml: boolean, logDetXX: number): number {
  const f = wls(y, weightsAt(vi, tau2), x, k, p);
  let sumLog = 0;
  for (let i = 0; i < k; i++) sumLog += Math.log(vi[i]! + tau2);
  if (!reml) return -0.5 * k * Math.log(2 * Math.PI) - 0.5 * sumLog - 0.5 * f.rss;
  return -0.5 * (k - p) * Math.log(2 * Math.PI) + 0.5 * logDetXX - 0.5 * sumLog - 0.5 * f.logDetA - 0.5 * f.rss;
}

const MAX_ITER = 10000;

/** REML / ML by Fisher scoring from the HE estimate, to |step| <= 1e-13 max(1, tau^2). */
function fisherScoring(y: Float64Array, vi: Float64Array, x: Float64Array, k: number, p: number, reml: boolean): { tau2: number; iterations: number } {
  let tau2 = hedges(y, vi, x, k, p);
  for (let it = 1; it <= MAX_ITER; it++) {
    const f = wls(y, weightsAt(vi, tau2), x, k, p);
    let adj = reml ? (f.yPPy - f.trP) / f.trPP : (f.yPPy - f.sumW) / f.sumW2;
    if (!Number.isFinite(adj)) adj = 0;
    while (tau2 + adj < 0) adj /= 2;
    tau2 += adj;
    if (Math.abs(adj) <= 1e-13 * Math.max(1, tau2)) return { tau2, iterations: it };
  }
  throw new NumericError(`the Fisher scoring of tau^2 (${reml ? 'REML' : 'ML'}) did not converge in ${MAX_ITER} iterations`);
}

/**
 * Paule-Mandel: the tau^2 with generalised Q(tau^2) = y'P(tau^2)y = k - p (Q decreases in tau^2, dQ/dtau^2 = -y'PPy),
 * by Newton steps kept inside a bracket found by doubling; 0 when Q(0) < k - p.
 */
function pauleMandel(y: Float64Array, vi: Float64Array, x: Float64Array, k: number, p: number): { tau2: number; iterations: number } {
  const target = k - p;
  const at = (t: number) => wls(y, weightsAt(vi, t), x, k, p);
  let f = at(0);
  if (f.rss < target) return { tau2: 0, iterations: 0 };
  let lo = 0;
  let hi = 1;
  let it = 0;
  while (at(hi).rss > target) {
    lo = hi;
    hi *= 2;
    if (++it > 2000) throw new NumericError('Paule-Mandel: no tau^2 brings Q down to k - p');
  }
  let t = lo;
  f = at(t);
  for (; it < MAX_ITER; it++) {
    const g = f.rss - target;
    if (g > 0) lo = t;
    else hi = t;
    let next = t + g / f.yPPy;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - t) <= 1e-15 * Math.max(next, 1e-300) || hi - lo <= 1e-15 * hi) return { tau2: next, iterations: it + 1 };
    t = next;
    f = at(t);
  }
  throw new NumericError(`Paule-Mandel: no convergence in ${MAX_ITER} iterations`);
}

/** Checks the inputs; returns k, p, the design (intercept alone by default) and its names. */
function checkData(d: MetaData): { k: number; p: number; x: Float64Array; names: string[] } {
  const k = d.yi.length;
  if (d.vi.length !== k) throw new UsageError(`rma: yi has ${k} values but vi has ${d.vi.length}`);
  const x = d.x ?? new Float64Array(k).fill(1);
  const names = d.names ?? (d.x ? [] : ['(Intercept)']);
  const p = names.length;
  if (x.length !== k * p) throw new UsageError(`rma: x has ${x.length} values, expected k x p = ${k} x ${p}`);
  for (let i = 0; i < k; i++) {
    if (!Number.isFinite(d.yi[i]!)) throw new UsageError(`rma: yi[${i}] = ${d.yi[i]} is not a finite number`);
    if (!(d.vi[i]! > 0 && d.vi[i]! < Infinity)) throw new UsageError(`rma: the sampling variance vi[${i}] = ${d.vi[i]} must be a positive number`);
  }
  if (k <= p) throw new NumericError(`${k} stud${k === 1 ? 'y' : 'ies'} for ${p} coefficient${p === 1 ? '' : 's'}: a meta-analysis needs more studies than coefficients`);
  return { k, p, x, names };
}

/**
 * Fits the random-effects (or, with method FE, fixed-effect) model: tau^2 by the chosen estimator, then the
 * coefficients, tests, heterogeneity statistics and fit statistics as metafor's rma(yi, vi, mods, method, test).
 * Cost O(iterations k p^2). Throws UsageError for invalid inputs, NumericError when the model cannot be fitted.
 */
export function rma(data: MetaData, options: RmaOptions = {}): RmaFit {
  const method = options.method ?? 'REML';
  const test = options.test ?? 'z';
  const level = options.level ?? 0.95;
  if (!TAU2_METHODS.includes(method)) throw new UsageError(`rma: method ${method}: expected one of ${TAU2_METHODS.join(', ')}`);
  if (test !== 'z' && test !== 'knha') throw new UsageError(`rma: test ${test}: expected z or knha`);
  if (!(level > 0 && level < 1)) throw new UsageError(`rma: level ${level}: expected a number in (0, 1)`);
  const { k, p, x, names } = checkData(data);
  const { yi, vi } = data;
  const fixed = wls(yi, weightsAt(vi, 0), x, k, p);
  const logDetXX = wls(yi, new Float64Array(k).fill(1), x, k, p).logDetA;

  let tau2 = 0;
  let iterations = 0;
  if (method === 'DL') tau2 = Math.max(0, (fixed.rss - (k - p)) / fixed.trP);
  else if (method === 'PM') ({ tau2, iterations } = pauleMandel(yi, vi, x, k, p));
  else if (method === 'REML' || method === 'ML') {
    const reml = method === 'REML';
    ({ tau2, iterations } = fisherScoring(yi, vi, x, k, p, reml));
    // metafor's ll0check: a higher likelihood at tau^2 = 0 means scoring stopped at a local maximum
    if (tau2 > 1e-12 && logLikAt(yi, vi, x, k, p, 0, reml, logDetXX) - logLikAt(yi, vi, x, k, p, tau2, reml, logDetXX) > 1.220703125e-4) tau2 = 0;
  }

  const w = weightsAt(vi, tau2);
  const f = wls(yi, w, x, k, p);
  // Knapp-Hartung: Var(beta) scaled by s^2 = y'Py / (k - p)
  const s2w = test === 'knha' ? (f.rss <= 2.220446049250313e-16 ? 0 : f.rss / (k - p)) : 1;
  const vcov = f.ainv.map((v) => v * s2w);
  const df = test === 'knha' ? k - p : Infinity;
  const crit = test === 'knha' ? tQuantile(1 - (1 - level) / 2, df) : normalQuantile(1 - (1 - level) / 2);
  const coefficients = names.map((term, j) => {
    const estimate = f.beta[j]!;
    const se = Math.sqrt(vcov[j * p + j]!);
    const stat = estimate / se;
    const pv = test === 'knha' ? tSurvival2(stat, df) : 2 * normalSurvival(Math.abs(stat));
    return { term, estimate, se, stat, p: pv, ciLower: estimate - crit * se, ciUpper: estimate + crit * se };
  });

  // omnibus test of every coefficient but the intercept (the intercept alone in an intercept-only model)
  const intercept = names.indexOf('(Intercept)');
  const QMterms = p === 1 || intercept < 0 ? names.map((_, j) => j) : names.map((_, j) => j).filter((j) => j !== intercept);
  const QM = quadraticForm(f.beta, vcov, p, QMterms);
  const m = QMterms.length;
  const QMdf: [number, number | null] = test === 'knha' ? [m, k - p] : [m, null];
  const QMp = test === 'knha' ? fSurvival(QM / m, m, k - p) : chi2Survival(QM, m);

  // heterogeneity from the fixed-effect weights
  const QE = Math.max(0, fixed.rss);
  const QEp = chi2Survival(QE, k - p);
  const vt = (k - p) / fixed.trP;
  const I2 = method === 'FE' ? Math.max(0, (100 * (QE - (k - p))) / QE) : (100 * tau2) / (vt + tau2);
  const H2 = method === 'FE' ? QE / (k - p) : tau2 / vt + 1;

  let seTau2: number | null = null;
  if (method === 'DL') seTau2 = Math.sqrt((2 * (k - p) + 4 * tau2 * fixed.trP + 2 * tau2 * tau2 * fixed.trPP) / (fixed.trP * fixed.trP));
  else if (method === 'REML') seTau2 = Math.sqrt(2 / f.trPP);
  else if (method === 'ML') seTau2 = Math.sqrt(2 / f.sumW2);
  else if (method === 'PM') seTau2 = Math.sqrt((2 * k * k) / (k - p) / (f.sumW * f.sumW));

  // fit statistics (metafor's fit.stats)
  let sumLog = 0;
  let sumLog2piV = 0;
  for (let i = 0; i < k; i++) {
    sumLog += Math.log(vi[i]! + tau2);
    sumLog2piV += Math.log(2 * Math.PI * vi[i]!);
  }
  const llML = -0.5 * k * Math.log(2 * Math.PI) - 0.5 * sumLog - 0.5 * f.rss;
  const llREML = -0.5 * (k - p) * Math.log(2 * Math.PI) + 0.5 * logDetXX - 0.5 * sumLog - 0.5 * f.logDetA - 0.5 * f.rss;
  const parms = p + (method === 'FE' ? 0 : 1);
  const aicc = (ll: number, n: number) => -2 * ll + (2 * parms * Math.max(n, parms + 2)) / (Math.max(n, parms + 2) - parms - 1);

  return {
    method, test, level, k, p, coefficients, vcov, df, tau2, seTau2, I2, H2, vt, R2: pseudoR2(data, method, test, tau2, names, k, p, f.beta),
    QE, QEdf: k - p, QEp, QM, QMdf, QMp, QMterms, s2w,
    logLik: { ML: llML, REML: llREML },
    deviance: { ML: -2 * llML - sumLog2piV, REML: -2 * llREML },
    AIC: { ML: -2 * llML + 2 * parms, REML: -2 * llREML + 2 * parms },
    BIC: { ML: -2 * llML + parms * Math.log(k), REML: -2 * llREML + parms * Math.log(k - p) },
    AICc: { ML: aicc(llML, k), REML: aicc(llREML, k - p) },
    parms, iterations, x, names,
  };
}

/** b_S' (V_SS)^-1 b_S over the coefficient subset S. */
function quadraticForm(beta: Float64Array, vcov: Float64Array, p: number, subset: number[]): number {
  const m = subset.length;
  const a = new Float64Array(m * m);
  for (let s = 0; s < m; s++) for (let t = 0; t < m; t++) a[s * m + t] = vcov[subset[s]! * p + subset[t]!]!;
  if (Number.isNaN(cholInPlace(a, m))) return NaN;
  const inv = new Float64Array(m * m);
  cholInverseInto(a, m, inv, new Float64Array(m));
  let q = 0;
  for (let s = 0; s < m; s++) for (let t = 0; t < m; t++) q += beta[subset[s]!]! * inv[s * m + t]! * beta[subset[t]!]!;
  return q;
}

/**
 * metafor's R^2 of a meta-regression with an intercept (percent, at least 0): random effects, the proportional
 * reduction of tau^2 from the intercept-only fit, (tau^2_RE - tau^2) / tau^2_RE (0 when tau^2_RE = 0); FE, the
 * adjusted R^2 of the weighted regression. Null without moderators or without an intercept.
 */
function pseudoR2(data: MetaData, method: Tau2Method, test: MetaTest, tau2: number, names: string[], k: number, p: number, beta: Float64Array): number | null {
  if (p === 1 || !names.includes('(Intercept)')) return null;
  if (method === 'FE') {
    const w = data.vi.map((v) => 1 / v);
    let sw = 0;
    let swy = 0;
    for (let i = 0; i < k; i++) {
      sw += w[i]!;
      swy += w[i]! * data.yi[i]!;
    }
    const mean = swy / sw;
    let tss = 0;
    let rss = 0;
    const x = data.x!;
    for (let i = 0; i < k; i++) {
      let fit = 0;
      for (let s = 0; s < p; s++) fit += x[i + s * k]! * beta[s]!;
      tss += w[i]! * (data.yi[i]! - mean) ** 2;
      rss += w[i]! * (data.yi[i]! - fit) ** 2;
    }
    if (tss === 0) return 0;
    const adj = 1 - ((rss / tss) * (k - 1)) / (k - p);
    return Math.max(0, 100 * adj);
  }
  const tau2RE = rma({ yi: data.yi, vi: data.vi }, { method, test }).tau2;
  if (tau2RE === 0) return 0;
  return Math.max(0, (100 * (tau2RE - tau2)) / tau2RE);
}

/**
 * Predictions x'beta for the rows of `xNew` (each of length p; default: the fitted studies' rows), with the
 * confidence interval of the mean and the prediction interval x'beta +- crit sqrt(x'Var(beta)x + tau^2)
 * (crit: normal, or t on k - p df under Knapp-Hartung), as metafor's predict.rma. O(rows p^2).
 */
export function rmaPredict(fit: RmaFit, xNew?: readonly (readonly number[])[]): MetaPrediction[] {
  const { p, k } = fit;
  const rows = xNew ?? Array.from({ length: k }, (_, i) => Array.from({ length: p }, (_, s) => fit.x[i + s * k]!));
  const crit = fit.test === 'knha' ? tQuantile(1 - (1 - fit.level) / 2, fit.df) : normalQuantile(1 - (1 - fit.level) / 2);
  return rows.map((row) => {
    if (row.length !== p) throw new UsageError(`rmaPredict: a row has ${row.length} values, expected ${p} (${fit.names.join(', ')})`);
    let pred = 0;
    let v = 0;
    for (let s = 0; s < p; s++) {
      pred += row[s]! * fit.coefficients[s]!.estimate;
      for (let t = 0; t < p; t++) v += row[s]! * fit.vcov[s * p + t]! * row[t]!;
    }
    const se = Math.sqrt(v);
    const half = crit * Math.sqrt(v + fit.tau2);
    return { pred, se, ciLower: pred - crit * se, ciUpper: pred + crit * se, piLower: pred - half, piUpper: pred + half };
  });
}
