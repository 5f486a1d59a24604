/**
 * Nonlinear mixed-effects models by the Lindstrom-Bates algorithm, as R's nlme (Lindstrom & Bates 1990,
 * Biometrics 46, 673-687; Pinheiro & Bates 2000, section 7.2):
 *   y_ij = f(phi_ij, x_ij) + e_ij,   e_ij ~ N(0, sigma^2),
 *   phi_ij = A_ij beta + B_ij b_i,    b_i ~ N(0, sigma^2 T T')   (one grouping factor),
 * with f an expression (expression.ts: a user formula or nlme's SSfol, SSlogis, ...), A the per-parameter
 * fixed-effects design (an intercept, or covariates such as weight on clearance) and B selecting the parameters
 * that carry a random effect. Each iteration alternates
 *   LME step:  with X = df/dbeta and Z = df/db at the current (beta, b) and the pseudo-response
 *              w = y - f + X beta + Z b, minimise the profiled (RE)ML deviance of the linear mixed model
 *              w = X beta + Z b + e over theta (lmm.ts's criterion on the blocked PLS, pls.ts);
 *   PNLS step: at that theta, minimise the penalised residual sum of squares
 *              ||y - f(beta, T u)||^2 + ||u||^2 over (beta, u) by Gauss-Newton: each step is the PLS solution of
 *              the model linearised at the current point, halved until the sum decreases,
 * until beta and theta change by less than `tolerance` (relative). The estimates are then those of nlme: beta
 * and b from the last PNLS step; sigma, vcov(beta) = sigma^2 (R_X' R_X)^{-1} and the log-likelihood from the
 * linear mixed model at the last linearisation. Derivatives of f are exact (forward mode); nlme differentiates
 * SSfol analytically and a plain expression numerically, which moves its fixed point by ~1e-8.
 * Cost per iteration: one theta optimisation (~50-200 PLS factorisations of one term with q columns) and
 * a few PNLS steps, each one evaluation of f with its K derivatives, O(n (K nodes + q^2) + groups q^3).
 */
import { checkModelVariable } from '../../stats/numeric-guards.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { tSurvival2 } from '../../stats/distributions.js';
import { groupCodes, modelMatrix, type ReTerm } from '../mixed/design.js';
import { parseFormula, type TermList } from '../mixed/formula.js';
import { profiledDeviance } from '../mixed/lmm.js';
import type { FixefRow } from '../mixed/model.js';
import { buildModelFrame, DataError, type DataInput, type FrameColumn, type ModelFrame } from '../mixed/model-frame.js';
import { minimizeModelBased } from '../mixed/optimizer.js';
import { BlockedPls, PlsError, thetaToFactors } from '../mixed/pls.js';
import { CompiledExpression, ExpressionError, parseExpression } from './expression.js';

/** How the random effects' covariance is parametrised: general (nlme's pdSymm, the default) or diagonal (pdDiag). */
export type CovarianceKind = 'symm' | 'diag';

export interface NlmeOptions {
  /** the parameters' fixed-effects models, nlme's `fixed`: "lKe + lKa + lCl ~ 1", or one per parameter: "lCl ~ Wt" */
  fixed: readonly string[];
  /** nlme's `random`: "lKa + lCl ~ 1 | Subject" (random effects on these parameters, grouped by Subject) */
  random: string;
  /** covariance of the random effects (default 'symm') */
  covariance?: CovarianceKind;
  /**
   * starting values of the fixed effects, in order or by name: a parameter's name is its intercept (or its only
   * coefficient), `P.Wt` its coefficient of Wt; coefficients not named start at 0
   */
  start: readonly number[] | Readonly<Record<string, number>>;
  /** REML instead of ML (nlme's default is ML) */
  REML?: boolean;
  /** outer (LME + PNLS) iterations at most (default 200) */
  maxIter?: number;
  /** relative change of beta and theta that ends the iterations (default 1e-8; nlme's default 1e-5) */
  tolerance?: number;
}

/**
 * A fixed effect: the linear mixed model's row (term, estimate, se, df, t, p) as nlme's summary gives it: ML
 * standard errors scaled by sqrt(N / (N - p)), containment df.
 */
