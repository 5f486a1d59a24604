/**
 * PLINK 1 binary genotypes: `.bed` (SNP-major, 2 bits per genotype) with its `.bim` (variants) and `.fam`
 * (individuals). The `.bed` is read in SNP blocks through a file handle, so memory is bounded by the block.
 *
 * Decoding (GEMMA 0.98.5, PLINK 1.9): the 2-bit code of individual k in a byte b is (b >> 2k) & 3 and counts
 * copies of `.bim` column 5 (allele1): 0 -> 2, 2 -> 1, 3 -> 0, 1 -> missing (NaN).
 */
import { open, stat } from 'node:fs/promises';
import type { GenotypeBlock, GenotypeSource, PackedBlock, SnpInfo, SnpRange } from './genotype-source.js';
import { f64Matrix } from '../../kernels/matrix.js';
import { InputError } from '../errors.js';
import { caseControlWord, readNonEmptyLines, splitFields } from './gemma-tables.js';
import { checkBlockArgs } from './genotype-blocks.js';
import { openInput } from './input-file.js';
import { checkUniqueSampleIds } from './sample-ids.js';

/** The three leading bytes of a PLINK 1 `.bed`; the third (0x01) marks SNP-major order. */
export const BED_MAGIC: readonly number[] = [0x6c, 0x1b, 0x01];

/** Allele1 dosage of each 2-bit code. */
const CODE_DOSAGE = [2, Number.NaN, 1, 0] as const;

/** BYTE_DOSAGE[4 b + k]: dosage of the k-th of the four individuals packed in byte b (256-entry table). */
const BYTE_DOSAGE = (() => {
  const t = new Float64Array(1024);
  for (let b = 0; b < 256; b++) for (let k = 0; k < 4; k++) t[4 * b + k] = CODE_DOSAGE[(b >> (2 * k)) & 3]!;
  return t;
})();

/** One `.fam` row set: IDs in file order and the raw phenotype fields (column 6 onwards). */
export interface FamFile {
  path: string;
  fid: string[];
  iid: string[];
  /** Fields from column 6 on, per individual (phenotype 1 is `fields[i][0]`). */
  phenotypeFields: string[][];
  /** 1-based line number of each individual. */
  lineNos: number[];
}

/** Reads a `.bim`: 6 whitespace-separated columns chr, rs, cM, bp, allele1, allele0. O(#SNPs). */
export async function readBim(path: string): Promise<SnpInfo[]> {
  const snps: SnpInfo[] = [];
  for (const { line, lineNo } of await readNonEmptyLines(path)) {
    const f = splitFields(line, /[ \t]+/);
    if (f.length !== 6) {
      throw new InputError(path, lineNo, undefined, `expected 6 columns (chr rs cM bp allele1 allele0), found ${f.length}`);
    }
    const ps = Number(f[3]);
    if (!Number.isInteger(ps)) throw new InputError(path, lineNo, 4, `expected an integer base-pair position, found '${f[3]}'`);
    snps.push({ chr: f[0]!, rs: f[1]!, ps, allele1: f[4]!, allele0: f[5]! });
  }
  return snps;
}

/** Reads a `.fam`: FID IID father mother sex phenotype [more phenotypes...]. InputError for a repeated FID IID pair. */
export async function readFam(path: string): Promise<FamFile> {
  const fam: FamFile = { path, fid: [], iid: [], phenotypeFields: [], lineNos: [] };
  for (const { line, lineNo } of await readNonEmptyLines(path)) {
    const f = splitFields(line, /[ \t]+/);
    if (f.length < 6) {
      throw new InputError(path, lineNo, undefined, `expected at least 6 columns (FID IID father mother sex phenotype), found ${f.length}`);
    }
    fam.fid.push(f[0]!);
    fam.iid.push(f[1]!);
    fam.phenotypeFields.push(f.slice(5));
    fam.lineNos.push(lineNo);
  }
  checkUniqueSampleIds(fam.fid.map((fid, k) => `${fid} ${fam.iid[k]!}`), path, (k) => ({ line: fam.lineNos[k]! }), 'sample ID (FID IID)');
  return fam;
}

