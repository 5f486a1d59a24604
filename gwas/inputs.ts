/**
 * From the user's files to what a scan or a kinship needs: the genotype source (any format of
 * gwas/genotype-input.ts), the selected phenotypes, the covariates, the analysed individuals and the covariate matrix W
 * after GEMMA's intercept rule. Row-count mismatches between files fail naming the file.
 */
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import { checkRowCount, covariateDesign, readCovariateFile, readPhenotypeFile, type CovariateDesign } from '../src/io/gemma-tables.js';
import { InputError } from '../src/errors.js';
import { checkModelVariable } from '../src/stats/numeric-guards.js';
import { PgenSource } from '../src/io/pgen.js';
import { RegionView } from '../src/io/region-view.js';
import { famPhenotype, PlinkSource } from '../src/io/plink.js';
import { genotypeFormat, openGenotypes, type GenotypeInputOptions } from './genotype-input.js';
import { findDuplicateSnpIds } from '../src/io/snp-ids.js';
import { keepAbsentWarning, readKeepFile, selectSamples, type SampleSelection } from './samples.js';
import { choleskyOfGram } from './snp-filter.js';
import type { GenotypeSource } from './types.js';

export interface AnalysisInputOptions extends GenotypeInputOptions {
  /** Phenotype file (BIMBAM layout). Default for PLINK: the .fam phenotype columns. Required by nothing. */
  pheno?: string;
  /** 1-based phenotype columns (GEMMA -n); 'all' = every column of the phenotype source. Default [1]. */
  phenoCols?: number[] | 'all';
  /** Covariate file (GEMMA -c layout). */
  covar?: string;
  /** Keep list (IID or FID IID per line). */
  keep?: string;
}

export interface AnalysisInputs {
  source: GenotypeSource;
  /** The selected phenotype columns (1-based, as given). */
  phenoCols: number[];
  /** Selected phenotypes over all individuals of the genotype file, NaN missing. */
  phenotypes: Float64Array[];
  /** Raw covariates over all individuals (NaN missing), when a covariate file was given. */
  covariates?: F64Matrix;
  samples: SampleSelection;
  /** W over the analysed individuals, after the intercept rule. */
  design: CovariateDesign;
  /** Phenotypes of the analysed individuals: n x (#phenotypes). */
  y: F64Matrix;
  /**
   * What the inputs got away with, one line each, for the caller to show: keep-list IDs absent from the
   * genotype file, SNP IDs used at more than one position.
   */
  warnings: string[];
}

/** Loads and cross-checks every per-individual input, then selects the analysed individuals (GEMMA's rule). */
export async function loadAnalysisInputs(opts: AnalysisInputOptions): Promise<AnalysisInputs> {
  const phenoTable = opts.pheno ? await readPhenotypeFile(opts.pheno) : undefined;
  const source = await openGenotypes(opts, opts.geno !== undefined ? phenoTable?.values.rows : undefined);
  const n = source.samples.length;
  if (phenoTable) checkRowCount(phenoTable, n, source.describe);

  // Phenotypes: the phenotype file, else the .fam (PLINK 1) or .psam (PLINK 2) columns.
  const fam = source instanceof PlinkSource || source instanceof PgenSource || source instanceof RegionView ? source.fam : undefined;
  const available = phenoTable ? phenoTable.values.cols : fam ? fam.phenotypeFields.reduce((least, f) => Math.min(least, f.length), Infinity) : 0;
  const phenoCols = opts.phenoCols === 'all' ? Array.from({ length: available }, (_, k) => k + 1) : (opts.phenoCols ?? (available > 0 ? [1] : []));
  const phenotypes = phenoCols.map((col) => {
    if (!Number.isInteger(col) || col < 1 || (phenoTable && col > available)) {
      throw new InputError(opts.pheno ?? fam?.path ?? source.describe, undefined, undefined, `phenotype column ${col} requested, but there are ${available} phenotype column(s)`);
    }
    if (phenoTable) return Float64Array.from({ length: n }, (_, i) => phenoTable.values.data[i + (col - 1) * phenoTable.values.ld]!);
    if (fam) return famPhenotype(fam, col);
    throw new InputError(source.describe, undefined, undefined, `${genotypeFormat(opts)} genotypes carry no phenotype: give a phenotype file`);
  });
  phenotypes.forEach((p, k) => {
    if (p.every((v) => Number.isNaN(v))) {
      throw new InputError(opts.pheno ?? fam?.path ?? source.describe, undefined, undefined, `phenotype ${phenoCols[k]} is missing (NA${phenoTable ? '' : ' or -9'}) for every individual`);
    }
    checkModelVariable(p, `${opts.pheno ?? fam?.path ?? source.describe}: phenotype ${phenoCols[k]}`);
  });

  const covTable = opts.covar ? await readCovariateFile(opts.covar) : undefined;
  if (covTable) checkRowCount(covTable, n, source.describe);
  const keep = opts.keep ? await readKeepFile(opts.keep) : undefined;
  const samples = selectSamples({ ids: source.samples, phenotypes, covariates: covTable?.values, keep });
  const design = covariateDesign(covTable?.values, samples.indices);
  if (covTable && design.w.cols > 1) {
    try {
      choleskyOfGram(design.w);
    } catch (e) {
      throw new InputError(covTable.path, undefined, undefined, `${(e as Error).message} (over the ${samples.indices.length} analysed individuals, intercept ${design.intercept})`);
    }
  }
  const y = f64Matrix(samples.indices.length, phenotypes.length);
  phenotypes.forEach((p, k) => samples.indices.forEach((i, r) => (y.data[r + k * y.ld] = p[i]!)));
  const warnings: string[] = [];
  const absent = keep ? keepAbsentWarning(samples, keep.path) : undefined;
  if (absent) warnings.push(absent);
  const dup = findDuplicateSnpIds(source.snps);
  if (dup.first) {
    const at = (j: number) => `${source.snps[j]!.chr}:${source.snps[j]!.ps}`;
    warnings.push(`${source.describe}: ${dup.count} SNP${dup.count === 1 ? ' reuses the ID' : 's reuse the IDs'} of SNPs at other positions (first: '${dup.first.id}' at ${at(dup.first.a)} and ${at(dup.first.b)}); they are analysed as separate SNPs`);
  }
  return { source, phenoCols, phenotypes, covariates: covTable?.values, samples, design, y, warnings };
}
