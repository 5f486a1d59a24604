/**
 * The fixed-variance-component Wald test (EMMAX / P3D): lambda is held at the null model's REML value and the
 * columns are whitened by L^-1 with L L' = V = vg K + ve I (the caller does potrf + trsm on its backend).
 * In the whitened space H = I, so GEMMA's recursion runs with unit weights: with P at level c (covariates
 * projected out) and level c + 1 (x too), df = n - c - 1,
 *   beta = P_xy / P_xx,  tau = df / Px_yy,  se = sqrt(|1 / (tau P_xx)|),  p = Q_F(1, df)((P_yy - Px_yy) tau),
 * which equals GEMMA's Wald statistic evaluated at the fixed lambda. O(n (c+2)^2) per SNP, no optimisation.
 */
import type { F64Matrix } from '../../../kernels/matrix.js';
import { writeWald, type AssocColumns } from './assoc.js';
import { LambdaObjective } from './likelihood.js';
import { fixedProducts, type NullModel } from './null-model.js';
import { pairCount, pairIndex } from './projection.js';

/** Per-phenotype state of the fixed-VC test: whitened W and y and the scratch of the recursion. */
export class FixedVcWald {
  private readonly n: number;
  private readonly c: number;
  private readonly obj: LambdaObjective;

  /** @param lw L^-1 W (n x c), @param ly L^-1 y (n), @param nullModel its REML lambda is reported as l_remle */
  constructor(private readonly lw: F64Matrix, private readonly ly: Float64Array, private readonly nullModel: NullModel) {
    this.n = lw.rows;
    this.c = lw.cols;
    if (ly.length !== this.n) throw new RangeError(`FixedVcWald: L^-1 y has ${ly.length} entries, expected ${this.n}`);
    const zeros = new Float64Array(this.n);
    this.obj = new LambdaObjective(zeros, fixedProducts({ d: zeros, uw: lw.data, c: this.c, uy: ly }, true), this.c + 2, this.c + 1);
  }

  /** Tests the whitened SNP columns of `lx` (n x m), writing at out[offset ..]. */
  testInto(lx: F64Matrix, out: AssocColumns, offset: number): void {
    const { n, c, obj } = this;
    const ab = obj.ab;
    const q = c + 2;
    const np = pairCount(q);
    const df = n - c - 1;
    const ixx = pairIndex(c, c, q);
    const ixy = pairIndex(c, c + 1, q);
    const uw = this.lw.data;
    for (let j = 0; j < lx.cols; j++) {
      const at = offset + j;
      const xo = j * lx.ld;
      for (let i = 0; i < n; i++) {
        const x = lx.data[xo + i]!;
        const base = i * np;
        ab[base + ixx] = x * x;
        ab[base + ixy] = x * this.ly[i]!;
        for (let a = 0; a < c; a++) ab[base + pairIndex(a, c, q)] = x * uw[i + a * n]!;
      }
      obj.productsChanged();
      obj.project(1);
      out.lRemle[at] = this.nullModel.lambdaRemle;
      if (!writeWald(obj, c, df, out, at)) {
        out.status[at] = 'singular';
        continue;
      }
      out.status[at] = Number.isFinite(out.log10pWald[at]!) ? 'ok' : 'non_finite';
    }
  }
}
