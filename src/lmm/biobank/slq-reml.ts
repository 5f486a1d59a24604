/**
 * REML variance components of y = g + e without any n x n matrix: V = sigma2g (A + delta I), where A is the
 * kinship with the covariates projected out (S K S restricted to the n' = n - c dimensional complement of the
 * covariates, given only as a batched product), y already projected. The REML log-likelihood, with sigma2g
 * profiled out, is
 *   l(delta) = -1/2 [ n' log(y'(A + delta I)^-1 y / n') + log det(A + delta I) + n' (1 + log 2 pi) ],
 * (the REML likelihood of y on the complement of the covariates; constants in W omitted), maximised over
 * log delta in [-10, 10] (BOLT-LMM's range). Both terms come, for every delta at once, from one batched
 * Lanczos run (src/lmm/biobank/lanczos.ts) started at y and at T probes z_t = S r_t (Rademacher r_t):
 *   y'(A + delta)^-1 y = |y|^2 sum_i w_i / (theta_i + delta)               (Gauss quadrature of T_k(y))
 *   log det(A + delta) = n' log(tbar + delta) + mean_t z_t'[f(A) - p(A)]z_t   (stochastic Lanczos quadrature)
 * with f(x) = log(x + delta) and the control variate p(x) = log(tbar + delta) + (x - tbar) / (tbar + delta),
 * the tangent of f at tbar = tr(A) / n' (tr(A) known exactly), whose trace n' log(tbar + delta) is exact: the
 * probes only estimate the curvature of log around the mean eigenvalue, which cuts the Monte Carlo variance of
 * the log-determinant several-fold against plain Hutchinson estimates. The probes and their Lanczos runs are
 * shared by every phenotype analysed on the same samples (the log-determinant does not depend on y), and one
 * run serves every delta, where BOLT-LMM's secant search solves again at each trial delta.
 * Reported: delta, h2 = tbar / (tbar + delta) (BOLT-LMM's pseudo-heritability), sigma2g = y'(A + delta)^-1 y / n',
 * sigma2e = delta sigma2g, the REML standard error of h2 (curvature of l), and the Monte Carlo standard error
 * of h2 (jackknife over the probes). Cost: k steps of Lanczos with P + T columns (one batched product each),
 * k typically 10-40 (until every quadrature has converged near the optimum); the rest is O((P + T) k^2).
 */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { BatchedLanczos } from './lanczos.js';
import type { BatchedOperator } from './operator.js';
import { gaussRule, type GaussRule } from './tridiagonal.js';

/** Where the REML optimum lies: inside, or at log delta = 10 (h2 ~ 0) or -10 (h2 ~ 1). */
export type H2Boundary = 'none' | 'h2=0' | 'h2=1';

export interface RemlEstimate {
  delta: number;
  logDelta: number;
  /** tbar / (tbar + delta). */
  h2: number;
  sigma2g: number;
  sigma2e: number;
  /** Restricted log-likelihood at the optimum (the formula above). */
  loglik: number;
  /** Standard error of h2 from the curvature of the REML likelihood (NaN at a boundary). */
  h2SeReml: number;
  /** Monte Carlo standard error of h2 (jackknife over the probes). */
  h2SeMc: number;
  boundary: H2Boundary;
}

export interface SlqRemlOptions {
  /** Dimension of the projected space, n - c. */
  dim: number;
  /** tr(A) (exact: sum of the projected squared SNP norms / M for a kinship). */
  traceA: number;
  /** Most Lanczos steps (default 300). */
  maxIterations?: number;
  /** Relative change of a quadrature between steps below which its column stops (default 1e-8). */
  tol?: number;
  /** Most probes in all (default: the initial count, i.e. no adaptive probes). */
  maxProbes?: number;
  /** More projected probes (n x count), for the adaptive rule. */
  nextProbes?: (count: number) => F64Matrix;
  /** Add probes while the Monte Carlo s.e. of h2 exceeds max(mcSeAbs, mcSeRatio x REML s.e.) (defaults 0.002, 0.2). */
  mcSeAbs?: number;
  mcSeRatio?: number;
  /** Called after every step with the step count and the columns still running. */
  onIteration?: (step: number, running: number, estimates: readonly RemlEstimate[]) => void;
}

export interface SlqRemlResult {
  estimates: RemlEstimate[];
  /** Lanczos steps taken (products, over all runs). */
  steps: number;
  /** Probes used. */
  probes: number;
  /** False when a column was still changing at maxIterations. */
  converged: boolean;
  /** (A + delta_p I)^-1 y_p at each phenotype's estimate (from the kept Lanczos basis), n x P. */
  hinvY: F64Matrix;
}

