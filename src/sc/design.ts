/**
 * Cell metadata and the per-analysis design of single-cell DE: which cells enter an analysis, the fixed-effect
 * matrix X (intercept, condition contrast, covariates), the donor of every cell, and whether the condition
 * varies between donors or within them (paired).
 */
import { InputError } from '../errors.js';

/** Cell metadata aligned with the count matrix columns: one string per cell and column. */
export interface CellTable {
  /** Column name -> values, one per count-matrix column (cell). */
  readonly columns: ReadonlyMap<string, readonly string[]>;
  readonly nCells: number;
  /** Where the table came from (for messages): the file. */
  readonly source: string;
  /** How a column is named inside the source, for messages: 'obs/' for an .h5ad (default 'column '). */
  readonly columnPrefix?: string;
  /** 1-based line of the source that holds a cell's metadata (for messages), when the source is a text table. */
  readonly lineOf?: (cell: number) => number | undefined;
}

/** Thrown for a design that cannot be analysed as asked (bad levels, too few cells...). */
export class DesignError extends Error {
  override name = 'DesignError';
}

/**
 * Metadata whose donor-level information disagrees between a donor's cells (a donor in both conditions of a
 * between-donor design, or in one only of a paired one): an InputError naming the file and the column.
 */
export class DonorLayoutError extends InputError {
  override name = 'DonorLayoutError';
  constructor(table: CellTable, column: string, detail: string) {
    super(table.source, undefined, undefined, `${table.columnPrefix ?? 'column '}${column}: ${detail}`);
  }
}

export type DesignKind = 'between' | 'paired';

export interface DesignOptions {
  donor: string;
  condition: string;
  /** "B:A": test B relative to A. Without it the condition must have exactly two levels (sorted: A < B). */
  contrast?: string;
  covariates?: readonly string[];
  /** A second grouping factor (e.g. batch) with its own random intercept, crossed with donor (lmm only). */
  random?: string;
  /** Required design kind; 'auto' accepts a purely between-donor or purely paired design. */
  design?: DesignKind | 'auto';
}

/** The cells of one analysis and everything the models need about them. */
export interface AnalysisDesign {
  /** Count-matrix column of each analysed cell. */
  readonly cells: Int32Array;
  /** Fixed effects, row-major n x p: x[i * p + k]. Column 0 intercept, column 1 condition (B = 1). */
  readonly x: Float64Array;
  readonly p: number;
  /** Names of the p columns. */
  readonly columnNames: readonly string[];
  /** Index of the tested coefficient (the condition). */
  readonly coef: number;
  /** Donor index (0-based, dense) of each analysed cell. */
  readonly donorOf: Int32Array;
  readonly donors: readonly string[];
  /** 1 for cells in level B, 0 for A. */
  readonly inB: Uint8Array;
  readonly levels: { readonly a: string; readonly b: string };
  readonly kind: DesignKind;
  /** Donors with cells in A and in B (between: disjoint; paired: each donor in both). */
  readonly donorsA: number;
  readonly donorsB: number;
  /** Cells dropped for a missing value in the donor, condition or a covariate column. */
  readonly droppedMissing: number;
  /** The second grouping factor (DesignOptions.random): its sorted levels and each analysed cell's level. */
  readonly second: { readonly name: string; readonly levels: readonly string[]; readonly of: Int32Array } | null;
}

const MISSING = new Set(['', 'NA', 'NaN', 'nan', 'null', 'None']);

function column(table: CellTable, name: string): readonly string[] {
  const col = table.columns.get(name);
  if (!col) throw new DesignError(`${table.source}: no column "${name}" (columns: ${[...table.columns.keys()].join(', ')})`);
  return col;
}

