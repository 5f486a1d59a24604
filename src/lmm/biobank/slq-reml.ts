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
import { cpuEigh } from '../../../kernels/cpu/index.js';

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
  /** Take eigenpairs of A above this value out of the stochastic log-determinant (see Deflation); default none. */
  deflateAbove?: number;
  /** Most probes in all (default: the initial count, i.e. no adaptive probes). */
  maxProbes?: number;
  /** More projected probes (n x count), for the adaptive rule. */
  nextProbes?: (count: number) => F64Matrix;
  /** Add probes while the Monte Carlo s.e. of h2 exceeds max(mcSeAbs, mcSeRatio x REML s.e.) (defaults 0.002, 0.2). */
  mcSeAbs?: number;
  mcSeRatio?: number;
  /**
   * Called after every step with the step count, the columns still running, the current estimates and the largest
   * relative change of a running column's quadrature (1 before the checks start; convergence is at `tol`).
   */
  onIteration?: (step: number, running: number, estimates: readonly RemlEstimate[], worstChange: number) => void;
}

export interface SlqRemlResult {
  estimates: RemlEstimate[];
  /** Lanczos steps taken (products, over all runs). */
  steps: number;
  /** Probes used. */
  probes: number;
  /** Eigenvalues taken out of the stochastic log-determinant. */
  deflated: number[];
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

/**
 * Outlying eigenpairs of A taken out of the stochastic log-determinant: eigenvalues lambda_k and, per probe t,
 * (v_k' z_t)^2. With V invariant, log det(A + delta) = sum_k log(lambda_k + delta) + log det on the complement,
 * and z_t's part in the complement has z'g(A)z - sum_k g(lambda_k) (v_k' z)^2 for any g: so the probes' runs
 * need not be repeated. Population structure gives a few eigenvalues far above the rest (n Fst); without
 * this, their (v'z)^2 ~ chi2(1) fluctuations dominate the Monte Carlo variance.
 */
export interface Deflation {
  lambda: Float64Array;
  /** Per probe: (v_k' z_t)^2 for each deflated k. */
  proj2: Float64Array[];
}

/** The quadrature rules of one Lanczos state and the REML objective built on them. */
export class SlqRemlObjective {
  /** The control variate's tangent point: the mean eigenvalue of A on the complement of the deflated ones. */
  private readonly tperp: number;
  private readonly r: number;

  constructor(
    readonly dim: number,
    readonly tbar: number,
    /** Per phenotype: |y|^2 and its Gauss rule. */
    readonly ys: readonly { norm2: number; rule: GaussRule }[],
    /** Per probe: |z|^2 and its Gauss rule. */
    readonly probes: readonly { norm2: number; rule: GaussRule }[],
    readonly deflation: Deflation = { lambda: new Float64Array(0), proj2: [] },
  ) {
    if (probes.length < 2) throw new RangeError(`SlqRemlObjective: need at least 2 probes, got ${probes.length}`);
    this.r = deflation.lambda.length;
    if (this.r > 0 && deflation.proj2.length !== probes.length) throw new RangeError(`SlqRemlObjective: deflation has ${deflation.proj2.length} probes, expected ${probes.length}`);
    this.tperp = (tbar * dim - deflation.lambda.reduce((a, v) => a + v, 0)) / (dim - this.r);
  }

  /** y_p'(A + delta)^-1 y_p. */
  quadY(p: number, delta: number): number {
    return quadInverse(this.ys[p]!.norm2, this.ys[p]!.rule, delta);
  }

