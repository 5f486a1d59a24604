/**
 * Logistic regression with an offset, plain (maximum likelihood) or with Firth's penalty (Firth 1993; the
 * Jeffreys-prior penalty that brglm2's `type = "AS_mean"` and logistf use for the logit link):
 *   logit(mu) = offset + X beta,  l*(beta) = sum_i [y_i log mu_i + (1 - y_i) log(1 - mu_i)] + (firth ? 1/2 log|I(beta)| : 0),
 * with I(beta) = X' W X, W = diag(mu (1 - mu)). Newton steps on the (modified) score
 *   U*_j = sum_i (y_i - mu_i + firth * h_i (1/2 - mu_i)) x_ij,   h = diag(W^1/2 X I^-1 X' W^1/2),
 * halved until l* does not decrease (logistf's step control). se(beta) = sqrt(diag(I(beta)^-1)) at the estimate
 * (brglm2's vcov). X is n x p column-major (p small: covariates plus one variant), all f64.
 * Cost O(n p^2) per iteration, typically 4-10 iterations to |step| < 1e-10.
 */
import type { F64Matrix } from '../../../kernels/matrix.js';
import { cholInPlace, cholInverseInto, backSolveInPlace, forwardSolveInPlace } from '../small-linalg.js';

export interface LogisticFitOptions {
  /** Linear-predictor offset (n), zero when omitted. */
  offset?: Float64Array;
  /** Firth's penalised likelihood (default false: maximum likelihood). */
  firth?: boolean;
  /** Starting coefficients (p), zero when omitted. */
  start?: Float64Array;
  /** Maximum Newton iterations (default 50). */
  maxIter?: number;
  /** Convergence: max |step_j| <= tol (1 + |beta_j|) and Newton decrement U*' I^-1 U* <= tol (default 1e-10). */
  tol?: number;
}

export interface LogisticFit {
  beta: Float64Array;
  se: Float64Array;
  /** I(beta)^-1, p x p packed (symmetric). */
  cov: Float64Array;
  /** Log-likelihood at the estimate (without the penalty). */
  logLik: number;
  /** The maximised objective: logLik + 1/2 log|I(beta)| with Firth, else logLik. */
  penalisedLogLik: number;
  /** Linear predictor offset + X beta at the estimate (n). */
  eta: Float64Array;
  iterations: number;
  converged: boolean;
}

