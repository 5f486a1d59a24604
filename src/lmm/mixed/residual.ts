/**
 * Residual correlation and variance structures of a linear mixed model, as nlme's lme(correlation =, weights =)
 * (Pinheiro & Bates 2000, "Mixed-Effects Models in S and S-PLUS", sections 5.2-5.3):
 *   y_i = X_i beta + Z_i b_i + e_i,   e_i ~ N(0, sigma^2 Lambda_i),   Lambda_i = V_i^{1/2} C_i V_i^{1/2},
 * with, per correlation group i (rows ordered by the time covariate, or as they come),
 *   ar1   C_jk = phi^|t_j - t_k|, integer times t, -1 < phi < 1             (nlme corAR1 / corARMA(p = 1))
 *   car1  C_jk = phi^|t_j - t_k|, real times t, 0 <= phi < 1                 (nlme corCAR1)
 *   cs    C_jk = rho (j != k), 1 on the diagonal, -1/(max_i n_i - 1) < rho < 1 (nlme corCompSymm)
 * and V_i = diag(delta_s(j)^2) with one SD ratio per stratum s, delta = 1 in the reference stratum (varIdent).
 *
 * The model is fitted by whitening (P&B eq. 5.4): with W_i such that W_i' W_i = Lambda_i^{-1}, the rows
 * W_i y_i, W_i X_i, W_i Z_i follow an lme4 model with iid residuals, and the (RE)ML criterion gains
 * log|Lambda| = sum_i log|Lambda_i|. Each correlation group must lie within one level of every random-effects
 * grouping factor (as nlme requires), so W_i Z_i keeps Z's level structure.
 *   ar1/car1: W is bidiagonal (the AR(1) innovations): w_1 = u_1, w_j = (u_j - r_j u_{j-1}) / sqrt(1 - r_j^2),
 *             r_j = phi^(t_j - t_{j-1}), u = V^{-1/2} v; log|C_i| = sum_j log(1 - r_j^2);
 *   cs:       W = (I - c J / m) / sqrt(1 - rho), c = 1 - sqrt((1 - rho) / (1 + (m - 1) rho)) for a group of m;
 *             log|C_i| = (m - 1) log(1 - rho) + log(1 + (m - 1) rho).
 * Each is O(n) per column. The parameters are optimised unconstrained: phi = tanh(x) (ar1), phi = logistic(x)
 * (car1), rho = lo + (1 - lo) logistic(x) with lo = -1/(max n_i - 1) (cs), delta = exp(x) (varIdent).
 */
import { groupCodes, type ReTerm } from './design.js';
import { FormulaError } from './formula.js';
import { DataError, type ExtraColumns, type FrameColumn, type ModelFrame } from './model-frame.js';

export type CorrelationKind = 'ar1' | 'car1' | 'cs';

/** A residual correlation structure: `ar1(time | g)`, `ar1(| g)` (order within g), `car1(time | g)`, `cs(| g)`. */
export interface CorrelationSpec {
  kind: CorrelationKind;
  /** the time covariate, or null: positions 1, 2, ... in the data's order within each group */
  time: string | null;
  /** grouping factors; several (`a/b`, `a:b`) group by their interaction */
  group: string[];
}

/** A residual variance function: `ident(| s)`, one residual SD per level of s (several factors: their interaction). */
export interface VarianceSpec {
  kind: 'ident';
  stratum: string[];
}

/** The residual structure of a model: correlation, variance function, or both. */
export interface ResidualSpec {
  correlation?: CorrelationSpec | null;
  weights?: VarianceSpec | null;
}

const NAME = /^[A-Za-z_.][A-Za-z0-9_.]*$/;

