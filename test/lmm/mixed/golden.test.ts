/**
 * Parity with lme4 1.1-31 / lmerTest / pbkrtest on the datasets and fits of data/lme4/make-golden.R
 * (golden.json). Tolerances are the issue's: fixed effects within 1e-3 se, se and variance components within
 * 1e-3 relative, REML criterion / deviance within 1e-2, df within 1e-2 relative, GLMM logLik within 1e-2.
 * GLMMs also: glmer's intermediate quantities (stage-1 optimum, Laplace deviance function, Hessian, vcov),
 * and the exact-Laplace mode against glmmTMB.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { LaplaceDeviance } from '../../../src/lmm/mixed/glmm.js';
import { fit, r2Nakagawa, type Family, type MixedModel } from '../../../src/lmm/mixed/index.js';
import { buildModel } from '../../../src/lmm/mixed/model.js';
import { centralHessian } from '../../../src/lmm/mixed/numeric-derivatives.js';

const dir = new URL('../../../data/lme4/', import.meta.url).pathname;
interface GoldenFit {
  id: string;
  data: string;
  formula: string;
  family: Family;
  REML: boolean;
  fixef: { term: string; estimate: number; se: number; df?: number; p: number }[];
  kenwardRoger?: { term: string; se: number; df: number }[];
  REMLcrit: number | null;
  logLik: number;
  AIC: number;
  BIC: number;
  nobs: number;
  ngrps: Record<string, number>;
  theta: number[];
  singular: boolean;
  varcorr: { grp: string; var1: string | null; var2: string | null; vcov: number; sdcor: number | null }[];
  ranef: { grp: string; term: string; level: string; value: number; condsd: number }[] | null;
  /** GLMMs: glmer's stage-1 optimum, deviance function values at [theta, beta] points, Hessian, vcov */
  stage1?: { theta: number[]; beta: number[] };
  devfun?: { par: number[]; value: number }[];
  /** the tight minimum of glmer's deviance function (minqa::bobyqa, rhoend 1e-11) */
  tightMinimum?: { par: number[]; value: number };
  hessian?: number[][];
  vcov?: number[][];
  /** GLMMs: the exact Laplace fit by glmmTMB */
  glmmTMB?: { logLik: number; fixef: { term: string; estimate: number; se: number }[]; varcorr: Record<string, number[]> };
  /** Nakagawa R2 and adjusted ICC (GLMMs: performance::r2_nakagawa / icc, insight::get_variance) */
  r2?: { marginal: number; conditional: number; icc: number; varFixed?: number; varRandom?: number; varResidual?: number; nullConverged?: boolean };
}
const golden = JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as { fits: GoldenFit[] };

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/**
 * Errors of variance-component rows (grp, var1, var2 as R's as.data.frame(VarCorr)) against reference values
 * in the same order: relative for variances; for covariances relative to sqrt(var1 var2) of the reference,
 * the covariance's scale (a relative error is meaningless for a covariance near 0).
 */
function vcErrors(rows: { grp: string; var1: string | null; var2: string | null }[], ours: number[], ref: number[]): number[] {
  const refVar = (grp: string, name: string) => ref[rows.findIndex((r) => r.grp === grp && r.var1 === name && r.var2 === null)]!;
  return rows.map((r, k) =>
    r.var2 === null ? relErr(ours[k]!, ref[k]!) : Math.abs(ours[k]! - ref[k]!) / Math.sqrt(refVar(r.grp, r.var1!) * refVar(r.grp, r.var2)));
}