/** log(1 + e^x) without overflow. */
export function log1pExp(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** 1 / (1 + e^-x), exact in both tails. */
export function expit(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** sum_i y_i eta_i - log(1 + e^eta_i): the Bernoulli log-likelihood from the linear predictor (stable in both tails). */
function bernoulliLogLik(y: Float64Array, eta: Float64Array): number {
  let l = 0;
  for (let i = 0; i < eta.length; i++) l += y[i]! * eta[i]! - log1pExp(eta[i]!);
  return l;
}

/**
 * Fits the logistic model (see the file comment). Throws RangeError on mismatched shapes or y outside {0, 1};
 * a fit whose information matrix is singular or that does not converge returns `converged: false` (callers turn
 * it into a status). Cost O(n p^2) per iteration.
 */
export function fitLogistic(x: F64Matrix, y: Float64Array, opts: LogisticFitOptions = {}): LogisticFit {
  const n = x.rows;
  const p = x.cols;
  if (y.length !== n) throw new RangeError(`fitLogistic: y has ${y.length} values, expected ${n} (rows of x)`);
  if (opts.offset && opts.offset.length !== n) throw new RangeError(`fitLogistic: offset has ${opts.offset.length} values, expected ${n}`);
  for (let i = 0; i < n; i++) if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`fitLogistic: y[${i}] = ${y[i]}, expected 0 or 1`);
  const firth = opts.firth ?? false;
  const maxIter = opts.maxIter ?? 50;
  const tol = opts.tol ?? 1e-10;
  const ld = x.ld;
  const beta = opts.start ? Float64Array.from(opts.start) : new Float64Array(p);
  const eta = new Float64Array(n);
  const mu = new Float64Array(n);
  const info = new Float64Array(p * p);
  const inv = new Float64Array(p * p);
  const col = new Float64Array(p);
  const u = new Float64Array(p);
  const trial = new Float64Array(p);
  const xi = new Float64Array(p);

  /** eta, mu for coefficients b; returns the objective (NaN when I(b) is singular), leaving chol(I) in `info`. */
  const evaluate = (b: Float64Array): number => {
    info.fill(0);
    for (let i = 0; i < n; i++) {
      let e = opts.offset ? opts.offset[i]! : 0;
      for (let j = 0; j < p; j++) e += x.data[i + j * ld]! * b[j]!;
      eta[i] = e;
      const m = expit(e);
      mu[i] = m;
      const w = m * (1 - m);
      for (let a = 0; a < p; a++) {
        const wa = w * x.data[i + a * ld]!;
        for (let c = 0; c <= a; c++) info[a * p + c]! += wa * x.data[i + c * ld]!;
      }
    }
    for (let a = 0; a < p; a++) for (let c = 0; c < a; c++) info[c * p + a] = info[a * p + c]!;
    const logDet = cholInPlace(info, p);
    const l = bernoulliLogLik(y, eta);
    return firth ? l + 0.5 * logDet : Number.isNaN(logDet) ? NaN : l;
  };

  let obj = evaluate(beta);
  let converged = false;
  let it = 0;
  for (; it < maxIter && Number.isFinite(obj); it++) {
    // Step 1: the (modified) score at beta; hat values h_i = w_i x_i' I^-1 x_i for Firth.
    u.fill(0);
    for (let i = 0; i < n; i++) {
      let r = y[i]! - mu[i]!;
      if (firth) {
        for (let j = 0; j < p; j++) xi[j] = x.data[i + j * ld]!;
        const h = mu[i]! * (1 - mu[i]!) * forwardSolveInPlace(info, p, xi);
        r += h * (0.5 - mu[i]!);
      }
      for (let j = 0; j < p; j++) u[j]! += r * x.data[i + j * ld]!;
    }
    // Step 2: Newton step I^-1 U*, halved until the objective does not decrease.
    const step = Float64Array.from(u);
    forwardSolveInPlace(info, p, step);
    backSolveInPlace(info, p, step);
    // Converged: every step small and the Newton decrement U*' I^-1 U* (twice the predicted gain, invariant to
    // the scale of the covariates) below tol.
    let small = true;
    let decrement = 0;
    for (let j = 0; j < p; j++) {
      if (Math.abs(step[j]!) > tol * (1 + Math.abs(beta[j]!))) small = false;
      decrement += u[j]! * step[j]!;
    }
    const gradSmall = decrement <= tol;
    if (small && gradSmall) {
      converged = true;
      break;
    }
    let accepted = false;
    for (let half = 0; half < 20; half++) {
      for (let j = 0; j < p; j++) trial[j] = beta[j]! + step[j]!;
      const o = evaluate(trial);
      if (Number.isFinite(o) && o >= obj - 1e-12 * Math.abs(obj)) {
        beta.set(trial);
        obj = o;
        accepted = true;
        break;
      }
      for (let j = 0; j < p; j++) step[j] = step[j]! / 2;
    }
    if (!accepted) {
      // No ascent along the Newton direction at machine precision: the estimate is as good as it gets.
      obj = evaluate(beta);
      converged = small || gradSmall;
      break;
    }
  }
  // Step 3: covariance I(beta)^-1 and the unpenalised log-likelihood at the estimate.
  const penalised = evaluate(beta);
  const se = new Float64Array(p).fill(NaN);
  if (Number.isFinite(penalised)) {
    cholInverseInto(info, p, inv, col);
    for (let j = 0; j < p; j++) se[j] = Math.sqrt(inv[j * p + j]!);
  } else {
    inv.fill(NaN);
    converged = false;
  }
  return {
    beta, se, cov: inv, logLik: bernoulliLogLik(y, eta), penalisedLogLik: penalised, eta: Float64Array.from(eta),
    iterations: it, converged,
  };
}
