/**
 * BIMBAM genotypes as GEMMA reads them (manual section 4.1): the mean genotype file (`-g`, plain or gzip),
 * one line per SNP: `rs, allele1, allele0, dosage_1, ..., dosage_n` (fields separated by spaces, tabs or commas;
 * dosage = expected copies of allele1 in [0, 2]; `NA` missing), and the annotation file (`-a`): `rs ps chr [cM]`.
 * Individuals have no IDs: row i of the phenotype file is individual i (IDs here are "1".."n").
 */
import type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from './genotype-source.js';
import { InputError } from '../errors.js';
import { GEMMA_SEP, readNonEmptyLines, splitFields } from './gemma-tables.js';
import { readLines } from './lines.js';
import { blockBuilderFor } from './genotype-blocks.js';

/** Position and chromosome of a SNP from the annotation file (GEMMA: NA -> ps -9, chr "-9"). */
export interface SnpAnnotation {
  ps: number;
  chr: string;
}

/** Reads a BIMBAM annotation file (`rs ps chr [cM]`) into a map by rs. */
export async function readAnnotation(path: string): Promise<Map<string, SnpAnnotation>> {
  const anno = new Map<string, SnpAnnotation>();
  for (const { line, lineNo } of await readNonEmptyLines(path)) {
    const f = splitFields(line, GEMMA_SEP);
    if (f.length < 3) throw new InputError(path, lineNo, undefined, `expected at least 3 columns (rs ps chr [cM]), found ${f.length}`);
    const ps = f[1] === 'NA' ? -9 : Number(f[1]);
    if (!Number.isInteger(ps)) throw new InputError(path, lineNo, 2, `expected an integer position or NA, found '${f[1]}'`);
    anno.set(f[0]!, { ps, chr: f[2] === 'NA' ? '-9' : f[2]! });
  }
  return anno;
}

/**
 * Finds the fields of a line (separated by runs of spaces, tabs and commas): stores the start and end offsets of
 * the first bounds.length / 2 fields in `bounds` and returns how many fields there are. O(line length).
 */
function scanFields(line: string, bounds: Int32Array): number {
  const cap = bounds.length >> 1;
  let count = 0;
  let i = 0;
  const len = line.length;
  while (i < len) {
    let c = line.charCodeAt(i);
    while (i < len && (c === 32 || c === 44 || c === 9)) c = line.charCodeAt(++i);
    if (i >= len) break;
    const start = i;
    while (i < len && c !== 32 && c !== 44 && c !== 9) c = line.charCodeAt(++i);
    if (count < cap) {
      bounds[2 * count] = start;
      bounds[2 * count + 1] = i;
    }
    count++;
  }
  return count;
}

/** Parses field f of a scanned line: NA -> NaN, else a number in [0, 2] (one-digit dosages on a fast path). */
function parseDosage(line: string, bounds: Int32Array, f: number, path: string, lineNo: number): number {
  const start = bounds[2 * f]!;
  const end = bounds[2 * f + 1]!;
  if (end - start === 1) {
    const d = line.charCodeAt(start) - 48;
    if (d >= 0 && d <= 2) return d;
  }
  const raw = line.slice(start, end);
  if (raw === 'NA') return Number.NaN;
  const v = Number(raw);
  if (!(v >= 0 && v <= 2)) throw new InputError(path, lineNo, f + 1, `expected a dosage in [0, 2] or NA, found '${raw}'`);
  return v;
}

/**
 * A BIMBAM mean genotype file as a {@link GenotypeSource}. {@link openBimbam} reads it once to collect the SNP
 * metadata and check that every line has the same number of dosages; {@link BimbamSource.blocks} streams it again.
 */
export class BimbamSource implements GenotypeSource {
  readonly describe: string;
  readonly samples: readonly string[];
  readonly nSnps: number;

  constructor(
    readonly genoPath: string,
    readonly snps: readonly SnpInfo[],
    nIndividuals: number,
  ) {
    this.describe = genoPath;
    this.samples = Array.from({ length: nIndividuals }, (_, i) => String(i + 1));
    this.nSnps = snps.length;
  }

  /**
   * Streams SNPs in file order, `blockSize` at a time, for individuals `keep` and the SNPs of `range` (text: the
   * lines before the range are skipped, not parsed). O(file bytes) per pass.
   */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const builder = blockBuilderFor(this, blockSize, keep, range);
    if (!builder) return;
    const { range: r, rows } = builder;
    const nInd = this.samples.length;
    const bounds = new Int32Array(2 * (nInd + 3));
    let snp = 0;
    for await (const { line, lineNo } of readLines(this.genoPath)) {
      if (snp < r.start) {
        if (/[^ ,\t]/.test(line)) snp++;
        continue;
      }
      const count = scanFields(line, bounds);
      if (count === 0) continue;
      if (snp >= this.nSnps || count !== nInd + 3 || line.slice(bounds[0], bounds[1]) !== this.snps[snp]!.rs) {
        throw new InputError(this.genoPath, lineNo, undefined, `changed since it was opened (expected SNP ${snp + 1} '${this.snps[snp]?.rs}' with ${nInd} dosages)`);
      }
      const col = builder.column();
      const data = builder.data;
      if (keep) for (let i = 0; i < rows; i++) data[col + i] = parseDosage(line, bounds, keep[i]! + 3, this.genoPath, lineNo);
      else for (let i = 0; i < nInd; i++) data[col + i] = parseDosage(line, bounds, i + 3, this.genoPath, lineNo);
      snp++;
      const block = builder.commit(false);
      if (block) yield block;
      if (builder.done) return;
    }
    throw new InputError(this.genoPath, undefined, undefined, `changed since it was opened: ended after ${snp} of ${this.nSnps} SNPs`);
  }
}

/**
 * Opens a BIMBAM mean genotype file (and optional annotation): one pass collects rs, alleles and positions and
 * checks that every line holds 3 + n fields (n from the first line, or `nIndividuals` when given).
 * SNPs absent from the annotation get chr "-9" and ps -9, as in GEMMA.
 */
export async function openBimbam(genoPath: string, opts: { annoPath?: string; nIndividuals?: number } = {}): Promise<BimbamSource> {
  const anno = opts.annoPath ? await readAnnotation(opts.annoPath) : undefined;
  const snps: SnpInfo[] = [];
  let nInd = opts.nIndividuals;
  const bounds = new Int32Array(6);
  for await (const { line, lineNo } of readLines(genoPath)) {
    const count = scanFields(line, bounds);
    if (count === 0) continue;
    if (nInd === undefined) {
      if (count < 4) throw new InputError(genoPath, lineNo, undefined, `expected rs, allele1, allele0 and at least one dosage, found ${count} fields`);
      nInd = count - 3;
    }
    if (count !== nInd + 3) {
      throw new InputError(genoPath, lineNo, undefined, `expected 3 + ${nInd} fields (rs, allele1, allele0, one dosage per individual), found ${count}`);
    }
    const [rs, allele1, allele0] = [0, 1, 2].map((f) => line.slice(bounds[2 * f], bounds[2 * f + 1]));
    const a = anno?.get(rs!);
    snps.push({ chr: a?.chr ?? '-9', rs: rs!, ps: a?.ps ?? -9, allele1: allele1!, allele0: allele0! });
  }
  if (snps.length === 0 || nInd === undefined) throw new InputError(genoPath, undefined, undefined, 'no SNPs: expected one line per SNP');
  return new BimbamSource(genoPath, snps, nInd);
}
