/**
 * GWAS summary statistics read back for a meta-analysis, streamed in blocks: gpulmm's (and GEMMA's) assoc.txt,
 * BOLT-LMM's table (`gwas --tsv-format bolt`), GWAS-SSF (`gwas --ssf`, .tsv.gz), other tab/whitespace tables with
 * recognisable column names, and gpulmm's Arrow outputs (IPC stream `.arrows`, IPC file `.arrow`, hive dataset
 * directory `DIR/pheno=P/chr=C/part-0.arrow`). Plain or gzip text (by magic bytes).
 *
 * Columns are found by name (case-insensitive), first match wins:
 *   chromosome  chr chromosome chrom #chrom
 *   position    ps base_pair_location bp pos position
 *   id          rs rsid snp id variant_id markername (optional)
 *   effect      allele1 effect_allele a1 ea            (beta is per copy of this allele)
 *   other       allele0 other_allele a2 nea
 *   beta        beta effect
 *   se          se standard_error stderr
 *   af          af effect_allele_frequency a1freq eaf freq1 (optional)
 *   n           n (optional)
 * Ids '', '.', NA and #NA name nothing (read as ''). A record without a position (NA, or negative as GEMMA's -9 for
 * unplaced SNPs) is left out and counted in its block's `unplaced`. Missing numbers ('', NA, nan, inf) read as NaN
 * (the caller decides what to skip); anything else that is not a number, and a standard error <= 0, is an InputError
 * naming file:line:column (Arrow: the row). Memory: one block (~1 MiB of text, or one Arrow batch).
 */
import { isAscii } from 'node:buffer';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { readArrowTable, type ArrowBatch, type ArrowColumnSpec } from './arrow-batch.js';
import { lineBatches, textCompression } from './text-lines.js';

/** One block of variants, columns of equal length. */
export interface SumstatBlock {
  length: number;
  chr: string[];
  pos: Float64Array;
  id: string[];
  effect: string[];
  other: string[];
  beta: Float64Array;
  se: Float64Array;
  /** effect allele frequency (NaN when the input has none) */
  af: Float64Array;
  /** sample size (NaN when the input has none) */
  n: Float64Array;
  /** 1-based line (text) or row (Arrow) of each variant, for messages */
  line: Float64Array;
  /** records of this stretch of the input left out for having no position (NA, or negative as GEMMA's -9) */
  unplaced: number;
}

export type SumstatFormat = 'gemma' | 'bolt' | 'ssf' | 'table' | 'arrow' | 'arrow-dataset';

/** An opened input: its layout, the columns used, and its blocks (read once, in file order). */
export interface SumstatSource {
  path: string;
  format: SumstatFormat;
  /** the input's names of the columns used (role -> name) */
  columns: Record<string, string>;
  blocks(): AsyncGenerator<SumstatBlock>;
}

const ALIASES: Record<string, readonly string[]> = {
  chr: ['chr', 'chromosome', 'chrom', '#chrom'],
  pos: ['ps', 'base_pair_location', 'bp', 'pos', 'position'],
  id: ['rs', 'rsid', 'snp', 'id', 'variant_id', 'markername'],
  effect: ['allele1', 'effect_allele', 'a1', 'ea'],
  other: ['allele0', 'other_allele', 'a2', 'nea'],
  beta: ['beta', 'effect'],
  se: ['se', 'standard_error', 'stderr'],
  af: ['af', 'effect_allele_frequency', 'a1freq', 'eaf', 'freq1'],
  n: ['n'],
};
const REQUIRED = ['chr', 'pos', 'effect', 'other', 'beta', 'se'] as const;
const NUMERIC_NA = new Set(['', 'na', '#na', 'nan', '-nan', 'inf', '-inf', 'infinity', '-infinity', '.']);
/** A variant id that names nothing (GWAS-SSF writes #NA, GEMMA and PLINK '.'): read as ''. */
const noId = (s: string | null | undefined): string => (s == null || s === '.' || s === 'NA' || s === '#NA' ? '' : s);