export type NlmeFixefRow = FixefRow;

/** A fitted nonlinear mixed model. */
export interface NlmeModel {
  model: string;
  fixed: string[];
  random: string;
  covariance: CovarianceKind;
  REML: boolean;
  nobs: number;
  group: string;
  ngroups: number;
  /** nonlinear parameters, in the order of the fixed formulas, and which carry random effects */
  parameters: string[];
  randomNames: string[];
  fixef: NlmeFixefRow[];
  /** vcov(beta) = sigma^2 (R_X' R_X)^{-1} of the last linearisation (nlme's varFix), p x p column-major */
  vcov: Float64Array;
  sigma: number;
  theta: number[];
  /** the random effects' covariance sigma^2 T T' (q x q column-major) */
  reCovariance: Float64Array;
  /** random effects per group: levels and b (levels x q, row-major) */
  ranef: { levels: string[]; values: Float64Array };
  logLik: number;
  npar: number;
  AIC: number;
  BIC: number;
  /** fitted values at the groups' random effects and at b = 0, per kept row */
  fitted: Float64Array;
  fittedPopulation: Float64Array;
  residuals: Float64Array;
  /** original row index of each kept row */
  rowIndex: Int32Array;
  iterations: number;
  converged: boolean;
  messages: string[];
}

/** A parameter with its fixed-effects design. */
interface ParameterDesign {
  name: string;
  terms: TermList;
  rhs: string;
  /** columns of A for this parameter and the coefficient names as nlme prints them */
  x: F64Matrix;
  names: string[];
}

/** "a + b ~ rhs" split into names and the right-hand side; the names must be identifiers. */
function splitParameterFormula(text: string, what: string): { names: string[]; rhs: string } {
  const at = text.indexOf('~');
  if (at < 0) throw new ExpressionError(text, 0, `${what} needs the form "p1 + p2 ~ covariates"`);
  const names = text.slice(0, at).split('+').map((s) => s.trim());
  for (const nm of names) if (!/^[A-Za-z_.][A-Za-z0-9_.]*$/.test(nm)) throw new ExpressionError(text, 0, `'${nm}' is not a parameter name`);
  return { names, rhs: text.slice(at + 1).trim() };
}

/** Rows of a dense n x p design times a coefficient vector. */
function gemv(x: F64Matrix, beta: ArrayLike<number>, off: number, out: Float64Array): void {
  for (let j = 0; j < x.cols; j++) {
    const bj = beta[off + j]!;
    if (bj === 0) continue;
    const col = x.data.subarray(j * x.ld, j * x.ld + x.rows);
    for (let i = 0; i < x.rows; i++) out[i]! += col[i]! * bj;
  }
}

/**
 * Fits a nonlinear mixed model `response ~ expression` (e.g. "conc ~ SSfol(Dose, Time, lKe, lKa, lCl)") by
 * Lindstrom-Bates. Throws ExpressionError for a malformed model or parameter formula, DataError for data the
 * model cannot use, PlsError/DataError when the iterations fail.
 */