/**
 * Phenotype `column` (1-based, GEMMA `-n`: 1 = `.fam` column 6) as numbers; `NA` and -9 are missing (NaN);
 * `case` / `control` read as 1 / 0.
 * Throws an InputError naming the line for a non-numeric value or a row without that column.
 */
export function famPhenotype(fam: FamFile, column = 1): Float64Array {
  const out = new Float64Array(fam.iid.length);
  for (let i = 0; i < out.length; i++) {
    const raw = fam.phenotypeFields[i]![column - 1];
    if (raw === undefined) {
      throw new InputError(fam.path, fam.lineNos[i]!, 5 + column, `phenotype ${column} requested but the row has only ${fam.phenotypeFields[i]!.length} phenotype column(s)`);
    }
    const v = raw === 'NA' ? Number.NaN : (caseControlWord(raw) ?? Number(raw));
    if (raw !== 'NA' && !Number.isFinite(v)) {
      throw new InputError(fam.path, fam.lineNos[i]!, 5 + column, `expected a number, NA or -9 as phenotype (or case/control), found '${raw}'`);
    }
    out[i] = v === -9 ? Number.NaN : v;
  }
  return out;
}

/** Bytes per SNP in a SNP-major `.bed` with n individuals. */
export function bedBytesPerSnp(nIndividuals: number): number {
  return Math.ceil(nIndividuals / 4);
}

/**
 * A PLINK 1 fileset as a {@link GenotypeSource}. Construct with {@link openPlink}, which validates the magic
 * bytes and that the `.bed` holds exactly nSnps * ceil(nInd / 4) + 3 bytes for the `.bim`/`.fam` line counts.
 */
export class PlinkSource implements GenotypeSource {
  readonly describe: string;
  readonly samples: readonly string[];
  readonly nSnps: number;

  constructor(
    readonly bedPath: string,
    readonly fam: FamFile,
    readonly snps: readonly SnpInfo[],
  ) {
    this.describe = bedPath;
    this.samples = fam.iid;
    this.nSnps = snps.length;
  }

  /**
   * Streams SNPs in file order, `blockSize` at a time, for individuals `keep` (ascending indices; all when
   * omitted) and the SNPs of `range` (all when omitted; the read seeks to its first SNP). Each block reads
   * blockSize * ceil(nInd / 4) bytes and decodes them through a byte table; blocks are hard calls.
   * Cost O(blockSize * nInd) per block; memory one block of bytes plus one nKeep x blockSize f64 matrix.
   */
  async *blocks(blockSize: number, keep?: Int32Array, range?: SnpRange): AsyncIterable<GenotypeBlock> {
    const nInd = this.samples.length;
    const { start: first, end } = checkBlockArgs(this.describe, nInd, this.nSnps, blockSize, keep, range);
    if (first === end) return;
    const bps = bedBytesPerSnp(nInd);
    const handle = await open(this.bedPath, 'r');
    try {
      const buf = Buffer.alloc(Math.min(blockSize, end - first) * bps);
      for (let start = first; start < end; start += blockSize) {
        const count = Math.min(blockSize, end - start);
        const want = count * bps;
        const { bytesRead } = await handle.read(buf, 0, want, BED_MAGIC.length + start * bps);
        if (bytesRead !== want) {
          throw new InputError(this.bedPath, undefined, undefined, `truncated while reading SNPs ${start + 1}..${start + count}: expected ${want} bytes at byte ${BED_MAGIC.length + start * bps}, read ${bytesRead}`);
        }
        const rows = keep ? keep.length : nInd;
        const dosages = f64Matrix(rows, count);
        for (let j = 0; j < count; j++) decodeSnp(buf, j * bps, nInd, keep, dosages.data, j * rows);
        yield { start, snps: this.snps.slice(start, start + count), dosages, hardCalls: true };
      }
    } finally {
      await handle.close();
    }
  }
  /** The .bed bytes themselves, `blockSize` SNPs at a time (one read and one copy per block). */
  async *packedBlocks(blockSize: number, range?: SnpRange): AsyncIterable<PackedBlock> {
    const { start: first, end } = checkBlockArgs(this.describe, this.samples.length, this.nSnps, blockSize, undefined, range);
    const bps = bedBytesPerSnp(this.samples.length);
    const handle = await open(this.bedPath, 'r');
    try {
      for (let start = first; start < end; start += blockSize) {
        const count = Math.min(blockSize, end - start);
        const codes = new Uint8Array(count * bps);
        const { bytesRead } = await handle.read(codes, 0, codes.length, BED_MAGIC.length + start * bps);
        if (bytesRead !== codes.length) {
          throw new InputError(this.bedPath, undefined, undefined, `truncated while reading SNPs ${start + 1}..${start + count}: expected ${codes.length} bytes at byte ${BED_MAGIC.length + start * bps}, read ${bytesRead}`);
        }
        const tail = this.samples.length & 3;
        if (tail) for (let j = 0; j < count; j++) codes[(j + 1) * bps - 1]! &= (1 << (2 * tail)) - 1;
        yield { start, snps: this.snps.slice(start, start + count), codes };
      }
    } finally {
      await handle.close();
    }
  }
}

