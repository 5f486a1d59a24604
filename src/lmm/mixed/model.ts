/**
 * The public entry point: `fit(data, formula, options)` -> a fitted mixed model with lme4's summaries.
 */
import { normalSurvival, tSurvival2 } from '../../stats/distributions.js';
import { buildReTerms, dropRankDeficient, modelMatrix, type ReTerm } from './design.js';
import { parseFormula, type ParsedFormula } from './formula.js';
import { estimateGlmm, type GlmmFamily, type LaplaceMode } from './glmm.js';
import { kenwardRogerDf } from './kenward-roger.js';
import { estimateLmm, type LmmCriterion } from './lmm.js';
import { buildModelFrame, DataError, type ContrastDefaults, type DataInput, type ModelFrame } from './model-frame.js';
import { formatResidualSpec, parseCorrelation, parseWeights, residualColumns, ResidualStructure, type CorrelationSpec, type ResidualParameters, type ResidualSpec, type VarianceSpec } from './residual.js';
import { satterthwaiteDf } from './satterthwaite.js';
import { checkModelVariable } from '../../stats/numeric-guards.js';
import { NumericError } from '../../errors.js';
import type { F64Matrix } from '../../../kernels/matrix.js';
import type { BlockedPls } from './pls.js';

export type Family = 'gaussian' | GlmmFamily;
export type DdfMethod = 'satterthwaite' | 'kenward-roger' | 'residual';

export interface FitOptions {
  family?: Family;
  /** REML (default true for gaussian; ignored for GLMMs, which are fitted by ML/Laplace) */
  REML?: boolean;
  /** denominator df of the fixed-effects t tests (gaussian only; default satterthwaite) */
  ddf?: DdfMethod;
  /** GLMM Laplace deviance: 'glmer' (default, lme4's numbers) or 'exact' (see glmm.ts) */
  laplace?: LaplaceMode;
  /** contrasts of factors without C(): R's options(contrasts =); default treatment (unordered), poly (ordered) */
  contrasts?: ContrastDefaults;
  /**
   * residual correlation within groups (gaussian): `ar1(time | g)`, `ar1(| g)`, `car1(time | g)`, `cs(| g)` or the
   * parsed form (residual.ts); nlme's corAR1 / corCAR1 / corCompSymm
   */
  correlation?: string | CorrelationSpec | null;
  /** residual variance function (gaussian): `ident(| s)`, one residual SD per level of s (nlme's varIdent) */
  weights?: string | VarianceSpec | null;
}

/** A fixed-effects row: estimate, standard error, df (Infinity: z test for GLMMs), t (or z) and p. */
export interface FixefRow {
  term: string;
  estimate: number;
  se: number;
  df: number;
  t: number;
  p: number;
}

/** A row of R's as.data.frame(VarCorr(fit)). */
export interface VarCorrRow {
  grp: string;
  var1: string | null;
  var2: string | null;
  vcov: number;
  sdcor: number;
}

/** A conditional mode (BLUP) with its conditional standard deviation (lme4's condsd). */
export interface RanefRow {
  grp: string;
  term: string;
  level: string;
  value: number;
  condsd: number;
}

/** A fitted linear or generalised linear mixed model. */
export interface MixedModel {
  formula: string;
  family: Family;
  REML: boolean;
  ddf: DdfMethod;
  nobs: number;
  ngrps: Record<string, number>;
  theta: number[];
  /** residual standard deviation (1 for binomial/Poisson) */
  sigma: number;
  fixef: FixefRow[];
  /** vcov(beta), p x p column-major */
  vcov: Float64Array;
  varcorr: VarCorrRow[];
  REMLcrit: number | null;
  deviance: number | null;
  /** the residual correlation / variance structure's estimates (null with iid residuals) */
  residual: (ResidualParameters & { correlationSpec: string | null; weightsSpec: string | null }) | null;
  logLik: number;
  /** number of estimated parameters (lme4's df of logLik) */
  npar: number;
  AIC: number;
  BIC: number;
  converged: boolean;
  singular: boolean;
  /** optimiser evaluations */
  evals: number;
  messages: string[];
  /** conditional modes with conditional sd, in lme4's order */
  ranef(): RanefRow[];
  /** internals for inference, R2 and anova */
  readonly internals: ModelInternals;
}

