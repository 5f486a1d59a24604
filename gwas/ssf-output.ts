/**
 * GWAS-SSF (the GWAS Catalog's summary-statistics format, v1.1): a tab-separated data file (`FILE.tsv` or
 * gzipped `FILE.tsv.gz`) and its metadata `FILE.tsv.gz-meta.yaml`, one pair per phenotype.
 *
 * Data file: the eight mandatory columns in the specified order, then encouraged ones:
 *   chromosome  base_pair_location  effect_allele  other_allele  beta  standard_error  effect_allele_frequency
 *   p_value  rsid  n
 * - chromosome: an integer 1-25 with X = 23, Y = 24, MT = 25 (also `chrX`, `M`, PLINK's 25 = XY -> 23 and 26 = MT
 *   -> 25); base_pair_location as in the genotype file (1-based, declared in the metadata).
 * - effect_allele = the counted allele (GEMMA's allele1), other_allele = allele0, effect_allele_frequency = its
 *   frequency in the analysed samples, beta and standard_error = GEMMA's per-allele Wald beta and se (these three
 *   to 7 significant digits).
 * - p_value = the Wald p (the score p with `--test score`), written from log10 p with 6 significant digits so
 *   that p below the f64 range (1e-308) keeps its value instead of printing 0; rsid = the variant name when it
 *   is an rsID, else `#NA`; n = analysed individuals.
 * - The format admits only chromosomes 1-25, alleles [ACGT]+ and numeric mandatory fields: a variant that cannot
 *   be written so (another contig, allele `0` or `I/D`, a failed fit) is left out of this file (it stays in
 *   `--out` and `--tsv`), counted by reason in the summary and in the metadata's author_notes.
 * Metadata: data_file_name, file_type, data_file_md5sum, genome_assembly (given by the user, `NR` if not),
 * coordinate_system 1-based, trait_description, samples (sample_size), analysis_software, adjusted_covariates,
 * is_sorted (checked while writing), is_harmonised false, date_metadata_last_modified.
 */
import { basename } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic-file.js';
import { TextOutput } from '../src/io/text-output.js';
import type { ResultBatch } from './scan.js';

/** The data columns, in the order written. */
export const SSF_COLUMNS = ['chromosome', 'base_pair_location', 'effect_allele', 'other_allele', 'beta', 'standard_error', 'effect_allele_frequency', 'p_value', 'rsid', 'n'] as const;

/** GWAS-SSF's integer code of a chromosome name, or undefined when the format has none (see the module comment). */
export function ssfChromosome(name: string): number | undefined {
  const s = name.replace(/^chr/i, '').toUpperCase();
  if (/^\d+$/.test(s)) {
    const k = Number(s);
    if (k >= 1 && k <= 24) return k;
    if (k === 25) return 23; // PLINK's XY (pseudo-autosomal region of X)
    if (k === 26) return 25; // PLINK's MT
    return undefined;
  }
  return ({ X: 23, Y: 24, XY: 23, PAR1: 23, PAR2: 23, MT: 25, M: 25 } as Record<string, number>)[s];
}

/**
 * p = 10^log10p with 6 significant digits in scientific notation (`5.52344e-2`), exact for any log10 p, including
 * below 1e-308 where 10^log10p underflows to 0. log10p must be finite and <= 0.
 */
export function formatPFromLog10(log10p: number): string {
  let e = Math.floor(log10p);
  let m = Number(Math.pow(10, log10p - e).toFixed(5));
  if (m >= 10) {
    m /= 10;
    e += 1;
  }
  return `${m.toFixed(5)}e${e}`;
}

/** x to 7 significant digits, shortest form (`0.2289464`, `1.5e-7`). */
const digits7 = (x: number): string => String(Number(x.toPrecision(7)));

const ALLELE = /^[ACGT]+$/;
const RSID = /^rs\d+$/;