/** `f(lhs | g1/g2)` split into its parts, with positions for errors. */
function splitCall(text: string, kinds: readonly string[], what: string): { kind: string; lhs: string; group: string[] } {
  const m = /^\s*([A-Za-z0-9]+)\s*\((.*)\)\s*$/s.exec(text);
  const fail = (pos: number, detail: string): never => {
    throw new FormulaError(text, pos, detail);
  };
  if (!m) fail(0, `expected ${what} such as ${kinds[0]}(time | group)`);
  const kind = m![1]!.toLowerCase();
  if (!kinds.includes(kind)) fail(text.indexOf(m![1]!), `unknown ${what} '${m![1]}' (${kinds.join(', ')})`);
  const inner = m![2]!;
  const at = text.indexOf('(') + 1;
  const bar = inner.indexOf('|');
  const lhs = (bar < 0 ? (kind === 'ident' ? '' : inner) : inner.slice(0, bar)).trim();
  const rhs = bar < 0 ? (kind === 'ident' ? inner : '') : inner.slice(bar + 1);
  const group = rhs.trim() === '' ? [] : rhs.split(/[/:]/).map((g) => g.trim());
  for (const g of group) if (!NAME.test(g)) fail(at + Math.max(0, inner.indexOf(g, Math.max(bar, 0))), `'${g}' is not a column name`);
  if (lhs !== '' && lhs !== '1' && !NAME.test(lhs)) fail(at, `'${lhs}' is not a column name`);
  return { kind, lhs: lhs === '1' ? '' : lhs, group };
}

/**
 * Parses a correlation structure: `ar1(time | g)` (integer times), `ar1(| g)` or `ar1(1 | g)` (positions in
 * the data's order within g), `car1(time | g)` (real times), `cs(| g)`; `g1/g2` groups by the interaction.
 * Throws FormulaError.
 */
export function parseCorrelation(text: string): CorrelationSpec {
  const { kind, lhs, group } = splitCall(text, ['ar1', 'car1', 'cs'], 'correlation structure');
  if (group.length === 0) throw new FormulaError(text, text.length - 1, 'a grouping factor is needed after |, e.g. ar1(time | id)');
  if (kind === 'car1' && lhs === '') throw new FormulaError(text, text.indexOf('(') + 1, 'car1 needs a time covariate: car1(time | id)');
  if (kind === 'cs' && lhs !== '') throw new FormulaError(text, text.indexOf('(') + 1, 'cs takes no time covariate: cs(| id)');
  return { kind: kind as CorrelationKind, time: lhs === '' ? null : lhs, group };
}

/** Parses a variance function: `ident(| s)` or `ident(s)` (one residual SD per level of s; `s1/s2` their interaction). */
export function parseWeights(text: string): VarianceSpec {
  const { lhs, group } = splitCall(text, ['ident'], 'variance function');
  if (lhs !== '') throw new FormulaError(text, text.indexOf('(') + 1, 'ident takes no covariate: ident(| stratum)');
  if (group.length === 0) throw new FormulaError(text, text.length - 1, 'a stratum factor is needed: ident(| group)');
  return { kind: 'ident', stratum: group };
}

/** The structure in the parser's syntax (for summaries and refits). */
export function formatResidualSpec(spec: ResidualSpec): { correlation: string | null; weights: string | null } {
  const c = spec.correlation;
  const w = spec.weights;
  return {
    correlation: c ? `${c.kind}(${c.time ?? ''}${c.time ? ' ' : ''}| ${c.group.join('/')})` : null,
    weights: w ? `ident(| ${w.stratum.join('/')})` : null,
  };
}

/** The columns a residual structure reads (for the model frame). */
export function residualColumns(spec: ResidualSpec): ExtraColumns {
  const c = spec.correlation;
  return {
    numeric: c?.time ? [c.time] : [],
    factors: [...(c?.group ?? []), ...(spec.weights?.stratum ?? [])],
  };
}

/** The residual structure's parameters on their natural scale. */
export interface ResidualParameters {
  /** Phi (ar1, car1) or Rho (cs) */
  correlation: { kind: CorrelationKind; name: 'Phi' | 'Rho'; value: number } | null;
  /** varIdent: the residual SD of each stratum relative to the reference stratum (first, ratio 1) */
  ratios: { stratum: string; ratio: number }[];
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * A residual structure laid over the rows of a model frame: whitening, log-determinant and its inverse
 * (colouring) at unconstrained parameters `par` (correlation parameter first, then one log SD ratio per
 * non-reference stratum).
 */
export class ResidualStructure {
  /** number of unconstrained parameters */
  readonly nPar: number;
  /** rows ordered by correlation group, then time (or data order) */
  private readonly order: Int32Array;
  /** per row, the previous row of its group in that order, or -1 (ar1, car1) */
  private readonly prev: Int32Array;
  /** per row, t_j - t_{j-1} (ar1, car1) */
  private readonly gap: Float64Array;
  /** per row, its correlation group (cs) and the group sizes */
  private readonly groupOf: Int32Array;
  private readonly groupSize: Int32Array;
  /** per row, its variance stratum (0 = reference) and the stratum names in parameter order */
  private readonly stratumOf: Int32Array | null;
  private readonly strata: string[];
  /** the smallest rho of a positive-definite compound symmetry: -1/(max group size - 1) */
  private readonly rhoLower: number;
  /** prepared coefficients at `prepared` */
  private prepared: number[] | null = null;
  private readonly scale: Float64Array;
  private readonly coefA: Float64Array;
  private readonly coefB: Float64Array;
  private logDetValue = 0;
  private readonly work: Float64Array;

