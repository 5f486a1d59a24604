/**
 * The logistic mixed null model logit(mu) = X alpha + b, b ~ N(0, tau K), fitted by penalised quasi-likelihood
 * with AI-REML for tau, as GMMAT's glmmkin (Chen et al. 2016, AJHG 98:653) and SAIGE's step 1 do. Dispersion
 * is fixed at 1 (binomial). Each iteration, at the working response Y = eta + (y - mu) / w, w = mu (1 - mu):
 *   Sigma = diag(1/w) + tau K = L L' (potrf on the backend),
 *   cov = (X' Sigma^-1 X)^-1,  alpha = cov X' Sigma^-1 Y,  PY = Sigma^-1 (Y - X alpha),  eta = Y - PY / w,
 *   score = PY' K PY - tr(P K),  AI = (K PY)' P (K PY),  tau <- tau + score / AI  (halved while negative),
 * with tr(P K) = tr(Sigma^-1 K) - tr(cov (Sigma^-1 X)' K (Sigma^-1 X)) and, for tau > 0, the exact identity
 *   tr(Sigma^-1 K) = (n - sum_i (Sigma^-1)_ii / w_i) / tau  (diag(Sigma^-1) = column norms of L^-1, trsm),
 * (tau = 0: sum_i w_i K_ii). Start (GMMAT): a logistic GLM, tau = var(Y) / 2 / mean(diag K), one REML-EM step
 * tau <- max(0, tau + tau^2 score / n); then AI steps (Aitken-extrapolated when they alternate in sign) until
 * 2 max(|d alpha| / (|alpha| + |alpha0| + tol), |d tau| / (|tau| + |tau0| + tol)) < tol.
 * K is used as a dense n x n matrix: W changes every iteration, so K's eigendecomposition does not diagonalise
 * Sigma; the exact mode factors Sigma directly (GMMAT's dense path). se(alpha) = sqrt(diag(cov)),
 * se(tau) = sqrt(2 / AI) (the inverse average information).
 * Cost per iteration: potrf n^3/3 + L^-1 n^3/3 (invertLower) + O(n^2 c); memory three n x n f64 matrices.
 */
import type { Backend } from '../../../kernels/backend.js';
import { f64Matrix, packF64, type F64Matrix } from '../../../kernels/matrix.js';
import { NumericError } from '../../errors.js';
import { cholInPlace, cholInverseInto } from '../small-linalg.js';
import { expit, fitLogistic } from './logistic.js';

export interface BinaryNullOptions {
  backend: Backend;
  /** GMMAT's relative convergence tolerance on alpha and tau (default 1e-5). */
  tol?: number;
  /** Maximum AI iterations (default 500, GMMAT's). */
  maxIter?: number;
  /** Keep tau fixed at this value (GMMAT's fixtau; 0 gives the logistic regression without the random effect). */
  fixTau?: number;
  /** Called after each iteration (for --verbose logs). */
  log?: (message: string) => void;
}

/** What a scan reports about the null model (JSON-serialisable). */
export interface BinaryNullSummary {
  n: number;
  c: number;
  nCases: number;
  nControls: number;
  /** Variance of the random effect on the logit scale. */
  tau: number;
  tauSe: number;
  alpha: number[];
  alphaSe: number[];
  iterations: number;
  converged: boolean;
  /** 'ok', 'not_converged' (maxIter reached) or 'tau_diverged' (tau > 1/tol^2, GMMAT's guard). */
  status: string;
}

/** The fitted null model: its summary and what the per-variant tests need. */
export interface BinaryNullModel {
  summary: BinaryNullSummary;
  y: Float64Array;
  /** Fitted probabilities (n). */
  mu: Float64Array;
  /** The random effect's prediction b = eta - X alpha (n): the offset of the Firth fits. */
  offset: Float64Array;
  /** Covariates X (n x c). */
  x: F64Matrix;
  /** Lower Cholesky factor of Sigma = diag(1/w) + tau K at the final mu (n x n). */
  chol: F64Matrix;
  /** L^-1 X (n x c). */
  whitenedX: F64Matrix;
  /** (X' Sigma^-1 X)^-1 (c x c, packed). */
  cov: Float64Array;
}