  /** z_t'[f(A) - p(A)]z_t for probe t, on the complement of the deflated eigenvectors. */
  probeTerm(t: number, delta: number): number {
    let s = quadLogCurvature(this.probes[t]!.norm2, this.probes[t]!.rule, delta, this.tperp);
    if (this.r === 0) return s;
    const lt = Math.log(this.tperp + delta);
    const inv = 1 / (this.tperp + delta);
    const { lambda, proj2 } = this.deflation;
    for (let k = 0; k < this.r; k++) s -= (Math.log(lambda[k]! + delta) - lt - (lambda[k]! - this.tperp) * inv) * proj2[t]![k]!;
    return s;
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
    let out = (this.dim - this.r) * Math.log(this.tperp + delta) + s / k;
    for (let q = 0; q < this.r; q++) out += Math.log(this.deflation.lambda[q]! + delta);
    return out;
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
  let deflation: Deflation = { lambda: new Float64Array(0), proj2: [] };
  let vectors: F64Matrix | undefined;
  /** (v_k' z)^2 of the deflated eigenvectors, per column of a probe batch. */
  const proj2Of = (z: F64Matrix, from: number): Float64Array[] =>
    Array.from({ length: z.cols - from }, (_, t) => {
      const out = new Float64Array(deflation.lambda.length);
      for (let k = 0; k < out.length; k++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += vectors!.data[i + k * n]! * z.data[i + (from + t) * z.ld]!;
        out[k] = d * d;
      }
      return out;
    });
  const estimateAll = (mc: boolean, ys: typeof yRules, zs: typeof probeRules): RemlEstimate[] => {
    const d = deflation.lambda.length > 0 && deflation.proj2.length === zs.length ? deflation : undefined;
    const obj = new SlqRemlObjective(opts.dim, tbar, ys, zs, d);
    return Array.from({ length: P }, (_, p) => obj.estimate(p, mc));
  };
  /** Lanczos on `start` (the first `withY` columns are phenotypes) until its quadratures converge. */
  const run = async (start: F64Matrix, withY: number): Promise<void> => {
    const cols = start.cols;
    // The phenotypes' bases are kept (for (A + delta)^-1 y), and a few probes' for finding outlying eigenpairs.
    const keep = opts.deflateAbove !== undefined && withY > 0 ? withY + Math.min(4, cols - withY) : withY;
    const lanczos = new BatchedLanczos(start, Array.from({ length: cols }, (_, j) => j < keep));
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
      let worst = 1;
      if (local >= 3) {
        worst = 0;
        const r = rules();
        estimates = estimateAll(false, r.ys, r.zs);
        const check = Math.max(Math.exp(LOG_DELTA_MIN), Math.min(...estimates.map((e) => e.delta)) / 4);
        for (let j = 0; j < cols; j++) {
          if (!lanczos.active[j]) continue;
          const k = lanczos.steps(j);
          const now = form(j, k, check);
          const before = form(j, k - 1, check);
          const scale = j < withY ? Math.abs(now) : lanczos.norm2[j]!;
          const change = Math.abs(now - before) / scale;
          if (change <= tol) lanczos.active[j] = false;
          else worst = Math.max(worst, change);
        }
      }
      opts.onIteration?.(steps, lanczos.active.filter(Boolean).length, estimates, worst);
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
  if (opts.deflateAbove !== undefined) {
    const found = await outlyingEigenpairs(apply, yLanczos!, opts.deflateAbove);
    if (found.lambda.length > 0) {
      vectors = found.vectors;
      deflation = { lambda: found.lambda, proj2: [] };
      deflation.proj2 = proj2Of(start, P);
    }
  }
  estimates = estimateAll(true, yRules, probeRules);
  // Step 2: more probes while the Monte Carlo error is large against the REML error.
  const maxProbes = opts.maxProbes ?? T0;
  const tooNoisy = (): boolean => estimates.some((e) => e.h2SeMc > Math.max(opts.mcSeAbs ?? 0.002, (opts.mcSeRatio ?? 0.2) * (Number.isFinite(e.h2SeReml) ? e.h2SeReml : 0)));
  while (opts.nextProbes && probeRules.length + T0 <= maxProbes && tooNoisy()) {
    const more = opts.nextProbes(T0);
    if (vectors) deflation.proj2.push(...proj2Of(more, 0));
    await run(more, 0);
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
  return { estimates, steps, converged, hinvY, probes: probeRules.length, deflated: Array.from(deflation.lambda) };
}

/**
 * Eigenpairs of A with eigenvalue above `threshold`, from the Ritz vectors of the kept Lanczos bases: candidates
 * (Ritz values above the threshold) orthonormalised, then one product A C and a Rayleigh-Ritz step; pairs whose
 * residual |A v - lambda v| exceeds 1e-3 lambda are left out. Cost one product with as many columns as
 * candidates (at most 32), plus O(n r^2).
 */
export async function outlyingEigenpairs(apply: BatchedOperator, lanczos: BatchedLanczos, threshold: number): Promise<{ lambda: Float64Array; vectors: F64Matrix }> {
  const n = lanczos.n;
  const cands: Float64Array[] = [];
  for (let j = 0; j < lanczos.b; j++) {
    if (!lanczos.basis[j]) continue;
    const k = lanczos.steps(j);
    if (k < 2) continue;
    const t = f64Matrix(k, k);
    for (let i = 0; i < k; i++) {
      t.data[i + i * k] = lanczos.alpha[j]![i]!;
      if (i + 1 < k) {
        t.data[i + 1 + i * k] = lanczos.beta[j]![i]!;
        t.data[i + (i + 1) * k] = lanczos.beta[j]![i]!;
      }
    }
    const { values, vectors } = cpuEigh(t);
    for (let i = 0; i < k; i++) if (values[i]! > threshold) cands.push(lanczos.combine(j, vectors.data.subarray(i * k, (i + 1) * k)));
  }
  // Step: orthonormalise (twice), dropping near-duplicates (ghost copies, the same vector from several runs).
  const basis: Float64Array[] = [];
  for (const c of cands) {
    const before = Math.sqrt(c.reduce((a, v) => a + v * v, 0));
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) {
        let d = 0;
        for (let i = 0; i < n; i++) d += b[i]! * c[i]!;
        for (let i = 0; i < n; i++) c[i]! -= d * b[i]!;
      }
    }
    const norm = Math.sqrt(c.reduce((a, v) => a + v * v, 0));
    if (norm > 1e-3 * before && basis.length < 32) basis.push(c.map((v) => v / norm));
  }
  const r = basis.length;
  if (r === 0) return { lambda: new Float64Array(0), vectors: f64Matrix(n, 0) };
  // Step: Rayleigh-Ritz on the span.
  const c = f64Matrix(n, r);
  basis.forEach((b, q) => c.data.set(b, q * n));
  const w = await apply(c, Array.from({ length: r }, (_, q) => q));
  const h = f64Matrix(r, r);
  for (let a = 0; a < r; a++) {
    for (let b = 0; b < r; b++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += c.data[i + a * n]! * w.data[i + b * w.ld]!;
      h.data[a + b * r] = d;
    }
  }
  for (let a = 0; a < r; a++) for (let b = 0; b < a; b++) h.data[a + b * r] = h.data[b + a * r] = 0.5 * (h.data[a + b * r]! + h.data[b + a * r]!);
  const eig = cpuEigh(h);
  const lambda: number[] = [];
  const out: Float64Array[] = [];
  for (let q = 0; q < r; q++) {
    const l = eig.values[q]!;
    if (!(l > threshold)) continue;
    const v = new Float64Array(n);
    const av = new Float64Array(n);
    for (let a = 0; a < r; a++) {
      const s = eig.vectors.data[a + q * r]!;
      for (let i = 0; i < n; i++) {
        v[i]! += s * c.data[i + a * n]!;
        av[i]! += s * w.data[i + a * w.ld]!;
      }
    }
    let res = 0;
    for (let i = 0; i < n; i++) res += (av[i]! - l * v[i]!) ** 2;
    if (Math.sqrt(res) > 1e-3 * l) continue;
    lambda.push(l);
    out.push(v);
  }
  const vectors = f64Matrix(n, out.length);
  out.forEach((v, q) => vectors.data.set(v, q * n));
  return { lambda: Float64Array.from(lambda), vectors };
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