  private constructor(
    readonly spec: ResidualSpec,
    readonly n: number,
    parts: {
      order: Int32Array; prev: Int32Array; gap: Float64Array; groupOf: Int32Array; groupSize: Int32Array;
      stratumOf: Int32Array | null; strata: string[];
    },
  ) {
    this.order = parts.order;
    this.prev = parts.prev;
    this.gap = parts.gap;
    this.groupOf = parts.groupOf;
    this.groupSize = parts.groupSize;
    this.stratumOf = parts.stratumOf;
    this.strata = parts.strata;
    const maxSize = parts.groupSize.reduce((a, b) => Math.max(a, b), 0);
    this.rhoLower = maxSize > 1 ? -1 / (maxSize - 1) : -1;
    this.nPar = (spec.correlation ? 1 : 0) + (parts.strata.length > 0 ? parts.strata.length - 1 : 0);
    this.scale = new Float64Array(n).fill(1);
    this.coefA = new Float64Array(n).fill(1);
    this.coefB = new Float64Array(n);
    this.work = new Float64Array(Math.max(n, parts.groupSize.length));
  }

  /**
   * Lays a structure over the frame's rows: orders each correlation group by time (ar1: integer times;
   * ar1 and car1: distinct within a group), checks every random-effects grouping factor is constant within
   * each correlation group, and picks the reference stratum of varIdent as nlme does (the stratum of the
   * first row once rows are ordered by the random-effects grouping factors, outermost first). Throws
   * DataError. O(n log n).
   */
  static build(spec: ResidualSpec, frame: ModelFrame, terms: readonly ReTerm[]): ResidualStructure {
    const n = frame.n;
    const c = spec.correlation ?? null;
    let order = Int32Array.from({ length: n }, (_, i) => i);
    const prev = new Int32Array(n).fill(-1);
    const gap = new Float64Array(n).fill(1);
    let groupOf: Int32Array = new Int32Array(n);
    let groupSize = new Int32Array([n]);
    if (c) {
      const g = groupCodes(c.group, frame);
      groupOf = g.codes;
      groupSize = new Int32Array(g.levels.length);
      for (let i = 0; i < n; i++) groupSize[groupOf[i]!]!++;
      for (const t of terms) {
        const first = new Int32Array(g.levels.length).fill(-1);
        for (let i = 0; i < n; i++) {
          const j = groupOf[i]!;
          if (first[j] === -1) first[j] = t.codes[i]!;
          else if (first[j] !== t.codes[i]) {
            throw new DataError(`the correlation groups (${c.group.join('/')}) must lie within the levels of the random-effects grouping factor '${t.factor}': group '${g.levels[j]}' spans several of its levels`);
          }
        }
      }
      const time = c.time ? (frame.columns.get(`numeric:${c.time}`) as Extract<FrameColumn, { kind: 'numeric' }>).values : null;
      if (time && c.kind === 'ar1') {
        for (let i = 0; i < n; i++) {
          if (!Number.isInteger(time[i]!)) throw new DataError(`ar1 needs integer times: '${c.time}' is ${time[i]} in row ${frame.rowIndex[i]! + 1} (car1 takes real times)`);
        }
      }
      const ord = Array.from(order);
      ord.sort((a, b) => groupOf[a]! - groupOf[b]! || (time ? time[a]! - time[b]! : 0) || a - b);
      order = Int32Array.from(ord);
      for (let k = 1; k < n; k++) {
        const i = order[k]!;
        const h = order[k - 1]!;
        if (groupOf[i] !== groupOf[h]) continue;
        prev[i] = h;
        if (time) {
          gap[i] = time[i]! - time[h]!;
          if (!(gap[i]! > 0)) {
            throw new DataError(`the time covariate '${c.time}' must take distinct values within each group: ${time[i]} repeats in group '${groupCodes(c.group, frame).levels[groupOf[i]!]}'`);
          }
        }
      }
    }
    let stratumOf: Int32Array | null = null;
    let strata: string[] = [];
    if (spec.weights) {
      const s = groupCodes(spec.weights.stratum, frame);
      // reference: the stratum of the first row in the order of the grouping factors (fewest levels first)
      const keys = terms.slice().sort((a, b) => a.levels.length - b.levels.length).map((t) => t.codes);
      let first = 0;
      for (let i = 1; i < n; i++) {
        for (const k of keys) {
          if (k[i]! !== k[first]!) {
            if (k[i]! < k[first]!) first = i;
            break;
          }
        }
      }
      const ref = s.codes[first]!;
      const rank = s.levels.map((_, l) => (l === ref ? 0 : l < ref ? l + 1 : l));
      strata = s.levels.map((_, j) => j).sort((a, b) => rank[a]! - rank[b]!).map((l) => s.levels[l]!);
      stratumOf = Int32Array.from(s.codes, (l) => rank[l]!);
      if (s.levels.length < 2) throw new DataError(`ident(| ${spec.weights.stratum.join('/')}): the stratum factor has one level; nothing to estimate`);
    }
    return new ResidualStructure(spec, n, { order, prev, gap, groupOf, groupSize, stratumOf, strata });
  }