/** Decodes one SNP's bytes into `out[offset ..]`: all nInd individuals, or those in `keep`. */
function decodeSnp(buf: Buffer, at: number, nInd: number, keep: Int32Array | undefined, out: Float64Array, offset: number): void {
  if (keep) {
    for (let r = 0; r < keep.length; r++) {
      const i = keep[r]!;
      out[offset + r] = BYTE_DOSAGE[4 * buf[at + (i >> 2)]! + (i & 3)]!;
    }
    return;
  }
  const full = nInd >> 2;
  for (let b = 0; b < full; b++) {
    const t = 4 * buf[at + b]!;
    const o = offset + 4 * b;
    out[o] = BYTE_DOSAGE[t]!;
    out[o + 1] = BYTE_DOSAGE[t + 1]!;
    out[o + 2] = BYTE_DOSAGE[t + 2]!;
    out[o + 3] = BYTE_DOSAGE[t + 3]!;
  }
  for (let i = 4 * full; i < nInd; i++) out[offset + i] = BYTE_DOSAGE[4 * buf[at + full]! + (i & 3)]!;
}

/** Paths of a PLINK fileset: `--bfile PREFIX` means PREFIX.bed, PREFIX.bim, PREFIX.fam. */
export function plinkPaths(prefix: string): { bed: string; bim: string; fam: string } {
  return { bed: `${prefix}.bed`, bim: `${prefix}.bim`, fam: `${prefix}.fam` };
}

/**
 * Opens and validates a PLINK 1 fileset: reads `.bim` and `.fam`, checks the `.bed` magic bytes (SNP-major
 * mode) and its size against the line counts. Errors name the file and what was expected.
 */