export function nlmeFit(data: DataInput, model: string, options: NlmeOptions): NlmeModel {
  const tilde = model.indexOf('~');
  if (tilde < 0) throw new ExpressionError(model, 0, 'the model needs the form "response ~ expression"');
  const response = model.slice(0, tilde).trim();
  if (!/^[A-Za-z_.][A-Za-z0-9_.]*$/.test(response)) throw new ExpressionError(model, 0, `'${response}' is not a column name`);
  const root = parseExpression(model.slice(tilde + 1));
  if (options.fixed.length === 0) throw new DataError('nlme: at least one fixed-effects formula is needed, e.g. "lKe + lKa + lCl ~ 1"');
  // the parameters and their fixed-effects designs, in the order of the formulas
  const specs: { name: string; rhs: string }[] = [];
  for (const f of options.fixed) {
    const { names, rhs } = splitParameterFormula(f, 'a fixed-effects formula');
    for (const nm of names) {
      if (specs.some((s) => s.name === nm)) throw new DataError(`nlme: parameter '${nm}' has two fixed-effects formulas`);
      specs.push({ name: nm, rhs });
    }
  }
  const parameters = specs.map((s) => s.name);
  const rnd = splitParameterFormula(options.random, 'the random-effects formula');
  const bar = rnd.rhs.indexOf('|');
  if (bar < 0) throw new ExpressionError(options.random, options.random.length - 1, 'the random effects need a grouping factor: "p1 + p2 ~ 1 | group"');
  if (rnd.rhs.slice(0, bar).trim() !== '1') throw new ExpressionError(options.random, options.random.indexOf('~') + 1, 'random effects on the parameters take no covariates: "p ~ 1 | group"');
  const group = rnd.rhs.slice(bar + 1).trim();
  if (!/^[A-Za-z_.][A-Za-z0-9_.]*$/.test(group)) throw new ExpressionError(options.random, bar, `'${group}' is not a single grouping factor (one level of grouping is supported)`);
  for (const nm of rnd.names) if (!parameters.includes(nm)) throw new DataError(`nlme: random effect on '${nm}', which is not a parameter of the fixed formulas (${parameters.join(', ')})`);

  // the model frame: response, the expression's covariates, the parameters' covariates, the grouping factor
  const columnsOf = (d: DataInput): string[] => ('header' in d && Array.isArray((d as { header?: unknown }).header) ? [...(d as { header: string[] }).header] : Object.keys(d));
  const allColumns = columnsOf(data);
  const expr = new CompiledExpression(model.slice(tilde + 1), root, parameters, allColumns.filter((c) => !parameters.includes(c)));
  const pseudo = `${response} ~ ${[...expr.covariates, ...specs.map((s) => s.rhs)].join(' + ') || '1'} + (1 | ${group})`;
  const parsed = parseFormula(pseudo);
  const frame: ModelFrame = buildModelFrame(data, parsed);
  const n = frame.n;
  const covData = new Map<string, Float64Array>();
  for (const c of expr.covariates) {
    const col = frame.columns.get(c) as FrameColumn | undefined;
    if (!col || col.kind !== 'numeric') throw new DataError(`nlme: column '${c}' of the model expression must be numeric`);
    covData.set(c, col.values);
  }
  const designs: ParameterDesign[] = specs.map((s) => {
    const terms = parseFormula(`${response} ~ ${s.rhs}`).fixed;
    const d = modelMatrix(terms, frame);
    if (d.names.length === 0) throw new DataError(`nlme: parameter '${s.name}' has no fixed effect ("${s.name} ~ ${s.rhs}")`);
    const names = d.names.length === 1 && d.names[0] === '(Intercept)' ? [s.name] : d.names.map((c) => `${s.name}.${c}`);
    return { name: s.name, terms, rhs: s.rhs, x: d.x, names };
  });
  const fixedNames = designs.flatMap((d) => d.names);
  const p = fixedNames.length;
  const offsets: number[] = [];
  designs.reduce((o, d) => (offsets.push(o), o + d.names.length), 0);
  const randomIdx = rnd.names.map((nm) => parameters.indexOf(nm));
  const q = randomIdx.length;
  const randomNames = rnd.names.map((nm) => designs[parameters.indexOf(nm)]!.names[0]!);
  const g = groupCodes([group], frame);
  const L = g.levels.length;
  if (L < 2) throw new DataError(`nlme: grouping factor '${group}' has ${L} level; random effects need at least 2`);
  const y = frame.y;
  checkModelVariable(y, `response ${response}`);
  if (n <= p) throw new DataError(`nlme: ${n} observations for ${p} fixed effects`);

  // starting values
  const beta = new Float64Array(p);
  const start = options.start;
  if (Array.isArray(start)) {
    if (start.length !== p) throw new DataError(`nlme: ${start.length} starting values for ${p} fixed effects (${fixedNames.join(', ')})`);
    beta.set(start as number[]);
  } else {
    for (const [key, value] of Object.entries(start as Record<string, number>)) {
      let j = fixedNames.indexOf(key);
      if (j < 0) {
        const d = designs.findIndex((x) => x.name === key);
        if (d >= 0) j = offsets[d]!;
      }
      if (j < 0) throw new DataError(`nlme: starting value for '${key}', which is not a fixed effect (${fixedNames.join(', ')})`);
      beta[j] = value;
    }
    for (const d of designs) if (!(d.name in (start as object)) && !d.names.some((nm) => nm in (start as object))) throw new DataError(`nlme: no starting value for parameter '${d.name}'`);
  }

  const kind: CovarianceKind = options.covariance ?? 'symm';
  const reml = options.REML ?? false;
  const tol = options.tolerance ?? 1e-8;
  const maxIter = options.maxIter ?? 200;
  // theta: the lower triangle of T column by column; the free entries (all, or the diagonal)
  const nTheta = (q * (q + 1)) / 2;
  const free: number[] = [];
  for (let c = 0, k = 0; c < q; c++) for (let r = c; r < q; r++, k++) if (kind === 'symm' || r === c) free.push(k);
  const lowerFree = free.map((k) => (isDiagonal(k, q) ? 0 : -Infinity));
  const fullTheta = (v: readonly number[]): number[] => {
    const t = new Array<number>(nTheta).fill(0);
    free.forEach((k, i) => (t[k] = v[i]!));
    return t;
  };

  /** per-row parameter values at (beta, b) */
  const phiAt = (bt: Float64Array, b: Float64Array | null): Float64Array[] =>
    designs.map((d, k) => {
      const v = new Float64Array(n);
      gemv(d.x, bt, offsets[k]!, v);
      const r = randomIdx.indexOf(k);
      if (b && r >= 0) for (let i = 0; i < n; i++) v[i]! += b[g.codes[i]! * q + r]!;
      return v;
    });
  const evalAt = (bt: Float64Array, b: Float64Array | null) => expr.evaluate(phiAt(bt, b), covData, n);
  // the linearised model: X (n x p, column-major), Z (n x q, row-major) and w
  const X = f64Matrix(n, p);
  const Z = new Float64Array(n * q);
  const w = new Float64Array(n);
  const linearise = (bt: Float64Array, b: Float64Array): Float64Array => {
    const e = evalAt(bt, b);
    designs.forEach((d, k) => {
      const gk = e.gradient[k]!;
      for (let j = 0; j < d.x.cols; j++) {
        const col = X.data.subarray((offsets[k]! + j) * n, (offsets[k]! + j + 1) * n);
        for (let i = 0; i < n; i++) col[i] = gk[i]! * d.x.data[i + j * d.x.ld]!;
      }
    });
    randomIdx.forEach((k, r) => {
      const gk = e.gradient[k]!;
      for (let i = 0; i < n; i++) Z[i * q + r] = gk[i]!;
    });
    for (let i = 0; i < n; i++) {
      let s = y[i]! - e.value[i]!;
      for (let j = 0; j < p; j++) s += X.data[i + j * n]! * bt[j]!;
      for (let r = 0; r < q; r++) s += Z[i * q + r]! * b[g.codes[i]! * q + r]!;
      w[i] = s;
    }
    if (!e.value.every(Number.isFinite) || !X.data.every(Number.isFinite) || !Z.every(Number.isFinite)) {
      throw new DataError('nlme: the model or its derivatives are not finite at the current estimates (try other starting values)');
    }
    return e.value;
  };
  const term: ReTerm = {
    group, factor: group, levels: g.levels, codes: g.codes, p: q, names: randomNames, z: Z,
    source: { design: { intercept: true, terms: [] }, group: [group], groupName: group },
  };
  let b: Float64Array = new Float64Array(L * q);
  linearise(beta, b);
  const pls = new BlockedPls([term], X, w);
  const refresh = () => pls.setDesignValues(X, [Z], w);
  let thetaFree: number[] = free.map((k) => (isDiagonal(k, q) ? 1 : 0));
  const messages: string[] = [];

  /** LME step: theta minimising the profiled (RE)ML deviance of the current linearisation */
  const lmeStep = (): void => {
    refresh();
    const objective = (v: number[]): number => {
      try {
        const d = profiledDeviance(pls.factor(fullTheta(v)), n, p, reml);
        return Number.isFinite(d) ? d : Infinity;
      } catch (e) {
        if (e instanceof PlsError) return Infinity;
        throw e;
      }
    };
    const opt = minimizeModelBased(objective, thetaFree, { lower: lowerFree, rhoEnd: 1e-9 });
    thetaFree = opt.x.map((v, i) => (lowerFree[i] === 0 && v < 1e-10 ? 0 : v));
  };
  /** u = T^{-1} b per group (0 where T has a zero pivot) */
  const toU = (bb: Float64Array, T: Float64Array): Float64Array => {
    const u = new Float64Array(L * q);
    for (let l = 0; l < L; l++) {
      for (let r = 0; r < q; r++) {
        let s = bb[l * q + r]!;
        for (let c = 0; c < r; c++) s -= T[r + c * q]! * u[l * q + c]!;
        const d = T[r + r * q]!;
        u[l * q + r] = d > 0 ? s / d : 0;
      }
    }
    return u;
  };
  const toB = (u: Float64Array, T: Float64Array): Float64Array => {
    const out = new Float64Array(L * q);
    for (let l = 0; l < L; l++) for (let r = 0; r < q; r++) {
      let s = 0;
      for (let c = 0; c <= r; c++) s += T[r + c * q]! * u[l * q + c]!;
      out[l * q + r] = s;
    }
    return out;
  };
  const prss = (bt: Float64Array, u: Float64Array, T: Float64Array): number => {
    const f = evalAt(bt, toB(u, T)).value;
    let s = 0;
    for (let i = 0; i < n; i++) s += (y[i]! - f[i]!) ** 2;
    for (const v of u) s += v * v;
    return Number.isFinite(s) ? s : Infinity;
  };
  /** PNLS step at the current theta: Gauss-Newton with step halving on (beta, u); returns false if halving failed */
  const pnlsStep = (): boolean => {
    const th = fullTheta(thetaFree);
    const T = thetaToFactors([term], th)[0]!;
    let u = toU(b, T);
    let cur = prss(beta, u, T);
    for (let it = 0; it < 100; it++) {
      linearise(beta, toB(u, T));
      refresh();
      pls.factor(th);
      const sol = pls.solve();
      let step = 0;
      sol.beta.forEach((v, j) => (step = Math.max(step, Math.abs(v - beta[j]!) / Math.max(Math.abs(v), 1e-3))));
      sol.u.forEach((v, j) => (step = Math.max(step, Math.abs(v - u[j]!) / Math.max(Math.abs(v), 1e-3))));
      if (step < 1e-11) break;
      let s = 1;
      let next = cur;
      let bt = beta;
      let uu = u;
      for (; s >= 1 / 1024; s /= 2) {
        bt = beta.map((v, j) => v + s * (sol.beta[j]! - v));
        uu = u.map((v, j) => v + s * (sol.u[j]! - v));
        next = prss(bt, uu, T);
        if (next <= cur) break;
      }
      if (next > cur) {
        // near the minimum a Gauss-Newton step of ~1e-7 changes the sum below its rounding: that is the end
        b = toB(u, T);
        return step < 1e-6;
      }
      let change = 0;
      bt.forEach((v, j) => (change = Math.max(change, Math.abs(v - beta[j]!) / Math.max(Math.abs(v), 1e-3))));
      beta.set(bt);
      u = uu;
      const done = cur - next <= 1e-13 * Math.max(cur, 1e-300) && change < 1e-10;
      cur = next;
      if (done) break;
    }
    b = toB(u, T);
    return true;
  };

  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter && !converged; ) {
    iterations++;
    const oldBeta = beta.slice();
    const oldTheta = thetaFree.slice();
    lmeStep();
    if (!pnlsStep()) messages.push(`iteration ${iterations}: step halving in the PNLS step reached its minimum (1/1024)`);
    linearise(beta, b);
    const rel = (a: number, bNew: number) => Math.abs(a - bNew) / (Math.abs(bNew) < tol ? 1 : Math.abs(bNew));
    let crit = 0;
    beta.forEach((v, j) => (crit = Math.max(crit, rel(oldBeta[j]!, v))));
    thetaFree.forEach((v, i) => (crit = Math.max(crit, rel(oldTheta[i]!, v))));
    converged = crit <= tol;
  }
  if (!converged) messages.push(`no convergence in ${maxIter} iterations (relative change above ${tol})`);

  // the linear mixed model at the last linearisation: sigma, vcov(beta), log-likelihood (nlme's MEestimate)
  refresh();
  const theta = fullTheta(thetaFree);
  const fac = pls.factor(theta);
  const dev = profiledDeviance(fac, n, p, reml);
  const sigma = Math.sqrt(fac.pwrss / (reml ? n - p : n));
  const vcov = pls.unscaledVcov().map((v) => v * sigma * sigma);
  const T = thetaToFactors([term], theta)[0]!;
  const reCov = new Float64Array(q * q);
  for (let a = 0; a < q; a++) for (let c = 0; c < q; c++) {
    let s = 0;
    for (let k = 0; k <= Math.min(a, c); k++) s += T[a + k * q]! * T[c + k * q]!;
    reCov[a + c * q] = sigma * sigma * s;
  }
  const df = containmentDf(X, g.codes, L);
  const seScale = reml ? 1 : Math.sqrt(n / (n - p));
  const fixef = fixedNames.map((term, j) => {
    const se = Math.sqrt(vcov[j + j * p]!) * seScale;
    const t = beta[j]! / se;
    return { term, estimate: beta[j]!, se, df: df[j]!, t, p: tSurvival2(t, df[j]!) };
  });
  const fitted = evalAt(beta, b).value;
  const fittedPopulation = evalAt(beta, null).value;
  const logLik = -dev / 2;
  const npar = p + free.length + 1;
  return {
    model, fixed: [...options.fixed], random: options.random, covariance: kind, REML: reml, nobs: n, group, ngroups: L,
    parameters, randomNames, fixef, vcov, sigma, theta, reCovariance: reCov, ranef: { levels: g.levels, values: b },
    logLik, npar, AIC: -2 * logLik + 2 * npar, BIC: -2 * logLik + npar * Math.log(reml ? n - p : n),
    fitted, fittedPopulation, residuals: y.map((v, i) => v - fitted[i]!), rowIndex: frame.rowIndex,
    iterations, converged, messages: frame.messages.concat(messages),
  };
}