/** What inference, R2 and refits need beyond the summaries. */
export interface ModelInternals {
  parsed: ParsedFormula;
  frame: ModelFrame;
  terms: ReTerm[];
  x: F64Matrix;
  xNames: string[];
  /** term index of each column of x (R's assign; -1 the intercept) */
  assign: number[];
  /** the fixed-effects columns dropped as linearly dependent */
  droppedColumns: string[];
  beta: Float64Array;
  b: Float64Array;
  pls: BlockedPls;
  data: DataInput;
  /** the options of the fit (for refits) */
  options: FitOptions;
  /** linear mixed models: the (RE)ML criterion, factored at the optimum (GLMMs: null) */
  criterion: LmmCriterion | null;
  /** the residual structure and its unconstrained parameters at the optimum (null with iid residuals) */
  residual: { structure: ResidualStructure; par: number[] } | null;
}

/** The residual structure of fit options, parsed (null when there is none). */
export function residualSpecOf(options: FitOptions): ResidualSpec | null {
  const c = typeof options.correlation === 'string' ? parseCorrelation(options.correlation) : (options.correlation ?? null);
  const w = typeof options.weights === 'string' ? parseWeights(options.weights) : (options.weights ?? null);
  return c || w ? { correlation: c, weights: w } : null;
}

/** Builds X, the random-effects terms and the frame, with lme4's checks and messages. */
export function buildModel(data: DataInput, formula: string | ParsedFormula, family: Family, contrasts: ContrastDefaults = {}, residual: ResidualSpec | null = null) {
  const parsed = typeof formula === 'string' ? parseFormula(formula) : formula;
  if (parsed.random.length === 0) throw new DataError(`formula "${parsed.text}" has no random-effects terms such as (1 | g)`);
  const frame = buildModelFrame(data, parsed, contrasts, family === 'binomial', residual ? residualColumns(residual) : {});
  if (parsed.response.kind === 'cbind' && family !== 'binomial') throw new DataError('cbind(successes, failures) responses need --family binomial');
  checkResponse(frame, family, parsed.response.kind === 'column' ? parsed.response.name : 'cbind(...)');
  const messages = frame.messages.slice();
  const full = modelMatrix(parsed.fixed, frame);
  for (let j = 0; j < full.x.cols; j++) checkModelVariable(full.x.data.subarray(j * full.x.ld, j * full.x.ld + full.x.rows), `fixed-effect column ${full.names[j]}`, false);
  const { design, dropped } = dropRankDeficient(full);
  if (dropped.length) {
    messages.push(`fixed-effect model matrix is rank deficient so dropping ${dropped.length} column${dropped.length === 1 ? '' : 's'} / coefficient${dropped.length === 1 ? '' : 's'} (${dropped.join(', ')})`);
  }
  const terms = buildReTerms(parsed.random, frame, family === 'gaussian');
  return { parsed, frame, x: design.x, xNames: design.names, assign: design.assign, droppedColumns: dropped, terms, messages };
}

function checkResponse(frame: ModelFrame, family: Family, name: string): void {
  const y = frame.y;
  const off = frame.offset;
  checkModelVariable(family === 'gaussian' && off ? y.map((v, i) => v - off[i]!) : y, `response ${name}`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (family === 'binomial' && !frame.trials && (v < 0 || v > 1)) {
      throw new DataError(`binomial response must lie in [0, 1] (or use cbind(successes, failures)): found ${v} in row ${frame.rowIndex[i]! + 1}`);
    }
    if (family === 'poisson' && (v < 0 || Math.floor(v) !== v)) {
      throw new DataError(`poisson response must be a non-negative integer count: found ${v} in row ${frame.rowIndex[i]! + 1}`);
    }
  }
}

/**
 * Fits a linear (gaussian, REML by default) or generalised linear (binomial logit / Poisson log, Laplace)
 * mixed model given an lme4 formula. Throws FormulaError / DataError on bad input.
 */
