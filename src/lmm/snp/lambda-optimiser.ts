/**
 * GEMMA 0.98.5's lambda optimiser (lmm.cpp CalcLambda), reproduced step for step:
 * 1. Split [lMin, lMax] = [1e-5, 1e5] into 10 intervals equal on the log scale; keep those where the first
 *    derivative changes sign (dev1(lo) * dev1(hi) <= 0).
 * 2. None: the better of the two ends (ties to lMin).
 * 3. Each kept interval: Brent's root finder on the derivative (GSL brent, interval test with relative width 0.1),
 *    then Newton on the derivative from Brent's root (GSL newton, stop when |step| < 1e-5 |lambda|, at most 100
 *    iterations, the iterate must stay inside (lMin, lMax)). GEMMA keeps the iterate *before* the last Newton
 *    step; so does this. The root with the highest likelihood wins; then the two ends are compared (strictly).
 * Where GEMMA returns NaN (Newton fails, leaves the range or does not converge) this returns a status instead.
 * One difference, documented: GSL evaluates the derivative at the final Newton iterate before the convergence
 * test; that value is never used by GEMMA, so it is not computed here (an error there would make GEMMA print NaN).
 */
import type { LikelihoodKind } from './likelihood.js';

export const L_MIN = 1e-5;
export const L_MAX = 1e5;
export const N_REGION = 10;
const BRENT_REL = 1e-1;
const NEWTON_REL = 1e-5;
const MAX_ITER = 100;
const DBL_EPSILON = 2.220446049250313e-16;

/** The grid lambda_k = lMin exp(k ln(lMax/lMin) / nRegion), k = 0..nRegion (GEMMA's expression). */
export const LAMBDA_GRID: Float64Array = (() => {
  const g = new Float64Array(N_REGION + 1);
  const step = Math.log(L_MAX / L_MIN) / N_REGION;
  for (let k = 0; k <= N_REGION; k++) g[k] = L_MIN * Math.exp(step * k);
  return g;
})();

/** Why an optimisation has no usable lambda. */
export type LambdaStatus = 'ok' | 'newton_failed' | 'newton_left_range' | 'newton_no_convergence' | 'brent_failed';

export interface LambdaResult {
  lambda: number;
  logl: number;
  status: LambdaStatus;
}

/** What the optimiser needs from a likelihood (see LambdaObjective). */
export interface LambdaFunctions {
  dev1(kind: LikelihoodKind, lambda: number): number;
  dev12(kind: LikelihoodKind, lambda: number, out: Float64Array): void;
  value(kind: LikelihoodKind, lambda: number): number;
}

const scratch = new Float64Array(2);

/**
 * Maximises the (restricted) likelihood over lambda as GEMMA does.
 * @param gridDev1 dev1 at LAMBDA_GRID[0..10] for this kind (computed by the caller, typically shared work)
 * @param ends optional precomputed values at lMin and lMax ([f(lMin), f(lMax)]), else evaluated here
 */
