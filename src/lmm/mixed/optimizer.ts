/**
 * Bounded derivative-free minimisation for the profiled deviance (theta) and the Laplace deviance
 * (theta, beta): a quadratic-model trust-region method (see {@link minimizeModelBased}).
 */

export interface MinimizeResult {
  x: number[];
  f: number;
  evals: number;
  converged: boolean;
}

export interface ModelBasedOptions {
  lower: readonly number[];
  upper?: readonly number[];
  /** initial trust-region radius (default min(0.95, 0.2 max_i |x0_i|), or 0.2 at x0 = 0: minqa's bobyqa default) */
  rhoBeg?: number;
  /** final radius: stop when the trust region shrinks below it (default 1e-7) */
  rhoEnd?: number;
  /** evaluations allowed (default 500 d); the iterations are bounded too (10 maxEval), whatever the values */
  maxEval?: number;
}

/**
 * Derivative-free trust-region minimisation with bounds on a full quadratic interpolation model, in the
 * spirit of Powell's UOBYQA/BOBYQA (Powell 2009, "The BOBYQA algorithm for bound constrained optimization
 * without derivatives", Cambridge NA report 2009/06), which lme4 uses for lmer:
 *   step 1: interpolate q(s) = c + g's + s'Hs/2 through the points around the best point x_b: 2d+1 at the
 *           start (x_0 and two along each axis, as BOBYQA's initial set), so the cross terms of H, not yet
 *           determined, are those of least norm; each later evaluation joins the set until it holds
 *           (d+1)(d+2)/2 points (a full quadratic), then replaces the point farthest from the best;
 *   step 2: minimise q over the box {|s_i| <= Delta} intersected with the bounds (coordinate descent on the
 *           box quadratic, exact on each coordinate, indefinite H allowed);
 *   step 3: evaluate, compare actual and predicted reduction, grow or shrink Delta, add the point (or
 *           replace the one farthest from the best);
 *   step 4: when the model's minimum lies within the resolution rho, lower rho tenfold (rho only decreases,
 *           Delta >= rho) and pull the farthest point in to distance rho (a geometry step); stop at rhoEnd.
 * Cost per iteration: one evaluation plus O((npt + nb)^3) model algebra (npt points, nb = (d+1)(d+2)/2).
 * Meant for d <= ~10.
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
  // values by point: a point that a geometry step or a clamped step revisits is not evaluated again
  const seen = new Map<string, number>();
  const f = (x: number[]): number => {
    const key = x.join(',');
    const known = seen.get(key);
    if (known !== undefined) return known;
    evals++;
    const v = fn(x);
    const value = Number.isNaN(v) ? Infinity : v;
    seen.set(key, value);
    return value;
  };
  if (d === 0) return { x: [], f: f([]), evals, converged: true };
  // basis of the quadratic in s: 1, s_i, s_i s_j (i <= j); which entries are cross terms (i < j)
  const nbasis = ((d + 1) * (d + 2)) / 2;
  const crossTerm: boolean[] = new Array<boolean>(d + 1).fill(false);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) crossTerm.push(i !== j);
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
    return pts;
  };
  const fitModel = (pts: { x: number[]; f: number }[], xb: number[]): { g: number[]; H: number[][] } | null => {
    // interpolate in s / sc so the system is well scaled at every radius
    let sc = 0;
    for (const p of pts) for (let i = 0; i < d; i++) sc = Math.max(sc, Math.abs(p.x[i]! - xb[i]!));
    if (sc === 0) return null;
    const A = pts.map((p) => basis(p.x.map((v, i) => (v - xb[i]!) / sc)));
    const rhs = pts.map((p) => p.f - pts[0]!.f);
    const np = pts.length;
    // with fewer points than coefficients: the interpolant whose cross terms have least norm, from the
    // KKT system [P A'; A 0] [c; lambda] = [0; f], P the identity on the cross terms and zero elsewhere
    const kkt: number[][] = [];
    if (np < nbasis) {
      for (let a = 0; a < nbasis; a++) {
        const row = new Array<number>(nbasis + np).fill(0);
        if (crossTerm[a]) row[a] = 1;
        for (let q = 0; q < np; q++) row[nbasis + q] = A[q]![a]!;
        kkt.push(row);
      }
      for (let q = 0; q < np; q++) kkt.push(A[q]!.concat(new Array<number>(np).fill(0)));
    }
    const sol = np < nbasis ? solveDense(kkt, new Array<number>(nbasis).fill(0).concat(rhs)) : solveDense(A, rhs);
    if (!sol) return null;
    const coef = sol.slice(0, nbasis);
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
  let rho = opts.rhoBeg ?? (Math.min(0.95, 0.2 * Math.max(...x0.map(Math.abs))) || 0.2);
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
  // Each iteration either evaluates fn or lowers rho; a set of points already seen (values cached, so no
  // evaluation is counted: e.g. a function that is infinite everywhere) must not loop for ever.
  for (let iter = 0; evals < maxEval && iter < 10 * maxEval; iter++) {
    const best = pts.reduce((a, p) => (p.f < a.f ? p : a));
    xb = best.x;
    fb = best.f;
    const model = fitModel(pts, xb);
    if (!model) {
      const before = evals;
      pts = sample(xb, fb, rho);
      if (evals === before && !lowerRho()) break;
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
        if (x[k] !== xb[k]) {
          const p = { x, f: f(x) };
          if (pts.length < nbasis) pts.push(p);
          else pts[far] = p;
        }
      }
      continue;
    }
    const xn = clamp(xb.map((v, i) => v + s[i]!));
    const fn2 = f(xn);
    const ratio = (fb - fn2) / pred;
    // add the point, or replace the one farthest from the (new) best
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
    if (pts.length < nbasis) pts.push({ x: xn, f: fn2 });
    else pts[far] = { x: xn, f: fn2 };
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
