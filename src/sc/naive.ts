/**
 * The naive cell-level test that ignores donors: Welch's two-sample t on y = log1p(1e4 c / L) between the
 * cells of condition B and A. Kept as the miscalibrated baseline of the calibration report (cells of one donor
 * are treated as independent replicates), never as a recommended method.
 */
import { tSurvival2 } from '../stats/distributions.js';
import type { CellGeneStats } from './cell-stats.js';

export interface WelchResult {
  readonly diff: Float64Array;
  readonly se: Float64Array;
  readonly df: Float64Array;
  readonly t: Float64Array;
  readonly p: Float64Array;
}

/**
 * Welch t per gene from the sufficient statistics (xy column 0 = sum y over all cells, column 1 = sum y over
 * B cells when X = [1, 1{B}, ...]), yy and yyB. mean_B - mean_A, se = sqrt(s_A^2/n_A + s_B^2/n_B),
 * Welch-Satterthwaite df. Genes with zero variance in both groups get NaN. Cost O(genes).
 */
export function welchFromStats(stats: CellGeneStats, p: number, nA: number, nB: number): WelchResult {
  if (!(nA >= 2 && nB >= 2)) throw new Error(`welchFromStats: need >= 2 cells per group, got ${nA} and ${nB}`);
  const nG = stats.nGenes;
  const out: WelchResult = {
    diff: new Float64Array(nG),
    se: new Float64Array(nG),
    df: new Float64Array(nG),
    t: new Float64Array(nG),
    p: new Float64Array(nG),
  };
  for (let g = 0; g < nG; g++) {
    const sB = stats.xy[g * p + 1]!;
    const sA = stats.xy[g * p]! - sB;
    const qB = stats.yyB[g]!;
    const qA = stats.yy[g]! - qB;
    const mA = sA / nA;
    const mB = sB / nB;
    const vA = Math.max(0, (qA - nA * mA * mA) / (nA - 1)) / nA;
    const vB = Math.max(0, (qB - nB * mB * mB) / (nB - 1)) / nB;
    const se = Math.sqrt(vA + vB);
    const df = (vA + vB) ** 2 / ((vA * vA) / (nA - 1) + (vB * vB) / (nB - 1));
    const t = (mB - mA) / se;
    out.diff[g] = mB - mA;
    out.se[g] = se;
    out.df[g] = se > 0 ? df : Number.NaN;
    out.t[g] = se > 0 ? t : Number.NaN;
    out.p[g] = se > 0 ? tSurvival2(t, df) : Number.NaN;
  }
  return out;
}
