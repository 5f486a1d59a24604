/**
 * Kenward-Roger adjusted covariance of beta and denominator df, as pbkrtest (vcovAdj, Lb_ddf) and
 * lmerTest's ddf = "Kenward-Roger" compute them (Kenward & Roger 1997, Biometrics 53, eqs. 2-4 and
 * section 4; Halekoh & Hojsgaard 2014, J. Stat. Softw. 59(9), section 3).
 *
 * Sigma = sum_r phi_r G_r with one G_r per variance/covariance parameter of each term
 * (G = Z_i Z_j' + Z_j Z_i' over the columns i, j of the term's Z) and G = I for the residual.
 * With Phi = (X' Sigma^{-1} X)^{-1}, P_r = -X' Sigma^{-1} G_r Sigma^{-1} X,
 * Q_rs = X' Sigma^{-1} G_r Sigma^{-1} G_s Sigma^{-1} X and the expected information
 * I_rs = tr(Sigma^{-1} G_r Sigma^{-1} G_s) - 2 tr(Phi Q_rs) + tr(Phi P_r Phi P_s), W = 2 I^{-1},
 *   Phi_A = Phi + 2 Phi [sum_rs W_rs (Q_rs - P_r Phi P_s)] Phi,
 * and for the contrast e_j the df m = 4 + 3 / (rho - 1) from A1, A2 as in Lb_ddf.
 * Dense n x n f64: cost O(n^3 (number of parameters)); refused above 3000 observations.
 */
import { cpuGemm, cpuPotrf, cpuPotrs } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { DataError } from './model-frame.js';
import type { ModelInternals } from './model.js';
import { invertSmall } from './numeric-derivatives.js';
import { thetaToFactors } from './pls.js';

const MAX_N = 3000;

/** Kenward-Roger df and adjusted standard errors of each fixed effect (REML fits). */
export function kenwardRogerDf(m: ModelInternals, theta: number[], sigma: number): { df: number[]; se: number[] } {
  const { terms, x } = m;
  const n = x.rows;
  const p = x.cols;
  if (n > MAX_N) throw new DataError(`Kenward-Roger needs dense ${n}x${n} matrices; use --df satterthwaite above ${MAX_N} observations`);
  // G_r as dense n x n and the variance parameters phi_r
  const G: F64Matrix[] = [];
  const phi: number[] = [];
  const T = thetaToFactors(terms, theta);
  for (let k = 0; k < terms.length; k++) {
    const t = terms[k]!;
    const pk = t.p;
    const Tk = T[k]!;
    for (let i = 0; i < pk; i++) {
      for (let j = i; j < pk; j++) {
        const g = f64Matrix(n, n);
        for (let a = 0; a < n; a++) {
          for (let b = 0; b < n; b++) {
            if (t.codes[a] !== t.codes[b]) continue;
            const v = t.z[a * pk + i]! * t.z[b * pk + j]! + (i === j ? 0 : t.z[a * pk + j]! * t.z[b * pk + i]!);
            g.data[a + b * n] = v;
          }
        }
        G.push(g);
        let s = 0;
        for (let c = 0; c <= Math.min(i, j); c++) s += Tk[i + c * pk]! * Tk[j + c * pk]!;
        phi.push(sigma * sigma * s);
      }
    }
  }
  const I = f64Matrix(n, n);
  for (let a = 0; a < n; a++) I.data[a + a * n] = 1;
  G.push(I);
  phi.push(sigma * sigma);
  const R = G.length;
  const Sigma = f64Matrix(n, n);
  G.forEach((g, r) => g.data.forEach((v, idx) => (Sigma.data[idx]! += phi[r]! * v)));
  const SigmaInv = cpuPotrs(cpuPotrf(Sigma), I);
  const TT = cpuGemm(SigmaInv, x); // Sigma^{-1} X
  const Phi = f64Matrix(p, p, invertSmall(cpuGemm(x, TT, { transA: true }).data, p));
  const H = G.map((g) => cpuGemm(g, SigmaInv)); // G_r Sigma^{-1}
  const O = H.map((h) => cpuGemm(h, x)); // G_r Sigma^{-1} X
  const P = O.map((o) => {
    const v = cpuGemm(o, TT, { transA: true });
    return f64Matrix(p, p, v.data.map((z) => -z));
  });
  const SO = O.map((o) => cpuGemm(SigmaInv, o));
  const Q = (r: number, s: number) => cpuGemm(O[r]!, SO[s]!, { transA: true });
  const trProd = (a: F64Matrix, b: F64Matrix) => {
    // tr(A B) for square A, B
    let s = 0;
    for (let i = 0; i < a.rows; i++) for (let k = 0; k < a.cols; k++) s += a.data[i + k * a.ld]! * b.data[k + i * b.ld]!;
    return s;
  };
  const mul = (a: F64Matrix, b: F64Matrix) => cpuGemm(a, b);
  const IE = new Float64Array(R * R);
  const Qm: F64Matrix[][] = [];
  for (let r = 0; r < R; r++) {
    Qm.push([]);
    for (let s = 0; s < R; s++) Qm[r]!.push(Q(r, s));
  }
  for (let r = 0; r < R; r++) {
    for (let s = r; s < R; s++) {
      const v = trProd(H[r]!, H[s]!) - 2 * trProd(Phi, Qm[r]![s]!) + trProd(mul(Phi, P[r]!), mul(Phi, P[s]!));
      IE[r + s * R] = IE[s + r * R] = v;
    }
  }
  const W = invertSmall(IE, R).map((v) => 2 * v);
  const U = f64Matrix(p, p);
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < R; s++) {
      const qps = mul(mul(P[r]!, Phi), P[s]!);
      const w = W[r + s * R]!;
      for (let idx = 0; idx < p * p; idx++) U.data[idx]! += w * (Qm[r]![s]!.data[idx]! - qps.data[idx]!);
    }
  }
  const adj = mul(mul(Phi, U), Phi);
  const PhiA = Phi.data.map((v, idx) => v + 2 * adj.data[idx]!);
  const df: number[] = [];
  const se: number[] = [];
  for (let j = 0; j < p; j++) {
    // Theta = L' (L Phi L')^{-1} L for L = e_j; ThetaPhi P_r Phi has only row j nonzero
    const pjj = Phi.data[j + j * p]!;
    const u = P.map((Pr) => {
      const row = new Float64Array(p);
      for (let c = 0; c < p; c++) {
        let s = 0;
        for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) s += Phi.data[j + a * p]! * Pr.data[a + b * p]! * Phi.data[b + c * p]!;
        row[c] = s / pjj;
      }
      return row;
    });
    let A1 = 0;
    let A2 = 0;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < R; s++) {
        A1 += W[r + s * R]! * u[r]![j]! * u[s]![j]!;
        A2 += W[r + s * R]! * u[r]![j]! * u[s]![j]!;
      }
    }
    const q = 1;
    const B = (A1 + 6 * A2) / (2 * q);
    const g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2);
    const den = 3 * q + 2 * (1 - g);
    const c1 = g / den;
    const c2 = (q - g) / den;
    const c3 = (q + 2 - g) / den;
    const v0 = Math.abs(1 + c1 * B) < 1e-10 ? 0 : 1 + c1 * B;
    const v1 = 1 - c2 * B;
    const v2 = 1 - c3 * B;
    const rho = (1 / q) * ((1 - A2 / q) / v1) ** 2 * (v0 / v2);
    df.push(4 + (q + 2) / (q * rho - 1));
    se.push(Math.sqrt(PhiA[j + j * p]!));
  }
  return { df, se };
}