describe('lme4 golden fits', () => {
  /** the default fits, reused by the GLMM internals tests */
  const fitted = new Map<string, MixedModel>();
  for (const g of golden.fits) {
    it(`${g.id}: ${g.formula}`, async () => {
      const table = await readTable(`${dir}${g.data}`);
      const m = fit(table, g.formula, { family: g.family, REML: g.REML });
      fitted.set(g.id, m);
      expect(m.nobs).toBe(g.nobs);
      expect(m.ngrps).toEqual(g.ngrps);
      expect(m.singular).toBe(g.singular);
      expect(m.fixef.map((r) => r.term)).toEqual(g.fixef.map((r) => r.term));
      if (g.family === 'gaussian') {
        m.fixef.forEach((r, j) => {
          const ref = g.fixef[j]!;
          expect(Math.abs(r.estimate - ref.estimate) / ref.se).toBeLessThan(1e-3);
          expect(relErr(r.se, ref.se)).toBeLessThan(1e-3);
          expect(relErr(r.df, ref.df!)).toBeLessThan(1e-2);
        });
        if (g.REML) expect(Math.abs(m.REMLcrit! - g.REMLcrit!)).toBeLessThan(1e-2);
        else expect(Math.abs(m.deviance! + 2 * g.logLik)).toBeLessThan(1e-2);
      } else {
        m.fixef.forEach((r, j) => {
          const ref = g.fixef[j]!;
          expect(Math.abs(r.estimate - ref.estimate) / ref.se).toBeLessThan(1e-3);
          expect(relErr(r.se, ref.se)).toBeLessThan(1e-3);
        });
      }
      expect(m.varcorr.map((r) => [r.grp, r.var1, r.var2])).toEqual(g.varcorr.map((r) => [r.grp, r.var1, r.var2]));
      const vcErr = vcErrors(g.varcorr, m.varcorr.map((r) => r.vcov), g.varcorr.map((r) => r.vcov));
      m.varcorr.forEach((r, j) => {
        if (g.varcorr[j]!.vcov === 0) expect(Math.abs(r.vcov)).toBeLessThan(1e-6);
        else expect(vcErr[j]).toBeLessThan(1e-3);
      });
      expect(Math.abs(m.logLik - g.logLik)).toBeLessThan(1e-2);
      expect(Math.abs(m.AIC - g.AIC)).toBeLessThan(2e-2);
      expect(Math.abs(m.BIC - g.BIC)).toBeLessThan(2e-2);
      if (g.ranef) {
        const re = m.ranef();
        expect(re.map((r) => [r.grp, r.term, r.level])).toEqual(g.ranef.map((r) => [r.grp, r.term, r.level]));
        const scale = Math.max(...g.ranef.map((r) => Math.abs(r.value)));
        re.forEach((r, j) => {
          expect(Math.abs(r.value - g.ranef![j]!.value) / scale).toBeLessThan(1e-3);
          expect(relErr(r.condsd, g.ranef![j]!.condsd)).toBeLessThan(1e-3);
        });
      }
    });
    if (g.devfun) {
      it(`${g.id}: glmer's stage-1 optimum, Laplace deviance function, Hessian and vcov`, async () => {
        const table = await readTable(`${dir}${g.data}`);
        const mod = buildModel(table, g.formula, g.family);
        const dev = new LaplaceDeviance(mod.terms, mod.x, mod.frame, g.family as 'binomial' | 'poisson');
        const s1 = dev.optimizeStage1();
        s1.theta.forEach((v, i) => expect(Math.abs(v - g.stage1!.theta[i]!)).toBeLessThan(1e-5));
        s1.beta.forEach((v, i) => expect(Math.abs(v - g.stage1!.beta[i]!)).toBeLessThan(1e-5));
        // same PIRLS start, steps, stopping rule and log|L|^2 as glmerLaplace: the values agree to rounding
        for (const pt of g.devfun!) expect(Math.abs(dev.stage2(pt.par) - pt.value)).toBeLessThan(1e-6);
        const par = g.devfun![0]!.par;
        const d = par.length;
        const H = centralHessian((v) => dev.stage2(v), par, 1e-4);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
          const scale = Math.sqrt(g.hessian![i]![i]! * g.hessian![j]![j]!);
          expect(Math.abs(H[i + j * d]! - g.hessian![i]![j]!) / scale).toBeLessThan(1e-3);
        }
        const m = fitted.get(g.id) ?? fit(table, g.formula, { family: g.family });
        // the optimum reached: the tight minimum of the same function, to 1e-4 se
        const nt = s1.theta.length;
        m.fixef.forEach((r, j) => expect(Math.abs(r.estimate - g.tightMinimum!.par[nt + j]!) / r.se).toBeLessThan(1e-4));
        expect(Math.abs(-2 * m.logLik - g.tightMinimum!.value)).toBeLessThan(1e-6);
        const p = g.vcov!.length;
        for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) {
          const scale = Math.sqrt(g.vcov![i]![i]! * g.vcov![j]![j]!);
          expect(Math.abs(m.vcov[i + j * p]! - g.vcov![i]![j]!) / scale).toBeLessThan(1e-3);
        }
      });
    }
    if (g.family !== 'gaussian' && g.r2) {
      it(`${g.id}: Nakagawa R2 and ICC as performance::r2_nakagawa`, async () => {
        const table = await readTable(`${dir}${g.data}`);
        const r = r2Nakagawa(fitted.get(g.id) ?? fit(table, g.formula, { family: g.family }));
        const ref = g.r2!;
        expect(relErr(r.varFixed, ref.varFixed!)).toBeLessThan(1e-4);
        expect(relErr(r.varRandom, ref.varRandom!)).toBeLessThan(1e-4);
        // The Poisson residual variance comes from a refit of the null model. Where lme4 warned that that fit
        // failed to converge (grouseticks: max|grad| 0.08, "nearly unidentifiable"), its intercept depends on
        // the optimiser (glmer's Nelder-Mead 0.4219, bobyqa 0.4389 as this engine), and so does R2 (~1e-3).
        if (!ref.nullConverged) return;
        expect(relErr(r.varResidual, ref.varResidual!)).toBeLessThan(1e-4);
        expect(Math.abs(r.marginal - ref.marginal)).toBeLessThan(1e-4);
        expect(Math.abs(r.conditional - ref.conditional)).toBeLessThan(1e-4);
        expect(Math.abs(r.icc - ref.icc)).toBeLessThan(1e-4);
      });
    }
    if (g.glmmTMB) {
      it(`${g.id}: laplace 'exact' against glmmTMB's Laplace fit`, async () => {
        const table = await readTable(`${dir}${g.data}`);
        const m = fit(table, g.formula, { family: g.family, laplace: 'exact' });
        const ref = g.glmmTMB!;
        expect(Math.abs(m.logLik - ref.logLik)).toBeLessThan(1e-2);
        expect(m.fixef.map((r) => r.term)).toEqual(ref.fixef.map((r) => r.term));
        m.fixef.forEach((r, j) => {
          expect(Math.abs(r.estimate - ref.fixef[j]!.estimate) / ref.fixef[j]!.se).toBeLessThan(1e-3);
          expect(relErr(r.se, ref.fixef[j]!.se)).toBeLessThan(1e-3);
        });
        for (const [grp, ref] of Object.entries(g.glmmTMB!.varcorr)) {
          const rows = m.varcorr.filter((r) => r.grp === grp);
          expect(rows.length).toBe(ref.length);
          for (const e of vcErrors(rows, rows.map((r) => r.vcov), ref)) expect(e).toBeLessThan(1e-3);
        }
      });
    }
    if (g.kenwardRoger) {
      it(`${g.id}: Kenward-Roger df and adjusted se`, async () => {
        const table = await readTable(`${dir}${g.data}`);
        const m = fit(table, g.formula, { REML: true, ddf: 'kenward-roger' });
        m.fixef.forEach((r, j) => {
          expect(relErr(r.df, g.kenwardRoger![j]!.df)).toBeLessThan(1e-2);
          expect(relErr(r.se, g.kenwardRoger![j]!.se)).toBeLessThan(1e-3);
        });
      });
    }
  }
});