/** Whether position k of a q x q lower triangle stored column by column is on the diagonal. */
function isDiagonal(k: number, q: number): boolean {
  for (let c = 0, at = 0; c < q; at += q - c, c++) if (k === at) return true;
  return false;
}

/**
 * nlme's containment df (getFixDF) for one level of grouping: a column constant over all rows is an
 * intercept; a column varying within some group belongs to the residual stratum, one constant within every
 * group to the group stratum. Strata start with ngroups and N - ngroups df, less one per column they contain;
 * then the intercept takes one from the group stratum, or without one the residual stratum gains one back.
 * Intercept columns get the larger of the two. O(n p).
 */
function containmentDf(X: F64Matrix, codes: Int32Array, L: number): number[] {
  const n = X.rows;
  const p = X.cols;
  const kinds = [] as ('int' | 'grp' | 'res')[];
  for (let j = 0; j < p; j++) {
    const col = X.data.subarray(j * n, (j + 1) * n);
    const x0 = col[0]!;
    const constant = col.every((v) => Math.abs(x0 === 0 ? v : v / x0 - 1) < Math.sqrt(Number.EPSILON));
    if (constant) {
      kinds.push('int');
      continue;
    }
    const first = new Float64Array(L).fill(Number.NaN);
    let within = false;
    for (let i = 0; i < n && !within; i++) {
      const l = codes[i]!;
      if (Number.isNaN(first[l]!)) first[l] = col[i]!;
      else if (col[i] !== first[l]) within = true;
    }
    kinds.push(within ? 'res' : 'grp');
  }
  if (kinds.every((k) => k === 'int')) return kinds.map(() => Math.max(L, n - L));
  let grp = L;
  let res = n - L;
  for (const k of kinds) {
    if (k === 'grp') grp--;
    else if (k === 'res') res--;
  }
  if (kinds.includes('int')) grp--;
  else res++;
  return kinds.map((k) => (k === 'int' ? Math.max(grp, res) : k === 'grp' ? grp : res));
}