/** Metadata the caller knows about the analysis. */
export interface SsfMetadata {
  /** Phenotype description (trait_description). */
  trait: string;
  /** e.g. GRCh38; `NR` when not reported. */
  genomeAssembly: string;
  /** analysis_software (tool, version and test). */
  software: string;
  /** Covariates adjusted for (adjusted_covariates), e.g. the covariate file's name. */
  covariates?: string[];
  /** Analysed individuals (samples[0].sample_size and the n column). */
  sampleSize: number;
}

/** Why variants were left out of the file, and how many. */
export type SsfLeftOut = Record<'chromosome' | 'allele' | 'no estimate', number>;

/** Streams one phenotype's results to a GWAS-SSF data file, then writes its metadata YAML. */
export class SsfWriter {
  readonly leftOut: SsfLeftOut = { chromosome: 0, allele: 0, 'no estimate': 0 };
  /** Rows written. */
  rows = 0;
  private sorted = true;
  private lastChr = 0;
  private lastPos = -Infinity;
  private readonly badChromosomes = new Set<string>();

  private constructor(
    private readonly out: TextOutput,
    private readonly meta: SsfMetadata,
    private readonly test: 'wald' | 'score',
  ) {}

  /** Opens `path` (`.tsv` or `.tsv.gz`) and writes the header; `test` picks the p-value column. */
  static async open(path: string, meta: SsfMetadata, test: 'wald' | 'score'): Promise<SsfWriter> {
    if (!/\.tsv(\.gz)?$/i.test(path)) throw new RangeError(`SsfWriter: the data file name must end in .tsv or .tsv.gz, got ${path}`);
    const w = new SsfWriter(await TextOutput.open(path), meta, test);
    await w.out.write(`${SSF_COLUMNS.join('\t')}\n`);
    return w;
  }

  get path(): string {
    return this.out.path;
  }

  /** Appends the batch's variants (those the format can express). O(batch). */
  async write(b: ResultBatch): Promise<void> {
    const a = b.assoc;
    const log10p = this.test === 'wald' ? a.log10pWald : a.log10pScore;
    let text = '';
    for (let j = 0; j < b.snps.length; j++) {
      const s = b.snps[j]!;
      const chr = ssfChromosome(s.chr);
      if (chr === undefined) {
        this.leftOut.chromosome++;
        this.badChromosomes.add(s.chr);
        continue;
      }
      const ea = s.allele1.toUpperCase();
      const oa = s.allele0.toUpperCase();
      if (!ALLELE.test(ea) || !ALLELE.test(oa)) {
        this.leftOut.allele++;
        continue;
      }
      const beta = a.beta[j]!;
      const se = a.se[j]!;
      const af = b.af[j]!;
      const l = log10p[j]!;
      if (!Number.isFinite(beta) || !Number.isFinite(se) || !(af >= 0 && af <= 1) || !(l <= 0) || l === -Infinity) {
        this.leftOut['no estimate']++;
        continue;
      }
      if (chr < this.lastChr || (chr === this.lastChr && s.ps < this.lastPos)) this.sorted = false;
      this.lastChr = chr;
      this.lastPos = s.ps;
      text += `${chr}\t${s.ps}\t${ea}\t${oa}\t${digits7(beta)}\t${digits7(se)}\t${digits7(af)}\t${formatPFromLog10(l)}\t${RSID.test(s.rs) ? s.rs : '#NA'}\t${this.meta.sampleSize}\n`;
      this.rows++;
    }
    if (text) await this.out.write(text);
  }

