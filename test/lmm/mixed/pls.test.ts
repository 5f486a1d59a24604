/**
 * The blocked penalised least-squares factor against a dense Cholesky of the whole augmented system
 * [Z Lambda, X, y]' W [Z Lambda, X, y] + diag(I_q, 0) on random crossed designs: scalar and vector-valued
 * first and later terms, with and without weights.
 */
import { describe, expect, it } from 'vitest';
import { f64Matrix } from '../../../kernels/matrix.js';
import type { ReTerm } from '../../../src/lmm/mixed/design.js';
import { BlockedPls, thetaLength, thetaToFactors } from '../../../src/lmm/mixed/pls.js';
import { normal, rng } from '../../helpers/random.js';

function randomTerm(name: string, levels: number, p: number, n: number, u: () => number): ReTerm {
  const gauss = normal(u);
  const codes = Int32Array.from({ length: n }, (_, i) => (i < levels ? i : Math.floor(u() * levels)));
  const z = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let r = 0; r < p; r++) z[i * p + r] = r === 0 ? 1 : gauss();
  return { group: name, factor: name, levels: Array.from({ length: levels }, (_, l) => `${l}`), codes, p, names: [], z, source: { design: { intercept: true, terms: [] }, group: [name], groupName: name } };
}

/** Dense reference: columns [Z_1 Lambda_1, Z_2 Lambda_2, ..., X, y], Cholesky in that order. */
function denseReference(terms: ReTerm[], theta: number[], x: Float64Array, p: number, y: Float64Array, w: Float64Array | null) {
  const n = y.length;
  const T = thetaToFactors(terms, theta);
  const q = terms.reduce((s, t) => s + t.levels.length * t.p, 0);
  const N = q + p + 1;
  const C = new Float64Array(n * N); // row-major n x N
  let off = 0;
  terms.forEach((t, k) => {
    for (let i = 0; i < n; i++) {
      const base = off + t.codes[i]! * t.p;
      for (let c = 0; c < t.p; c++) {
        let s = 0;
        for (let r = c; r < t.p; r++) s += t.z[i * t.p + r]! * T[k]![r + c * t.p]!;
        C[i * N + base + c] = s;
      }
    }
    off += t.levels.length * t.p;
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) C[i * N + q + j] = x[i + j * n]!;
    C[i * N + N - 1] = y[i]!;
  }
  const G = new Float64Array(N * N);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    for (let a = 0; a < N; a++) for (let b = 0; b <= a; b++) G[a + b * N]! += wi * C[i * N + a]! * C[i * N + b]!;
  }
  for (let d = 0; d < q; d++) G[d + d * N]! += 1;
  for (let j = 0; j < N; j++) {
    for (let k = 0; k < j; k++) for (let i = j; i < N; i++) G[i + j * N]! -= G[i + k * N]! * G[j + k * N]!;
    const s = Math.sqrt(G[j + j * N]!);
    for (let i = j; i < N; i++) G[i + j * N]! /= s;
  }
  let ldL2 = 0;
  let ldRX2 = 0;
  for (let d = 0; d < q; d++) ldL2 += 2 * Math.log(G[d + d * N]!);
  for (let d = q; d < q + p; d++) ldRX2 += 2 * Math.log(G[d + d * N]!);
  // [u; beta] from L' [u; beta] = l (the last row of L below the diagonal)
  const sol = new Float64Array(N - 1);
  for (let i = N - 2; i >= 0; i--) {
    let s = G[N - 1 + i * N]!;
    for (let r = i + 1; r < N - 1; r++) s -= G[r + i * N]! * sol[r]!;
    sol[i] = s / G[i + i * N]!;
  }
  return { ldL2, ldRX2, pwrss: G[N * N - 1]! ** 2, u: sol.subarray(0, q), beta: sol.subarray(q) };
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('BlockedPls', () => {
  const cases = [
    { p1: 1, p2: 1, weighted: false },
    { p1: 1, p2: 2, weighted: false },
    { p1: 2, p2: 1, weighted: true },
    { p1: 1, p2: 1, weighted: true },
  ];
  for (const [ci, c] of cases.entries()) {
    it(`matches a dense Cholesky: first term p=${c.p1}, second term p=${c.p2}${c.weighted ? ', weighted' : ''}`, () => {
      const u = rng(100 + ci);
      const gauss = normal(u);
      const n = 600;
      const terms = [randomTerm('a', 150, c.p1, n, u), randomTerm('b', 100, c.p2, n, u), randomTerm('c', 5, 1, n, u)];
      const x = f64Matrix(n, 2);
      for (let i = 0; i < n; i++) {
        x.data[i] = 1;
        x.data[i + n] = gauss();
      }
      const y = Float64Array.from({ length: n }, () => 3 + gauss());
      const w = c.weighted ? Float64Array.from({ length: n }, () => 0.2 + u()) : null;
      const pls = new BlockedPls(terms, x, y, w);
      const ntheta = terms.reduce((s, t) => s + thetaLength(t.p), 0);
      for (let rep = 0; rep < 2; rep++) {
        const theta = Array.from({ length: ntheta }, () => 0.2 + u());
        const got = pls.factor(theta);
        const ref = denseReference(terms, theta, x.data, 2, y, w);
        expect(relErr(got.ldL2, ref.ldL2)).toBeLessThan(1e-10);
        expect(relErr(got.ldRX2, ref.ldRX2)).toBeLessThan(1e-10);
        expect(relErr(got.pwrss, ref.pwrss)).toBeLessThan(1e-10);
        const sol = pls.solve();
        const scale = Math.max(...ref.u.map(Math.abs));
        sol.u.forEach((v, i) => expect(Math.abs(v - ref.u[i]!) / scale).toBeLessThan(1e-10));
        sol.beta.forEach((v, i) => expect(relErr(v, ref.beta[i]!)).toBeLessThan(1e-10));
      }
    });
  }
});
