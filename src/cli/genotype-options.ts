/**
 * The genotype options shared by `gwas` and `grm`: one input among --bfile, --geno (+ --anno), --bgen
 * (+ --sample, --bgen-ref), --pfile, --vcf or --bcf (+ --vcf-field), a region and the multi-allelic rule; validated into gwas/genotype-input.ts's options.
 */
import { Option, type Command } from 'commander';
import { GENOTYPE_FORMATS, type GenotypeInputOptions } from '../../gwas/genotype-input.js';
import type { GenotypeSource } from '../../gwas/types.js';
import type { SkippedVariants } from '../io/genotype-blocks.js';
import { UsageError } from '../errors.js';
import { parseRegion } from '../io/region.js';

/** The options as commander parses them. */
export interface GenotypeCliOptions {
  bfile?: string;
  geno?: string;
  anno?: string;
  bgen?: string;
  sample?: string;
  bgenRef?: 'first' | 'last';
  pfile?: string;
  vcf?: string;
  bcf?: string;
  vcfField?: 'DS' | 'GT' | 'GP';
  multiallelic?: 'split' | 'skip';
  region?: string;
}

/** Adds the genotype options to a command. */
export function addGenotypeOptions(cmd: Command): Command {
  return cmd
    .option('--bfile <prefix>', 'PLINK 1 binary genotypes: PREFIX.bed/.bim/.fam (counted allele: .bim column 5)')
    .option('--geno <file>', 'BIMBAM mean genotypes (GEMMA -g, plain or .gz), with --pheno and --anno')
    .option('--anno <file>', 'BIMBAM SNP annotation (GEMMA -a: rs ps chr)')
    .option('--bgen <file>', 'BGEN v1.1/1.2/1.3 genotypes (dosage of the counted allele, see --bgen-ref), with --pheno')
    .option('--sample <file>', 'Oxford .sample file for --bgen (default: the sample IDs stored in the .bgen)')
    .addOption(new Option('--bgen-ref <allele>', 'which BGEN allele is REF: last (plink2 --export default; the first allele is counted) or first (UK Biobank; the last allele is counted)').choices(['last', 'first']).default('last'))
    .option('--pfile <prefix>', 'PLINK 2 genotypes: PREFIX.pgen/.pvar/.psam (hard calls and dosages; counted allele: ALT; phenotypes default to the .psam columns)')
    .option('--vcf <file>', 'VCF genotypes (.vcf, .vcf.gz bgzipped or gzipped; counted allele: ALT), with --pheno')
    .option('--bcf <file>', 'BCF genotypes (binary VCF; counted allele: ALT), with --pheno')
    .addOption(new Option('--vcf-field <field>', 'VCF/BCF FORMAT field: DS (dosage), GT (hard calls) or GP (probabilities); records without it use GT (default: DS when the header declares it, else GT)').choices(['DS', 'GT', 'GP']))
    .option('--region <chr:from-to>', 'only the SNPs of this region (1-based, inclusive; CHR alone for a chromosome): BGEN, bgzipped VCF and BCF read just its part through their .bgi / .tbi / .csi index when present')
    .addOption(new Option('--multiallelic <mode>', 'variants with more than two alleles: split (one test per non-REF allele) or skip').choices(['split', 'skip']).default('split'));
}

/** The genotype input named on the command line; UsageError when none or several formats are given. */
export function genotypeInput(o: GenotypeCliOptions): GenotypeInputOptions {
  const given = GENOTYPE_FORMATS.filter((f) => o[f] !== undefined);
  const flags = GENOTYPE_FORMATS.map((f) => `--${f}`).join(', ');
  if (given.length === 0) throw new UsageError(`no genotypes: give one of ${flags}`);
  if (given.length > 1) throw new UsageError(`give one genotype input, not ${given.map((f) => `--${f}`).join(' and ')}`);
  if (o.anno !== undefined && o.geno === undefined) throw new UsageError('--anno annotates BIMBAM genotypes: use it with --geno');
  if (o.sample !== undefined && o.bgen === undefined) throw new UsageError('--sample names the samples of a BGEN file: use it with --bgen');
  if (o.vcfField !== undefined && o.vcf === undefined && o.bcf === undefined) throw new UsageError('--vcf-field chooses the FORMAT field of a VCF: use it with --vcf or --bcf');
  return {
    ...(o.bfile !== undefined ? { bfile: o.bfile } : {}),
    ...(o.geno !== undefined ? { geno: o.geno } : {}),
    ...(o.anno !== undefined ? { anno: o.anno } : {}),
    ...(o.bgen !== undefined ? { bgen: o.bgen } : {}),
    ...(o.sample !== undefined ? { sample: o.sample } : {}),
    ...(o.bgenRef !== undefined ? { bgenRef: o.bgenRef } : {}),
    ...(o.pfile !== undefined ? { pfile: o.pfile } : {}),
    ...(o.vcf !== undefined ? { vcf: o.vcf } : {}),
    ...(o.bcf !== undefined ? { bcf: o.bcf } : {}),
    ...(o.vcfField !== undefined ? { vcfField: o.vcfField } : {}),
    ...(o.multiallelic !== undefined ? { multiallelic: o.multiallelic } : {}),
    ...(o.region !== undefined ? { region: parseRegion(o.region, '--region') } : {}),
  };
}

/**
 * The line the commands print about variants a reader did not turn into SNPs (multi-allelic ones under
 * --multiallelic skip, those without an ALT allele), or undefined when there are none.
 */
export function describeSkipped(source: GenotypeSource): string | undefined {
  const skipped = (source as { skipped?: SkippedVariants }).skipped;
  if (!skipped || skipped.multiallelic + skipped.monoallelic === 0) return undefined;
  const parts = [...(skipped.multiallelic ? [`${skipped.multiallelic} multi-allelic (--multiallelic skip)`] : []), ...(skipped.monoallelic ? [`${skipped.monoallelic} without an ALT allele`] : [])];
  return `variants not read as SNPs: ${parts.join(', ')}`;
}
