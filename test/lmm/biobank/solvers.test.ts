/**
 * The matrix-free solvers of src/lmm/biobank against dense oracles: Gauss rules against eigenvalues, batched CG
 * against Cholesky solves, and the stochastic-Lanczos REML against the exact REML of the GEMMA null model
 * (src/lmm/snp/null-model.ts, eigendecomposition of K) on the same data.
 */
import { describe, expect, it } from 'vitest';
import { cpuEigh, cpuGemm, cpuPotrf, cpuPotrs } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { batchedCg } from '../../../src/lmm/biobank/cg.js';
import type { BatchedOperator } from '../../../src/lmm/biobank/operator.js';
import { slqReml, solveShiftedTridiagonal } from '../../../src/lmm/biobank/slq-reml.js';
import { gaussRule } from '../../../src/lmm/biobank/tridiagonal.js';
import { fitNullModel } from '../../../src/lmm/snp/null-model.js';
import { normal, rng } from '../../helpers/random.js';

/** A kinship from random standardised genotypes (n x m, some pairs related) and covariates with an intercept. */
function simulate(n: number, m: number, seed: number, h2: number) {
  const u = rng(seed);
  const z = normal(u);
  const g = f64Matrix(n, m);
  for (let j = 0; j < m; j++) {
    const p = 0.1 + 0.4 * u();
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      // pairs (2k, 2k+1) share one allele copy: relatedness
      const a = i % 2 === 1 && i < n / 2 ? g.data[i - 1 + j * n]! >= 1 ? 1 : 0 : u() < p ? 1 : 0;
      const v = a + (u() < p ? 1 : 0);
      g.data[i + j * n] = v;
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const sd = Math.sqrt((s2 - n * mean * mean) / (n - 1)) || 1;
    for (let i = 0; i < n; i++) g.data[i + j * n] = (g.data[i + j * n]! - mean) / sd;
  }
  const k = cpuGemm(g, g, { transB: true, alpha: 1 / m });
  const w = f64Matrix(n, 2);
  for (let i = 0; i < n; i++) {
    w.data[i] = 1;
    w.data[i + n] = z();
  }
  const beta = Float64Array.from({ length: m }, () => z() * Math.sqrt(h2 / m));
  const y = f64Matrix(n, 1);
  for (let i = 0; i < n; i++) {
    let s = 1 + 0.5 * w.data[i + n]!;
    for (let j = 0; j < m; j++) s += g.data[i + j * n]! * beta[j]!;
    y.data[i] = s + z() * Math.sqrt(1 - h2);
  }
  return { k, w, y, u };
}

