/**
 * Nelder-Mead minimiser in two dimensions (reflection 1, expansion 2, contraction 1/2, shrink 1/2), for the
 * per-gene variance-parameter fits of src/sc. A NaN objective counts as +Infinity.
 */

/**
 * Minimises f(u, v) from (u0, v0) with an initial simplex of side `step`. Stops when the simplex's values span
 * less than `fTol` and its points lie within `xTol` of the best, or after `maxEval` evaluations. Returns the best
 * point and its value. Cost: `maxEval` evaluations at most.
 */
export function nelderMead2(
  f: (u: number, v: number) => number,
  u0: number,
  v0: number,
  step: number,
  fTol: number,
  xTol: number,
  maxEval: number,
): [number, number, number] {
  let evals = 0;
  const val = (a: number, b: number): [number, number, number] => {
    evals++;
    const y = f(a, b);
    return [a, b, Number.isNaN(y) ? Infinity : y];
  };
  const pts: [number, number, number][] = [val(u0, v0), val(u0 + step, v0), val(u0, v0 + step)];
  while (evals < maxEval) {
    pts.sort((a, b) => a[2] - b[2]);
    const [best, mid, worst] = pts as [[number, number, number], [number, number, number], [number, number, number]];
    if (Math.abs(best[2] - worst[2]) < fTol && Math.hypot(best[0] - worst[0], best[1] - worst[1]) < xTol) break;
    const cu = (best[0] + mid[0]) / 2;
    const cv = (best[1] + mid[1]) / 2;
    const r = val(2 * cu - worst[0], 2 * cv - worst[1]);
    if (r[2] < best[2]) {
      const e = val(3 * cu - 2 * worst[0], 3 * cv - 2 * worst[1]);
      pts[2] = e[2] < r[2] ? e : r;
    } else if (r[2] < mid[2]) {
      pts[2] = r;
    } else {
      const c = val((cu + worst[0]) / 2, (cv + worst[1]) / 2);
      if (c[2] < worst[2]) pts[2] = c;
      else {
        pts[1] = val((best[0] + mid[0]) / 2, (best[1] + mid[1]) / 2);
        pts[2] = val((best[0] + worst[0]) / 2, (best[1] + worst[1]) / 2);
      }
    }
  }
  pts.sort((a, b) => a[2] - b[2]);
  return pts[0]!;
}
