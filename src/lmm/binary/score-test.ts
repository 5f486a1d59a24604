/**
 * Per-variant tests of a binary trait against the logistic mixed null model (null-model.ts), as GMMAT's
 * glmm.score and SAIGE's step 2 do, for a variant's dosages g (n, mean-imputed, allele1 counted):
 *   T = g~' (y - mu)  with  g~ = g - X (X' W X)^-1 X' W g  (covariates projected out under W = diag(mu (1 - mu))),
 *   var1 = g' P g = |L^-1 g|^2 - (X' Sigma^-1 g)' cov (X' Sigma^-1 g)  (exact: the null model's Cholesky factor
 *          L of Sigma = diag(1/w) + tau K; the caller passes L^-1 g, one trsm per block),
 *   z = T / sqrt(var1); |z| < cutoff (2): normal p = P(chi2_1 > z^2);
 *   otherwise the saddle-point p of SAIGE (Zhou et al. 2018, Nat Genet 50:1335): the score rescaled to the
 *   variance of independent Bernoullis, q = T sqrt(var2 / var1) + m1, var2 = sum w_i g~_i^2, m1 = sum mu_i g~_i,
 *   and spa.ts's two-sided SPA for S = sum g~_i Y_i, Y_i ~ Bernoulli(mu_i).
 * Effect sizes: beta = T / var1 with se = |beta| / |z_p| (z_p the normal quantile of p / 2, so beta/se reproduce
 * p, as SAIGE), or, for variants with p < firthP (default 0.05), Firth's penalised logistic regression
 * logit(mu) = offset + X a + g beta with the null model's random-effect prediction as offset (REGENIE's --firth
 * on the null model's offset), whose beta and Wald se (brglm2's) are reported.
 * Every variant gets finite p, log10p, beta and se (se = Infinity only for a variant in the span of the
 * covariates), a `method` (normal | spa, '+firth' when beta/se came from Firth) and a `status` (ok, or the
 * ';'-separated failures: spa_not_converged, firth_not_converged, singular).
 * Cost per variant: O(n c) (plus the caller's trsm, n^2); SPA O(n) per Newton step; Firth O(n (c+1)^2) per
 * iteration.
 */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { chi2Log10Survival, normalQuantile } from '../../stats/distributions.js';
import { fitLogistic } from './logistic.js';
import { invertSpd, type BinaryNullModel } from './null-model.js';
import { BernoulliCgf, spaPValue } from './spa.js';

export interface BinaryTestOptions {
  /** Variants with p below this get Firth's beta and se (default 0.05; 0 disables Firth). */
  firthP?: number;
  /** |z| below which the normal approximation is used (default 2, SPAtest's and SAIGE's). */
  spaCutoff?: number;
}

/** Result columns, one entry per variant. */
export interface BinaryAssocColumns {
  nCases: Int32Array;
  nControls: Int32Array;
  afCases: Float64Array;
  afControls: Float64Array;
  beta: Float64Array;
  se: Float64Array;
  p: Float64Array;
  log10p: Float64Array;
  /** log10 p of the normal approximation (SAIGE's p.value.NA), for every variant. */
  log10pNormal: Float64Array;
  method: string[];
  status: string[];
}

export function allocBinaryColumns(m: number): BinaryAssocColumns {
  return {
    nCases: new Int32Array(m), nControls: new Int32Array(m), afCases: new Float64Array(m), afControls: new Float64Array(m),
    beta: new Float64Array(m), se: new Float64Array(m), p: new Float64Array(m), log10p: new Float64Array(m), log10pNormal: new Float64Array(m),
    method: new Array<string>(m).fill(''), status: new Array<string>(m).fill(''),
  };
}

const LN10 = Math.log(10);

/** |z| of a two-sided normal p given as log10 p (accurate below the f64 range through the tail asymptote). */
function zOfLog10p(log10p: number): number {
  if (log10p > -300) return -normalQuantile(Math.pow(10, log10p) / 2);
  // Mills ratio: log(p/2) = -z^2/2 - log(z sqrt(2 pi)); two fixed-point steps from z^2 = -2 log(p/2).
  const l = log10p * LN10 - Math.LN2;
  let z = Math.sqrt(-2 * l);
  for (let i = 0; i < 4; i++) z = Math.sqrt(-2 * (l + Math.log(z * Math.sqrt(2 * Math.PI))));
  return z;
}

/** The tests of one phenotype's variants against its null model. Not thread-safe (scratch buffers). */
export class BinaryScoreTest {
  private readonly n: number;
  private readonly c: number;
  private readonly w: Float64Array;
  private readonly resid: Float64Array;
  private readonly logitMu: Float64Array;
  /** (X' W X)^-1, c x c. */
  private readonly xwxInv: Float64Array;
  private readonly firthP: number;
  private readonly cutoff: number;
  private readonly gt: Float64Array;
  private readonly design: F64Matrix;
  /** Firth's starting point: the null model's covariate effects and 0 for the variant. */
  private readonly firthStart: Float64Array;