/** Orthonormal basis of W's columns (modified Gram-Schmidt) and the projector S v = v - Q Q'v. */
function projector(w: F64Matrix) {
  const n = w.rows;
  const q = f64Matrix(n, w.cols, Float64Array.from(w.data));
  for (let a = 0; a < q.cols; a++) {
    for (let b = 0; b < a; b++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q.data[i + a * n]! * q.data[i + b * n]!;
      for (let i = 0; i < n; i++) q.data[i + a * n]! -= d * q.data[i + b * n]!;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += q.data[i + a * n]! ** 2;
    for (let i = 0; i < n; i++) q.data[i + a * n]! /= Math.sqrt(s);
  }
  const project = (v: F64Matrix): F64Matrix => {
    const out = f64Matrix(v.rows, v.cols, Float64Array.from(v.data));
    for (let b = 0; b < v.cols; b++) {
      for (let a = 0; a < q.cols; a++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q.data[i + a * n]! * out.data[i + b * n]!;
        for (let i = 0; i < n; i++) out.data[i + b * n]! -= d * q.data[i + a * n]!;
      }
    }
    return out;
  };
  return { q, project };
}

describe('gaussRule', () => {
  it('gives the eigenvalues of T and the squared first eigenvector components', () => {
    const alpha = [2, 3, 1.5, 4, 0.5];
    const beta = [0.7, -0.2, 1.1, 0.3];
    const t = f64Matrix(5, 5);
    alpha.forEach((a, i) => (t.data[i + 5 * i] = a));
    beta.forEach((b, i) => {
      t.data[i + 1 + 5 * i] = b;
      t.data[i + 5 * (i + 1)] = b;
    });
    const { values, vectors } = cpuEigh(t);
    const rule = gaussRule(alpha, beta);
    const order = Array.from(rule.theta.keys()).sort((a, b) => rule.theta[a]! - rule.theta[b]!);
    order.forEach((o, r) => {
      expect(rule.theta[o]).toBeCloseTo(values[r]!, 12);
      expect(rule.weight[o]).toBeCloseTo(vectors.data[5 * r]! ** 2, 12);
    });
    const x = solveShiftedTridiagonal(alpha, beta, 5, 0.3);
    // (T + 0.3 I) x = e1
    for (let i = 0; i < 5; i++) {
      let s = (alpha[i]! + 0.3) * x[i]!;
      if (i > 0) s += beta[i - 1]! * x[i - 1]!;
      if (i < 4) s += beta[i]! * x[i + 1]!;
      expect(s).toBeCloseTo(i === 0 ? 1 : 0, 12);
    }
  });
});

describe('batchedCg', () => {
  it('solves shifted systems per column (with and without a preconditioner and warm start) to the tolerance', async () => {
    const { k, u } = simulate(120, 300, 3, 0.5);
    const n = 120;
    const apply: BatchedOperator = async (v) => cpuGemm(k, v);
    const rhs = f64Matrix(n, 3, Float64Array.from({ length: 3 * n }, () => u() - 0.5));
    const delta = [0.5, 1, 3];
    const diag = f64Matrix(n, 3);
    for (let b = 0; b < 3; b++) for (let i = 0; i < n; i++) diag.data[i + b * n] = k.data[i + i * n]! + delta[b]!;
    for (const opts of [{}, { diagonal: diag }, { x0: rhs }]) {
      const res = await batchedCg(apply, rhs, delta, { tol: 1e-10, ...opts });
      expect(res.converged).toEqual([true, true, true]);
      for (let b = 0; b < 3; b++) {
        const h = f64Matrix(n, n, Float64Array.from(k.data));
        for (let i = 0; i < n; i++) h.data[i + i * n]! += delta[b]!;
        const exact = cpuPotrs(cpuPotrf(h), f64Matrix(n, 1, rhs.data.slice(b * n, (b + 1) * n)));
        for (let i = 0; i < n; i++) expect(res.x.data[i + b * n]).toBeCloseTo(exact.data[i]!, 7);
      }
    }
    await expect(batchedCg(apply, rhs, [1, 0, 1])).rejects.toThrow(/must be > 0/);
  });

  it('reports a column that does not converge within the iteration limit', async () => {
    const { k, u } = simulate(80, 200, 4, 0.5);
    const rhs = f64Matrix(80, 1, Float64Array.from({ length: 80 }, () => u()));
    const res = await batchedCg(async (v) => cpuGemm(k, v), rhs, [1e-6], { tol: 1e-12, maxIterations: 3 });
    expect(res.converged).toEqual([false]);
    expect(res.iterations[0]).toBe(3);
    expect(res.residual[0]).toBeGreaterThan(1e-12);
  });
});

describe('slqReml', () => {
  it('matches the exact REML of the GEMMA null model (eigendecomposition) on the same data', async () => {
    const n = 400;
    const { k, w, y, u } = simulate(n, 1000, 5, 0.6);
    const { project } = projector(w);
    // Exact: GEMMA's REML lambda with H = lambda K + I, i.e. delta = 1 / lambda on K + delta I.
    const { values, vectors } = cpuEigh(k);
    const nm = fitNullModel({ d: values, uw: cpuGemm(vectors, w, { transA: true }).data, c: 2, uy: cpuGemm(vectors, y, { transA: true }).data });
    const deltaExact = 1 / nm.lambdaRemle;
    // Matrix-free: A = S K S on the complement of W, 200 probes.
    const apply: BatchedOperator = async (v) => project(cpuGemm(k, v));
    const T = 200;
    const probes = project(f64Matrix(n, T, Float64Array.from({ length: n * T }, () => (u() < 0.5 ? -1 : 1))));
    const ky = project(y);
    // tr(S K S) = tr(S K) (S idempotent); project(k) = S K.
    const sk = project(k);
    let traceA = 0;
    for (let i = 0; i < n; i++) traceA += sk.data[i + i * n]!;
    const res = await slqReml(apply, ky, probes, { dim: n - 2, traceA });
    const est = res.estimates[0]!;
    const tbar = traceA / (n - 2);
    const h2Exact = tbar / (tbar + deltaExact);
    expect(res.converged).toBe(true);
    expect(est.boundary).toBe('none');
    // h2 on BOLT's scale for both deltas

    expect(Math.abs(est.h2 - h2Exact)).toBeLessThan(Math.max(0.01, 3 * est.h2SeMc));
    expect(est.h2SeMc).toBeLessThan(0.02);
    expect(est.h2SeReml).toBeGreaterThan(0.02);
    // sigma2g, sigma2e against GEMMA's vg, ve at the exact lambda (same scale of K)
    expect(est.sigma2e / nm.ve).toBeCloseTo(1, 1);
    // (A + delta) x = y for the returned H^-1 y
    const x = f64Matrix(n, 1, res.hinvY.data.slice(0, n));
    const ax = await apply(x, [0]);
    let err = 0;
    let ref = 0;
    for (let i = 0; i < n; i++) {
      err += (ax.data[i]! + est.delta * x.data[i]! - ky.data[i]!) ** 2;
      ref += ky.data[i]! ** 2;
    }
    expect(Math.sqrt(err / ref)).toBeLessThan(1e-5);
  });
});