export function fit(data: DataInput, formula: string | ParsedFormula, options: FitOptions = {}): MixedModel {
  const family = options.family ?? 'gaussian';
  if (!['gaussian', 'binomial', 'poisson'].includes(family)) throw new DataError(`unknown family '${family}' (gaussian, binomial, poisson)`);
  const spec = residualSpecOf(options);
  if (spec && family !== 'gaussian') throw new DataError('residual correlation and variance structures need a linear (gaussian) mixed model');
  const m = buildModel(data, formula, family, options.contrasts, spec);
  const n = m.frame.n;
  const p = m.x.cols;
  const ngrps: Record<string, number> = {};
  for (const t of m.terms) ngrps[t.factor] = t.levels.length;
  const ntheta = m.terms.reduce((s, t) => s + (t.p * (t.p + 1)) / 2, 0);

  if (family === 'gaussian') {
    const reml = options.REML ?? true;
    // a gaussian offset shifts the response: fitting y - offset gives the same estimates and likelihood
    const off = m.frame.offset;
    const y = off ? m.frame.y.map((v, i) => v - off[i]!) : m.frame.y;
    const structure = spec ? ResidualStructure.build(spec, m.frame, m.terms) : null;
    const est = estimateLmm(m.terms, m.x, y, reml, undefined, structure);
    if (!Number.isFinite(est.criterion) || !(est.sigma > 0)) {
      throw new NumericError(`response ${m.parsed.response.kind === 'column' ? m.parsed.response.name : ''}: the ${reml ? 'REML criterion' : 'deviance'} is not finite at the optimum (${est.criterion}): the fixed effects reproduce the response exactly, leaving no residual variance to estimate`);
    }
    const ddf = options.ddf ?? 'satterthwaite';
    if (structure && ddf === 'kenward-roger') throw new DataError('Kenward-Roger df are implemented for iid residuals; use satterthwaite with a residual correlation or variance structure');
    const vcov = est.pls.unscaledVcov().map((v) => v * est.sigma * est.sigma);
    const internals: ModelInternals = {
      parsed: m.parsed, frame: m.frame, terms: m.terms, x: m.x, xNames: m.xNames, assign: m.assign, droppedColumns: m.droppedColumns, beta: est.beta, b: est.b, pls: est.pls, data, options,
      criterion: est.criterionFn, residual: structure ? { structure, par: est.residualPar } : null,
    };
    const se = m.xNames.map((_, j) => Math.sqrt(vcov[j + j * p]!));
    let df: number[];
    let seUsed = se;
    if (ddf === 'satterthwaite') df = satterthwaiteDf(internals, est.theta, est.sigma, reml);
    else if (ddf === 'kenward-roger') {
      const kr = kenwardRogerDf(internals, est.theta, est.sigma);
      df = kr.df;
      seUsed = kr.se;
    } else df = m.xNames.map(() => n - p);
    const fixef = m.xNames.map((term, j) => {
      const t = est.beta[j]! / seUsed[j]!;
      return { term, estimate: est.beta[j]!, se: seUsed[j]!, df: df[j]!, t, p: tSurvival2(t, df[j]!) };
    });
    const npar = p + ntheta + 1 + est.residualPar.length;
    const logLik = -est.criterion / 2;
    const specText = spec ? formatResidualSpec(spec) : null;
    return finish({
      formula: m.parsed.text, family, REML: reml, ddf, nobs: n, ngrps, theta: est.theta, sigma: est.sigma, fixef, vcov,
      varcorr: varCorrRows(m.terms, est.theta, est.sigma, true),
      REMLcrit: reml ? est.criterion : null, deviance: reml ? null : est.criterion, logLik, npar,
      residual: structure ? { ...structure.natural(est.residualPar), correlationSpec: specText!.correlation, weightsSpec: specText!.weights } : null,
      AIC: -2 * logLik + 2 * npar, BIC: -2 * logLik + npar * Math.log(n), converged: est.converged,
      singular: isSingular(m.terms, est.theta), evals: est.evals, messages: m.messages, internals,
    }, est.sigma);
  }

  const est = estimateGlmm(m.terms, m.x, m.frame, family, { laplace: options.laplace });
  const vcov = est.vcov;
  const fixef = m.xNames.map((term, j) => {
    const se = Math.sqrt(vcov[j + j * p]!);
    const z = est.beta[j]! / se;
    return { term, estimate: est.beta[j]!, se, df: Infinity, t: z, p: 2 * normalSurvival(Math.abs(z)) };
  });
  const npar = p + ntheta;
  const internals: ModelInternals = {
    parsed: m.parsed, frame: m.frame, terms: m.terms, x: m.x, xNames: m.xNames, assign: m.assign, droppedColumns: m.droppedColumns, beta: est.beta, b: est.b, pls: est.pls, data, options,
    criterion: null, residual: null,
  };
  return finish({
    formula: m.parsed.text, family, REML: false, ddf: 'residual', nobs: n, ngrps, theta: est.theta, sigma: 1, fixef, vcov,
    varcorr: varCorrRows(m.terms, est.theta, 1, false), REMLcrit: null, deviance: -2 * est.logLik, residual: null, logLik: est.logLik, npar,
    AIC: -2 * est.logLik + 2 * npar, BIC: -2 * est.logLik + npar * Math.log(n), converged: est.converged,
    singular: isSingular(m.terms, est.theta), evals: est.evals, messages: m.messages.concat(est.messages), internals,
  }, 1);
}