  /** Names of the unconstrained parameters' natural counterparts (`Phi` / `Rho`, then the strata). */
  get parameterNames(): string[] {
    const c = this.spec.correlation;
    return [...(c ? [c.kind === 'cs' ? 'Rho' : 'Phi'] : []), ...this.strata.slice(1)];
  }

  /** Starting values: phi = 0 (ar1), 0.2 (car1, nlme's default), rho = 0, SD ratios 1. */
  start(): number[] {
    const c = this.spec.correlation;
    const out: number[] = [];
    if (c) out.push(c.kind === 'ar1' ? 0 : c.kind === 'car1' ? Math.log(0.2 / 0.8) : Math.log(-this.rhoLower));
    for (let s = 1; s < this.strata.length; s++) out.push(0);
    return out;
  }

  /** The natural parameters at unconstrained `par`. */
  natural(par: readonly number[]): ResidualParameters {
    const c = this.spec.correlation;
    let k = 0;
    let correlation: ResidualParameters['correlation'] = null;
    if (c) {
      const x = par[k++]!;
      const value = c.kind === 'ar1' ? Math.tanh(x) : c.kind === 'car1' ? logistic(x) : this.rhoLower + (1 - this.rhoLower) * logistic(x);
      correlation = { kind: c.kind, name: c.kind === 'cs' ? 'Rho' : 'Phi', value };
    }
    const ratios = this.strata.map((stratum, s) => ({ stratum, ratio: s === 0 ? 1 : Math.exp(par[k + s - 1]!) }));
    return { correlation, ratios };
  }

  /** Unconstrained parameters from natural ones (the inverse of {@link natural}). */
  unconstrained(p: ResidualParameters): number[] {
    const out: number[] = [];
    const c = p.correlation;
    if (c) {
      const v = c.value;
      out.push(c.kind === 'ar1' ? Math.atanh(v) : c.kind === 'car1' ? Math.log(v / (1 - v)) : Math.log((v - this.rhoLower) / (1 - v)));
    }
    for (const r of p.ratios.slice(1)) out.push(Math.log(r.ratio));
    return out;
  }

  /** Per-row residual SD multiplier delta_s(i) at `par` (1 without a variance function). */
  sdRatios(par: readonly number[]): Float64Array {
    this.prepare(par);
    return this.scale.slice();
  }

