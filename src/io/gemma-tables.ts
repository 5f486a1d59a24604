/**
 * GEMMA's small per-individual tables: the BIMBAM phenotype file (`-p`) and the covariate file (`-c`), one row
 * per individual in genotype order, numeric fields separated by spaces, tabs or commas, `NA` missing.
 * Also the covariate-matrix rule GEMMA applies before any model (intercept handling), in one place.
 */
import { f64Matrix, type F64Matrix } from '../../kernels/matrix.js';
import { InputError } from '../errors.js';
import { readLines, type NumberedLine } from './lines.js';

/** The non-empty lines of a small text file (plain or gzip): per-individual or per-SNP metadata. */
export async function readNonEmptyLines(path: string): Promise<NumberedLine[]> {
  const out: NumberedLine[] = [];
  for await (const l of readLines(path)) if (l.line.trim() !== '') out.push(l);
  return out;
}

/** Splits a line on `sep` after trimming; empty fields from repeated separators are dropped. */
export function splitFields(line: string, sep: RegExp): string[] {
  return line.trim().split(sep).filter((f) => f !== '');
}

/** GEMMA's field separators in -p, -c, -g and -a files: any run of spaces, tabs and commas. */
export const GEMMA_SEP = /[ ,\t]+/;

/** Parses one numeric field (`NA` -> NaN); throws an InputError naming file, line and column otherwise. */
export function parseNumberField(raw: string, path: string, lineNo: number, column: number, what: string): number {
  if (raw === 'NA') return Number.NaN;
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v)) throw new InputError(path, lineNo, column, `expected a number or NA as ${what}, found '${raw}'`);
  return v;
}

/** A numeric per-individual table: rows x cols, NaN where the file says NA. */
export interface NumericTable {
  path: string;
  values: F64Matrix;
  /** 1-based line number of each row. */
  lineNos: number[];
}

/** Case/control words of a phenotype field (any letter case): 'case' -> 1, 'control' -> 0, else undefined. */
export function caseControlWord(raw: string): 1 | 0 | undefined {
  const w = raw.toLowerCase();
  return w === 'case' ? 1 : w === 'control' ? 0 : undefined;
}

async function readNumericTable(path: string, what: string, words = false): Promise<NumericTable> {
  const lines = await readNonEmptyLines(path);
  if (lines.length === 0) throw new InputError(path, undefined, undefined, `no rows: expected one row per individual`);
  const first = splitFields(lines[0]!.line, GEMMA_SEP).length;
  const values = f64Matrix(lines.length, first);
  lines.forEach(({ line, lineNo }, i) => {
    const f = splitFields(line, GEMMA_SEP);
    if (f.length !== first) {
      throw new InputError(path, lineNo, undefined, `expected ${first} columns like line ${lines[0]!.lineNo}, found ${f.length}`);
    }
    for (let j = 0; j < first; j++) values.data[i + j * values.ld] = (words ? caseControlWord(f[j]!) : undefined) ?? parseNumberField(f[j]!, path, lineNo, j + 1, what);
  });
  return { path, values, lineNos: lines.map((l) => l.lineNo) };
}

/**
 * Reads a BIMBAM phenotype file (`-p`): one row per individual, one column per phenotype, NA missing; the words
 * `case` and `control` (binary traits) read as 1 and 0.
 */
export function readPhenotypeFile(path: string): Promise<NumericTable> {
  return readNumericTable(path, 'phenotype', true);
}

/** Reads a GEMMA covariate file (`-c`): one row per individual, numeric columns, NA missing. */
export function readCovariateFile(path: string): Promise<NumericTable> {
  return readNumericTable(path, 'covariate');
}

/** Checks that a per-individual table has one row per individual of the genotype file. */
export function checkRowCount(table: NumericTable, nIndividuals: number, genotypes: string): void {
  const n = table.values.rows;
  if (n !== nIndividuals) {
    const at = n > nIndividuals ? table.lineNos[nIndividuals] : undefined;
    throw new InputError(table.path, at, undefined, `has ${n} rows but ${genotypes} has ${nIndividuals} individuals: expected one row per individual, in the same order`);
  }
}

/** The covariate matrix W of a model, after GEMMA's intercept rule. */
export interface CovariateDesign {
  /** analysed individuals x c, column-major. */
  w: F64Matrix;
  /** How the intercept was handled: 'none-given' (W = 1), 'appended' (ones added last), 'present' (a constant column was kept), 'all-constant' (W replaced by 1). */
  intercept: 'none-given' | 'appended' | 'present' | 'all-constant';
}

/**
 * GEMMA's intercept rule (0.98.5 PARAM::CheckCvt), evaluated over the analysed individuals `rows`:
 * no covariate file -> W = 1; every column constant -> W = 1; some column constant -> W as given;
 * no column constant -> a column of ones is appended last. Cost O(n c).
 */
export function covariateDesign(covariates: F64Matrix | undefined, rows: Int32Array): CovariateDesign {
  const n = rows.length;
  const ones = (): F64Matrix => f64Matrix(n, 1, new Float64Array(n).fill(1));
  if (!covariates) return { w: ones(), intercept: 'none-given' };
  const c = covariates.cols;
  let constant = 0;
  for (let j = 0; j < c; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < n; r++) {
      const v = covariates.data[rows[r]! + j * covariates.ld]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === hi) constant++;
  }
  if (c === 0 || constant === c) return { w: ones(), intercept: 'all-constant' };
  const cols = constant === 0 ? c + 1 : c;
  const w = f64Matrix(n, cols);
  for (let j = 0; j < c; j++) for (let r = 0; r < n; r++) w.data[r + j * n] = covariates.data[rows[r]! + j * covariates.ld]!;
  if (constant === 0) w.data.fill(1, c * n, (c + 1) * n);
  return { w, intercept: constant === 0 ? 'appended' : 'present' };
}