function finish(base: Omit<MixedModel, 'ranef'>, sigma: number): MixedModel {
  if (base.singular) base.messages.push("boundary (singular) fit: a variance component is (near) zero or a correlation is +-1");
  let cache: RanefRow[] | null = null;
  return {
    ...base,
    ranef: () => (cache ??= ranefRows(base.internals, sigma)),
  };
}

/** lme4's isSingular: a diagonal element of some T_k below tol (1e-4). */
export function isSingular(terms: ReTerm[], theta: number[], tol = 1e-4): boolean {
  let k = 0;
  for (const t of terms) for (let c = 0; c < t.p; c++) for (let r = c; r < t.p; r++, k++) if (r === c && theta[k]! < tol) return true;
  return false;
}

/**
 * Variance components Sigma_k = sigma^2 T_k T_k' (Bates et al. 2015, eq. 4) as rows of R's
 * as.data.frame(VarCorr(fit)): variances first, then covariances in lower.tri order, then the residual.
 */
export function varCorrRows(terms: ReTerm[], theta: number[], sigma: number, residual: boolean): VarCorrRow[] {
  const rows: VarCorrRow[] = [];
  let k = 0;
  for (const t of terms) {
    const p = t.p;
    const T = new Float64Array(p * p);
    for (let c = 0; c < p; c++) for (let r = c; r < p; r++) T[r + c * p] = theta[k++]!;
    const S = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) {
      let s = 0;
      for (let c = 0; c <= Math.min(i, j); c++) s += T[i + c * p]! * T[j + c * p]!;
      S[i + j * p] = sigma * sigma * s;
    }
    for (let i = 0; i < p; i++) rows.push({ grp: t.group, var1: t.names[i]!, var2: null, vcov: S[i + i * p]!, sdcor: Math.sqrt(S[i + i * p]!) });
    for (let j = 0; j < p; j++) for (let i = j + 1; i < p; i++) {
      const cov = S[i + j * p]!;
      rows.push({ grp: t.group, var1: t.names[j]!, var2: t.names[i]!, vcov: cov, sdcor: cov / Math.sqrt(S[i + i * p]! * S[j + j * p]!) });
    }
  }
  if (residual) rows.push({ grp: 'Residual', var1: null, var2: null, vcov: sigma * sigma, sdcor: sigma });
  return rows;
}

/**
 * Conditional modes b = Lambda u and conditional variances sigma^2 Lambda_j [(L L')^{-1}]_jj Lambda_j'
 * (lme4's ranef(condVar = TRUE)), in lme4's order: by term, then by column, then by level.
 */
function ranefRows(m: ModelInternals, sigma: number): RanefRow[] {
  const blocks = m.pls.condVarBlocks();
  const T = m.pls.lambdaFactors;
  const rows: RanefRow[] = [];
  let off = 0;
  m.terms.forEach((t, k) => {
    const p = t.p;
    const Tk = T[k]!;
    for (let c = 0; c < p; c++) {
      for (let l = 0; l < t.levels.length; l++) {
        const blk = blocks[k]![l]!;
        // (T blk T')_cc
        let v = 0;
        for (let a = 0; a <= c; a++) for (let b2 = 0; b2 <= c; b2++) v += Tk[c + a * p]! * blk[a + b2 * p]! * Tk[c + b2 * p]!;
        rows.push({ grp: t.factor, term: t.names[c]!, level: t.levels[l]!, value: m.b[off + l * p + c]!, condsd: sigma * Math.sqrt(v) });
      }
    }
    off += t.levels.length * p;
  });
  return rows;
}
