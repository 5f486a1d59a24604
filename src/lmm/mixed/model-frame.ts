/**
 * Model frame: the columns a formula uses, typed (numeric or factor), with incomplete rows dropped.
 *
 * Columns follow R's read.csv(stringsAsFactors = TRUE) semantics: a column whose every present value parses
 * as a number is numeric, anything else is a factor whose levels sort as R sorts them in the C locale
 * (numeric order for factor(x) of a numeric column). Missing values are "" and "NA".
 */
import type { CodingStep, ContrastKind, LinearCombo, ParsedFormula, Variable } from './formula.js';

/** Input data: a table as src/io/csv.ts readTable returns it, or named columns. */
export type DataInput =
  | { header: readonly string[]; rows: readonly (readonly string[])[]; lineNos?: readonly number[]; path?: string }
  | Readonly<Record<string, ArrayLike<number | string | null | undefined>>>;

/** A typed column of the frame (rows already subset to complete cases). */
export type FrameColumn =
  | { kind: 'numeric'; name: string; values: Float64Array }
  | { kind: 'factor'; name: string; levels: string[]; codes: Int32Array; ordered?: boolean; contrasts?: ContrastKind };

/** Default contrasts of factors without C(): R's options(contrasts = c(unordered, ordered)). */
export interface ContrastDefaults {
  /** default 'treatment' */
  unordered?: ContrastKind;
  /** default 'poly' */
  ordered?: ContrastKind;
}

/** Error about the data (unknown column, wrong type, bad value): names the column and, when known, the line. */
export class DataError extends Error {
  override name = 'DataError';
}

/** A DataError about the values of the table itself (a bad value on a line, no complete row), not about the model asked of it. */
export class DataValueError extends DataError {
  override name = 'DataValueError';
}

type RawColumn = (number | string | null)[];

function isMissing(v: number | string | null | undefined): boolean {
  return v === null || v === undefined || v === '' || v === 'NA' || (typeof v === 'number' && Number.isNaN(v));
}

/** v without surrounding whitespace; a value with printable ASCII at both ends is returned as it is. */
function trimmed(v: string): string {
  const a = v.charCodeAt(0);
  const b = v.charCodeAt(v.length - 1);
  return a > 32 && a < 127 && b > 32 && b < 127 ? v : v.trim();
}

/**
 * Raw values of the named columns (those the formula uses), which rows have a missing value in one of them,
 * every column name in input order (for the unknown-column message) and the source line of each row. Only
 * used columns are copied. O(n * used).
 */
function rawColumns(
  data: DataInput,
  used: ReadonlySet<string>,
): { columns: Map<string, RawColumn>; missing: Uint8Array; names: string[]; n: number; lineOf: (i: number) => string } {
  const columns = new Map<string, RawColumn>();
  if ('header' in data && Array.isArray((data as { rows?: unknown }).rows)) {
    const t = data as { header: readonly string[]; rows: readonly (readonly string[])[]; lineNos?: readonly number[]; path?: string };
    // a repeated header name means its last column, as a name -> column map built in order would hold
    const present = Array.from(used).filter((name) => t.header.includes(name));
    const js = present.map((name) => t.header.lastIndexOf(name));
    const cols: RawColumn[] = present.map(() => new Array(t.rows.length));
    const missing = new Uint8Array(t.rows.length);
    // row by row: each row's cells are read while it is in cache
    for (let i = 0; i < t.rows.length; i++) {
      const row = t.rows[i]!;
      for (let u = 0; u < js.length; u++) {
        const v = row[js[u]!];
        const s = v === undefined ? null : trimmed(v);
        cols[u]![i] = s;
        if (isMissing(s)) missing[i] = 1;
      }
    }
    present.forEach((name, u) => columns.set(name, cols[u]!));
    const src = t.path ?? 'data';
    return { columns, missing, names: Array.from(new Set(t.header)), n: t.rows.length, lineOf: (i) => `${src}:${t.lineNos?.[i] ?? i + 2}` };
  }
  let n = -1;
  const entries = Object.entries(data as Record<string, ArrayLike<number | string | null | undefined>>);
  for (const [name, col] of entries) {
    if (n >= 0 && col.length !== n) throw new DataError(`column '${name}' has ${col.length} values, expected ${n} like the others`);
    n = col.length;
    if (used.has(name)) columns.set(name, Array.from(col, (v) => (v === undefined ? null : v)));
  }
  n = Math.max(n, 0);
  const missing = new Uint8Array(n);
  for (const col of columns.values()) for (let i = 0; i < n; i++) if (isMissing(col[i])) missing[i] = 1;
  return { columns, missing, names: entries.map(([name]) => name), n, lineOf: (i) => `row ${i + 1}` };
}

