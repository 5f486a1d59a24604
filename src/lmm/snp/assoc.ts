/**
 * GEMMA 0.98.5's per-SNP tests (lmm.cpp CalcRLScore, CalcRLWald, CalcLambda + LRT) on eigen-rotated SNPs.
 * Columns are [W (c), x, y]; with P at the projection levels of projection.ts and df = n - c - 1:
 * - score, at the null ML lambda: beta = P_xy / P_xx, tau = df / Px_yy, se = sqrt(|1 / (tau P_xx)|),
 *   p_score = Q_F(1, df)(n P_xy^2 / (P_yy P_xx))  (n, not df, as GEMMA);
 * - Wald, at the SNP's REML lambda (l_remle): same beta and se, p_wald = Q_F(1, df)((P_yy - Px_yy) tau);
 * - LRT, at the SNP's ML lambda (l_mle): p_lrt = Q_chi2(1)(2 (l_H1 - l_H0,ML)).
 * P_yy, P_xx, P_xy are at level c (covariates projected out), Px_yy at level c + 1 (x too).
 * With every test (GEMMA -lmm 4) beta/se come from the Wald step and logl_H1 from the ML step.
 * A SNP whose optimisation fails or whose statistics are not finite gets a `status`, never a silent NaN.
 * Cost per SNP: O(n (c+2)^2) per likelihood evaluation (weighted-sums-kernel.ts); on mouse-like data one
 * O(n (c+2)) pass forming the SNP's products (and their plain sums, for ln|W'W|), the tabulated pass (one
 * O(n 12) pass per SNP pair: the 11 grid lambdas and the score's null ML lambda), ~5 order-2 (Brent) and ~3
 * order-3 (Newton; the first one third-order only) passes per optimised likelihood.
 */
import { chi2Log10Survival, chi2Survival, fLog10Survival, fSurvival } from '../../stats/distributions.js';
import { LAMBDA_GRID, optimiseLambda } from './lambda-optimiser.js';
import { LambdaObjective } from './likelihood.js';
import { checkRotatedInputs, fixedProducts, logDetHAtEnds, type NullModel, type RotatedInputs } from './null-model.js';
import { pairIndex } from './projection.js';

/** Which tests to run (GEMMA -lmm 1 = wald, 2 = lrt, 3 = score, 4 = all three). */
export interface TestSelection {
  wald: boolean;
  lrt: boolean;
  score: boolean;
}

/** Structure-of-arrays results, one entry per SNP (NaN where a test was not run or failed; see status). */
export interface AssocColumns {
  beta: Float64Array;
  se: Float64Array;
  loglH1: Float64Array;
  lRemle: Float64Array;
  lMle: Float64Array;
  pWald: Float64Array;
  pLrt: Float64Array;
  pScore: Float64Array;
  log10pWald: Float64Array;
  log10pLrt: Float64Array;
  log10pScore: Float64Array;
  /** 'ok', or why some statistic is missing ('singular', 'remle:newton_failed', ...; ';'-separated). */
  status: string[];
}

/** Allocates result columns for m SNPs (all NaN, status ''). */
export function allocAssocColumns(m: number): AssocColumns {
  const f = (): Float64Array => new Float64Array(m).fill(NaN);
  return {
    beta: f(), se: f(), loglH1: f(), lRemle: f(), lMle: f(), pWald: f(), pLrt: f(), pScore: f(),
    log10pWald: f(), log10pLrt: f(), log10pScore: f(), status: new Array<string>(m).fill(''),
  };
}

/**
 * GEMMA's Wald test from cross-products already projected at the SNP's lambda (`obj.project(lambda)`), with
 * covariates at indices 0..c-1, the SNP at c and y at c+1:
 *   beta = P_xy / P_xx,  tau = df / Px_yy,  se = sqrt(|1 / (tau P_xx)|),  F = (P_yy - Px_yy) tau ~ F(1, df),
 * where P_ab is projected on W and Px_yy also on x. Writes beta, se, pWald and log10pWald at row `at`;
 * returns false, writing nothing, when P_xx <= 0 (x is in the span of W: singular). Cost O(1).
 */
export function writeWald(obj: LambdaObjective, c: number, df: number, out: AssocColumns, at: number): boolean {
  const pxx = obj.pAt(c, c, c);
  if (!(pxx > 0)) return false;
  const pxy = obj.pAt(c, c, c + 1);
  const pyy = obj.pAt(c, c + 1, c + 1);
  const pxyy = obj.pAt(c + 1, c + 1, c + 1);
  const tau = df / pxyy;
  out.beta[at] = pxy / pxx;
  out.se[at] = Math.sqrt(Math.abs(1 / (tau * pxx)));
  const stat = (pyy - pxyy) * tau;
  out.pWald[at] = fSurvival(stat, 1, df);
  out.log10pWald[at] = fLog10Survival(stat, 1, df);
  return true;
}

