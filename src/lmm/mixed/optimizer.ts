/**
 * Bounded derivative-free minimisation: Nelder-Mead (Nelder & Mead 1965; the adaptive coefficients of Gao &
 * Han 2012 for dimension > 2) with every trial point projected onto the box, restarted from the best point
 * until a restart no longer improves, as lme4's Nelder_Mead and restart_edge do for boundary optima.
 * Cost: one objective evaluation per simplex step, typically 20-60 d evaluations.
 */

export interface MinimizeOptions {
  lower: readonly number[];
  upper?: readonly number[];
  /** initial simplex edge (per coordinate, default 0.1 scaled by |x0| or 1) */
  step?: number;
  /** stop when max |f_i - f_best| over the simplex is below this (default 1e-10) */
  ftol?: number;
  /** and the simplex diameter is below this (default 1e-8) */
  xtol?: number;
  maxEval?: number;
}

export interface MinimizeResult {
  x: number[];
  f: number;
  evals: number;
  converged: boolean;
}

/** Minimises `fn` over the box [lower, upper] starting at x0 (x0 is projected first). */
export function minimizeBounded(fn: (x: number[]) => number, x0: readonly number[], opts: MinimizeOptions): MinimizeResult {
  const d = x0.length;
  const lower = opts.lower;
  const upper = opts.upper ?? lower.map(() => Infinity);
  if (lower.length !== d || upper.length !== d) throw new Error(`minimizeBounded: bounds have ${lower.length}/${upper.length} entries, x0 has ${d}`);
  const ftol = opts.ftol ?? 1e-10;
  const xtol = opts.xtol ?? 1e-8;
  const maxEval = opts.maxEval ?? 2000 * Math.max(1, d);
  const clamp = (x: number[]) => x.map((v, i) => Math.min(upper[i]!, Math.max(lower[i]!, v)));
  let evals = 0;
  const f = (x: number[]): number => {
    evals++;
    const v = fn(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  if (d === 0) return { x: [], f: f([]), evals, converged: true };

  const alpha = 1;
  const beta = d > 2 ? 1 + 2 / d : 2;
  const gamma = d > 2 ? 0.75 - 1 / (2 * d) : 0.5;
  const delta = d > 2 ? 1 - 1 / d : 0.5;

  const run = (start: number[], stepScale: number): { x: number[]; f: number; converged: boolean } => {
    const pts: number[][] = [start];
    for (let i = 0; i < d; i++) {
      const x = start.slice();
      const h = (opts.step ?? 0.1) * stepScale * (Math.abs(x[i]!) > 1e-3 ? Math.abs(x[i]!) : 1);
      // step away from a bound the start sits on
      x[i] = x[i]! + h <= upper[i]! ? x[i]! + h : x[i]! - h;
      pts.push(clamp(x));
    }
    let vals = pts.map(f);
    while (evals < maxEval) {
      const order = vals.map((_, i) => i).sort((a, b) => vals[a]! - vals[b]!);
      const P = order.map((i) => pts[i]!);
      const V = order.map((i) => vals[i]!);
      pts.splice(0, pts.length, ...P);
      vals = V;
      let diam = 0;
      for (let i = 1; i <= d; i++) for (let j = 0; j < d; j++) diam = Math.max(diam, Math.abs(pts[i]![j]! - pts[0]![j]!));
      if (vals[d]! - vals[0]! <= ftol && diam <= xtol) return { x: pts[0]!, f: vals[0]!, converged: true };
      if (diam === 0) return { x: pts[0]!, f: vals[0]!, converged: true };
      const cen = new Array<number>(d).fill(0);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cen[j]! += pts[i]![j]! / d;
      const along = (t: number) => clamp(cen.map((c, j) => c + t * (c - pts[d]![j]!)));
      const xr = along(alpha);
      const fr = f(xr);
      if (fr < vals[0]!) {
        const xe = along(alpha * beta);
        const fe = f(xe);
        if (fe < fr) {
          pts[d] = xe;
          vals[d] = fe;
        } else {
          pts[d] = xr;
          vals[d] = fr;
        }
      } else if (fr < vals[d - 1]!) {
        pts[d] = xr;
        vals[d] = fr;
      } else {
        const outside = fr < vals[d]!;
        const xc = along(outside ? alpha * gamma : -gamma);
        const fc = f(xc);
        if (fc < (outside ? fr : vals[d]!)) {
          pts[d] = xc;
          vals[d] = fc;
        } else {
          for (let i = 1; i <= d; i++) {
            pts[i] = clamp(pts[i]!.map((v, j) => pts[0]![j]! + delta * (v - pts[0]![j]!)));
            vals[i] = f(pts[i]!);
          }
        }
      }
    }
    const best = vals.indexOf(Math.min(...vals));
    return { x: pts[best]!, f: vals[best]!, converged: false };
  };

  let res = run(clamp(x0.slice()), 1);
  // restart with a fresh, smaller simplex at the optimum until no further improvement
  for (let r = 0; r < 4 && res.converged; r++) {
    const again = run(res.x, 0.1);
    const improved = again.f < res.f - ftol;
    res = again.f <= res.f ? again : res;
    if (!improved) break;
  }
  return { x: res.x, f: res.f, evals, converged: res.converged };
}