/** Index of each role's column in `names` (-1 when absent); InputError listing the names tried for a missing required one. */
function findColumns(path: string, line: number | undefined, names: readonly string[], skip: readonly string[] = []): Record<string, number> {
  const lower = names.map((n) => n.toLowerCase());
  const at: Record<string, number> = {};
  for (const [role, aliases] of Object.entries(ALIASES)) {
    at[role] = -1;
    for (const a of aliases) {
      const j = lower.indexOf(a);
      if (j >= 0) {
        at[role] = j;
        break;
      }
    }
  }
  for (const role of REQUIRED) {
    if (at[role]! < 0 && !skip.includes(role)) {
      throw new InputError(path, line, undefined, `no ${role} column (looked for ${ALIASES[role]!.join(', ')}); columns are: ${names.join(', ')}`);
    }
  }
  return at;
}

function emptyBlock(length: number): SumstatBlock {
  return {
    length, chr: new Array<string>(length), pos: new Float64Array(length), id: new Array<string>(length), effect: new Array<string>(length),
    other: new Array<string>(length), beta: new Float64Array(length), se: new Float64Array(length), af: new Float64Array(length).fill(NaN),
    n: new Float64Array(length).fill(NaN), line: new Float64Array(length), unplaced: 0,
  };
}

/** Opens a summary-statistics file or Arrow dataset directory (layout from the name and the header). */
export async function openSumstats(path: string, options: { pheno?: string } = {}): Promise<SumstatSource> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(path, undefined, undefined, `cannot open: ${e.code ?? e.message}`);
  });
  if (st.isDirectory()) return openDataset(path, options.pheno);
  if (/\.arrows?$/i.test(path)) return openArrowFile(path, options.pheno);
  return openText(path);
}

// ---- text tables ----

/** A text table: header row, then one variant per line (tab-separated, or whitespace when the header has no tab). */
async function openText(path: string): Promise<SumstatSource> {
  const compression = await textCompression(path);
  let header: string[] | null = null;
  let headerLine = 0;
  let tab = false;
  for await (const b of lineBatches(path, compression)) {
    for (let k = 0; k < b.starts.length && !header; k++) {
      const text = b.buf.toString('utf8', b.starts[k], b.ends[k]);
      if (text.trim() === '') continue;
      tab = text.includes('\t');
      header = tab ? text.split('\t') : text.trim().split(/\s+/);
      headerLine = b.firstLineNo + k;
    }
    if (header) break;
  }
  if (!header) throw new InputError(path, undefined, undefined, 'empty file: expected a header row and one line per variant');
  const at = findColumns(path, headerLine, header);
  const lower = header.map((h) => h.toLowerCase());
  const format: SumstatFormat = lower.includes('base_pair_location') ? 'ssf' : lower.includes('p_bolt_lmm_inf') || lower.includes('a1freq') ? 'bolt' : lower.includes('ps') && lower.includes('allele1') ? 'gemma' : 'table';
  const columns = Object.fromEntries(Object.entries(at).filter(([, j]) => j >= 0).map(([role, j]) => [role, header![j]!]));
  return { path, format, columns, blocks: () => textBlocks(path, compression, at, header!.length, headerLine, tab) };
}

/** A number field: NaN for the missing spellings, InputError for anything else that is not a number. */
function numberField(s: string, path: string, line: number, col: number, what: string): number {
  const v = s.length === 0 ? NaN : +s;
  if (v === v && s.charCodeAt(0) > 32) return v;
  if (NUMERIC_NA.has(s.trim().toLowerCase())) return NaN;
  const t = s.trim();
  const w = t.length === 0 ? NaN : +t;
  if (w === w) return w;
  throw new InputError(path, line, col + 1, `expected a number in the ${what} column, got "${s}"`);
}