  /** Commits the data file, then writes `<data file>-meta.yaml` (with its MD5) atomically. */
  async close(): Promise<void> {
    const { md5 } = await this.out.close();
    const left = Object.entries(this.leftOut).filter(([, k]) => k > 0);
    const notes = left.length
      ? `Variants left out (not expressible in GWAS-SSF; they are in gpulmm's other outputs): ${left.map(([why, k]) => `${k} ${why}${why === 'chromosome' ? ` (${[...this.badChromosomes].slice(0, 10).join(', ')})` : ''}`).join('; ')}.`
      : undefined;
    const m = this.meta;
    const q = (v: string) => JSON.stringify(v); // a JSON string is a valid YAML double-quoted scalar
    const yaml = [
      '---',
      '# Study meta-data',
      ...(notes ? [`author_notes: ${q(notes)}`] : []),
      `date_metadata_last_modified: ${new Date().toISOString().slice(0, 10)}`,
      '',
      '# Trait Information',
      'trait_description:',
      `  - ${q(m.trait)}`,
      '',
      '# Genotyping Information',
      `genome_assembly: ${q(m.genomeAssembly)}`,
      'coordinate_system: 1-based',
      '',
      '# Sample Information',
      'samples:',
      `  - sample_size: ${m.sampleSize}`,
      '    case_control_study: false',
      '',
      '# Summary Statistic information',
      `data_file_name: ${q(basename(this.out.path))}`,
      'file_type: GWAS-SSF v1.1',
      `data_file_md5sum: ${md5}`,
      `analysis_software: ${q(m.software)}`,
      ...(m.covariates?.length ? ['adjusted_covariates:', ...m.covariates.map((c) => `  - ${q(c)}`)] : []),
      '',
      '# Harmonization status',
      'is_harmonised: false',
      `is_sorted: ${this.sorted}`,
      '',
    ].join('\n');
    await writeFileAtomic(`${this.out.path}-meta.yaml`, yaml);
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}

/**
 * The GWAS-SSF `analysis_software` line of an exact-mode scan: the tool, the model and the test whose beta/se
 * fill the file, and how the variance components were treated. One process and a merged sharded run write the
 * same line for the same analysis.
 */
export function ssfSoftware(tool: string, test: 'wald' | 'score', o: { vc?: string; loco?: boolean }): string {
  return `${tool} (exact LMM as GEMMA 0.98.5 -lmm; ${test === 'wald' ? 'Wald' : 'score'} test${o.vc === 'fixed' ? ', variance components fixed at the null model' : ''}${o.loco ? ', LOCO' : ''})`;
}

/** `out.tsv.gz` -> `out.PHENO.tsv.gz` (one GWAS-SSF file per phenotype). */
export function ssfPath(path: string, pheno: string): string {
  const m = /^(.*?)(\.tsv(?:\.gz)?)$/i.exec(path);
  return m ? `${m[1]}.${pheno}${m[2]}` : `${path}.${pheno}`;
}

/** One SsfWriter per phenotype (file names from ssfPath when there are several). */
export class SsfOutputs {
  private constructor(private readonly writers: Map<string, SsfWriter>) {}

  /**
   * Opens the files of `phenotypes` (trait names) under `path`; `meta` is shared except the trait. Throws
   * RangeError for a name that does not end in .tsv or .tsv.gz.
   */
  static async open(path: string, phenotypes: string[], meta: Omit<SsfMetadata, 'trait'>, test: 'wald' | 'score'): Promise<SsfOutputs> {
    const writers = new Map<string, SsfWriter>();
    try {
      for (const p of phenotypes) writers.set(p, await SsfWriter.open(phenotypes.length > 1 ? ssfPath(path, p) : path, { ...meta, trait: p }, test));
    } catch (e) {
      for (const w of writers.values()) await w.abort();
      throw e;
    }
    return new SsfOutputs(writers);
  }

  async write(b: ResultBatch): Promise<void> {
    await this.writers.get(b.pheno)?.write(b);
  }

  async close(): Promise<void> {
    for (const w of this.writers.values()) await w.close();
  }

  async abort(): Promise<void> {
    for (const w of this.writers.values()) await w.abort();
  }

  /** Summary lines: rows written per file and what was left out. */
  lines(): string[] {
    return [...this.writers.values()].map((w) => {
      const left = Object.entries(w.leftOut).filter(([, k]) => k > 0);
      return `GWAS-SSF: ${w.rows} variants in ${w.path}${left.length ? ` (left out: ${left.map(([why, k]) => `${k} ${why}`).join(', ')})` : ''}`;
    });
  }
}