/** Runs the selected tests for SNPs of one phenotype; holds the fixed products and scratch. Not thread-safe. */
export class SnpAssociation {
  private readonly n: number;
  private readonly c: number;
  private readonly obj: LambdaObjective;
  private readonly ldhEnds: [number, number];
  private readonly remlDev1 = new Float64Array(LAMBDA_GRID.length);
  private readonly mlDev1 = new Float64Array(LAMBDA_GRID.length);
  private readonly ends = new Float64Array(4);
  /** Whether the grid is needed (Wald or LRT); then the score's lambda is tabulated with it. */
  private readonly optimise: boolean;
  private readonly df: number;

  constructor(
    inputs: RotatedInputs,
    private readonly nullModel: NullModel,
    private readonly tests: TestSelection,
  ) {
    this.n = checkRotatedInputs(inputs);
    if (!tests.wald && !tests.lrt && !tests.score) throw new RangeError('SnpAssociation: select at least one test');
    const c = (this.c = inputs.c);
    const q = c + 2;
    this.optimise = tests.wald || tests.lrt;
    // The SNP's pairs: x with each covariate, x x, x y (column -1 = x itself; columns c..: uw's, then uy).
    const columns = Array.from({ length: c }, (_, a) => inputs.uw.subarray(a * this.n, (a + 1) * this.n));
    columns.push(inputs.uy);
    const pairs = Array.from({ length: q }, (_, a) => ({ pair: pairIndex(a, c, q), column: a === c ? -1 : a < c ? a : c }));
    this.obj = new LambdaObjective(inputs.d, fixedProducts(inputs, true), q, c + 1, {
      products: { columns, pairs },
      ...(this.optimise ? { tabulate: [nullModel.lambdaMle] } : {}),
    });
    this.ldhEnds = logDetHAtEnds(inputs.d);
    if (this.optimise) this.obj.enableFastGrid(Int32Array.from(pairs, (e) => e.pair));
    this.df = this.n - c - 1;
  }

  /**
   * Tests the m SNPs whose rotated genotypes U'x are the columns of `ux` (n x m, column-major, leading dimension
   * n), writing results at out[offset .. offset + m). O(m n (c+2)^2 evaluations).
   */
  testInto(ux: Float64Array, m: number, out: AssocColumns, offset: number): void {
    const { n, c, obj, df, tests } = this;
    if (ux.length < n * m) throw new RangeError(`SnpAssociation.testInto: U'x has ${ux.length} entries, expected ${n}x${m}`);
    const nullMl = this.nullModel.loglMle;
    /** Table index of the null ML lambda (after the grid's). */
    const scoreAt = LAMBDA_GRID.length;
    for (let j = 0; j < m; j++) {
      const at = offset + j;
      // Step 1: the SNP's products with every column, and ln|W'W|.
      obj.x.set(ux.subarray(j * n, (j + 1) * n));
      obj.formProducts();
      const status: string[] = [];
      // Step 2: score at the null ML lambda (tabulated with the grid when the grid is needed).
      if (tests.score) {
        if (this.optimise) obj.projectTabulated(scoreAt);
        else obj.project(this.nullModel.lambdaMle);
        const pxx = obj.pAt(c, c, c);
        const pxy = obj.pAt(c, c, c + 1);
        const pyy = obj.pAt(c, c + 1, c + 1);
        const pxyy = obj.pAt(c + 1, c + 1, c + 1);
        if (!(pxx > 0)) status.push('singular');
        else {
          const tau = df / pxyy;
          out.beta[at] = pxy / pxx;
          out.se[at] = Math.sqrt(Math.abs(1 / (tau * pxx)));
          const stat = (n * pxy * pxy) / (pyy * pxx);
          out.pScore[at] = fSurvival(stat, 1, df);
          out.log10pScore[at] = fLog10Survival(stat, 1, df);
        }
      }
      if (this.optimise) obj.grid(this.ldhEnds, this.remlDev1, this.mlDev1, this.ends);
      // Step 3: Wald at the SNP's REML lambda.
      if (tests.wald) {
        const r = optimiseLambda(obj, 'reml', this.remlDev1, [this.ends[0]!, this.ends[1]!]);
        if (r.status !== 'ok') status.push(`remle:${r.status}`);
        else {
          out.lRemle[at] = r.lambda;
          out.loglH1[at] = r.logl;
          obj.project(r.lambda);
          if (!writeWald(obj, c, df, out, at) && !status.includes('singular')) status.push('singular');
        }
      }
      // Step 4: LRT at the SNP's ML lambda.
      if (tests.lrt) {
        const r = optimiseLambda(obj, 'ml', this.mlDev1, [this.ends[2]!, this.ends[3]!]);
        if (r.status !== 'ok') status.push(`mle:${r.status}`);
        else {
          out.lMle[at] = r.lambda;
          out.loglH1[at] = r.logl;
          const stat = 2 * (r.logl - nullMl);
          out.pLrt[at] = chi2Survival(stat, 1);
          out.log10pLrt[at] = chi2Log10Survival(stat, 1);
        }
      }
      if (status.length === 0) {
        const bad = (tests.score && !Number.isFinite(out.log10pScore[at]!)) || (tests.wald && !Number.isFinite(out.log10pWald[at]!)) || (tests.lrt && !Number.isFinite(out.log10pLrt[at]!));
        if (bad) status.push('non_finite');
      }
      out.status[at] = status.length === 0 ? 'ok' : status.join(';');
    }
  }
}