/** Blocks of a text table: each line's fields cut at tabs (or whitespace runs), only the used ones parsed. */
async function* textBlocks(path: string, compression: Awaited<ReturnType<typeof textCompression>>, at: Record<string, number>, nCols: number, headerLine: number, tab: boolean): AsyncGenerator<SumstatBlock> {
  // role slot of each column (-1: unused); fields[slot] per line
  const roles = ['chr', 'pos', 'id', 'effect', 'other', 'beta', 'se', 'af', 'n'];
  const slotOf = new Int32Array(nCols).fill(-1);
  roles.forEach((r, s) => {
    if (at[r]! >= 0) slotOf[at[r]!] = s;
  });
  let lastUsed = 0;
  for (let j = 0; j < nCols; j++) if (slotOf[j]! >= 0) lastUsed = j;
  const fields = new Array<string>(roles.length).fill('');
  const chrIntern = new Map<string, string>();
  const alleleIntern = new Map<string, string>();
  const intern = (m: Map<string, string>, s: string) => {
    let v = m.get(s);
    if (v === undefined) {
      v = (' ' + s).slice(1); // a flat copy: the block's text is not kept alive by it
      if (m.size < 1 << 16) m.set(v, v);
    }
    return v;
  };
  for await (const b of lineBatches(path, compression)) {
    const out = emptyBlock(b.starts.length);
    let k = 0;
    const ascii = isAscii(b.buf);
    const text = ascii ? b.buf.toString('latin1') : '';
    for (let li = 0; li < b.starts.length; li++) {
      const lineNo = b.firstLineNo + li;
      if (lineNo <= headerLine) continue;
      let s = b.starts[li]!;
      let e = b.ends[li]!;
      let str = text;
      if (!ascii) {
        str = b.buf.toString('utf8', s, e);
        s = 0;
        e = str.length;
      }
      if (e === s) continue;
      if (tab) {
        let col = 0;
        let from = s;
        for (; col <= lastUsed; col++) {
          let t = str.indexOf('\t', from);
          if (t < 0 || t > e) t = e;
          const slot = slotOf[col]!;
          if (slot >= 0) fields[slot] = str.slice(from, t);
          if (t === e) break;
          from = t + 1;
        }
        if (col < lastUsed) throw new InputError(path, lineNo, undefined, `${col + 1} fields, expected ${nCols} (as the header)`);
      } else {
        const parts = str.slice(s, e).trim().split(/\s+/);
        if (parts.length < lastUsed + 1) throw new InputError(path, lineNo, undefined, `${parts.length} fields, expected ${nCols} (as the header)`);
        for (let col = 0; col <= lastUsed; col++) if (slotOf[col]! >= 0) fields[slotOf[col]!] = parts[col]!;
      }
      const pos = numberField(fields[1]!, path, lineNo, at.pos!, 'position');
      if (!(pos >= 0)) {
        out.unplaced++;
        continue;
      }
      if (!Number.isInteger(pos)) throw new InputError(path, lineNo, at.pos! + 1, `expected a base-pair position (a whole number), got "${fields[1]}"`);
      out.chr[k] = intern(chrIntern, fields[0]!);
      out.pos[k] = pos;
      out.id[k] = at.id! >= 0 ? noId(fields[2]) : '';
      out.effect[k] = intern(alleleIntern, fields[3]!);
      out.other[k] = intern(alleleIntern, fields[4]!);
      out.beta[k] = numberField(fields[5]!, path, lineNo, at.beta!, 'beta');
      const se = numberField(fields[6]!, path, lineNo, at.se!, 'standard error');
      if (se <= 0) throw new InputError(path, lineNo, at.se! + 1, `expected a standard error > 0, got "${fields[6]}"`);
      out.se[k] = se;
      if (at.af! >= 0) out.af[k] = numberField(fields[7]!, path, lineNo, at.af!, 'allele frequency');
      if (at.n! >= 0) out.n[k] = numberField(fields[8]!, path, lineNo, at.n!, 'sample size');
      out.line[k] = lineNo;
      k++;
    }
    if (k > 0 || out.unplaced > 0) yield k === out.length ? out : truncate(out, k);
  }
}

function truncate(b: SumstatBlock, k: number): SumstatBlock {
  return {
    length: k, chr: b.chr.slice(0, k), pos: b.pos.subarray(0, k), id: b.id.slice(0, k), effect: b.effect.slice(0, k), other: b.other.slice(0, k),
    beta: b.beta.subarray(0, k), se: b.se.subarray(0, k), af: b.af.subarray(0, k), n: b.n.subarray(0, k), line: b.line.subarray(0, k),
    unplaced: b.unplaced,
  };
}

// ---- Arrow ----

/** Rows of an Arrow batch. */
const batchRows = (batch: ArrowBatch): number => (Object.values(batch)[0] as { length: number } | undefined)?.length ?? 0;

