/**
 * The BGEN index (`.bgi`, written by `bgenix -index`: an SQLite database), read with sql.js (SQLite compiled to
 * WebAssembly: no native build). Its Variant table lists each variant's chromosome, position, rsid, alleles (the
 * first two) and file offset, so a BGEN reader can list the SNPs, or those of a region, without reading the
 * variant headers of the whole file. The Metadata table (when present) must describe the BGEN being read.
 */
import { stat } from 'node:fs/promises';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { InputError } from '../errors.js';
import { readFileHead } from './lines.js';
import type { GenomicRegion } from './region.js';
import { readInput } from './input-file.js';

/** One row of the Variant table. */
export interface BgiVariant {
  chr: string;
  pos: number;
  rsid: string;
  nAlleles: number;
  allele1: string;
  /** The second allele ('' or null for a one-allele variant). */
  allele2: string | null;
  /** File offset of the variant's block. */
  start: number;
}

let sqlJs: Promise<SqlJsStatic> | undefined;

/**
 * The variants of the index, ordered by file offset; those of `region` only when given (compared as stored, with
 * zero-padded numeric chromosome names matched too: "1" finds "01"). Memory: the whole .bgi (sql.js reads the file
 * into wasm memory) plus the rows.
 */
export async function readBgi(bgiPath: string, bgenPath: string, region?: GenomicRegion): Promise<BgiVariant[]> {
  const bytes = await readInput(bgiPath);
  sqlJs ??= initSqlJs();
  const SQL = await sqlJs;
  let db;
  try {
    db = new SQL.Database(bytes);
    db.exec('SELECT 1 FROM Variant LIMIT 1');
  } catch (e) {
    throw new InputError(bgiPath, undefined, undefined, `not a BGEN index (an SQLite database with a Variant table, from bgenix -index): ${(e as Error).message}`);
  }
  try {
    const meta = db.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'Metadata'");
    if (meta.length > 0) {
      const rows = db.exec('SELECT file_size, first_1000_bytes FROM Metadata');
      const row = rows[0]?.values[0];
      if (row) {
        const size = (await stat(bgenPath)).size;
        const head = await readFileHead(bgenPath, 1000);
        const first = row[1] instanceof Uint8Array ? Buffer.from(row[1]) : undefined;
        if (Number(row[0]) !== size || (first && !first.equals(head.subarray(0, first.length)))) {
          throw new InputError(bgiPath, undefined, undefined, `does not describe ${bgenPath} (file size ${row[0]} vs ${size}, or different first bytes): rebuild it with bgenix -index`);
        }
      }
    }
    const chrs = region ? [...new Set([region.chr, /^\d$/.test(region.chr) ? `0${region.chr}` : region.chr, region.chr.replace(/^0+(?=\d)/, '')])] : [];
    const where = region ? `WHERE chromosome IN (${chrs.map(() => '?').join(', ')}) AND position BETWEEN ? AND ?` : '';
    const stmt = db.prepare(`SELECT chromosome, position, rsid, number_of_alleles, allele1, allele2, file_start_position FROM Variant ${where} ORDER BY file_start_position`);
    if (region) stmt.bind([...chrs, region.from, Math.min(region.to, 2 ** 31)]);
    const out: BgiVariant[] = [];
    while (stmt.step()) {
      const r = stmt.get();
      out.push({ chr: String(r[0]), pos: Number(r[1]), rsid: String(r[2]), nAlleles: Number(r[3]), allele1: String(r[4]), allele2: r[5] === null ? null : String(r[5]), start: Number(r[6]) });
    }
    stmt.free();
    return out;
  } finally {
    db.close();
  }
}
