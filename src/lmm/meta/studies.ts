/**
 * A table of studies -> the meta-analysis inputs: estimates, sampling variances (given directly or as standard
 * errors) and the moderators' design (a formula's right-hand side such as `~ ablat + factor(alloc)`, or a
 * comma-separated column list), with incomplete rows dropped as R's na.omit does.
 */
import { fixedDesign } from '../mixed/fixed-design.js';
import { DataError, type ContrastDefaults, type DataInput } from '../mixed/model-frame.js';
import type { MetaData } from './rma.js';

/** Which columns hold what. Exactly one of vi / sei. */
export interface StudyColumns {
  /** estimates */
  yi: string;
  /** sampling variances */
  vi?: string;
  /** standard errors (squared into variances) */
  sei?: string;
  /** moderators: `~ x1 + factor(x2)` or `x1,x2`; empty or absent: intercept only */
  mods?: string | null;
  contrasts?: ContrastDefaults;
}

/** The right-hand side of the moderators' formula from either syntax. */
export function modsFormula(mods: string | null | undefined): string {
  const m = (mods ?? '').trim();
  if (m === '') return '1';
  if (m.startsWith('~')) return m.slice(1).trim() || '1';
  const cols = m.split(',').map((c) => c.trim());
  if (cols.some((c) => c === '')) throw new DataError(`moderators "${mods}": an empty column name in the list`);
  return cols.map((c) => (/^[A-Za-z.][A-Za-z0-9._]*$/.test(c) ? c : `\`${c}\``)).join(' + ');
}

/**
 * Builds the MetaData of a study table. Rows with a missing estimate, variance or moderator are dropped (a message
 * says how many). Throws DataError for unknown columns, non-numeric values or a non-positive variance (naming
 * the row), FormulaError for a bad moderators formula. O(k p^2).
 */
export function studyData(data: DataInput, c: StudyColumns): { data: MetaData; rowIndex: Int32Array; messages: string[] } {
  if ((c.vi === undefined) === (c.sei === undefined)) throw new DataError('give the sampling variances or the standard errors (exactly one of vi, sei)');
  const varCol = (c.vi ?? c.sei)!;
  const d = fixedDesign(data, `\`${c.yi}\` ~ ${modsFormula(c.mods)}`, { contrasts: c.contrasts, extra: { numeric: [varCol] } });
  const raw = (d.frame.columns.get(`numeric:${varCol}`) as { values: Float64Array }).values;
  const vi = c.sei !== undefined ? raw.map((s) => s * s) : raw.slice();
  const lineNos = 'header' in data && Array.isArray(data.lineNos) ? (data.lineNos as readonly number[]) : null;
  for (let i = 0; i < vi.length; i++) {
    if (!(raw[i]! > 0 && raw[i]! < Infinity)) {
      const row = d.frame.rowIndex[i]!;
      const where = lineNos ? `line ${lineNos[row]}` : `row ${row + 1}`;
      throw new DataError(`${c.vi !== undefined ? 'sampling variance' : 'standard error'} column '${varCol}' must hold positive numbers: found ${raw[i]} at ${where}`);
    }
  }
  return { data: { yi: d.frame.y.slice(), vi, x: d.x.data.slice(), names: d.names }, rowIndex: d.frame.rowIndex, messages: d.messages };
}
