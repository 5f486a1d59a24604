/**
 * Per-variant meta-analysis of m cohort estimates b_i with standard errors s_i (the inner loop of a GWAS
 * meta-analysis, as METAL's STDERR scheme plus its heterogeneity analysis, and metafor's rma(method = "FE"/"DL")):
 * - fixed effects (inverse variance): w_i = 1/s_i^2, b = sum w_i b_i / sum w_i, se = 1 / sqrt(sum w_i);
 * - heterogeneity: Cochran's Q = sum w_i (b_i - b)^2 on m - 1 df, p_het = P(chi2_{m-1} > Q),
 *   I^2 = 100 max(0, (Q - (m - 1)) / Q) (0 when Q = 0);
 * - random effects (DerSimonian-Laird): tau^2 = max(0, (Q - (m - 1)) / (sum w - sum w^2 / sum w)),
 *   w*_i = 1/(s_i^2 + tau^2), b* = sum w*_i b_i / sum w*_i, se* = 1 / sqrt(sum w*_i).
 * Two-sided normal p-values, with log10 p kept finite far below the smallest double. O(m) per variant, f64.
 * A single cohort gives its own estimate for both models, tau^2 = Q = 0 and NaN for I^2 and p_het.
 */
import { chi2Survival, normalLogSurvival } from '../../stats/distributions.js';

/** Output columns of the combination, one row per variant. */
export interface IvwColumns {
  betaFe: Float64Array;
  seFe: Float64Array;
  pFe: Float64Array;
  log10pFe: Float64Array;
  betaRe: Float64Array;
  seRe: Float64Array;
  pRe: Float64Array;
  log10pRe: Float64Array;
  tau2: Float64Array;
  q: Float64Array;
  i2: Float64Array;
  pHet: Float64Array;
}

/** Columns for `rows` variants. */
export function allocIvwColumns(rows: number): IvwColumns {
  const f = () => new Float64Array(rows);
  return { betaFe: f(), seFe: f(), pFe: f(), log10pFe: f(), betaRe: f(), seRe: f(), pRe: f(), log10pRe: f(), tau2: f(), q: f(), i2: f(), pHet: f() };
}

const LN10 = Math.LN10;

/** ln of the two-sided normal p of z. */
const lnP2 = (z: number) => normalLogSurvival(Math.abs(z)) + Math.LN2;

/** Row r of an estimate's columns: b, its standard error s, and the two-sided normal p of b / s with its log10. */
function waldInto(beta: Float64Array, se: Float64Array, p: Float64Array, log10p: Float64Array, r: number, b: number, s: number): void {
  const ln = lnP2(b / s);
  beta[r] = b;
  se[r] = s;
  p[r] = Math.exp(ln);
  log10p[r] = ln / LN10;
}

/**
 * Combines beta[0..m) with se[0..m) (every se finite and > 0: the caller filters) into row `r` of `out`.
 * Cost O(m).
 */
export function ivwInto(out: IvwColumns, r: number, beta: ArrayLike<number>, se: ArrayLike<number>, m: number): void {
  let sw = 0;
  let sw2 = 0;
  let swb = 0;
  for (let i = 0; i < m; i++) {
    const w = 1 / (se[i]! * se[i]!);
    sw += w;
    sw2 += w * w;
    swb += w * beta[i]!;
  }
  const b = swb / sw;
  let q = 0;
  for (let i = 0; i < m; i++) {
    const d = beta[i]! - b;
    q += (d * d) / (se[i]! * se[i]!);
  }
  waldInto(out.betaFe, out.seFe, out.pFe, out.log10pFe, r, b, Math.sqrt(1 / sw));
  out.q[r] = q;
  const df = m - 1;
  out.pHet[r] = df > 0 ? chi2Survival(q, df) : NaN;
  out.i2[r] = df > 0 ? (q > 0 ? 100 * Math.max(0, (q - df) / q) : 0) : NaN;
  const tau2 = df > 0 ? Math.max(0, (q - df) / (sw - sw2 / sw)) : 0;
  out.tau2[r] = tau2;
  // random effects: the fixed-effect weights when tau^2 = 0
  let swr = sw;
  let swrb = swb;
  if (tau2 > 0) {
    swr = 0;
    swrb = 0;
    for (let i = 0; i < m; i++) {
      const w = 1 / (se[i]! * se[i]! + tau2);
      swr += w;
      swrb += w * beta[i]!;
    }
  }
  waldInto(out.betaRe, out.seRe, out.pRe, out.log10pRe, r, swrb / swr, Math.sqrt(1 / swr));
}
