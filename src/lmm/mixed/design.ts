/**
 * Design matrices: the fixed-effects model matrix X (R's model.matrix with the factors' contrasts) and the
 * random-effects terms Z_k (lme4's mkReTrms), with the names R prints.
 */
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { cpuSyrk } from '../../../kernels/cpu/index.js';
import { contrastMatrix } from './contrasts.js';
import type { RandomTerm, Term, TermList } from './formula.js';
import { DataError, type FrameColumn, type ModelFrame } from './model-frame.js';

/** A named dense design (column-major n x p). */
export interface Design {
  x: F64Matrix;
  names: string[];
  /** R's assign: the index of the term (in the TermList) each column belongs to, -1 for the intercept */
  assign: number[];
}

/** One block of columns a term contributes: per-row values and names. */
interface Block {
  names: string[];
  /** values[c][i]: column c at row i */
  values: Float64Array[];
}

/**
 * R's coding rule (Chambers & Hastie 1992, as in R's TermCode): a factor f of term T is coded by its contrasts
 * (contrasts.ts: treatment drops the first level; sum, helmert, poly) when T without f is in the model (the
 * empty term being the intercept), else by one indicator per level.
 */
function termBlock(term: Term, all: TermList, frame: ModelFrame): Block {
  const key = (t: Term) => t.map((v) => v.label).sort().join(':');
  const present = new Set(all.terms.map(key));
  let block: Block = { names: [''], values: [new Float64Array(frame.n).fill(1)] };
  for (const v of term) {
    const col = frame.columns.get(v.label)!;
    const rest = term.filter((w) => w !== v);
    let factorCols: Block;
    if (col.kind === 'numeric') {
      factorCols = { names: [v.label], values: [col.values] };
    } else if (rest.length === 0 ? all.intercept : present.has(key(rest))) {
      // coded by the factor's contrasts (k - 1 columns): cm[code, j] per row
      const cm = contrastMatrix(col.contrasts ?? 'treatment', col.levels);
      factorCols = { names: cm.names.map((s) => v.label + s), values: [] };
      for (let j = 0; j < cm.names.length; j++) {
        const c = new Float64Array(frame.n);
        for (let i = 0; i < frame.n; i++) c[i] = cm.values[col.codes[i]! + j * cm.k]!;
        factorCols.values.push(c);
      }
    } else {
      // one indicator per level, whatever the contrasts
      factorCols = { names: [], values: [] };
      for (let l = 0; l < col.levels.length; l++) {
        const ind = new Float64Array(frame.n);
        for (let i = 0; i < frame.n; i++) if (col.codes[i] === l) ind[i] = 1;
        factorCols.names.push(v.label + col.levels[l]);
        factorCols.values.push(ind);
      }
    }
    // R orders interaction columns with the first variable varying fastest
    const next: Block = { names: [], values: [] };
    for (let b = 0; b < factorCols.names.length; b++) {
      for (let a = 0; a < block.names.length; a++) {
        const prod = new Float64Array(frame.n);
        const va = block.values[a]!;
        const vb = factorCols.values[b]!;
        for (let i = 0; i < frame.n; i++) prod[i] = va[i]! * vb[i]!;
        next.names.push(block.names[a] === '' ? factorCols.names[b]! : `${block.names[a]}:${factorCols.names[b]}`);
        next.values.push(prod);
      }
    }
    block = next;
  }
  return block;
}

/** model.matrix(terms, frame): intercept column `(Intercept)` then each term's block. O(n p). */
export function modelMatrix(list: TermList, frame: ModelFrame): Design {
  const names: string[] = [];
  const cols: Float64Array[] = [];
  const assign: number[] = [];
  if (list.intercept) {
    names.push('(Intercept)');
    cols.push(new Float64Array(frame.n).fill(1));
    assign.push(-1);
  }
  list.terms.forEach((t, k) => {
    const b = termBlock(t, list, frame);
    names.push(...b.names);
    cols.push(...b.values);
    for (let j = 0; j < b.names.length; j++) assign.push(k);
  });
  const x = f64Matrix(frame.n, cols.length);
  cols.forEach((c, j) => x.data.set(c, j * frame.n));
  return { x, names, assign };
}