const LOG_DELTA_MIN = -10;
const LOG_DELTA_MAX = 10;
const GRID_STEP = 0.2;

/** v'(A + delta)^-1 v from |v|^2 and the Gauss rule of v's Lanczos run. */
export function quadInverse(norm2: number, rule: GaussRule, delta: number): number {
  let s = 0;
  for (let i = 0; i < rule.theta.length; i++) s += rule.weight[i]! / (Math.max(rule.theta[i]!, 0) + delta);
  return norm2 * s;
}

/** z'[f(A) - p(A)]z (see the module comment) from |z|^2 and the Gauss rule of z's Lanczos run. */
export function quadLogCurvature(norm2: number, rule: GaussRule, delta: number, tbar: number): number {
  const lt = Math.log(tbar + delta);
  const inv = 1 / (tbar + delta);
  let s = 0;
  for (let i = 0; i < rule.theta.length; i++) {
    const th = Math.max(rule.theta[i]!, 0);
    s += rule.weight[i]! * (Math.log(th + delta) - lt - (th - tbar) * inv);
  }
  return norm2 * s;
}

/** The quadrature rules of one Lanczos state and the REML objective built on them. */
export class SlqRemlObjective {
  constructor(
    readonly dim: number,
    readonly tbar: number,
    /** Per phenotype: |y|^2 and its Gauss rule. */
    readonly ys: readonly { norm2: number; rule: GaussRule }[],
    /** Per probe: |z|^2 and its Gauss rule. */
    readonly probes: readonly { norm2: number; rule: GaussRule }[],
  ) {
    if (probes.length < 2) throw new RangeError(`SlqRemlObjective: need at least 2 probes, got ${probes.length}`);
  }

  /** y_p'(A + delta)^-1 y_p. */
  quadY(p: number, delta: number): number {
    return quadInverse(this.ys[p]!.norm2, this.ys[p]!.rule, delta);
  }

  /** z_t'[f(A) - p(A)]z_t for probe t. */
  probeTerm(t: number, delta: number): number {
    return quadLogCurvature(this.probes[t]!.norm2, this.probes[t]!.rule, delta, this.tbar);
  }

  /** log det(A + delta) from the probes, leaving probe `skip` out (-1: none). */
  logDet(delta: number, skip = -1): number {
    let s = 0;
    let k = 0;
    for (let t = 0; t < this.probes.length; t++) {
      if (t === skip) continue;
      s += this.probeTerm(t, delta);
      k++;
    }
    return this.dim * Math.log(this.tbar + delta) + s / k;
  }

  /** The restricted log-likelihood of phenotype p at log delta (probe `skip` left out of the log-determinant). */
  loglik(p: number, logDelta: number, skip = -1): number {
    const delta = Math.exp(logDelta);
    const n = this.dim;
    return -0.5 * (n * Math.log(this.quadY(p, delta) / n) + this.logDet(delta, skip) + n * (1 + Math.log(2 * Math.PI)));
  }

  /** argmax over [-10, 10] of loglik(p, .): grid of step 0.2, then golden section in the best cell. */
  maximise(p: number, skip = -1): { logDelta: number; loglik: number; boundary: H2Boundary } {
    const f = (x: number): number => this.loglik(p, x, skip);
    let best = LOG_DELTA_MIN;
    let bestF = -Infinity;
    for (let x = LOG_DELTA_MIN; x <= LOG_DELTA_MAX + 1e-9; x += GRID_STEP) {
      const v = f(x);
      if (v > bestF) {
        bestF = v;
        best = x;
      }
    }
    if (best <= LOG_DELTA_MIN + 1e-9 && f(LOG_DELTA_MIN) >= f(LOG_DELTA_MIN + 1e-3)) return { logDelta: LOG_DELTA_MIN, loglik: f(LOG_DELTA_MIN), boundary: 'h2=1' };
    if (best >= LOG_DELTA_MAX - 1e-9 && f(LOG_DELTA_MAX) >= f(LOG_DELTA_MAX - 1e-3)) return { logDelta: LOG_DELTA_MAX, loglik: f(LOG_DELTA_MAX), boundary: 'h2=0' };
    // Golden section on [best - step, best + step].
    let a = Math.max(LOG_DELTA_MIN, best - GRID_STEP);
    let b = Math.min(LOG_DELTA_MAX, best + GRID_STEP);
    const g = (Math.sqrt(5) - 1) / 2;
    let c = b - g * (b - a);
    let d = a + g * (b - a);
    let fc = f(c);
    let fd = f(d);
    while (b - a > 1e-7) {
      if (fc > fd) {
        b = d;
        d = c;
        fd = fc;
        c = b - g * (b - a);
        fc = f(c);
      } else {
        a = c;
        c = d;
        fc = fd;
        d = a + g * (b - a);
        fd = f(d);
      }
    }
    const x = (a + b) / 2;
    return { logDelta: x, loglik: f(x), boundary: 'none' };
  }

