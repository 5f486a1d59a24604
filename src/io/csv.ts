/**
 * Small delimited tables (phenotypes, covariates, sample sheets): comma, tab or whitespace separated, plain or
 * gzip, read whole into strings, then typed one column at a time. Every error is an InputError naming
 * file:line(:column).
 */
import { InputError } from '../errors.js';
import { readLineBlocks } from './lines.js';


/** Field separator; 'auto' picks tab if the first line has one, else comma if it has one, else whitespace. */
export type Separator = ',' | '\t' | 'whitespace' | 'auto';

/** Options of readTable. */
export interface ReadTableOptions {
  /** Default 'auto'. With ',' or '\t', RFC 4180 quoting applies: "a,b", "say ""hi""", and line breaks inside quotes. */
  sep?: Separator;
  /** First record holds column names (default true). Without one, columns are named V1, V2, ... */
  header?: boolean;
  /** Lines starting with this string are skipped (default: none). Blank lines are always skipped. */
  comment?: string;
}

/** A delimited table held as strings; type columns with numericColumn / stringColumn. */
export interface Table {
  /** The path the table was read from, for error messages. */
  path: string;
  header: string[];
  /** One array of raw fields per data record, all of header.length. */
  rows: string[][];
  /** 1-based line number where each row starts. */
  lineNos: number[];
  /** 1-based line number of the header (0 when there is none). */
  headerLineNo: number;
}

/**
 * Reads a delimited text table. Ragged rows throw an InputError naming the line and the expected field count.
 * Cost O(bytes); the whole table is held in memory (meant for sample-sized tables, not genotypes).
 */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<Table> {
  let sep = options.sep ?? 'auto';
  const hasHeader = options.header ?? true;
  const comment = options.comment;
  let header: string[] | undefined;
  let headerLineNo = 0;
  const rows: string[][] = [];
  const lineNos: number[] = [];
  let pending: { fields: string[]; lineNo: number } | undefined;
  let partial: QuotedState | undefined;

  const accept = (fields: string[], lineNo: number) => {
    if (!header) {
      if (hasHeader) {
        checkUniqueNames(fields, path, lineNo);
        header = fields;
        headerLineNo = lineNo;
        return;
      }
      header = fields.map((_, i) => `V${i + 1}`);
    }
    if (fields.length !== header.length) {
      const where = hasHeader ? `the header on line ${headerLineNo}` : `line ${lineNos[0] ?? lineNo}`;
      throw new InputError(path, lineNo, undefined, `expected ${header.length} fields as on ${where}, found ${fields.length}`);
    }
    rows.push(fields);
    lineNos.push(lineNo);
  };

  for await (const { lines, firstLineNo } of readLineBlocks(path)) {
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!;
      const lineNo = firstLineNo + k;
      if (partial && pending) {
        // Continuation of a quoted field that spans lines.
        partial = parseQuoted(line, sep as ',' | '\t', path, lineNo, partial);
        if (!partial.open) {
          accept(partial.fields, pending.lineNo);
          partial = undefined;
          pending = undefined;
        }
        continue;
      }
      if (line.length === 0 || (comment !== undefined && line.startsWith(comment)) || isBlank(line)) continue;
      if (sep === 'auto') sep = line.includes('\t') ? '\t' : line.includes(',') ? ',' : 'whitespace';
      if (sep === 'whitespace') {
        accept(splitWhitespace(line), lineNo);
      } else if (!line.includes('"')) {
        accept(line.split(sep), lineNo);
      } else {
        const st = parseQuoted(line, sep, path, lineNo, undefined);
        if (st.open) {
          partial = st;
          pending = { fields: st.fields, lineNo };
        } else accept(st.fields, lineNo);
      }
    }
  }
  if (partial && pending) throw new InputError(path, pending.lineNo, undefined, 'quoted field is not closed before the end of the file');
  if (!header) throw new InputError(path, undefined, undefined, 'empty table: no header or rows');
  return { path, header, rows, lineNos, headerLineNo };
}

