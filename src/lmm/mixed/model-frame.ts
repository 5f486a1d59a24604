/**
 * Model frame: the columns a formula uses, typed (numeric or factor), with incomplete rows dropped.
 *
 * Columns follow R's read.csv(stringsAsFactors = TRUE) semantics: a column whose every present value parses
 * as a number is numeric, anything else is a factor whose levels sort as R sorts them in the C locale
 * (numeric order for factor(x) of a numeric column). Missing values are "" and "NA".
 */
import type { LinearCombo, ParsedFormula, Variable } from './formula.js';

/** Input data: a table as src/io/csv.ts readTable returns it, or named columns. */
export type DataInput =
  | { header: readonly string[]; rows: readonly (readonly string[])[]; lineNos?: readonly number[]; path?: string }
  | Readonly<Record<string, ArrayLike<number | string | null | undefined>>>;

/** A typed column of the frame (rows already subset to complete cases). */
export type FrameColumn =
  | { kind: 'numeric'; name: string; values: Float64Array }
  | { kind: 'factor'; name: string; levels: string[]; codes: Int32Array };

/** Error about the data (unknown column, wrong type, bad value): names the column and, when known, the line. */
export class DataError extends Error {
  override name = 'DataError';
}

type RawColumn = (number | string | null)[];

function isMissing(v: number | string | null | undefined): boolean {
  return v === null || v === undefined || v === '' || v === 'NA' || (typeof v === 'number' && Number.isNaN(v));
}

/** Converts either input shape to raw columns, keyed by name, plus the source line of each row. */
function rawColumns(data: DataInput): { columns: Map<string, RawColumn>; n: number; lineOf: (i: number) => string } {
  const columns = new Map<string, RawColumn>();
  if ('header' in data && Array.isArray((data as { rows?: unknown }).rows)) {
    const t = data as { header: readonly string[]; rows: readonly (readonly string[])[]; lineNos?: readonly number[]; path?: string };
    t.header.forEach((h, j) => columns.set(h, t.rows.map((r) => (r[j] === undefined ? null : r[j]!.trim()))));
    const src = t.path ?? 'data';
    return { columns, n: t.rows.length, lineOf: (i) => `${src}:${t.lineNos?.[i] ?? i + 2}` };
  }
  let n = -1;
  for (const [name, col] of Object.entries(data as Record<string, ArrayLike<number | string | null | undefined>>)) {
    if (n >= 0 && col.length !== n) throw new DataError(`column '${name}' has ${col.length} values, expected ${n} like the others`);
    n = col.length;
    columns.set(name, Array.from(col, (v) => (v === undefined ? null : v)));
  }
  return { columns, n: Math.max(n, 0), lineOf: (i) => `row ${i + 1}` };
}

function toNumber(v: number | string): number {
  return typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v);
}

/** R's level order: numeric order when every level is a number, else C-locale string order. */
export function sortLevels(values: Iterable<string>): string[] {
  const u = Array.from(new Set(values));
  const numeric = u.every((s) => s.trim() !== '' && Number.isFinite(Number(s)));
  return numeric ? u.sort((a, b) => Number(a) - Number(b)) : u.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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
 * value in any used column (with a message), types the columns, and forms the response.
 * Cost O(n * used columns).
 */
export function buildModelFrame(data: DataInput, f: ParsedFormula): ModelFrame {
  const { columns: raw, n: nAll, lineOf } = rawColumns(data);
  const used = usedNames(f);
  for (const name of used) {
    if (!raw.has(name)) {
      throw new DataError(`unknown column '${name}' in formula "${f.text}"; columns are: ${Array.from(raw.keys()).join(', ')}`);
    }
  }
  const keep: number[] = [];
  for (let i = 0; i < nAll; i++) {
    let ok = true;
    for (const name of used) if (isMissing(raw.get(name)![i])) ok = false;
    if (ok) keep.push(i);
  }
  const messages: string[] = [];
  const dropped = nAll - keep.length;
  if (dropped > 0) messages.push(`dropped ${dropped} row${dropped === 1 ? '' : 's'} with missing values in the model's columns`);
  if (keep.length === 0) throw new DataError('no complete rows: every row has a missing value in a column the formula uses');
  const n = keep.length;

  const numericColumn = (name: string, role: string): Float64Array => {
    const col = raw.get(name)!;
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const v = toNumber(col[keep[k]!]!);
      if (!Number.isFinite(v)) {
        throw new DataError(`${role} column '${name}' must be numeric: found '${col[keep[k]!]}' at ${lineOf(keep[k]!)}`);
      }
      out[k] = v;
    }
    return out;
  };
  const factorColumn = (name: string): FrameColumn => {
    const col = raw.get(name)!;
    const strs = keep.map((i) => String(col[i]));
    const levels = sortLevels(strs);
    const index = new Map(levels.map((l, j) => [l, j]));
    return { kind: 'factor', name, levels, codes: Int32Array.from(strs, (s) => index.get(s)!) };
  };

  const columns = new Map<string, FrameColumn>();
  const keepSet = new Set(keep);
  const numericCache = new Map<string, boolean>();
  const numericOk = (name: string): boolean => {
    if (!numericCache.has(name)) {
      const col = raw.get(name)!;
      numericCache.set(name, col.every((v, i) => !keepSet.has(i) || Number.isFinite(toNumber(v!))));
    }
    return numericCache.get(name)!;
  };
  const addVar = (v: Variable) => {
    if (columns.has(v.label)) return;
    if (!v.forceFactor && numericOk(v.name)) columns.set(v.label, { kind: 'numeric', name: v.label, values: numericColumn(v.name, 'predictor') });
    else columns.set(v.label, { ...factorColumn(v.name), name: v.label } as FrameColumn);
  };
  f.fixed.terms.forEach((t) => t.forEach(addVar));
  f.random.forEach((r) => r.design.terms.forEach((t) => t.forEach(addVar)));
  for (const r of f.random) for (const g of r.group) if (!columns.has(`group:${g}`)) columns.set(`group:${g}`, factorColumn(g));

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
    y = numericColumn(f.response.name, 'response');
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
  return { n, dropped, rowIndex: Int32Array.from(keep), y, trials, offset, columns, messages };
}