export async function openPlink(prefix: string): Promise<PlinkSource> {
  const paths = plinkPaths(prefix);
  const [snps, fam] = await Promise.all([readBim(paths.bim), readFam(paths.fam)]);
  const nInd = fam.iid.length;
  if (nInd === 0) throw new InputError(paths.fam, undefined, undefined, 'no individuals (empty file)');
  const handle = await openInput(paths.bed);
  try {
    const magic = Buffer.alloc(3);
    const { bytesRead } = await handle.read(magic, 0, 3, 0);
    if (bytesRead < 3 || magic[0] !== BED_MAGIC[0] || magic[1] !== BED_MAGIC[1]) {
      const seen = [...magic.subarray(0, bytesRead)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
      throw new InputError(paths.bed, undefined, undefined, `not a PLINK 1 .bed: expected magic bytes 0x6c 0x1b at byte 0, found '${seen}'`);
    }
    if (magic[2] !== BED_MAGIC[2]) {
      throw new InputError(paths.bed, undefined, undefined, `byte 2 is 0x${magic[2]!.toString(16).padStart(2, '0')}: only SNP-major .bed files (0x01) are supported; convert with plink --make-bed`);
    }
  } finally {
    await handle.close();
  }
  const size = (await stat(paths.bed)).size;
  const bps = bedBytesPerSnp(nInd);
  const expected = BED_MAGIC.length + snps.length * bps;
  if (size !== expected) {
    const holds = (size - BED_MAGIC.length) / bps;
    const detail = size < expected ? 'truncated' : 'too long';
    throw new InputError(
      paths.bed,
      undefined,
      undefined,
      `${detail}: ${paths.bim} lists ${snps.length} SNPs and ${paths.fam} ${nInd} individuals, so the .bed must be ` +
        `3 + ${snps.length} x ${bps} = ${expected} bytes, but it is ${size} bytes (${Number.isInteger(holds) ? holds : holds.toFixed(2)} SNPs)`,
    );
  }
  await checkBedPadding(paths, nInd, snps);
  return new PlinkSource(paths.bed, fam, snps);
}

/** Bytes of SNP records read by {@link checkBedPadding} (its whole cost: one read of at most this many bytes). */
const PADDING_CHECK_BYTES = 1 << 20;

/**
 * Cross-checks the `.fam` against the `.bed` where the file size cannot: when nInd is not a multiple of 4, the
 * last byte of each SNP record holds 4 - nInd mod 4 unused 2-bit slots that PLINK (1.9 and 2) writes as 0. A
 * `.fam` missing a row (or a `.bed` written for more individuals) keeps ceil(nInd / 4), hence the size, but those
 * slots then hold the genotypes of the individuals the `.fam` lost, non-zero for the first SNP where one of them
 * is not homozygous for allele1. Reads the first min(#SNPs, 1 MiB / ceil(nInd / 4)) records; InputError naming
 * the `.bed` (byte offset of the first offending byte), the `.fam` and the count of individuals the `.bed` holds
 * at least.
 */
async function checkBedPadding(paths: { bed: string; fam: string }, nInd: number, snps: readonly SnpInfo[]): Promise<void> {
  const used = nInd & 3;
  if (used === 0 || snps.length === 0) return;
  const bps = bedBytesPerSnp(nInd);
  const count = Math.min(snps.length, Math.max(1, Math.floor(PADDING_CHECK_BYTES / bps)));
  const buf = Buffer.alloc(count * bps);
  const handle = await open(paths.bed, 'r');
  try {
    await handle.read(buf, 0, buf.length, BED_MAGIC.length);
  } finally {
    await handle.close();
  }
  const padding = (0xff << (2 * used)) & 0xff;
  for (let j = 0; j < count; j++) {
    const at = (j + 1) * bps - 1;
    const bits = buf[at]! & padding;
    if (bits === 0) continue;
    const held = 4 * (bps - 1) + ((31 - Math.clz32(bits)) >> 1) + 1; // through the highest non-zero slot
    throw InputError.atByte(
      paths.bed,
      BED_MAGIC.length + at,
      `SNP ${j + 1} (${snps[j]!.rs}) has genotypes beyond the ${nInd} individuals of ${paths.fam}: the unused bits of the last ` +
        `byte of each SNP record, which PLINK writes as 0, are 0x${bits.toString(16).padStart(2, '0')}, so this .bed holds at least ${held} individuals ` +
        `(same file size for ${4 * (bps - 1) + 1} to ${4 * bps}); expected the .fam written with this .bed (is a row missing?)`,
    );
  }
}
