/**
 * Which genotype file a scan or a kinship reads, in every format gpulmm knows: PLINK 1 (.bed/.bim/.fam), BIMBAM
 * mean genotypes, BGEN, PLINK 2 (.pgen/.pvar/.psam) and VCF/BCF. One option set, one opener, one list of the files
 * that define the genotypes (for cache keys).
 */
import { openBcf } from '../src/io/bcf.js';
import { openBgen, type BgenRefAllele } from '../src/io/bgen.js';
import type { MultiallelicMode } from '../src/io/genotype-blocks.js';
import { openBimbam } from '../src/io/bimbam.js';
import { openPgen, pgenPaths } from '../src/io/pgen.js';
import { openPlink, plinkPaths } from '../src/io/plink.js';
import { openVcf, type VcfField } from '../src/io/vcf.js';
import { RegionView } from '../src/io/region-view.js';
import { regionText, type GenomicRegion } from '../src/io/region.js';
import type { GenotypeSource } from './types.js';

/** The genotype input: exactly one of bfile, geno, bgen, pfile, vcf, bcf (the others qualify it). */
export interface GenotypeInputOptions {
  /** PLINK 1 prefix (PREFIX.bed/.bim/.fam). */
  bfile?: string;
  /** BIMBAM mean genotype file (plain or gzip). */
  geno?: string;
  /** BIMBAM annotation file (rs ps chr), with geno. */
  anno?: string;
  /** BGEN file (v1.1, v1.2, v1.3). */
  bgen?: string;
  /** Oxford .sample file for bgen (default: the IDs stored in the BGEN, else 1..N). */
  sample?: string;
  /** Which BGEN allele is REF (not counted): 'last' (default) or 'first'. */
  bgenRef?: BgenRefAllele;
  /** PLINK 2 prefix (PREFIX.pgen/.pvar/.psam). */
  pfile?: string;
  /** VCF file (plain, gzip or bgzip). */
  vcf?: string;
  /** BCF file (binary VCF, BGZF-compressed). */
  bcf?: string;
  /** VCF/BCF FORMAT field to read: DS, GT or GP (default: DS when the header declares it, else GT). */
  vcfField?: VcfField;
  /** Variants with more than two alleles (BGEN, PGEN, VCF): 'split' (default) or 'skip'. */
  multiallelic?: MultiallelicMode;
  /**
   * Only the SNPs of this region: BGEN and bgzipped VCF read it through their index (.bgi, .tbi/.csi) when there
   * is one; other inputs select it from their SNP list.
   */
  region?: GenomicRegion;
}

/** The genotype formats, by the option that names them. */
export const GENOTYPE_FORMATS = ['bfile', 'geno', 'bgen', 'pfile', 'vcf', 'bcf'] as const;
export type GenotypeFormat = (typeof GENOTYPE_FORMATS)[number];

/** The one format given; RangeError naming the fields when none or several are. */
export function genotypeFormat(opts: GenotypeInputOptions): GenotypeFormat {
  const given = GENOTYPE_FORMATS.filter((f) => opts[f] !== undefined);
  if (given.length !== 1) throw new RangeError(`give exactly one genotype input (${GENOTYPE_FORMATS.join(', ')}), got ${given.length === 0 ? 'none' : given.join(' and ')}`);
  return given[0]!;
}

/**
 * Opens and validates the genotype source named by the options. `nIndividuals` fixes the individual count of a
 * BIMBAM file (from the phenotype file), which has no sample list of its own.
 */
export async function openGenotypes(opts: GenotypeInputOptions, nIndividuals?: number): Promise<GenotypeSource> {
  const multi = opts.multiallelic ? { multiallelic: opts.multiallelic } : {};
  const region = opts.region ? { region: opts.region } : {};
  const view = (source: GenotypeSource): GenotypeSource => (opts.region ? new RegionView(source, opts.region) : source);
  switch (genotypeFormat(opts)) {
    case 'bfile':
      return view(await openPlink(opts.bfile!));
    case 'geno':
      return view(await openBimbam(opts.geno!, { annoPath: opts.anno, nIndividuals }));
    case 'bgen':
      return openBgen(opts.bgen!, { ...(opts.sample ? { samplePath: opts.sample } : {}), ...(opts.bgenRef ? { ref: opts.bgenRef } : {}), ...multi, ...region });
    case 'pfile':
      return view(await openPgen(opts.pfile!, multi));
    case 'vcf':
      return openVcf(opts.vcf!, { ...(opts.vcfField ? { field: opts.vcfField } : {}), ...multi, ...region });
    case 'bcf':
      return openBcf(opts.bcf!, { ...(opts.vcfField ? { field: opts.vcfField } : {}), ...multi, ...region });
  }
}

/** The files whose content defines the genotypes (what a cache key must fingerprint). */
export function genotypeFiles(opts: GenotypeInputOptions): string[] {
  switch (genotypeFormat(opts)) {
    case 'bfile': {
      const p = plinkPaths(opts.bfile!);
      return [p.bed, p.bim];
    }
    case 'geno':
      return [opts.geno!, ...(opts.anno ? [opts.anno] : [])];
    case 'bgen':
      return [opts.bgen!, ...(opts.sample ? [opts.sample] : [])];
    case 'pfile': {
      const p = pgenPaths(opts.pfile!);
      return [p.pgen, p.pvar];
    }
    case 'vcf':
      return [opts.vcf!];
    case 'bcf':
      return [opts.bcf!];
  }
}

/** Settings that change which allele is counted or which SNPs exist, for cache keys (empty for PLINK/BIMBAM). */
export function genotypeSettings(opts: GenotypeInputOptions): Record<string, string> {
  const f = genotypeFormat(opts);
  if (opts.region) return { ...genotypeSettings({ ...opts, region: undefined }), region: regionText(opts.region) };
  if (f === 'bgen') return { bgenRef: opts.bgenRef ?? 'last', multiallelic: opts.multiallelic ?? 'split' };
  if (f === 'pfile') return { multiallelic: opts.multiallelic ?? 'split' };
  if (f === 'vcf' || f === 'bcf') return { vcfField: opts.vcfField ?? 'default', multiallelic: opts.multiallelic ?? 'split' };
  return {};
}
