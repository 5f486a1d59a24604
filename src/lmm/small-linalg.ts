/**
 * Allocation-free dense helpers for the tiny p x p systems of per-gene and per-variant fits (p = fixed effects,
 * usually < 10; used by src/sc and src/lmm/binary).
 * Matrices are packed p x p in Float64Array scratch buffers (symmetric, so row/column order coincide).
 * The large products go through kernels/; these run once per gene and optimiser step, where a kernel call
 * would cost more than the arithmetic.
 */

/**
 * In-place Cholesky A = L L^T of a packed symmetric p x p matrix; the lower triangle of `a` becomes L.
 * Returns log det A, or NaN when a pivot is <= eps * max diagonal (not numerically positive definite).
 * Cost p^3 / 3.
 */
export function cholInPlace(a: Float64Array, p: number): number {
  let maxDiag = 0;
  for (let i = 0; i < p; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * p + i]!));
  const tol = 1e-12 * maxDiag;
  let logDet = 0;
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!;
    for (let k = 0; k < j; k++) d -= a[j * p + k]! * a[j * p + k]!;
    if (!(d > tol)) return Number.NaN;
    const l = Math.sqrt(d);
    a[j * p + j] = l;
    logDet += 2 * Math.log(l);
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= a[i * p + k]! * a[j * p + k]!;
      a[i * p + j] = s / l;
    }
  }
  return logDet;
}

/** Solves L z = b in place (L from {@link cholInPlace}); returns z^T z = b^T A^-1 b. Cost p^2 / 2. */
export function forwardSolveInPlace(l: Float64Array, p: number, b: Float64Array): number {
  let zz = 0;
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * b[k]!;
    s /= l[i * p + i]!;
    b[i] = s;
    zz += s * s;
  }
  return zz;
}

/** Solves L^T x = z in place (completing A x = b after {@link forwardSolveInPlace}). Cost p^2 / 2. */
export function backSolveInPlace(l: Float64Array, p: number, z: Float64Array): void {
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * z[k]!;
    z[i] = s / l[i * p + i]!;
  }
}

/** Writes A^-1 (full, packed) into `out` from the Cholesky factor L; `col` is p scratch. Cost p^3. */
export function cholInverseInto(l: Float64Array, p: number, out: Float64Array, col: Float64Array): void {
  for (let j = 0; j < p; j++) {
    col.fill(0);
    col[j] = 1;
    forwardSolveInPlace(l, p, col);
    backSolveInPlace(l, p, col);
    for (let i = 0; i < p; i++) out[i * p + j] = col[i]!;
  }
}

/**
 * Brent's minimiser (golden section with parabolic steps) of f on [a, b], to absolute tolerance
 * `tol` in x. Returns the abscissa of the minimum found. At most `maxIter` evaluations.
 */
export function brentMin(f: (x: number) => number, a: number, b: number, tol: number, maxIter = 200): number {
  const golden = 0.381966011250105;
  let x = a + golden * (b - a);
  let w = x;
  let v = x;
  let fx = f(x);
  let fw = fx;
  let fv = fx;
  let d = 0;
  let e = 0;
  for (let it = 0; it < maxIter; it++) {
    const m = 0.5 * (a + b);
    const tol1 = tol + 1e-10 * Math.abs(x);
    const tol2 = 2 * tol1;
    if (Math.abs(x - m) <= tol2 - 0.5 * (b - a)) break;
    let useGolden = true;
    if (Math.abs(e) > tol1) {
      // Parabola through (v, fv), (w, fw), (x, fx).
      const r = (x - w) * (fx - fv);
      let q = (x - v) * (fx - fw);
      let pp = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) pp = -pp;
      else q = -q;
      if (Math.abs(pp) < Math.abs(0.5 * q * e) && pp > q * (a - x) && pp < q * (b - x)) {
        e = d;
        d = pp / q;
        const u = x + d;
        if (u - a < tol2 || b - u < tol2) d = x < m ? tol1 : -tol1;
        useGolden = false;
      }
    }
    if (useGolden) {
      e = (x < m ? b : a) - x;
      d = golden * e;
    }
    const u = Math.abs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const fu = f(u);
    if (fu <= fx) {
      if (u < x) b = x;
      else a = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x) a = u;
      else b = u;
      if (fu <= fw || w === x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u;
        fv = fu;
      }
    }
  }
  return x;
}
