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

export interface ModelBasedOptions {
  lower: readonly number[];
  upper?: readonly number[];
  /** initial trust-region radius (default 0.2) */
  rhoBeg?: number;
  /** final radius: stop when the trust region shrinks below it (default 1e-7) */
  rhoEnd?: number;
  maxEval?: number;
}

/**
 * Derivative-free trust-region minimisation with bounds on a full quadratic interpolation model, in the
 * spirit of Powell's UOBYQA/BOBYQA (Powell 2009, "The BOBYQA algorithm for bound constrained optimization
 * without derivatives", Cambridge NA report 2009/06), which lme4 uses for lmer:
 *   step 1: interpolate q(s) = c + g's + s'Hs/2 through (d+1)(d+2)/2 points around the best point x_b;
 *   step 2: minimise q over the box {|s_i| <= Delta} intersected with the bounds (coordinate descent on the
 *           box quadratic, exact on each coordinate, indefinite H allowed);
 *   step 3: evaluate, compare actual and predicted reduction, grow or shrink Delta, replace the point
 *           farthest from the best; when the model degenerates, re-sample the points around x_b.
 * Cost per iteration: one evaluation plus O(npt^3) model algebra (npt = (d+1)(d+2)/2). Meant for d <= ~10.
 */
export function minimizeModelBased(fn: (x: number[]) => number, x0: readonly number[], opts: ModelBasedOptions): MinimizeResult {
  const d = x0.length;
  const lower = opts.lower;
  const upper = opts.upper ?? lower.map(() => Infinity);
  if (lower.length !== d || upper.length !== d) throw new Error(`minimizeModelBased: bounds have ${lower.length}/${upper.length} entries, x0 has ${d}`);
  const rhoEnd = opts.rhoEnd ?? 1e-7;
  const maxEval = opts.maxEval ?? 500 * Math.max(1, d);
  const clamp = (x: number[]) => x.map((v, i) => Math.min(upper[i]!, Math.max(lower[i]!, v)));
  let evals = 0;
  const f = (x: number[]): number => {
    evals++;
    const v = fn(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  if (d === 0) return { x: [], f: f([]), evals, converged: true };
  // basis of the quadratic in s: 1, s_i, s_i s_j (i <= j)
  const basis = (s: number[]): number[] => {
    const b = [1, ...s];
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) b.push(i === j ? 0.5 * s[i]! * s[i]! : s[i]! * s[j]!);
    return b;
  };
  const sample = (xb: number[], fb: number, delta: number): { x: number[]; f: number }[] => {
    const pts = [{ x: xb, f: fb }];
    const dir = (i: number, sign: number) => {
      const x = xb.slice();
      let t = xb[i]! + sign * delta;
      if (t > upper[i]! || t < lower[i]!) t = xb[i]! - sign * delta;
      if (t > upper[i]! || t < lower[i]!) t = xb[i]! + sign * 2 * delta;
      x[i] = Math.min(upper[i]!, Math.max(lower[i]!, t));
      return x;
    };
    for (let i = 0; i < d; i++) {
      const a = dir(i, 1);
      pts.push({ x: a, f: f(a) });
      // second point on the same axis: the other side, or twice as far if a bound is in the way
      let b = dir(i, -1);
      if (b[i] === a[i]) {
        b = xb.slice();
        b[i] = Math.min(upper[i]!, Math.max(lower[i]!, xb[i]! + 2 * (a[i]! - xb[i]!)));
      }
      pts.push({ x: b, f: f(b) });
    }
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) {
      const x = xb.slice();
      x[i] = pts[1 + 2 * i]!.x[i]!;
      x[j] = pts[1 + 2 * j]!.x[j]!;
      pts.push({ x, f: f(x) });
    }
    return pts;
  };
  const fitModel = (pts: { x: number[]; f: number }[], xb: number[]): { g: number[]; H: number[][] } | null => {
    // interpolate in s / sc so the system is well scaled at every radius
    let sc = 0;
    for (const p of pts) for (let i = 0; i < d; i++) sc = Math.max(sc, Math.abs(p.x[i]! - xb[i]!));
    if (sc === 0) return null;
    const A = pts.map((p) => basis(p.x.map((v, i) => (v - xb[i]!) / sc)));
    const coef = solveDense(A, pts.map((p) => p.f - pts[0]!.f));
    if (!coef) return null;
    const g = coef.slice(1, d + 1).map((v) => v / sc);
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    let k = d + 1;
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) {
      H[i]![j] = H[j]![i] = coef[k++]! / (sc * sc);
    }
    return { g, H };
  };
  const stepIn = (g: number[], H: number[][], xb: number[], delta: number): number[] => {
    const lo = xb.map((v, i) => Math.max(-delta, lower[i]! - v));
    const hi = xb.map((v, i) => Math.min(delta, upper[i]! - v));
    const s = new Array<number>(d).fill(0);
    for (let sweep = 0; sweep < 200; sweep++) {
      let moved = 0;
      for (let i = 0; i < d; i++) {
        // q along coordinate i: a t^2 / 2 + b t with t = s_i
        let b = g[i]!;
        for (let j = 0; j < d; j++) if (j !== i) b += H[i]![j]! * s[j]!;
        const a = H[i]![i]!;
        const qv = (t: number) => 0.5 * a * t * t + b * t;
        let t = a > 0 ? Math.min(hi[i]!, Math.max(lo[i]!, -b / a)) : qv(lo[i]!) < qv(hi[i]!) ? lo[i]! : hi[i]!;
        if (qv(t) > qv(s[i]!)) t = s[i]!;
        moved = Math.max(moved, Math.abs(t - s[i]!));
        s[i] = t;
      }
      if (moved <= 1e-14 * delta) break;
    }
    return s;
  };
  const qval = (g: number[], H: number[][], s: number[]) => {
    let v = 0;
    for (let i = 0; i < d; i++) {
      v += g[i]! * s[i]!;
      for (let j = 0; j < d; j++) v += 0.5 * s[i]! * H[i]![j]! * s[j]!;
    }
    return v;
  };

  let xb = clamp(x0.slice());
  let fb = f(xb);
  // rho: the resolution (only decreases); delta >= rho: the trust-region radius
  let rho = opts.rhoBeg ?? 0.2;
  let delta = rho;
  let pts = sample(xb, fb, rho);
  let converged = false;
  let geometryTurn = 0;
  const lowerRho = () => {
    if (rho <= rhoEnd) return false;
    rho = Math.max(rhoEnd, 0.1 * rho);
    delta = Math.max(rho, 0.5 * delta * 0.1);
    return true;
  };
  while (evals < maxEval) {
    const best = pts.reduce((a, p) => (p.f < a.f ? p : a));
    xb = best.x;
    fb = best.f;
    const model = fitModel(pts, xb);
    if (!model) {
      pts = sample(xb, fb, rho);
      continue;
    }
    const s = stepIn(model.g, model.H, xb, delta);
    const snorm = Math.max(...s.map(Math.abs));
    const pred = -qval(model.g, model.H, s);
    if (snorm < 0.5 * rho || pred <= 0) {
      // the model's minimum lies within the current resolution: refine it, or stop at rhoEnd
      if (!lowerRho()) {
        converged = true;
        break;
      }
      // geometry step: move the farthest point of the set in to the new resolution (one evaluation)
      const dist = pts.map((p) => Math.max(...p.x.map((v, i) => Math.abs(v - xb[i]!))));
      const far = dist.indexOf(Math.max(...dist));
      if (dist[far]! > 10 * rho) {
        const k = geometryTurn++ % d;
        const x = xb.slice();
        const up = x[k]! + rho <= upper[k]!;
        x[k] = up ? x[k]! + rho : Math.max(lower[k]!, x[k]! - rho);
        if (x[k] !== xb[k]) pts[far] = { x, f: f(x) };
      }
      continue;
    }
    const xn = clamp(xb.map((v, i) => v + s[i]!));
    const fn2 = f(xn);
    const ratio = (fb - fn2) / pred;
    // replace the point farthest from the (new) best
    const centre = fn2 < fb ? xn : xb;
    let far = -1;
    let farDist = -1;
    pts.forEach((p, k) => {
      if (p.x === xb && fn2 >= fb) return;
      const dist = Math.max(...p.x.map((v, i) => Math.abs(v - centre[i]!)));
      if (dist > farDist) {
        farDist = dist;
        far = k;
      }
    });
    pts[far] = { x: xn, f: fn2 };
    if (ratio > 0.7) delta = Math.max(delta, 2 * snorm);
    else if (ratio < 0.1) {
      delta = Math.max(rho, 0.5 * snorm);
      // a poor step at the smallest radius with a local set: the resolution is exhausted
      if (delta === rho && farDist <= 2 * rho && !lowerRho()) {
        converged = true;
        break;
      }
    } else delta = Math.max(rho, snorm);
  }
  const best = pts.reduce((a, p) => (p.f < a.f ? p : a));
  return { x: best.x, f: best.f, evals, converged };
}

/** Solves A x = b (n x n, rows given) by Gaussian elimination with partial pivoting; null if singular. */
function solveDense(rows: number[][], rhs: number[]): number[] | null {
  const n = rhs.length;
  const a = rows.map((r, i) => r.concat(rhs[i]!));
  let scale = 0;
  for (const r of a) for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(r[j]!));
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r;
    if (Math.abs(a[piv]![c]!) <= 1e-13 * scale) return null;
    [a[c], a[piv]] = [a[piv]!, a[c]!];
    for (let r = c + 1; r < n; r++) {
      const m = a[r]![c]! / a[c]![c]!;
      if (m === 0) continue;
      for (let k = c; k <= n; k++) a[r]![k]! -= m * a[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}
