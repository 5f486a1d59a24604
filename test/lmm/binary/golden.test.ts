/**
 * The binary-trait maths (src/lmm/binary) against R references on data/binary (600 individuals in families,
 * 400 SNPs down to MAF 0.001; goldens from data/binary/make-golden.sh): GMMAT glmmkin's PQL/AI-REML null model,
 * SAIGE's variance-adjusted SPA computed with SPAtest's Saddle_Prob on GMMAT's null, SPAtest's ScoreTest_SPA
 * with the logistic null, and brglm2's Firth fits with the null model's offset.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { readCovariateFile, readPhenotypeFile } from '../../../src/io/gemma-tables.js';
import { openPlink } from '../../../src/io/plink.js';
import { fitLogistic } from '../../../src/lmm/binary/logistic.js';
import { fitBinaryNullModel, type BinaryNullModel } from '../../../src/lmm/binary/null-model.js';
import { allocBinaryColumns, BinaryScoreTest } from '../../../src/lmm/binary/score-test.js';
import { cpuBackendFor } from '../../helpers/cpu-backend.js';

const DIR = join(import.meta.dirname, '../../../data/binary');
interface Golden {
  n: number;
  snpIndex: number[];
  gmmat: { tau: number; alpha: number[]; alphaSe: number[]; mu: number[]; offset: number[] };
  spaMixed: { T: number[]; var1: number[]; log10p: number[]; log10pNormal: number[] };
  spaGlm: { log10p: number[] };
  firth: { snp: number; beta: number; se: number; converged: boolean; slowit: number }[];
  glmer: { alpha: number[]; alphaSe: number[]; sigma2: number };
}
const golden = JSON.parse(readFileSync(join(DIR, 'golden.json'), 'utf8')) as Golden;

/** y (binary column 2), X = [1, age, sex], the family K, and the mean-imputed dosages of every SNP. */
async function loadCohort(): Promise<{ y: Float64Array; x: F64Matrix; k: F64Matrix; g: F64Matrix }> {
  const src = await openPlink(join(DIR, 'fam'));
  const n = src.samples.length;
  const pheno = await readPhenotypeFile(join(DIR, 'fam.pheno.txt'));
  const cov = await readCovariateFile(join(DIR, 'fam.covar.txt'));
  const y = Float64Array.from({ length: n }, (_, i) => pheno.values.data[i + 1 * pheno.values.ld]!);
  const x = f64Matrix(n, 3);
  for (let i = 0; i < n; i++) {
    x.data[i] = 1;
    x.data[i + n] = cov.values.data[i]!;
    x.data[i + 2 * n] = cov.values.data[i + cov.values.ld]!;
  }
  const fams = readFileSync(join(DIR, 'fam.fam'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[0]!);
  const k = f64Matrix(n, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) k.data[i + j * n] = fams[i] === fams[j] ? 1 : 0;
  const g = f64Matrix(n, src.nSnps);
  for await (const b of src.blocks(1000)) {
    for (let j = 0; j < b.snps.length; j++) {
      let s = 0, c = 0;
      for (let i = 0; i < n; i++) {
        const v = b.dosages.data[i + j * b.dosages.ld]!;
        if (!Number.isNaN(v)) { s += v; c++; }
      }
      for (let i = 0; i < n; i++) {
        const v = b.dosages.data[i + j * b.dosages.ld]!;
        g.data[i + (b.start + j) * n] = Number.isNaN(v) ? s / c : v;
      }
    }
  }
  return { y, x, k, g };
}

/** Columns `idx` of g. */
function columns(g: F64Matrix, idx: number[]): F64Matrix {
  const out = f64Matrix(g.rows, idx.length);
  idx.forEach((j, c) => out.data.set(g.data.subarray(j * g.rows, (j + 1) * g.rows), c * g.rows));
  return out;
}

describe('binary traits vs GMMAT, SPAtest, brglm2 (data/binary)', () => {
  const backend = cpuBackendFor(1);
  let cohort: Awaited<ReturnType<typeof loadCohort>>;
  let nm: BinaryNullModel;

  it('PQL/AI-REML null model = GMMAT glmmkin (family K)', async () => {
    cohort = await loadCohort();
    nm = await fitBinaryNullModel(cohort.y, cohort.x, cohort.k, { backend: backend(), tol: 1e-8 });
    const s = nm.summary;
    expect(s.converged).toBe(true);
    expect(s.nCases).toBe(90);
    expect(Math.abs(s.tau - golden.gmmat.tau) / golden.gmmat.tau).toBeLessThan(1e-5);
    s.alpha.forEach((a, j) => expect(Math.abs(a - golden.gmmat.alpha[j]!)).toBeLessThan(1e-5 * s.alphaSe[j]!));
    s.alphaSe.forEach((se, j) => expect(Math.abs(se - golden.gmmat.alphaSe[j]!) / se).toBeLessThan(1e-5));
    let dmu = 0, doff = 0;
    for (let i = 0; i < golden.n; i++) {
      dmu = Math.max(dmu, Math.abs(nm.mu[i]! - golden.gmmat.mu[i]!));
      doff = Math.max(doff, Math.abs(nm.offset[i]! - golden.gmmat.offset[i]!));
    }
    expect(dmu).toBeLessThan(1e-6);
    expect(doff).toBeLessThan(1e-5);
  });

  it('PQL vs Laplace (lme4 glmer, documented): same sign and order of the effects, PQL tau smaller', () => {
    // PQL is known to shrink the variance of a binary random intercept in small clusters (Breslow & Clayton
    // 1993; Rodriguez & Goldman 1995): here tau 1.08 vs glmer's 2.14, and the fixed effects are attenuated by
    // roughly sqrt(1 + c^2 tau) with c = 16 sqrt(3) / (15 pi) (Zeger, Liang & Albert 1988).
    const s = nm.summary;
    expect(s.tau).toBeLessThan(golden.glmer.sigma2);
    const c2 = (16 * Math.sqrt(3) / (15 * Math.PI)) ** 2;
    const ratio = Math.sqrt((1 + c2 * golden.glmer.sigma2) / (1 + c2 * s.tau));
    for (const j of [1, 2]) {
      expect(Math.sign(s.alpha[j]!)).toBe(Math.sign(golden.glmer.alpha[j]!));
      expect(Math.abs(s.alpha[j]! * ratio - golden.glmer.alpha[j]!)).toBeLessThan(2 * golden.glmer.alphaSe[j]!);
    }
  });

  it('variance-adjusted SPA p = SAIGE formula with SPAtest Saddle_Prob on the GMMAT null, |d log10 p| <= 1e-3', async () => {
    const g = columns(cohort.g, golden.snpIndex);
    const gw = await backend().trsm(nm.chol, g);
    const out = allocBinaryColumns(g.cols);
    new BinaryScoreTest(nm, { firthP: 0 }).testInto(g, gw, out, 0);
    let worst = 0, nSpa = 0, nRare = 0;
    for (let j = 0; j < g.cols; j++) {
      expect(out.status[j]).toBe('ok');
      expect(Number.isFinite(out.log10p[j]!) && Number.isFinite(out.beta[j]!) && Number.isFinite(out.se[j]!)).toBe(true);
      worst = Math.max(worst, Math.abs(out.log10p[j]! - golden.spaMixed.log10p[j]!), Math.abs(out.log10pNormal[j]! - golden.spaMixed.log10pNormal[j]!));
      if (out.method[j] === 'spa') nSpa++;
      let s = 0;
      for (let i = 0; i < g.rows; i++) s += g.data[i + j * g.rows]!;
      if (Math.min(s, 2 * g.rows - s) / (2 * g.rows) < 0.01) nRare++;
    }
    expect(worst).toBeLessThan(1e-3);
    expect(nSpa).toBeGreaterThan(10);
    expect(nRare).toBeGreaterThan(30);
  });

  it('logistic null (tau fixed at 0) = SPAtest ScoreTest_SPA(method = "SPA"), |d log10 p| <= 1e-3', async () => {
    const glmNull = await fitBinaryNullModel(cohort.y, cohort.x, cohort.k, { backend: backend(), tol: 1e-10, fixTau: 0 });
    expect(glmNull.summary.tau).toBe(0);
    const g = columns(cohort.g, golden.snpIndex);
    const gw = await backend().trsm(glmNull.chol, g);
    const out = allocBinaryColumns(g.cols);
    new BinaryScoreTest(glmNull, { firthP: 0 }).testInto(g, gw, out, 0);
    let worst = 0;
    for (let j = 0; j < g.cols; j++) worst = Math.max(worst, Math.abs(out.log10p[j]! - golden.spaGlm.log10p[j]!));
    expect(worst).toBeLessThan(1e-3);
  });

  it('Firth with the null offset = brglm2 AS_mean: beta and se within 1e-4 relative', () => {
    const n = golden.n;
    const design = f64Matrix(n, 4);
    design.data.set(cohort.x.data.subarray(0, 3 * n));
    const offset = Float64Array.from(golden.gmmat.offset);
    expect(golden.firth.filter((f) => f.converged).length).toBeGreaterThan(40);
    for (const f of golden.firth) {
      design.data.set(cohort.g.data.subarray(f.snp * n, (f.snp + 1) * n), 3 * n);
      const fit = fitLogistic(design, cohort.y, { offset, firth: true });
      // Two SNPs (one carrier, a control, plus mean-imputed dosages near 0) have no finite maximum along which
      // brglm2 converges (it diverges to |beta| ~ 1e14): both tools must say so.
      expect(fit.converged).toBe(f.converged);
      if (!f.converged) continue;
      expect(Math.abs(fit.beta[3]! - f.beta) / Math.abs(f.beta)).toBeLessThan(1e-4);
      expect(Math.abs(fit.se[3]! - f.se) / f.se).toBeLessThan(1e-4);
    }
  });
});