  constructor(private readonly nm: BinaryNullModel, opts: BinaryTestOptions = {}) {
    const { mu, y, x } = nm;
    const n = (this.n = mu.length);
    const c = (this.c = x.cols);
    this.firthP = opts.firthP ?? 0.05;
    this.cutoff = opts.spaCutoff ?? 2;
    this.w = new Float64Array(n);
    this.resid = new Float64Array(n);
    this.logitMu = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.w[i] = mu[i]! * (1 - mu[i]!);
      this.resid[i] = y[i]! - mu[i]!;
      this.logitMu[i] = Math.log(mu[i]! / (1 - mu[i]!));
    }
    const xwx = new Float64Array(c * c);
    for (let a = 0; a < c; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += x.data[i + a * x.ld]! * this.w[i]! * x.data[i + b * x.ld]!;
        xwx[a + b * c] = s;
        xwx[b + a * c] = s;
      }
    }
    this.xwxInv = invertSpd(xwx, c, "X' W X");
    this.gt = new Float64Array(n);
    // [X, g] for the Firth fits: the covariates copied once, g set per variant.
    this.design = f64Matrix(n, c + 1);
    for (let a = 0; a < c; a++) for (let i = 0; i < n; i++) this.design.data[i + a * n] = x.data[i + a * x.ld]!;
    this.firthStart = Float64Array.from([...nm.summary.alpha, 0]);
  }

  /**
   * Tests the m variants whose dosages are the columns of `g` (n x m, mean-imputed) given their whitened columns
   * `gw` = L^-1 g (n x m); `missing` (n x m, 1 = missing, optional) only affects the case/control counts and
   * frequencies. Writes rows offset .. offset + m - 1 of `out`.
   */
  testInto(g: F64Matrix, gw: F64Matrix, out: BinaryAssocColumns, offset: number, missing?: Uint8Array): void {
    const { n, c, nm, w, resid, gt } = this;
    const x = nm.x;
    const bx = nm.whitenedX;
    const m = g.cols;
    if (g.rows !== n || gw.rows !== n || gw.cols !== m) throw new RangeError(`BinaryScoreTest.testInto: g ${g.rows}x${g.cols} and L^-1 g ${gw.rows}x${gw.cols}, expected ${n} rows and equal columns`);
    const xwg = new Float64Array(c);
    const h = new Float64Array(c);
    const bg = new Float64Array(c);
    for (let j = 0; j < m; j++) {
      const at = offset + j;
      const go = j * g.ld;
      const wo = j * gw.ld;
      // Step 1: case/control counts and allele frequencies over the non-missing genotypes.
      let nCa = 0, nCo = 0, sCa = 0, sCo = 0;
      for (let i = 0; i < n; i++) {
        if (missing && missing[i + j * n]) continue;
        const v = g.data[go + i]!;
        if (nm.y[i] === 1) {
          nCa++;
          sCa += v;
        } else {
          nCo++;
          sCo += v;
        }
      }
      out.nCases[at] = nCa;
      out.nControls[at] = nCo;
      out.afCases[at] = nCa > 0 ? sCa / (2 * nCa) : 0;
      out.afControls[at] = nCo > 0 ? sCo / (2 * nCo) : 0;
      // Step 2: var1 = g' P g from the whitened column.
      let gg = 0;
      bg.fill(0);
      for (let i = 0; i < n; i++) {
        const v = gw.data[wo + i]!;
        gg += v * v;
        for (let a = 0; a < c; a++) bg[a]! += bx.data[i + a * bx.ld]! * v;
      }
      let var1 = gg;
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) var1 -= bg[a]! * nm.cov[a + b * c]! * bg[b]!;
      // Step 3: g~ (covariates projected out under W), T, var2 and m1.
      xwg.fill(0);
      for (let i = 0; i < n; i++) {
        const wv = w[i]! * g.data[go + i]!;
        for (let a = 0; a < c; a++) xwg[a]! += x.data[i + a * x.ld]! * wv;
      }
      h.fill(0);
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) h[a]! += this.xwxInv[a + b * c]! * xwg[b]!;
      let t = 0, var2 = 0, m1 = 0;
      for (let i = 0; i < n; i++) {
        let v = g.data[go + i]!;
        for (let a = 0; a < c; a++) v -= x.data[i + a * x.ld]! * h[a]!;
        gt[i] = v;
        t += v * resid[i]!;
        var2 += w[i]! * v * v;
        m1 += nm.mu[i]! * v;
      }
      if (!(var1 > 1e-10 * gg) || !(var2 > 0)) {
        out.beta[at] = 0;
        out.se[at] = Infinity;
        out.p[at] = 1;
        out.log10p[at] = 0;
        out.log10pNormal[at] = 0;
        out.method[at] = 'none';
        out.status[at] = 'singular';
        continue;
      }
      // Step 4: p from the normal approximation or the saddle point.
      const status: string[] = [];
      const z = t / Math.sqrt(var1);
      out.log10pNormal[at] = chi2Log10Survival(z * z, 1);
      const q = z * Math.sqrt(var2) + m1;
      const spa = spaPValue(new BernoulliCgf(nm.mu, gt, this.logitMu), q, this.cutoff);
      if (!spa.converged) status.push('spa_not_converged');
      const log10p = spa.log10p;
      out.log10p[at] = log10p;
      out.p[at] = Math.pow(10, log10p);
      let method: string = spa.method;
      // Step 5: beta and se from the score (consistent with p), or from Firth below firthP.
      const beta = t / var1;
      const zp = zOfLog10p(log10p);
      out.beta[at] = beta;
      out.se[at] = zp > 0 ? Math.abs(beta) / zp : 1 / Math.sqrt(var1);
      if (out.p[at]! < this.firthP) {
        this.design.data.set(g.data.subarray(go, go + n), c * n);
        const f = fitLogistic(this.design, nm.y, { offset: nm.offset, firth: true, start: this.firthStart });
        if (f.converged && Number.isFinite(f.beta[c]!) && Number.isFinite(f.se[c]!)) {
          out.beta[at] = f.beta[c]!;
          out.se[at] = f.se[c]!;
          method += '+firth';
        } else status.push('firth_not_converged');
      }
      out.method[at] = method;
      out.status[at] = status.length ? status.join(';') : 'ok';
    }
  }
}