  /** The estimate for phenotype p (optimum, variance components, standard errors; the Monte Carlo one only with `mc`). */
  estimate(p: number, mc = true): RemlEstimate {
    const { logDelta, loglik, boundary } = this.maximise(p);
    const delta = Math.exp(logDelta);
    const n = this.dim;
    const sigma2g = this.quadY(p, delta) / n;
    const h2 = this.tbar / (this.tbar + delta);
    // REML s.e. of h2: -1 / l''(h2), with delta = tbar (1 - h2) / h2.
    let h2SeReml = NaN;
    const step = 1e-3;
    if (boundary === 'none' && h2 > 2 * step && h2 < 1 - 2 * step) {
      const at = (h: number): number => this.loglik(p, Math.log((this.tbar * (1 - h)) / h));
      const d2 = (at(h2 + step) - 2 * at(h2) + at(h2 - step)) / (step * step);
      if (d2 < 0) h2SeReml = Math.sqrt(-1 / d2);
    }
    // Monte Carlo s.e.: jackknife over the probes.
    const T = this.probes.length;
    if (!mc) return { delta, logDelta, h2, sigma2g, sigma2e: delta * sigma2g, loglik, h2SeReml, h2SeMc: NaN, boundary };
    const jack = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      const x = this.maximise(p, t).logDelta;
      jack[t] = this.tbar / (this.tbar + Math.exp(x));
    }
    const mean = jack.reduce((s, v) => s + v, 0) / T;
    const h2SeMc = Math.sqrt(((T - 1) / T) * jack.reduce((s, v) => s + (v - mean) ** 2, 0));
    return { delta, logDelta, h2, sigma2g, sigma2e: delta * sigma2g, loglik, h2SeReml, h2SeMc, boundary };
  }
}

/**
 * Runs the batched Lanczos on [y_1..y_P, z_1..z_T] until every quadrature has converged near the optimum
 * (its value at delta_hat / 4, the smallest delta the estimate depends on in practice, changes by less than
 * `tol` relatively between steps; a column stops then), and returns the estimates with (A + delta I)^-1 y.
 * Adaptive probes: while some phenotype's Monte Carlo s.e. of h2 exceeds max(`mcSeAbs`, `mcSeRatio` x its REML
 * s.e.) and fewer than `maxProbes` probes were used, `nextProbes(count)` gives `probes.cols` more, run the same
 * way (their Lanczos runs alone) and pooled with the others.
 */