export function optimiseLambda(f: LambdaFunctions, kind: LikelihoodKind, gridDev1: ArrayLike<number>, ends?: readonly [number, number]): LambdaResult {
  let best = NaN;
  let bestLambda = NaN;
  let found = false;
  let iter = 0; // GEMMA shares one counter between Brent and Newton across intervals
  for (let r = 0; r < N_REGION; r++) {
    const d1l = gridDev1[r]!;
    const d1h = gridDev1[r + 1]!;
    if (!(d1l * d1h <= 0)) continue;
    // --- Brent (GSL roots/brent.c) on dev1 over [lo, hi].
    let a = LAMBDA_GRID[r]!;
    let b = LAMBDA_GRID[r + 1]!;
    let fa = d1l;
    let fb = d1h;
    let c = b;
    let fc = fb;
    let d = b - a;
    let e = b - a;
    let root = 0.5 * (a + b);
    let lo = a;
    let hi = b;
    let brentOk = true;
    do {
      iter++;
      let acEqual = false;
      if ((fb < 0 && fc < 0) || (fb > 0 && fc > 0)) {
        acEqual = true;
        c = a;
        fc = fa;
        d = b - a;
        e = b - a;
      }
      if (Math.abs(fc) < Math.abs(fb)) {
        acEqual = true;
        a = b;
        b = c;
        c = a;
        fa = fb;
        fb = fc;
        fc = fa;
      }
      const tol = 0.5 * DBL_EPSILON * Math.abs(b);
      const m = 0.5 * (c - b);
      if (fb === 0) {
        root = b;
        lo = b;
        hi = b;
      } else if (Math.abs(m) <= tol) {
        root = b;
        lo = Math.min(b, c);
        hi = Math.max(b, c);
      } else {
        if (Math.abs(e) < tol || Math.abs(fa) <= Math.abs(fb)) {
          d = m;
          e = m;
        } else {
          const s = fb / fa;
          let p: number;
          let q: number;
          if (acEqual) {
            p = 2 * m * s;
            q = 1 - s;
          } else {
            const qq = fa / fc;
            const rr = fb / fc;
            p = s * (2 * m * qq * (qq - rr) - (b - a) * (rr - 1));
            q = (qq - 1) * (rr - 1) * (s - 1);
          }
          if (p > 0) q = -q;
          else p = -p;
          if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
            e = d;
            d = p / q;
          } else {
            d = m;
            e = m;
          }
        }
        a = b;
        fa = fb;
        if (Math.abs(d) > tol) b += d;
        else b += m > 0 ? +tol : -tol;
        fb = f.dev1(kind, b);
        if (!Number.isFinite(fb)) {
          brentOk = false;
          break;
        }
        root = b;
        if ((fb < 0 && fc < 0) || (fb > 0 && fc > 0)) c = a;
        lo = Math.min(b, c);
        hi = Math.max(b, c);
      }
      // gsl_root_test_interval(lo, hi, 0, 0.1)
      const minAbs = (lo > 0 && hi > 0) || (lo < 0 && hi < 0) ? Math.min(Math.abs(lo), Math.abs(hi)) : 0;
      if (Math.abs(hi - lo) < BRENT_REL * minAbs) break;
    } while (iter < MAX_ITER);
    if (!brentOk) return { lambda: NaN, logl: NaN, status: 'brent_failed' };
    iter = 0;
    // --- Newton (GSL roots/newton.c) from Brent's root; keep the iterate before the last step.
    let l = root;
    let lPrev = l;
    f.dev12(kind, l, scratch);
    let converged = false;
    let fail: LambdaStatus | null = null;
    do {
      iter++;
      const g = scratch[0]!;
      const h = scratch[1]!;
      if (h === 0) {
        fail = 'newton_failed';
        break;
      }
      lPrev = l;
      l = l - g / h;
      if (!Number.isFinite(l)) {
        fail = 'newton_failed';
        break;
      }
      if (Math.abs(l - lPrev) < NEWTON_REL * Math.abs(l) || l === lPrev) {
        converged = true;
        break;
      }
      if (!(l > L_MIN && l < L_MAX)) break;
      if (iter >= MAX_ITER) break;
      f.dev12(kind, l, scratch);
      if (!Number.isFinite(scratch[0]!) || !Number.isFinite(scratch[1]!)) {
        fail = 'newton_failed';
        break;
      }
    } while (true);
    if (fail) return { lambda: NaN, logl: NaN, status: fail };
    if (!converged) {
      return { lambda: NaN, logl: NaN, status: l > L_MIN && l < L_MAX ? 'newton_no_convergence' : 'newton_left_range' };
    }
    let lam = lPrev;
    if (lam < L_MIN) lam = L_MIN;
    if (lam > L_MAX) lam = L_MAX;
    const v = f.value(kind, lam);
    if (!found || best < v) {
      best = v;
      bestLambda = lam;
      found = true;
    }
  }
  const fMin = ends ? ends[0] : f.value(kind, L_MIN);
  const fMax = ends ? ends[1] : f.value(kind, L_MAX);
  if (!found) {
    return fMin >= fMax ? { lambda: L_MIN, logl: fMin, status: 'ok' } : { lambda: L_MAX, logl: fMax, status: 'ok' };
  }
  if (fMin > best) {
    best = fMin;
    bestLambda = L_MIN;
  }
  if (fMax > best) {
    best = fMax;
    bestLambda = L_MAX;
  }
  return { lambda: bestLambda, logl: best, status: 'ok' };
}