/** Converts one Arrow batch (with `chr` possibly given by the partition) to a block, keeping rows of the chosen phenotype. */
function arrowBlock(path: string, batch: ArrowBatch, at: Record<string, string | null>, rowBase: number, chrValue: string | null, keep: (i: number) => boolean): SumstatBlock {
  const col = (role: string) => (at[role] ? batch[at[role]!] : undefined);
  const len = batchRows(batch);
  const rows: number[] = [];
  const posCol = col('pos') as Float64Array | Int32Array;
  let unplaced = 0;
  for (let i = 0; i < len; i++) {
    if (!keep(i)) continue;
    if (posCol[i]! >= 0) rows.push(i);
    else unplaced++;
  }
  const out = emptyBlock(rows.length);
  out.unplaced = unplaced;
  const chr = col('chr') as readonly (string | null)[] | undefined;
  const num = (role: string) => col(role) as Float64Array | Int32Array | undefined;
  const str = (role: string) => col(role) as readonly (string | null)[] | undefined;
  const pos = num('pos')!;
  const [id, ea, oa] = [str('id'), str('effect')!, str('other')!];
  const [beta, se, af, n] = [num('beta')!, num('se')!, num('af'), num('n')];
  rows.forEach((i, k) => {
    out.chr[k] = chrValue ?? chr![i] ?? '';
    const p = pos[i]!;
    if (!Number.isInteger(p)) throw new InputError(path, undefined, undefined, `row ${rowBase + i + 1}: expected a base-pair position (a whole number), got ${p}`);
    out.pos[k] = p;
    out.id[k] = noId(id?.[i]);
    out.effect[k] = ea[i] ?? '';
    out.other[k] = oa[i] ?? '';
    out.beta[k] = beta[i]!;
    if (se[i]! <= 0) throw new InputError(path, undefined, undefined, `row ${rowBase + i + 1}: expected a standard error > 0 in column "${at.se}", got ${se[i]}`);
    out.se[k] = se[i]!;
    if (af) out.af[k] = af[i]!;
    if (n) out.n[k] = n[i]!;
    out.line[k] = rowBase + i + 1;
  });
  return out;
}

function arrowRoles(path: string, columns: ArrowColumnSpec[], chrFromFolder: boolean): Record<string, string | null> {
  const names = columns.map((c) => c.name);
  const idx = findColumns(path, undefined, names, chrFromFolder ? ['chr'] : []);
  const roles: Record<string, string | null> = {};
  for (const [role, j] of Object.entries(idx)) roles[role] = j >= 0 ? names[j]! : null;
  for (const role of ['pos', 'beta', 'se', 'af', 'n'] as const) {
    const c = roles[role] ? columns.find((x) => x.name === roles[role]) : undefined;
    if (c && c.type !== 'f64' && c.type !== 'i32') throw new InputError(path, undefined, undefined, `column "${c.name}" (${role}) is ${c.type}: expected a number column`);
  }
  for (const role of ['chr', 'id', 'effect', 'other'] as const) {
    const c = roles[role] ? columns.find((x) => x.name === roles[role]) : undefined;
    if (c && c.type !== 'utf8') throw new InputError(path, undefined, undefined, `column "${c.name}" (${role}) is ${c.type}: expected a text column`);
  }
  return roles;
}

/** A phenotype filter for a table with a `pheno` column: the chosen one, or the only one (several without a choice: UsageError). */
function phenoFilter(path: string, pheno: string | undefined): (value: string | null) => boolean {
  let seen: string | null | undefined;
  return (v) => {
    if (pheno !== undefined) return v === pheno;
    if (seen === undefined) seen = v;
    else if (v !== seen) throw new UsageError(`${path} holds several phenotypes (${seen}, ${v}, ...): choose one with --pheno`);
    return true;
  };
}

