/**
 * Finite-difference derivatives with Richardson extrapolation (as numDeriv, which lmerTest uses): central
 * differences at steps h, h/2, h/4 combined to cancel the h^2 and h^4 error terms. f64; error O(h^6).
 */

/** Relative step: h_i = d * max(|x_i|, eps0), numDeriv's default d = 1e-4 with a floor for zeros. */
function stepFor(x: number, d: number): number {
  return d * Math.max(Math.abs(x), 0.1);
}

function richardson(values: number[]): number {
  // values at h, h/2, h/4 of a central difference (error series in h^2)
  let v = values.slice();
  let pow = 4;
  while (v.length > 1) {
    v = v.slice(1).map((hi, i) => (pow * hi - v[i]!) / (pow - 1));
    pow *= 4;
  }
  return v[0]!;
}

/**
 * Hessian of f at x (d x d, column-major). Cost 1 + 4 * 3 * d^2 / 2 evaluations.
 */
export function hessian(f: (x: number[]) => number, x: readonly number[], rel = 1e-3): Float64Array {
  const d = x.length;
  const H = new Float64Array(d * d);
  const f0 = f(x.slice());
  const at = (i: number, hi: number, j: number, hj: number): number => {
    const y = x.slice();
    y[i]! += hi;
    y[j]! += hj;
    return f(y);
  };
  for (let i = 0; i < d; i++) {
    const hi0 = stepFor(x[i]!, rel);
    const diag: number[] = [];
    for (let s = 0; s < 3; s++) {
      const h = hi0 / 2 ** s;
      diag.push((at(i, h, i, 0) - 2 * f0 + at(i, -h, i, 0)) / (h * h));
    }
    H[i + i * d] = richardson(diag);
    for (let j = 0; j < i; j++) {
      const hj0 = stepFor(x[j]!, rel);
      const off: number[] = [];
      for (let s = 0; s < 3; s++) {
        const h = hi0 / 2 ** s;
        const k = hj0 / 2 ** s;
        off.push((at(i, h, j, k) - at(i, h, j, -k) - at(i, -h, j, k) + at(i, -h, j, -k)) / (4 * h * k));
      }
      H[i + j * d] = H[j + i * d] = richardson(off);
    }
  }
  return H;
}

/**
 * Hessian of f at x by plain central differences with one absolute step `delta` in every coordinate, as
 * lme4's deriv12 (which glmer's vcov uses, delta = 1e-4):
 *   H_jj = (f(x + delta e_j) - 2 f(x) + f(x - delta e_j)) / delta^2,
 *   H_ij = (f(x + delta e_i + delta e_j) - f(x + delta e_i - delta e_j) - f(x - delta e_i + delta e_j)
 *           + f(x - delta e_i - delta e_j)) / (2 delta)^2.
 * Error O(delta^2) plus rounding |f| eps / delta^2. d x d column-major; cost 2 d^2 evaluations (1 more
 * without fx). `fMany` evaluates f at a list of points (in any order or in parallel: each value must depend on
 * its point alone); {@link centralHessian} is the one-at-a-time form.
 */
export function centralHessianBatch(fMany: (points: number[][]) => ArrayLike<number>, x: readonly number[], delta: number, fx?: number): Float64Array {
  const d = x.length;
  if (!(delta > 0)) throw new RangeError(`centralHessian: step must be positive, got ${delta}`);
  const points: number[][] = [];
  const at = (i: number, si: number, j: number, sj: number): number => {
    const y = x.slice();
    y[i]! += si * delta;
    y[j]! += sj * delta;
    return points.push(y) - 1;
  };
  const center = fx === undefined ? points.push(x.slice()) - 1 : -1;
  // the stencil's points, then one batch evaluation
  const diag: [number, number][] = [];
  const off: [number, number, number, number][][] = [];
  for (let j = 0; j < d; j++) {
    diag.push([at(j, 1, j, 0), at(j, -1, j, 0)]);
    off.push([]);
    for (let i = 0; i < j; i++) off[j]!.push([at(i, 1, j, 1), at(i, 1, j, -1), at(i, -1, j, 1), at(i, -1, j, -1)]);
  }
  const v = fMany(points);
  const f0 = center >= 0 ? v[center]! : fx!;
  const H = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const [p, m] = diag[j]!;
    H[j + j * d] = (v[p]! - 2 * f0 + v[m]!) / (delta * delta);
    off[j]!.forEach(([pp, pm, mp, mm], i) => {
      H[i + j * d] = H[j + i * d] = (v[pp]! - v[pm]! - v[mp]! + v[mm]!) / (4 * delta * delta);
    });
  }
  return H;
}

/** {@link centralHessianBatch} with f evaluated at one point after another. */
export function centralHessian(f: (x: number[]) => number, x: readonly number[], delta: number, fx?: number): Float64Array {
  return centralHessianBatch((points) => points.map(f), x, delta, fx);
}

/** Jacobian of a vector function g: R^d -> R^k, returned as k x d column-major. Cost 6 d evaluations. */
export function jacobian(g: (x: number[]) => Float64Array, x: readonly number[], rel = 1e-3): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < x.length; i++) {
    const h0 = stepFor(x[i]!, rel);
    const diffs: Float64Array[] = [];
    for (let s = 0; s < 3; s++) {
      const h = h0 / 2 ** s;
      const up = x.slice();
      up[i]! += h;
      const dn = x.slice();
      dn[i]! -= h;
      const gu = g(up);
      const gd = g(dn);
      diffs.push(gu.map((v, k) => (v - gd[k]!) / (2 * h)));
    }
    out.push(diffs[0]!.map((_, k) => richardson(diffs.map((dd) => dd[k]!))));
  }
  return out;
}

/** Inverse of a small non-singular matrix (d x d column-major) by Gauss-Jordan with partial pivoting. O(d^3). */
export function invertSmall(a: Float64Array, d: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i + i * d] = 1;
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r + c * d]!) > Math.abs(m[piv + c * d]!)) piv = r;
    if (m[piv + c * d] === 0) throw new Error(`invertSmall: singular ${d}x${d} matrix at column ${c}`);
    if (piv !== c) {
      for (let k = 0; k < d; k++) {
        [m[c + k * d], m[piv + k * d]] = [m[piv + k * d]!, m[c + k * d]!];
        [inv[c + k * d], inv[piv + k * d]] = [inv[piv + k * d]!, inv[c + k * d]!];
      }
    }
    const s = 1 / m[c + c * d]!;
    for (let k = 0; k < d; k++) {
      m[c + k * d]! *= s;
      inv[c + k * d]! *= s;
    }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = m[r + c * d]!;
      if (f === 0) continue;
      for (let k = 0; k < d; k++) {
        m[r + k * d]! -= f * m[c + k * d]!;
        inv[r + k * d]! -= f * inv[c + k * d]!;
      }
    }
  }
  return inv;
}