/** A column name given twice is ambiguous (which one does a formula or an option mean?): InputError at the second. */
function checkUniqueNames(names: readonly string[], path: string, lineNo: number): void {
  const first = new Map<string, number>();
  names.forEach((name, j) => {
    if (name === '') return;
    const i = first.get(name);
    if (i !== undefined) throw new InputError(path, lineNo, j + 1, `column name '${name}' appears twice in the header (columns ${i + 1} and ${j + 1}): expected unique column names`);
    first.set(name, j);
  });
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Fields separated by runs of spaces or tabs, ignoring leading and trailing blanks. */
function splitWhitespace(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const c = i < line.length ? line.charCodeAt(i) : 32;
    const blank = c === 32 || c === 9;
    if (blank) {
      if (start >= 0) out.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  return out;
}

/** Parser state for one RFC 4180 record, possibly spanning lines. */
interface QuotedState {
  fields: string[];
  /** Text of the field being read when a quoted field continues on the next line. */
  current: string;
  open: boolean;
}

/**
 * Splits one line of a quoted record: a field that starts with `"` runs to the next lone `"`, `""` inside it is a
 * literal quote; text after the closing quote other than the separator is an error (column given).
 */
function parseQuoted(line: string, sep: ',' | '\t', path: string, lineNo: number, cont: QuotedState | undefined): QuotedState {
  const fields = cont ? cont.fields : [];
  let i = 0;
  let current = '';
  let inQuotes = false;
  if (cont) {
    current = cont.current + '\n';
    inQuotes = true;
  }
  for (;;) {
    if (inQuotes) {
      const q = line.indexOf('"', i);
      if (q === -1) return { fields, current: current + line.slice(i), open: true };
      if (line[q + 1] === '"') {
        current += line.slice(i, q + 1);
        i = q + 2;
        continue;
      }
      current += line.slice(i, q);
      i = q + 1;
      inQuotes = false;
      if (i < line.length && line[i] !== sep) {
        throw new InputError(path, lineNo, fields.length + 1, `expected "${sep === '\t' ? '\\t' : sep}" or end of line after a closing quote, found '${line[i]}'`);
      }
    } else if (line[i] === '"' && current === '') {
      inQuotes = true;
      i++;
      continue;
    } else {
      const s = line.indexOf(sep, i);
      const end = s === -1 ? line.length : s;
      current += line.slice(i, end);
      i = end;
    }
    // i is at a separator or at the end of the line.
    fields.push(current);
    current = '';
    if (i >= line.length) return { fields, current: '', open: false };
    i++;
    if (i === line.length) {
      fields.push('');
      return { fields, current: '', open: false };
    }
  }
}

/** 0-based index of a named column; InputError naming the header line and the available names otherwise. */
export function columnIndex(table: Table, name: string): number {
  const j = table.header.indexOf(name);
  if (j < 0) {
    const shown = table.header.length > 20 ? `${table.header.slice(0, 20).join(', ')}, ...` : table.header.join(', ');
    throw new InputError(table.path, table.headerLineNo || undefined, undefined, `no column "${name}"; columns are: ${shown}`);
  }
  return j;
}

/** The raw strings of one column. */
export function stringColumn(table: Table, name: string): string[] {
  const j = columnIndex(table, name);
  return table.rows.map((r) => r[j]!);
}

/** How numericColumn treats missing cells. */
export interface NumericColumnOptions {
  /** Cells read as missing (NaN). Default ['NA', 'NaN', '']. */
  na?: readonly string[];
  /** If false, a missing cell throws an InputError instead of giving NaN. Default true. */
  allowMissing?: boolean;
}

/**
 * One column as f64. Accepts decimal and exponent notation and Inf/-Inf (as R writes them); surrounding blanks
 * are ignored. A non-numeric cell throws `file:line:column: expected a number in column "name", got "abc"`.
 */
export function numericColumn(table: Table, name: string, options: NumericColumnOptions = {}): Float64Array {
  const j = columnIndex(table, name);
  const na = new Set(options.na ?? ['NA', 'NaN', '']);
  const allowMissing = options.allowMissing ?? true;
  const out = new Float64Array(table.rows.length);
  for (let i = 0; i < table.rows.length; i++) {
    const raw = table.rows[i]![j]!;
    const cell = raw.trim();
    if (na.has(cell)) {
      if (!allowMissing) throw new InputError(table.path, table.lineNos[i], j + 1, `missing value "${raw}" in column "${name}", which must be complete`);
      out[i] = NaN;
      continue;
    }
    const v = parseNumber(cell);
    if (Number.isNaN(v)) throw new InputError(table.path, table.lineNos[i], j + 1, `expected a number in column "${name}", got "${raw}"`);
    out[i] = v;
  }
  return out;
}

/** Decimal number, or NaN when the text is not one (rejects '', hex, and other things Number() would accept). */
function parseNumber(cell: string): number {
  if (cell === 'Inf' || cell === '+Inf' || cell === 'Infinity') return Infinity;
  if (cell === '-Inf' || cell === '-Infinity') return -Infinity;
  const c = cell.charCodeAt(cell.length - 1);
  // Must end in a digit or a dot ("1.") and contain no letters other than an exponent e/E.
  if (cell === '' || !((c >= 48 && c <= 57) || c === 46)) return NaN;
  for (let k = 0; k < cell.length; k++) {
    const ch = cell.charCodeAt(k) | 32;
    if (ch >= 97 && ch <= 122 && ch !== 101) return NaN;
  }
  return Number(cell);
}