/**
 * Drops columns of X that are linearly dependent on earlier ones (Gram-Schmidt in column order with
 * relative tolerance 1e-7, as lme4's chkRank.drop.cols with qr(X, tol = 1e-7) keeps the leading
 * independent columns). Returns the kept design and the dropped names. A design whose columns are all far
 * from dependent (clearlyFullRank) is returned as it is without the Gram-Schmidt pass. Cost O(n p^2).
 */
export function dropRankDeficient(d: Design, tol = 1e-7): { design: Design; dropped: string[] } {
  if (clearlyFullRank(d.x)) return { design: d, dropped: [] };
  const { x } = d;
  const n = x.rows;
  const basis: Float64Array[] = [];
  const keep: number[] = [];
  for (let j = 0; j < x.cols; j++) {
    const v = x.data.slice(j * n, (j + 1) * n);
    let norm0 = 0;
    for (let i = 0; i < n; i++) norm0 += v[i]! * v[i]!;
    for (const q of basis) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i]! * v[i]!;
      for (let i = 0; i < n; i++) v[i]! -= dot * q[i]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
    if (norm0 > 0 && Math.sqrt(norm / norm0) > tol) {
      const s = 1 / Math.sqrt(norm);
      for (let i = 0; i < n; i++) v[i]! *= s;
      basis.push(v);
      keep.push(j);
    }
  }
  const dropped = d.names.filter((_, j) => !keep.includes(j));
  if (dropped.length === 0) return { design: d, dropped };
  const out = f64Matrix(n, keep.length);
  keep.forEach((j, k) => out.data.set(x.data.subarray(j * n, (j + 1) * n), k * n));
  return { design: { x: out, names: keep.map((j) => d.names[j]!), assign: keep.map((j) => d.assign[j]!) }, dropped };
}

/**
 * Whether every column of X is far from the span of the columns before it, so that dropRankDeficient keeps
 * them all: the squared relative residual norms r_j^2 / G_jj from an unpivoted Cholesky of the Gram matrix
 * G = X'X (r_j^2 = G_jj - sum_{k<j} R_kj^2, R_kj = (G_kj - sum_{l<k} R_lk R_lj) / R_kk) are all at least 1e-8.
 * Rounding moves them by about p eps, far less than the gap down to tol^2 = 1e-14, so the check never passes
 * a design that the Gram-Schmidt on X would trim; anything closer (a zero or nearly aliased column) goes to
 * that exact test. G is one kernel-layer product (cpuSyrk): O(n p^2 + p^3), fast from the first call.
 */
function clearlyFullRank(x: F64Matrix): boolean {
  const p = x.cols;
  if (p === 0) return true;
  const g = cpuSyrk(x, { trans: true }).data;
  const R = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    const gjj = g[j + j * p]!;
    let res = gjj;
    for (let k = 0; k < j; k++) {
      let s = g[k + j * p]!;
      for (let l = 0; l < k; l++) s -= R[l + k * p]! * R[l + j * p]!;
      const rkj = s / R[k + k * p]!;
      R[k + j * p] = rkj;
      res -= rkj * rkj;
    }
    if (!(gjj > 0 && res >= 1e-8 * gjj)) return false;
    R[j + j * p] = Math.sqrt(res);
  }
  return true;
}

/**
 * A random-effects term: grouping factor with `levels`, per-row level `codes`, and p columns per level
 * (`z`, row-major n x p: z[i*p + r]). Z_k of Bates et al. (2015, eq. 6) is the n x (levels*p) matrix with
 * row i holding z[i, :] in the columns of level codes[i].
 */
export interface ReTerm {
  /** Grouping factor name as lme4 prints it (`cask:batch`); `Subject.1` for a repeated factor. */
  group: string;
  /** The factor name (without the `.1` suffix) for ngrps. */
  factor: string;
  levels: string[];
  codes: Int32Array;
  p: number;
  names: string[];
  z: Float64Array;
  /** the formula's random term this came from (its design and grouping factors), for new data */
  source: RandomTerm;
}

function groupingFactor(r: RandomTerm, frame: ModelFrame): { levels: string[]; codes: Int32Array } {
  return groupCodes(r.group, frame);
}

/**
 * The interaction g1:g2:... of grouping factors held in the frame (as `group:NAME` columns): its levels in
 * lexicographic order of the factors' levels, named `l1:l2`, and each row's code. O(n + K log K) per factor.
 */