/** A value as a number (NaN when it is not one); blank strings are NaN, not Number('')'s 0. */
function toNumber(v: number | string): number {
  if (typeof v === 'number') return v;
  const x = Number(v);
  return x === 0 && v.trim() === '' ? Number.NaN : x;
}

/** R's level order: numeric order when every level is a number, else C-locale string order. */
export function sortLevels(values: Iterable<string>): string[] {
  const u = Array.from(new Set(values));
  const numeric = u.every((s) => s.trim() !== '' && Number.isFinite(Number(s)));
  return numeric ? u.sort((a, b) => Number(a) - Number(b)) : u.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The value of a canonical decimal integer string ("0", "17": digits only, no leading zero, at most 9), else
 * -1. Two such strings are equal exactly when their values are.
 */
function canonicalInt(s: string): number {
  const len = s.length;
  if (len === 0 || len > 9 || (len > 1 && s.charCodeAt(0) === 48)) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Codes the kept rows of a raw column as a factor: each distinct value gets a code in order of first
 * appearance (found by one Map lookup per row, or, while every value is a small canonical integer string
 * such as an id, by a table indexed by its value), only the distinct values are sorted (sortLevels), and the
 * codes are then renumbered to that order. O(n + L log L) for L levels.
 */
function codeFactor(col: RawColumn, keep: Int32Array): { levels: string[]; codes: Int32Array } {
  const n = keep.length;
  const codes = new Int32Array(n);
  const firstSeen = new Map<string, number>();
  const distinct: string[] = [];
  const byInt = new Int32Array(Math.max(4 * n, 1024)).fill(-1);
  let k = 0;
  for (; k < n; k++) {
    const v = col[keep[k]!];
    const x = typeof v === 'string' ? canonicalInt(v) : -1;
    if (x < 0 || x >= byInt.length) break;
    let c = byInt[x]!;
    if (c < 0) {
      c = distinct.length;
      byInt[x] = c;
      firstSeen.set(v as string, c);
      distinct.push(v as string);
    }
    codes[k] = c;
  }
  for (; k < n; k++) {
    const s = String(col[keep[k]!]);
    let c = firstSeen.get(s);
    if (c === undefined) {
      c = distinct.length;
      firstSeen.set(s, c);
      distinct.push(s);
    }
    codes[k] = c;
  }
  const levels = sortLevels(distinct);
  const rank = new Int32Array(distinct.length);
  levels.forEach((l, j) => {
    rank[firstSeen.get(l)!] = j;
  });
  for (let i = 0; i < n; i++) codes[i] = rank[codes[i]!]!;
  return { levels, codes };
}

/**
 * Columns a model uses outside its formula (a residual structure's time covariate and grouping or strata
 * factors): rows missing one are dropped like the formula's; numeric ones are held as `numeric:NAME`, factors as
 * `group:NAME` columns of the frame.
 */
export interface ExtraColumns {
  numeric?: readonly string[];
  factors?: readonly string[];
}

/** The model frame: complete-case rows of the used columns, typed. */
export interface ModelFrame {
  /** Number of complete rows. */
  n: number;
  /** Rows dropped for missing values in used columns. */
  dropped: number;
  /** Original row index of each kept row. */
  rowIndex: Int32Array;
  /** Response: y (gaussian, poisson, binomial 0/1) or the success proportion with `trials` for cbind. */
  y: Float64Array;
  /** Binomial trials per row (cbind response), else null. */
  trials: Float64Array | null;
  offset: Float64Array | null;
  /** Typed columns by the label used in the formula (`x`, `factor(x)`), plus grouping factors by name. */
  columns: Map<string, FrameColumn>;
  /** Messages for the user (dropped rows). */
  messages: string[];
}

function usedNames(f: ParsedFormula): Set<string> {
  const s = new Set<string>();
  const addCombo = (c: LinearCombo) => c.forEach((x) => s.add(x.name));
  if (f.response.kind === 'column') s.add(f.response.name);
  else {
    addCombo(f.response.successes);
    addCombo(f.response.failures);
  }
  const addVars = (vs: Variable[]) => vs.forEach((v) => s.add(v.name));
  f.fixed.terms.forEach(addVars);
  for (const r of f.random) {
    r.design.terms.forEach(addVars);
    r.group.forEach((g) => s.add(g));
  }
  f.offsets.forEach((o) => s.add(o));
  return s;
}

/**
 * Builds the model frame of a parsed formula: checks every used column exists, drops rows with a missing
 * value in any used column (with a message), types the columns, and forms the response (with `factorResponse`,
 * binomial models, a non-numeric response is a factor whose first level is failure, as in glm).
 * Cost O(n * used columns).
 */
export function buildModelFrame(
  data: DataInput,
  f: ParsedFormula,
  contrasts: ContrastDefaults = {},
  factorResponse = false,
  extra: ExtraColumns = {},
): ModelFrame {
  const used = usedNames(f);
  for (const name of [...(extra.numeric ?? []), ...(extra.factors ?? [])]) used.add(name);
  const { columns: raw, missing, names, n: nAll, lineOf } = rawColumns(data, used);
  for (const name of used) {
    if (!raw.has(name)) {
      const where = usedNames(f).has(name) ? `formula "${f.text}"` : 'the residual correlation or variance structure';
      throw new DataError(`unknown column '${name}' in ${where}; columns are: ${names.join(', ')}`);
    }
  }
  const messages: string[] = [];
  // values outside the levels of factor(x, levels = ...) are missing (R's factor() makes them NA)
  for (const v of formulaVariables(f)) {
    for (const step of v.coding) {
      if (step.kind !== 'levels') continue;
      const col = raw.get(v.name)!;
      let outside = 0;
      for (let i = 0; i < nAll; i++) {
        if (missing[i] === 0 && levelIndex(step.levels, String(col[i])) < 0) {
          missing[i] = 1;
          outside++;
        }
      }
      if (outside > 0) messages.push(`${outside} row${outside === 1 ? '' : 's'} of ${v.label} have a value outside its levels: treated as missing`);
    }
  }
  let n = 0;
  for (let i = 0; i < nAll; i++) n += 1 - missing[i]!;
  const keep = new Int32Array(n);
  for (let i = 0, k = 0; i < nAll; i++) if (missing[i] === 0) keep[k++] = i;
  const dropped = nAll - n;
  if (dropped > 0) messages.push(`dropped ${dropped} row${dropped === 1 ? '' : 's'} with missing values in the model's columns`);
  if (n === 0) throw new DataValueError('no complete rows: every row has a missing value in a column the formula uses');

  // each raw column is parsed as numbers, and coded as a factor, at most once (kept rows only)
  const parsed = new Map<string, { values: Float64Array; bad: number }>();
  const parseNumeric = (name: string): { values: Float64Array; bad: number } => {
    let p = parsed.get(name);
    if (!p) {
      const col = raw.get(name)!;
      const values = new Float64Array(n);
      let bad = -1;
      for (let k = 0; k < n; k++) {
        const v = toNumber(col[keep[k]!]!);
        if (!Number.isFinite(v)) {
          bad = k;
          break;
        }
        values[k] = v;
      }
      p = { values, bad };
      parsed.set(name, p);
    }
    return p;
  };
  /** the column's values (shared: callers must not write to them) or an error naming the first bad value */
  const numericColumn = (name: string, role: string): Float64Array => {
    const { values, bad } = parseNumeric(name);
    if (bad >= 0) {
      const i = keep[bad]!;
      throw new DataValueError(`${role} column '${name}' must be numeric: found '${raw.get(name)![i]}' at ${lineOf(i)}`);
    }
    return values;
  };
  const coded = new Map<string, { levels: string[]; codes: Int32Array }>();
  const factorColumn = (name: string): Extract<FrameColumn, { kind: 'factor' }> => {
    let c = coded.get(name);
    if (!c) {
      c = codeFactor(raw.get(name)!, keep);
      coded.set(name, c);
    }
    return { kind: 'factor', name, levels: c.levels, codes: c.codes };
  };

  const columns = new Map<string, FrameColumn>();
  const addVar = (v: Variable) => {
    if (columns.has(v.label)) return;
    if (!v.forceFactor && parseNumeric(v.name).bad < 0) columns.set(v.label, { kind: 'numeric', name: v.label, values: numericColumn(v.name, 'predictor') });
    else columns.set(v.label, applyCoding({ ...factorColumn(v.name), name: v.label }, v, contrasts));
  };
  f.fixed.terms.forEach((t) => t.forEach(addVar));
  f.random.forEach((r) => r.design.terms.forEach((t) => t.forEach(addVar)));
  for (const r of f.random) for (const g of r.group) if (!columns.has(`group:${g}`)) columns.set(`group:${g}`, factorColumn(g));
  for (const g of extra.factors ?? []) if (!columns.has(`group:${g}`)) columns.set(`group:${g}`, factorColumn(g));
  for (const v of extra.numeric ?? []) columns.set(`numeric:${v}`, { kind: 'numeric', name: v, values: numericColumn(v, 'time') });

  const combo = (c: LinearCombo, role: string): Float64Array => {
    const out = new Float64Array(n);
    for (const { name, sign } of c) {
      const v = numericColumn(name, role);
      for (let k = 0; k < n; k++) out[k]! += sign * v[k]!;
    }
    return out;
  };
  let y: Float64Array;
  let trials: Float64Array | null = null;
  if (f.response.kind === 'column') {
    if (factorResponse && parseNumeric(f.response.name).bad >= 0) {
      // a binomial factor response, as glm: the first level (R's order) is failure, every other level success
      const { levels, codes } = factorColumn(f.response.name);
      if (levels.length > 2) messages.push(`response '${f.response.name}' has ${levels.length} levels: '${levels[0]}' is failure, all others success`);
      y = Float64Array.from(codes, (c) => (c > 0 ? 1 : 0));
    } else y = numericColumn(f.response.name, 'response').slice();
  } else {
    const s = combo(f.response.successes, 'response');
    const fl = combo(f.response.failures, 'response');
    trials = new Float64Array(n);
    y = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      if (s[k]! < 0 || fl[k]! < 0) throw new DataError(`cbind response: negative count (successes ${s[k]}, failures ${fl[k]}) at ${lineOf(keep[k]!)}`);
      trials[k] = s[k]! + fl[k]!;
      y[k] = trials[k]! > 0 ? s[k]! / trials[k]! : 0;
    }
  }
  let offset: Float64Array | null = null;
  for (const o of f.offsets) {
    const v = numericColumn(o, 'offset');
    offset ??= new Float64Array(n);
    for (let k = 0; k < n; k++) offset[k]! += v[k]!;
  }
  return { n, dropped, rowIndex: keep, y, trials, offset, columns, messages };
}

/** Every variable of the formula's fixed and random terms. */
function formulaVariables(f: ParsedFormula): Variable[] {
  return [...f.fixed.terms.flat(), ...f.random.flatMap((r) => r.design.terms.flat())];
}

/** Index of a value among given levels: the same string, or the same number when both are numbers (factor(x, levels = c(10, 5)) of a numeric x). */
function levelIndex(levels: readonly string[], value: string): number {
  const exact = levels.indexOf(value);
  if (exact >= 0 || value.trim() === '') return exact;
  const x = Number(value);
  return Number.isFinite(x) ? levels.findIndex((l) => l.trim() !== '' && Number(l) === x) : -1;
}

/**
 * Applies a variable's coding steps (formula.ts CodingStep) to its factor column, inside out as R evaluates
 * factor(), relevel(), ordered() and C(): new level orders renumber the codes; the contrasts are C()'s, else the
 * default for an ordered or unordered factor. O(n + L^2) for L levels.
 */
function applyCoding(col: Extract<FrameColumn, { kind: 'factor' }>, v: Variable, defaults: ContrastDefaults): FrameColumn {
  let { levels, codes } = col;
  let ordered = false;
  let contrasts: ContrastKind | undefined;
  const reorder = (order: string[]) => {
    const rank = levels.map((l) => order.indexOf(l));
    codes = Int32Array.from(codes, (c) => rank[c]!);
    levels = order;
  };
  for (const step of v.coding as CodingStep[]) {
    switch (step.kind) {
      case 'levels': {
        // the listed levels in their order, unused ones dropped (lme4's model frame drops unused levels)
        const at = levels.map((l) => levelIndex(step.levels, l));
        reorder(levels.map((l, j) => ({ l, k: at[j]! })).sort((a, b) => a.k - b.k).map((x) => x.l));
        break;
      }
      case 'relevel': {
        if (ordered) throw new DataError(`${v.label}: relevel() only applies to unordered factors`);
        const j = levelIndex(levels, step.ref);
        if (j < 0) throw new DataError(`${v.label}: '${step.ref}' is not a level of ${v.name} (levels: ${levels.join(', ')})`);
        reorder([levels[j]!, ...levels.filter((_, k) => k !== j)]);
        break;
      }
      case 'ordered':
        ordered = step.ordered;
        break;
      case 'contrasts':
        contrasts = step.contrasts;
        break;
    }
  }
  return { ...col, levels, codes, ordered, contrasts: contrasts ?? (ordered ? (defaults.ordered ?? 'poly') : (defaults.unordered ?? 'treatment')) };
}

/**
 * New data typed as a fitted frame types its columns (for predictions): the predictors, grouping factors and
 * offsets the formula uses (no response). Numeric predictors must be numbers; a factor predictor's values must be
 * levels of the fitted factor (same order and contrasts); a grouping factor's values keep their strings (a level
 * the fit has not seen is the caller's concern: population-level prediction). Rows with a missing value are
 * flagged in `complete` (0) and left out of the frame. O(n * used).
 */
export function newDataFrame(data: DataInput, f: ParsedFormula, fitted: ModelFrame): { frame: ModelFrame; complete: Uint8Array; groups: Map<string, string[]> } {
  const used = usedNames(f);
  if (f.response.kind === 'column') used.delete(f.response.name);
  else for (const c of [...f.response.successes, ...f.response.failures]) used.delete(c.name);
  for (const v of formulaVariables(f)) used.add(v.name);
  for (const r of f.random) r.group.forEach((g) => used.add(g));
  f.offsets.forEach((o) => used.add(o));
  const { columns: raw, missing, names, n: nAll, lineOf } = rawColumns(data, used);
  for (const name of used) if (!raw.has(name)) throw new DataError(`new data: no column '${name}' (the formula uses it); columns are: ${names.join(', ')}`);
  const complete = Uint8Array.from(missing, (m) => 1 - m);
  let n = 0;
  for (let i = 0; i < nAll; i++) n += complete[i]!;
  const keep = new Int32Array(n);
  for (let i = 0, k = 0; i < nAll; i++) if (complete[i]) keep[k++] = i;
  const numeric = (name: string, role: string): Float64Array =>
    Float64Array.from(keep, (i) => {
      const v = toNumber(raw.get(name)![i]!);
      if (!Number.isFinite(v)) throw new DataValueError(`new data: ${role} column '${name}' must be numeric: found '${raw.get(name)![i]}' at ${lineOf(i)}`);
      return v;
    });
  const columns = new Map<string, FrameColumn>();
  for (const v of formulaVariables(f)) {
    const fc = fitted.columns.get(v.label);
    if (!fc || columns.has(v.label)) continue;
    if (fc.kind === 'numeric') {
      columns.set(v.label, { ...fc, values: numeric(v.name, 'predictor') });
      continue;
    }
    const codes = Int32Array.from(keep, (i) => {
      const value = String(raw.get(v.name)![i]);
      const l = levelIndex(fc.levels, trimmed(value));
      if (l < 0) throw new DataError(`new data: ${v.label} has the level '${value}' at ${lineOf(i)}, which the fit did not have (levels: ${fc.levels.join(', ')})`);
      return l;
    });
    columns.set(v.label, { ...fc, codes });
  }
  const groups = new Map<string, string[]>();
  for (const r of f.random) for (const g of r.group) if (!groups.has(g)) groups.set(g, Array.from(keep, (i) => trimmed(String(raw.get(g)![i]))));
  let offset: Float64Array | null = null;
  for (const o of f.offsets) {
    const v = numeric(o, 'offset');
    offset ??= new Float64Array(n);
    for (let k = 0; k < n; k++) offset[k]! += v[k]!;
  }
  const frame: ModelFrame = { n, dropped: nAll - n, rowIndex: keep, y: new Float64Array(n), trials: null, offset, columns, messages: [] };
  return { frame, complete, groups };
}