export async function slqReml(apply: BatchedOperator, ys: F64Matrix, probes: F64Matrix, opts: SlqRemlOptions): Promise<SlqRemlResult> {
  const n = ys.rows;
  const P = ys.cols;
  const T0 = probes.cols;
  if (probes.rows !== n) throw new RangeError(`slqReml: probes have ${probes.rows} rows, phenotypes ${n}`);
  if (P < 1) throw new RangeError('slqReml: no phenotype');
  if (T0 < 2) throw new RangeError(`slqReml: need at least 2 probes, got ${T0}`);
  if (!(opts.traceA > 0)) throw new RangeError(`slqReml: tr(A) must be > 0, got ${opts.traceA}`);
  if (!(opts.dim >= 2)) throw new RangeError(`slqReml: projected dimension must be >= 2, got ${opts.dim}`);
  const tbar = opts.traceA / opts.dim;
  const maxIter = opts.maxIterations ?? 300;
  const tol = opts.tol ?? 1e-8;
  const yRules: { norm2: number; rule: GaussRule }[] = [];
  const probeRules: { norm2: number; rule: GaussRule }[] = [];
  let yLanczos: BatchedLanczos | undefined;
  let steps = 0;
  let converged = true;
  let estimates: RemlEstimate[] = [];
  const estimateAll = (mc: boolean, ys: typeof yRules, zs: typeof probeRules): RemlEstimate[] => {
    const obj = new SlqRemlObjective(opts.dim, tbar, ys, zs);
    return Array.from({ length: P }, (_, p) => obj.estimate(p, mc));
  };
  /** Lanczos on `start` (the first `withY` columns are phenotypes) until its quadratures converge. */
  const run = async (start: F64Matrix, withY: number): Promise<void> => {
    const cols = start.cols;
    const lanczos = new BatchedLanczos(start, Array.from({ length: cols }, (_, j) => j < withY));
    if (withY > 0) yLanczos = lanczos;
    const rule = (j: number, k = lanczos.steps(j)): GaussRule => gaussRule(lanczos.alpha[j]!, lanczos.beta[j]!, k);
    const rules = (): { ys: typeof yRules; zs: typeof probeRules } => ({
      ys: withY > 0 ? Array.from({ length: withY }, (_, j) => ({ norm2: lanczos.norm2[j]!, rule: rule(j) })) : yRules,
      zs: [...probeRules, ...Array.from({ length: cols - withY }, (_, t) => ({ norm2: lanczos.norm2[withY + t]!, rule: rule(withY + t) }))],
    });
    const form = (j: number, k: number, delta: number): number =>
      j < withY ? quadInverse(lanczos.norm2[j]!, rule(j, k), delta) : quadLogCurvature(lanczos.norm2[j]!, rule(j, k), delta, tbar);
    for (let local = 1; ; local++) {
      await lanczos.step(apply);
      steps++;
      if (local >= 3) {
        const r = rules();
        estimates = estimateAll(false, r.ys, r.zs);
        const check = Math.max(Math.exp(LOG_DELTA_MIN), Math.min(...estimates.map((e) => e.delta)) / 4);
        for (let j = 0; j < cols; j++) {
          if (!lanczos.active[j]) continue;
          const k = lanczos.steps(j);
          const now = form(j, k, check);
          const before = form(j, k - 1, check);
          const scale = j < withY ? Math.abs(now) : lanczos.norm2[j]!;
          if (Math.abs(now - before) <= tol * scale) lanczos.active[j] = false;
        }
      }
      opts.onIteration?.(steps, lanczos.active.filter(Boolean).length, estimates);
      if (lanczos.active.every((a) => !a)) break;
      if (local >= maxIter) {
        converged = false;
        break;
      }
    }
    const r = rules();
    if (withY > 0) yRules.push(...r.ys);
    probeRules.splice(0, probeRules.length, ...r.zs);
  };
  // Step 1: phenotypes and the first probes together.
  const start = f64Matrix(n, P + T0);
  for (let j = 0; j < P; j++) start.data.set(ys.data.subarray(j * ys.ld, j * ys.ld + n), j * n);
  for (let j = 0; j < T0; j++) start.data.set(probes.data.subarray(j * probes.ld, j * probes.ld + n), (P + j) * n);
  await run(start, P);
  estimates = estimateAll(true, yRules, probeRules);
  // Step 2: more probes while the Monte Carlo error is large against the REML error.
  const maxProbes = opts.maxProbes ?? T0;
  const tooNoisy = (): boolean => estimates.some((e) => e.h2SeMc > Math.max(opts.mcSeAbs ?? 0.002, (opts.mcSeRatio ?? 0.2) * (Number.isFinite(e.h2SeReml) ? e.h2SeReml : 0)));
  while (opts.nextProbes && probeRules.length + T0 <= maxProbes && tooNoisy()) {
    await run(opts.nextProbes(T0), 0);
    estimates = estimateAll(true, yRules, probeRules);
  }
  // (A + delta I)^-1 y = |y| Q_k (T_k + delta I)^-1 e1.
  const hinvY = f64Matrix(n, P);
  const yl = yLanczos!;
  for (let p = 0; p < P; p++) {
    const k = yl.steps(p);
    const coef = solveShiftedTridiagonal(yl.alpha[p]!, yl.beta[p]!, k, estimates[p]!.delta);
    hinvY.data.set(yl.combine(p, coef), p * n);
  }
  return { estimates, steps, converged, hinvY, probes: probeRules.length };
}

/** (T + delta I)^-1 e1 for T = tridiag(beta, alpha, beta) of order k (Thomas algorithm; T + delta I is SPD). */
export function solveShiftedTridiagonal(alpha: ArrayLike<number>, beta: ArrayLike<number>, k: number, delta: number): Float64Array {
  const c = new Float64Array(k);
  const d = new Float64Array(k);
  let prev = 0;
  let prevD = 0;
  for (let i = 0; i < k; i++) {
    const sub = i > 0 ? beta[i - 1]! : 0;
    const m = alpha[i]! + delta - sub * prev;
    c[i] = i + 1 < k ? beta[i]! / m : 0;
    d[i] = ((i === 0 ? 1 : 0) - sub * prevD) / m;
    prev = c[i]!;
    prevD = d[i]!;
  }
  for (let i = k - 2; i >= 0; i--) d[i]! -= c[i]! * d[i + 1]!;
  return d;
}