export function groupCodes(names: readonly string[], frame: ModelFrame): { levels: string[]; codes: Int32Array } {
  const cols = names.map((g) => frame.columns.get(`group:${g}`) as Extract<FrameColumn, { kind: 'factor' }>);
  let { levels, codes } = cols[0]!;
  for (let j = 1; j < cols.length; j++) ({ levels, codes } = interact(levels, codes, cols[j]!.levels, cols[j]!.codes));
  return { levels, codes };
}

/**
 * R's `a:b` on two coded factors: the combinations that occur, in lexicographic order of the (a, b) level
 * indices, named `la:lb`. Each row's pair is the integer key a * |b| + b (exact: below 2^53), whose distinct
 * values are found with a table (or a Map when |a| |b| is large) and sorted numerically, which is the
 * lexicographic order; applied left to right, it gives a:b:c. O(n + K log K) for K combinations.
 */
function interact(
  la: readonly string[],
  ca: Int32Array,
  lb: readonly string[],
  cb: Int32Array,
): { levels: string[]; codes: Int32Array } {
  const n = ca.length;
  const nb = lb.length;
  const size = la.length * nb;
  const keys: number[] = [];
  let codeOf: (key: number) => number;
  if (size <= Math.max(4 * n, 1 << 16)) {
    const table = new Int32Array(size).fill(-1);
    for (let i = 0; i < n; i++) {
      const key = ca[i]! * nb + cb[i]!;
      if (table[key] === -1) {
        table[key] = 0;
        keys.push(key);
      }
    }
    keys.sort((x, y) => x - y);
    keys.forEach((key, l) => {
      table[key] = l;
    });
    codeOf = (key) => table[key]!;
  } else {
    const index = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const key = ca[i]! * nb + cb[i]!;
      if (!index.has(key)) {
        index.set(key, 0);
        keys.push(key);
      }
    }
    keys.sort((x, y) => x - y);
    keys.forEach((key, l) => index.set(key, l));
    codeOf = (key) => index.get(key)!;
  }
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = codeOf(ca[i]! * nb + cb[i]!);
  const levels = keys.map((key) => `${la[Math.floor(key / nb)]}:${lb[key % nb]}`);
  return { levels, codes };
}

/**
 * Builds the random-effects terms in lme4's order: terms sorted by decreasing number of levels
 * (rev(order(nlevels)) as mkReTrms does, applied only when not already non-increasing), repeated grouping
 * factors renamed `g.1`, `g.2` as VarCorr prints them. Checks each grouping factor has >= 2 levels and,
 * with `checkNobs` (lmer's check.nobs.vs.nlev; glmer ignores it), fewer levels than observations.
 */
export function buildReTerms(random: RandomTerm[], frame: ModelFrame, checkNobs = true): ReTerm[] {
  let terms: ReTerm[] = random.map((r) => {
    const { levels, codes } = groupingFactor(r, frame);
    if (levels.length < 2) {
      throw new DataError(`grouping factor '${r.groupName}' has ${levels.length} level${levels.length === 1 ? '' : 's'}: a random effect needs at least 2`);
    }
    const d = modelMatrix(r.design, frame);
    if (d.names.length === 0) throw new DataError(`random term for '${r.groupName}' has no columns`);
    const p = d.names.length;
    // row-major n x p: for p = 1 the single column as it is
    let z = d.x.data;
    if (p > 1) {
      z = new Float64Array(frame.n * p);
      for (let c = 0; c < p; c++) for (let i = 0; i < frame.n; i++) z[i * p + c] = d.x.data[i + c * frame.n]!;
    }
    return { group: r.groupName, factor: r.groupName, levels, codes, p, names: d.names, z, source: r };
  });
  const nl = terms.map((t) => t.levels.length);
  if (nl.some((v, i) => i > 0 && v > nl[i - 1]!)) {
    const ord = nl.map((_, i) => i).sort((a, b) => nl[a]! - nl[b]! || a - b).reverse();
    terms = ord.map((i) => terms[i]!);
  }
  const count = new Map<string, number>();
  for (const t of terms) {
    const c = count.get(t.factor) ?? 0;
    if (c > 0) t.group = `${t.factor}.${c}`;
    count.set(t.factor, c + 1);
  }
  for (const t of terms) {
    if (checkNobs && t.levels.length >= frame.n) {
      throw new DataError(`grouping factor '${t.factor}' has ${t.levels.length} levels for ${frame.n} observations: the random effects are unidentifiable`);
    }
  }
  return terms;
}
