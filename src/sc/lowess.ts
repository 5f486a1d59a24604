/**
 * Cleveland's LOWESS scatterplot smoother, the algorithm of R's `lowess()` (tricube local linear fits over the
 * nearest f*n points, `iter` bisquare robustness passes, points closer than `delta` interpolated), and linear
 * interpolation of the smoothed curve (R's approxfun(rule = 2, ties = mean)). Used for voom's mean-variance trend.
 */

/**
 * Smooths (x, y). Returns the sorted x and the fitted values at them. Defaults as R: f = 2/3, iter = 3,
 * delta = 0.01 * range(x). Cost O(n * f n) in the worst case, much less with delta.
 */
export function lowess(xIn: Float64Array, yIn: Float64Array, f = 2 / 3, iter = 3, delta?: number): { x: Float64Array; y: Float64Array } {
  const n = xIn.length;
  if (yIn.length !== n) throw new Error(`lowess: x has ${n} values, y has ${yIn.length}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xIn[a]! - xIn[b]! || a - b);
  const x = Float64Array.from(order, (i) => xIn[i]!);
  const y = Float64Array.from(order, (i) => yIn[i]!);
  const ys = new Float64Array(n);
  if (n < 2) {
    ys.set(y);
    return { x, y: ys };
  }
  const dlt = delta ?? 0.01 * (x[n - 1]! - x[0]!);
  const ns = Math.max(2, Math.min(n, Math.floor(f * n + 1e-7)));
  const rw = new Float64Array(n);
  const res = new Float64Array(n);
  const w = new Float64Array(n);
  for (let it = 1; it <= iter + 1; it++) {
    // Step 1: local fits at x[i], sliding the window [nleft, nright] of ns nearest points.
    let nleft = 0;
    let nright = ns - 1;
    let last = -1;
    let i = 0;
    for (;;) {
      if (nright < n - 1) {
        const d1 = x[i]! - x[nleft]!;
        const d2 = x[nright + 1]! - x[i]!;
        if (d1 > d2) {
          nleft++;
          nright++;
          continue;
        }
      }
      const fit = lowest(x, y, x[i]!, nleft, nright, w, it > 1, rw);
      ys[i] = Number.isNaN(fit) ? y[i]! : fit;
      if (last < i - 1) {
        const denom = x[i]! - x[last]!;
        for (let j = last + 1; j < i; j++) {
          const alpha = (x[j]! - x[last]!) / denom;
          ys[j] = alpha * ys[i]! + (1 - alpha) * ys[last]!;
        }
      }
      last = i;
      const cut = x[last]! + dlt;
      for (i = last + 1; i < n; i++) {
        if (x[i]! > cut) break;
        if (x[i] === x[last]) {
          ys[i] = ys[last]!;
          last = i;
        }
      }
      i = Math.max(last + 1, i - 1);
      if (last >= n - 1) break;
    }
    // Step 2: residuals and bisquare robustness weights from 6 * median |residual|.
    let sc = 0;
    for (let k = 0; k < n; k++) {
      res[k] = y[k]! - ys[k]!;
      sc += Math.abs(res[k]!);
    }
    sc /= n;
    if (it > iter) break;
    const abs = Float64Array.from(res, Math.abs).sort();
    const m1 = Math.floor(n / 2);
    const cmad = n % 2 === 0 ? 3 * (abs[m1]! + abs[n - m1 - 1]!) : 6 * abs[m1]!;
    if (cmad < 1e-7 * sc) break;
    const c9 = 0.999 * cmad;
    const c1 = 0.001 * cmad;
    for (let k = 0; k < n; k++) {
      const r = Math.abs(res[k]!);
      rw[k] = r <= c1 ? 1 : r <= c9 ? (1 - (r / cmad) ** 2) ** 2 : 0;
    }
  }
  return { x, y: ys };
}

/** Weighted local linear fit at xs over x[nleft..nright] (tricube weights times robustness weights); NaN if all weights are 0. */
function lowest(x: Float64Array, y: Float64Array, xs: number, nleft: number, nright: number, w: Float64Array, useRw: boolean, rw: Float64Array): number {
  const n = x.length;
  const range = x[n - 1]! - x[0]!;
  const h = Math.max(xs - x[nleft]!, x[nright]! - xs);
  const h9 = 0.999 * h;
  const h1 = 0.001 * h;
  let a = 0;
  let j = nleft;
  while (j < n) {
    w[j] = 0;
    const r = Math.abs(x[j]! - xs);
    if (r <= h9) {
      w[j] = r <= h1 ? 1 : (1 - (r / h) ** 3) ** 3;
      if (useRw) w[j]! *= rw[j]!;
      a += w[j]!;
    } else if (x[j]! > xs) break;
    j++;
  }
  const nrt = j - 1;
  if (a <= 0) return Number.NaN;
  for (j = nleft; j <= nrt; j++) w[j]! /= a;
  if (h > 0) {
    a = 0;
    for (j = nleft; j <= nrt; j++) a += w[j]! * x[j]!;
    let b = xs - a;
    let c = 0;
    for (j = nleft; j <= nrt; j++) c += w[j]! * (x[j]! - a) ** 2;
    if (Math.sqrt(c) > 0.001 * range) {
      b /= c;
      for (j = nleft; j <= nrt; j++) w[j]! *= b * (x[j]! - a) + 1;
    }
  }
  let ys = 0;
  for (j = nleft; j <= nrt; j++) ys += w[j]! * y[j]!;
  return ys;
}

/**
 * Piecewise-linear interpolant through sorted (x, y), tied x averaged, constant beyond the ends
 * (R's approxfun(x, y, rule = 2, ties = mean)).
 */
export function linearInterpolant(xSorted: Float64Array, y: Float64Array): (v: number) => number {
  const xs: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < xSorted.length; ) {
    let j = i;
    let s = 0;
    while (j < xSorted.length && xSorted[j] === xSorted[i]) s += y[j++]!;
    xs.push(xSorted[i]!);
    vs.push(s / (j - i));
    i = j;
  }
  return (v: number) => {
    if (v <= xs[0]!) return vs[0]!;
    const last = xs.length - 1;
    if (v >= xs[last]!) return vs[last]!;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! <= v) lo = mid;
      else hi = mid;
    }
    return vs[lo]! + ((vs[hi]! - vs[lo]!) * (v - xs[lo]!)) / (xs[hi]! - xs[lo]!);
  };
}