async function openArrowFile(path: string, pheno: string | undefined): Promise<SumstatSource> {
  const probe = await readArrowTable(path);
  const roles = arrowRoles(path, probe.columns, false);
  const hasPheno = probe.columns.some((c) => c.name === 'pheno');
  await probe.close();
  async function* blocks(): AsyncGenerator<SumstatBlock> {
    const t = await readArrowTable(path);
    const accept = phenoFilter(path, pheno);
    let rowBase = 0;
    let kept = 0;
    for await (const batch of t.batches) {
      const ph = hasPheno ? (batch.pheno as readonly (string | null)[]) : null;
      const b = arrowBlock(path, batch, roles, rowBase, null, (i) => (ph ? accept(ph[i] ?? null) : true));
      rowBase += batchRows(batch);
      kept += b.length + b.unplaced;
      if (b.length > 0 || b.unplaced > 0) yield b;
    }
    if (hasPheno && pheno !== undefined && kept === 0) throw new UsageError(`--pheno ${pheno}: ${path} has no rows of that phenotype`);
  }
  return { path, format: 'arrow', columns: Object.fromEntries(Object.entries(roles).filter(([, v]) => v !== null)) as Record<string, string>, blocks };
}

/** The leaf files of a hive dataset with their partition values (folder `key=value` names, URL-decoded). */
async function datasetFiles(dir: string): Promise<{ file: string; parts: Record<string, string> }[]> {
  const out: { file: string; parts: Record<string, string> }[] = [];
  const walk = async (path: string, parts: Record<string, string>) => {
    for (const e of await readdir(path, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const p = join(path, e.name);
      const eq = e.name.indexOf('=');
      if (e.isDirectory() && eq > 0) await walk(p, { ...parts, [e.name.slice(0, eq)]: decodeURIComponent(e.name.slice(eq + 1)) });
      else if (e.isFile() && e.name.endsWith('.arrow')) out.push({ file: p, parts });
    }
  };
  await walk(dir, {});
  return out;
}

/** Chromosome order used to read a dataset's chr= folders: 1..22, X, Y, XY, MT, then others by name. */
function chrSortKey(c: string): [number, string] {
  const s = c.replace(/^chr/i, '');
  if (/^\d+$/.test(s)) return [Number(s), ''];
  const special = ['X', 'Y', 'XY', 'MT', 'M'].indexOf(s.toUpperCase());
  return special >= 0 ? [1e6 + special, ''] : [2e6, s];
}

async function openDataset(dir: string, pheno: string | undefined): Promise<SumstatSource> {
  let files = await datasetFiles(dir);
  if (files.length === 0) throw new InputError(dir, undefined, undefined, 'a directory without .arrow files: expected an Arrow dataset (DIR/pheno=P/chr=C/part-0.arrow) written by gpulmm gwas --out DIR/');
  const phenos = [...new Set(files.map((f) => f.parts.pheno).filter((p) => p !== undefined))];
  if (pheno !== undefined) {
    if (!phenos.includes(pheno)) throw new UsageError(`--pheno ${pheno}: ${dir} has phenotypes ${phenos.join(', ') || '(none)'}`);
    files = files.filter((f) => f.parts.pheno === pheno);
  } else if (phenos.length > 1) throw new UsageError(`${dir} holds several phenotypes (${phenos.join(', ')}): choose one with --pheno`);
  files.sort((a, b) => {
    const [ka, sa] = chrSortKey(a.parts.chr ?? '');
    const [kb, sb] = chrSortKey(b.parts.chr ?? '');
    return ka - kb || (sa < sb ? -1 : sa > sb ? 1 : 0) || (a.file < b.file ? -1 : 1);
  });
  const probe = await readArrowTable(files[0]!.file);
  const chrFromFolder = files[0]!.parts.chr !== undefined;
  const roles = arrowRoles(files[0]!.file, probe.columns, chrFromFolder);
  await probe.close();
  async function* blocks(): AsyncGenerator<SumstatBlock> {
    for (const f of files) {
      const t = await readArrowTable(f.file);
      const r = arrowRoles(f.file, t.columns, f.parts.chr !== undefined);
      let rowBase = 0;
      for await (const batch of t.batches) {
        const b = arrowBlock(f.file, batch, r, rowBase, f.parts.chr ?? null, () => true);
        rowBase += batchRows(batch);
        if (b.length > 0 || b.unplaced > 0) yield b;
      }
    }
  }
  return { path: dir, format: 'arrow-dataset', columns: { ...(chrFromFolder ? { chr: 'chr= folders' } : {}), ...Object.fromEntries(Object.entries(roles).filter(([, v]) => v !== null)) } as Record<string, string>, blocks };
}