/** One PQL evaluation at (tau, w, Y): the GLS fit and, when asked, the AI-REML score and information. */
interface Evaluation {
  chol: F64Matrix;
  sigmaInvX: F64Matrix;
  cov: Float64Array;
  alpha: Float64Array;
  eta: Float64Array;
  score: number;
  ai: number;
}

/** (X' A)' for n x c X and n x k A: the c x k product X' A, packed column-major. O(n c k). */
function crossprod(x: F64Matrix, a: F64Matrix): Float64Array {
  const out = new Float64Array(x.cols * a.cols);
  for (let j = 0; j < a.cols; j++) {
    for (let i = 0; i < x.cols; i++) {
      let s = 0;
      for (let r = 0; r < x.rows; r++) s += x.data[r + i * x.ld]! * a.data[r + j * a.ld]!;
      out[i + j * x.cols] = s;
    }
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Inverse of a small SPD matrix (packed c x c); throws NumericError when singular. O(c^3). */
export function invertSpd(a: Float64Array, c: number, what: string): Float64Array {
  const l = Float64Array.from(a);
  if (Number.isNaN(cholInPlace(l, c))) throw new NumericError(`${what} is singular: the covariates are linearly dependent`);
  const inv = new Float64Array(c * c);
  cholInverseInto(l, c, inv, new Float64Array(c));
  return inv;
}

/** Order below which {@link invertLower} solves against the identity directly. */
const INVERT_BLOCK = 384;

/**
 * L^-1 of a lower-triangular n x n L (upper triangle zero), by halves: with L = [A 0; B C],
 * L^-1 = [A^-1 0; -C^-1 B A^-1  C^-1], the off-diagonal block from two triangular solves (trsm on the backend).
 * Cost n^3 / 3 flops (a solve against the identity would cost n^3); f64 on the cpu backend.
 */
export async function invertLower(l: F64Matrix, backend: Backend): Promise<F64Matrix> {
  const n = l.rows;
  const out = f64Matrix(n, n);
  if (n <= INVERT_BLOCK) {
    for (let i = 0; i < n; i++) out.data[i + i * n] = 1;
    return backend.trsm(l, out);
  }
  const h = Math.ceil(n / 2 / 64) * 64;
  const view = (i0: number, j0: number, rows: number, cols: number): F64Matrix => packF64(f64Matrix(rows, cols, l.data.subarray(i0 + j0 * l.ld), l.ld));
  const a = view(0, 0, h, h);
  const c = view(h, h, n - h, n - h);
  const ai = await invertLower(a, backend);
  const ci = await invertLower(c, backend);
  // -C^-1 B A^-1: X = C^-1 B (left solve), then -X A^-1 (right solve with alpha -1).
  const x = await backend.trsm(c, view(h, 0, n - h, h));
  const y = await backend.trsm(a, x, { side: 'right', alpha: -1 });
  for (let j = 0; j < h; j++) {
    out.data.set(ai.data.subarray(j * h, j * h + h), j * n);
    out.data.set(y.data.subarray(j * (n - h), (j + 1) * (n - h)), h + j * n);
  }
  for (let j = 0; j < n - h; j++) out.data.set(ci.data.subarray(j * (n - h), (j + 1) * (n - h)), h + (h + j) * n);
  return out;
}

/**
 * Fits the logistic mixed null model (see the file comment). y: 0/1 (n); x: covariates n x c with the intercept;
 * k: the kinship n x n (symmetric positive semi-definite). Throws RangeError on shapes, NumericError when all
 * individuals are cases (or controls) or the covariates separate them.
 */
export async function fitBinaryNullModel(y: Float64Array, x: F64Matrix, k: F64Matrix, opts: BinaryNullOptions): Promise<BinaryNullModel> {
  const n = y.length;
  const c = x.cols;
  const { backend } = opts;
  const tol = opts.tol ?? 1e-5;
  const maxIter = opts.maxIter ?? 500;
  if (x.rows !== n) throw new RangeError(`fitBinaryNullModel: x has ${x.rows} rows, expected ${n}`);
  if (k.rows !== n || k.cols !== n) throw new RangeError(`fitBinaryNullModel: kinship is ${k.rows}x${k.cols}, expected ${n}x${n}`);
  let nCases = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`fitBinaryNullModel: y[${i}] = ${y[i]}, expected 0 or 1`);
    nCases += y[i]!;
  }
  if (nCases === 0 || nCases === n) throw new NumericError(`binary trait: all ${n} analysed individuals are ${nCases === 0 ? 'controls' : 'cases'}`);

  // Step 1: the logistic GLM without the random effect (GMMAT's fit0).
  const glm = fitLogistic(x, y);
  if (!glm.converged) throw new NumericError('binary trait: the logistic regression on the covariates does not converge (do the covariates separate cases from controls?)');
  const alpha = Float64Array.from(glm.beta);
  const eta = Float64Array.from(glm.eta);
  const mu = new Float64Array(n);
  const w = new Float64Array(n);
  const ywork = f64Matrix(n, 1);
  const working = (): void => {
    for (let i = 0; i < n; i++) {
      const m = Math.min(1 - 1e-15, Math.max(1e-15, expit(eta[i]!)));
      mu[i] = m;
      w[i] = m * (1 - m);
      ywork.data[i] = eta[i]! + (y[i]! - m) / w[i]!;
    }
  };
  working();
  let meanKDiag = 0;
  for (let i = 0; i < n; i++) meanKDiag += k.data[i + i * k.ld]!;
  meanKDiag /= n;
  if (!(meanKDiag > 0)) throw new NumericError(`kinship: mean diagonal ${meanKDiag}, expected > 0`);

  /** The PQL quantities at tau with the current w and Y. */
  const evaluate = async (tau: number, withScore: boolean): Promise<Evaluation> => {
    const sigma = f64Matrix(n, n);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) sigma.data[i + j * n] = tau * k.data[i + j * k.ld]!;
      sigma.data[j + j * n]! += 1 / w[j]!;
    }
    const chol = await backend.potrf(sigma);
    // Sigma^-1 [X, Y] in one solve.
    const xy = f64Matrix(n, c + 1);
    for (let j = 0; j < c; j++) for (let i = 0; i < n; i++) xy.data[i + j * n] = x.data[i + j * x.ld]!;
    xy.data.set(ywork.data, c * n);
    const s = await backend.potrs(chol, xy);
    const sigmaInvX = f64Matrix(n, c, s.data.subarray(0, n * c));
    const sigmaInvY = s.data.subarray(c * n, (c + 1) * n);
    const xsx = crossprod(x, sigmaInvX);
    const cov = invertSpd(xsx, c, "X' Sigma^-1 X");
    const xsy = crossprod(x, f64Matrix(n, 1, sigmaInvY));
    const alphaNew = new Float64Array(c);
    for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) alphaNew[a]! += cov[a + b * c]! * xsy[b]!;
    const py = new Float64Array(n);
    const etaNew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = sigmaInvY[i]!;
      for (let a = 0; a < c; a++) v -= sigmaInvX.data[i + a * n]! * alphaNew[a]!;
      py[i] = v;
      etaNew[i] = ywork.data[i]! - v / w[i]!;
    }
    // K PY and P K PY = Sigma^-1 K PY - Sigma^-1 X cov X' Sigma^-1 K PY.
      const kpy = await backend.gemm(k, f64Matrix(n, 1, py));
      const skpy = (await backend.potrs(chol, kpy)).data;
      const xskpy = crossprod(x, f64Matrix(n, 1, skpy));
      const t = new Float64Array(c);
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) t[a]! += cov[a + b * c]! * xskpy[b]!;
      const pkpy = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let v = skpy[i]!;
        for (let a = 0; a < c; a++) v -= sigmaInvX.data[i + a * n]! * t[a]!;
        pkpy[i] = v;
      }
    const ai = dot(kpy.data, pkpy);
    let score = NaN;
    if (withScore) {
      // tr(P K) = tr(Sigma^-1 K) - tr(cov (Sigma^-1 X)' K (Sigma^-1 X)).
      let trSigmaInvK = 0;
      if (tau > 0) {
        const linv = await invertLower(chol, backend);
        let sdw = 0;
        for (let i = 0; i < n; i++) {
          let d = 0;
          for (let r = i; r < n; r++) d += linv.data[r + i * n]! ** 2;
          sdw += d / w[i]!;
        }
        trSigmaInvK = (n - sdw) / tau;
      } else {
        for (let i = 0; i < n; i++) trSigmaInvK += w[i]! * k.data[i + i * k.ld]!;
      }
      const ksx = await backend.gemm(k, sigmaInvX);
      const xsksx = crossprod(sigmaInvX, ksx);
      let trCorr = 0;
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) trCorr += cov[a + b * c]! * xsksx[b + a * c]!;
      score = dot(py, kpy.data) - (trSigmaInvK - trCorr);
    }
    return { chol, sigmaInvX, cov, alpha: alphaNew, eta: etaNew, score, ai };
  };

  // Step 2: GMMAT's start: tau from var(Y), one REML-EM step.
  let mean = 0;
  for (let i = 0; i < n; i++) mean += ywork.data[i]!;
  mean /= n;
  let varY = 0;
  for (let i = 0; i < n; i++) varY += (ywork.data[i]! - mean) ** 2;
  varY /= n - 1;
  const fixTau = opts.fixTau;
  if (fixTau !== undefined && !(fixTau >= 0)) throw new RangeError(`fitBinaryNullModel: fixTau must be >= 0, got ${fixTau}`);
  let tau = fixTau ?? varY / 2 / meanKDiag;
  if (fixTau === undefined) {
    const e0 = await evaluate(tau, true);
    tau = Math.max(0, tau + (tau * tau * e0.score) / n);
  }

  // Step 3: AI-REML iterations (GLS fit at the current tau, then the tau step, then the working response).
  let iterations = 0;
  let prevDtau = NaN;
  let converged = false;
  let status = 'ok';
  let ai = NaN;
  for (let it = 1; it <= maxIter; it++) {
    iterations = it;
    const alpha0 = Float64Array.from(alpha);
    const tau0 = tau;
    const e = await evaluate(tau, fixTau === undefined);
    ai = e.ai;
    if (fixTau === undefined) {
      let dtau = e.score / e.ai;
      if (!Number.isFinite(dtau)) dtau = 0;
      // The AI steps of successive PQL iterations alternate in sign and shrink geometrically (the working response
      // moves with tau): dtau_k ~ rho dtau_(k-1), rho in (-1, 0). Aitken's extrapolation dtau / (1 - rho) lands on
      // the same fixed point in fewer iterations (on data/binary 32 -> 23 at tol 1e-8, 20 -> 15 at 1e-5).
      const rho = dtau / prevDtau;
      prevDtau = dtau;
      if (rho < 0 && rho > -1) dtau /= 1 - rho;
      tau = tau0 + dtau;
      if (tau < tol && tau0 < tol) tau = 0;
      while (tau < 0) {
        dtau /= 2;
        tau = tau0 + dtau;
        if (tau < tol && tau0 < tol) tau = 0;
      }
      if (tau < tol) tau = 0;
    }
    alpha.set(e.alpha);
    eta.set(e.eta);
    working();
    opts.log?.(`binary null model iteration ${it}: tau ${tau.toPrecision(6)}, alpha ${Array.from(alpha, (a) => a.toPrecision(6)).join(' ')}`);
    let change = Math.abs(tau - tau0) / (Math.abs(tau) + Math.abs(tau0) + tol);
    for (let a = 0; a < c; a++) change = Math.max(change, Math.abs(alpha[a]! - alpha0[a]!) / (Math.abs(alpha[a]!) + Math.abs(alpha0[a]!) + tol));
    if (2 * change < tol) {
      converged = true;
      break;
    }
    if (tau > tol ** -2) {
      status = 'tau_diverged';
      break;
    }
  }
  if (!converged && status === 'ok') status = 'not_converged';

  // Step 4: the factor at the final mu (what the per-variant tests use), with the final tau.
  const fin = await evaluate(tau, false);
  if (Number.isFinite(fin.ai)) ai = fin.ai;
  const whitenedX = await backend.trsm(fin.chol, x);
  const offset = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let xa = 0;
    for (let a = 0; a < c; a++) xa += x.data[i + a * x.ld]! * alpha[a]!;
    offset[i] = eta[i]! - xa;
  }
  const alphaSe = Array.from({ length: c }, (_, a) => Math.sqrt(fin.cov[a + a * c]!));
  return {
    summary: {
      n, c, nCases, nControls: n - nCases, tau, tauSe: ai > 0 ? Math.sqrt(2 / ai) : 0,
      alpha: Array.from(alpha), alphaSe, iterations, converged, status,
    },
    y, mu: Float64Array.from(mu), offset, x, chol: fin.chol, whitenedX, cov: fin.cov,
  };
}