/** Sorted distinct values (numeric order when all values are numbers, else code-point order, like R's sort). */
export function sortedLevels(values: Iterable<string>): string[] {
  const lv = [...new Set(values)];
  const numeric = lv.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  return numeric ? lv.sort((a, b) => Number(a) - Number(b)) : lv.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The sorted levels of a covariate that is not all numbers, after two checks that keep a typo from turning a
 * numeric covariate into one dummy column per cell (a design as wide as the data, fitted for every gene):
 * a column whose values are mostly numbers (more than half of the analysed cells) with a few that are not is an
 * InputError naming the first such value, its cell and (for a text table) its line; a categorical with a level
 * for more than half of the analysed cells is a DesignError. Cost O(n).
 */
function checkCategorical(table: CellTable, name: string, keep: readonly number[], vals: readonly string[]): string[] {
  const isNumber = (v: string): boolean => v.trim() !== '' && Number.isFinite(Number(v));
  let numbers = 0;
  let first = -1;
  vals.forEach((v, r) => {
    if (isNumber(v)) numbers++;
    else if (first < 0) first = r;
  });
  const where = `${table.columnPrefix ?? 'column '}${name}`;
  if (numbers * 2 > vals.length) {
    const cell = keep[first]!;
    const line = table.lineOf?.(cell);
    throw new InputError(
      table.source,
      line,
      undefined,
      `${where}: "${vals[first]}" (cell ${cell + 1}) is not a number, while ${numbers} of the ${vals.length} analysed cells have numbers there: ` +
        `correct it, or leave it empty (NA) to drop the cell`,
    );
  }
  const levels = sortedLevels(vals);
  if (levels.length * 2 > vals.length) {
    throw new DesignError(`covariate ${name}: ${levels.length} distinct values among ${vals.length} cells; a categorical covariate needs far fewer levels than cells`);
  }
  return levels;
}

/**
 * Builds the design of one analysis over the candidate cells `subset` (count-matrix columns, e.g. one cell
 * type). Cells with a missing donor/condition/covariate, or a condition level outside the contrast, are left
 * out. Numeric covariates enter as one column; categorical ones as treatment-coded dummies (first sorted
 * level is the reference, as R's default contrasts). Throws DesignError for: a condition without a contrast
 * and other than two levels, an unknown contrast level, an inconsistent donor/condition layout, or a
 * rank-deficient X. Cost O(n p).
 */
export function buildDesign(table: CellTable, subset: Int32Array, opts: DesignOptions): AnalysisDesign {
  const donorCol = column(table, opts.donor);
  const condCol = column(table, opts.condition);
  const covNames = opts.covariates ?? [];
  const covCols = covNames.map((c) => column(table, c));
  const randomCol = opts.random !== undefined ? column(table, opts.random) : null;
  if (opts.random !== undefined && (opts.random === opts.donor || opts.random === opts.condition)) {
    throw new DesignError(`--random ${opts.random}: must differ from the donor and condition columns`);
  }

  // Step 1: condition levels and contrast.
  const present = sortedLevels([...subset].map((i) => condCol[i]!).filter((v) => !MISSING.has(v)));
  let a: string;
  let b: string;
  if (opts.contrast !== undefined) {
    const parts = opts.contrast.split(':');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '' || parts[0] === parts[1]) {
      throw new DesignError(`--contrast "${opts.contrast}": expected B:A with two different levels of ${opts.condition}`);
    }
    [b, a] = parts as [string, string];
    for (const lv of [a, b]) {
      if (!present.includes(lv)) throw new DesignError(`--contrast: level "${lv}" not found in column ${opts.condition} (levels: ${present.join(', ')})`);
    }
  } else {
    if (present.length !== 2) {
      throw new DesignError(
        `column ${opts.condition} has ${present.length} level(s) (${present.join(', ')}); give --contrast B:A to choose the two to compare`,
      );
    }
    [a, b] = present as [string, string];
  }

  // Step 2: cells kept (non-missing, level A or B).
  const keep: number[] = [];
  let droppedMissing = 0;
  for (const i of subset) {
    const c = condCol[i]!;
    if (MISSING.has(donorCol[i]!) || MISSING.has(c) || covCols.some((col) => MISSING.has(col[i]!)) || (randomCol && MISSING.has(randomCol[i]!))) {
      droppedMissing++;
      continue;
    }
    if (c === a || c === b) keep.push(i);
  }
  const n = keep.length;
  if (n === 0) throw new DesignError(`no cells with condition ${a} or ${b}`);

  // Step 3: donors and design kind.
  const donors = sortedLevels(keep.map((i) => donorCol[i]!));
  const donorIndex = new Map(donors.map((d, k) => [d, k]));
  const donorOf = new Int32Array(n);
  const inB = new Uint8Array(n);
  const seen = new Uint8Array(donors.length * 2);
  keep.forEach((i, r) => {
    const d = donorIndex.get(donorCol[i]!)!;
    donorOf[r] = d;
    inB[r] = condCol[i] === b ? 1 : 0;
    seen[d * 2 + inB[r]!] = 1;
  });
  let both = 0;
  let donorsA = 0;
  let donorsB = 0;
  for (let d = 0; d < donors.length; d++) {
    if (seen[2 * d] && seen[2 * d + 1]) both++;
    donorsA += seen[2 * d]!;
    donorsB += seen[2 * d + 1]!;
  }
  const kind: DesignKind = both === 0 ? 'between' : 'paired';
  const want = opts.design ?? 'auto';
  if (both > 0 && both < donors.length) {
    const mixed = donors.filter((_, d) => seen[2 * d] && seen[2 * d + 1]);
    const single = donors.filter((_, d) => !(seen[2 * d] && seen[2 * d + 1]));
    if (want === 'between' || want === 'auto') {
      throw new DonorLayoutError(
        table,
        opts.condition,
        `condition ${opts.condition} is not donor-level: donor(s) ${mixed.slice(0, 5).join(', ')} have cells in both ${a} and ${b}` +
          (want === 'auto' ? `, while ${single.slice(0, 5).join(', ')} have one level only (neither paired nor between-donor)` : ''),
      );
    }
    throw new DonorLayoutError(table, opts.condition, `--design paired: donor(s) ${single.slice(0, 5).join(', ')} have cells in only one of ${a}, ${b}`);
  }
  if (want !== 'auto' && want !== kind) {
    throw new DesignError(`--design ${want}: the data are ${kind === 'paired' ? 'paired (every donor in both conditions)' : 'between-donor (each donor in one condition)'}`);
  }

  // Step 4: fixed effects.
  const names = ['(Intercept)', `${opts.condition}${b}`];
  const builders: ((i: number) => number)[] = [() => 1, (i) => (condCol[i] === b ? 1 : 0)];
  covCols.forEach((col, c) => {
    const vals = keep.map((i) => col[i]!);
    if (vals.every((v) => Number.isFinite(Number(v)))) {
      names.push(covNames[c]!);
      builders.push((i) => Number(col[i]!));
    } else {
      const levels = checkCategorical(table, covNames[c]!, keep, vals);
      for (const lv of levels.slice(1)) {
        names.push(`${covNames[c]}${lv}`);
        builders.push((i) => (col[i] === lv ? 1 : 0));
      }
    }
  });
  const p = names.length;
  const x = new Float64Array(n * p);
  keep.forEach((i, r) => {
    for (let k = 0; k < p; k++) x[r * p + k] = builders[k]!(i);
  });
  return {
    cells: Int32Array.from(keep),
    x,
    p,
    columnNames: names,
    coef: 1,
    donorOf,
    donors,
    inB,
    levels: { a, b },
    kind,
    donorsA,
    donorsB,
    droppedMissing,
    second: randomCol ? secondFactor(opts.random!, keep.map((i) => randomCol[i]!)) : null,
  };
}

/** Levels (sorted) of a second grouping factor and the level index of each value. Cost O(n log n). */
function secondFactor(name: string, values: readonly string[]): { name: string; levels: string[]; of: Int32Array } {
  const levels = sortedLevels(values);
  const index = new Map(levels.map((l, k) => [l, k]));
  return { name, levels, of: Int32Array.from(values, (v) => index.get(v)!) };
}