  /** Computes the per-row coefficients of W at par (cached). Returns false where they are not finite. */
  private prepare(par: readonly number[]): boolean {
    if (par.length !== this.nPar) throw new RangeError(`ResidualStructure: expected ${this.nPar} parameters, got ${par.length}`);
    const p = this.prepared;
    if (p && p.every((v, i) => v === par[i])) return Number.isFinite(this.logDetValue);
    const { n, scale, coefA, coefB } = this;
    const nat = this.natural(par);
    let logDet = 0;
    if (this.stratumOf) {
      const r = nat.ratios.map((x) => x.ratio);
      const logR = r.map(Math.log);
      for (let i = 0; i < n; i++) {
        const s = this.stratumOf[i]!;
        scale[i] = r[s]!;
        logDet += 2 * logR[s]!;
      }
    }
    const c = nat.correlation;
    if (c && c.kind !== 'cs') {
      const phi = c.value;
      for (let i = 0; i < n; i++) {
        if (this.prev[i]! < 0) {
          coefA[i] = 1;
          coefB[i] = 0;
          continue;
        }
        const r = phi ** this.gap[i]!;
        const d = 1 - r * r;
        logDet += Math.log(d);
        const a = 1 / Math.sqrt(d);
        coefA[i] = a;
        coefB[i] = r * a;
      }
    } else if (c) {
      // cs: per group a = 1 / sqrt(1 - rho) (coefA), c / m (coefB)
      const rho = c.value;
      for (let g = 0; g < this.groupSize.length; g++) {
        const m = this.groupSize[g]!;
        const top = 1 + (m - 1) * rho;
        coefA[g] = 1 / Math.sqrt(1 - rho);
        coefB[g] = (1 - Math.sqrt((1 - rho) / top)) / m;
        logDet += (m - 1) * Math.log(1 - rho) + Math.log(top);
      }
    }
    this.prepared = par.slice();
    this.logDetValue = logDet;
    return Number.isFinite(logDet) && coefA.every(Number.isFinite);
  }

  /** log|Lambda| = sum_i log|V_i C_i| at par (the sigma-free residual covariance's log-determinant). */
  logDet(par: readonly number[]): number {
    return this.prepare(par) ? this.logDetValue : Number.NaN;
  }

  /**
   * dst = W src for a column stored at src[i * stride + offset] (i = 0 .. n-1), written at the same places of
   * dst (which must not be src). Returns false when W is not finite at par (a correlation at +-1).
   */
  whiten(par: readonly number[], src: Float64Array, dst: Float64Array, stride = 1, offset = 0): boolean {
    if (!this.prepare(par)) return false;
    const { n, scale, coefA, coefB, prev, work } = this;
    const c = this.spec.correlation;
    if (!c) {
      for (let i = 0; i < n; i++) dst[i * stride + offset] = src[i * stride + offset]! / scale[i]!;
    } else if (c.kind !== 'cs') {
      for (let i = 0; i < n; i++) {
        const h = prev[i]!;
        const u = src[i * stride + offset]! / scale[i]!;
        dst[i * stride + offset] = h < 0 ? u : coefA[i]! * u - coefB[i]! * (src[h * stride + offset]! / scale[h]!);
      }
    } else {
      const G = this.groupSize.length;
      const sums = work.subarray(0, G).fill(0);
      const g = this.groupOf;
      for (let i = 0; i < n; i++) sums[g[i]!]! += src[i * stride + offset]! / scale[i]!;
      for (let i = 0; i < n; i++) {
        const j = g[i]!;
        dst[i * stride + offset] = coefA[j]! * (src[i * stride + offset]! / scale[i]! - coefB[j]! * sums[j]!);
      }
    }
    return true;
  }

  /**
   * e = W^{-1} z in place (residuals with covariance Lambda from iid z): the AR(1) recursion
   * u_j = r_j u_{j-1} + sqrt(1 - r_j^2) z_j in time order, or (I + c / (m (1 - c)) J) sqrt(1 - rho) z for cs,
   * then e = V^{1/2} u. O(n).
   */
  colour(par: readonly number[], z: Float64Array): void {
    if (!this.prepare(par)) throw new RangeError('ResidualStructure.colour: the correlation is not positive definite at these parameters');
    const { n, scale, coefA, coefB, prev, order, work } = this;
    const c = this.spec.correlation;
    if (c && c.kind !== 'cs') {
      for (const i of order) {
        const h = prev[i]!;
        if (h >= 0) z[i] = (z[i]! + coefB[i]! * z[h]!) / coefA[i]!;
      }
    } else if (c) {
      const G = this.groupSize.length;
      const sums = work.subarray(0, G).fill(0);
      const g = this.groupOf;
      for (let i = 0; i < n; i++) sums[g[i]!]! += z[i]!;
      for (let i = 0; i < n; i++) {
        const j = g[i]!;
        const cm = coefB[j]! * this.groupSize[j]!;
        z[i] = (z[i]! + (cm / (this.groupSize[j]! * (1 - cm))) * sums[j]!) / coefA[j]!;
      }
    }
    for (let i = 0; i < n; i++) z[i]! *= scale[i]!;
  }
}
