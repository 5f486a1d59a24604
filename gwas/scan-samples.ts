/**
 * Stage 1 of a scan (gwas/scan.ts): who is analysed and what is known about them. From the phenotypes and
 * covariates over all N individuals of the genotype file: the analysed individuals (GEMMA's rule, see
 * samples.ts), the covariate design W after the intercept rule, each phenotype over the analysed individuals
 * and the SNP filter evaluated on them. Plain data apart from the filter (rebuilt from W and the thresholds),
 * cheap (O(N (p + c)) plus the c x c Cholesky of W'W), so a shard recomputes it rather than storing it.
 */
import { NumericError } from '../src/errors.js';
import { type F64Matrix } from '../kernels/matrix.js';
import { covariateDesign } from '../src/io/gemma-tables.js';
import { selectSamples, type KeepList, type SampleSelection } from './samples.js';
import { SnpFilter } from './snp-filter.js';

/** A phenotype to scan: one value per individual of the genotype file (NaN missing). */
export interface PhenotypeInput {
  name: string;
  values: Float64Array;
}

export interface ScanSamplesOptions {
  /** Individual IDs of the genotype file, in file order (GenotypeSource.samples). */
  ids: readonly string[];
  phenotypes: readonly PhenotypeInput[];
  /** Raw covariates, N x c (NaN missing); GEMMA's intercept rule is applied. */
  covariates?: F64Matrix;
  keep?: KeepList;
  /** SNP filter thresholds (GEMMA -maf, -miss, -r2; defaults 0.01, 0.05, 0.9999). */
  maf?: number;
  miss?: number;
  r2?: number;
}

/** The analysed individuals of a scan and everything per individual that the later stages need. */
export interface ScanSamples {
  /** The analysed individuals (indices into the genotype file, ascending; IDs; exclusion counts). */
  selection: SampleSelection;
  /** selection.indices: rows of the genotype blocks that are analysed. */
  rows: Int32Array;
  /** Number of analysed individuals. */
  n: number;
  /** Covariate design over the analysed individuals, n x c (intercept included). */
  w: F64Matrix;
  /** Columns of W. */
  c: number;
  /** Each phenotype over the analysed individuals (n values, none missing), in the order given. */
  phenotypes: { name: string; y: Float64Array }[];
  /** GEMMA's SNP filter over the analysed individuals (with W for the r^2 filter). */
  filter: SnpFilter;
}

/**
 * Stage 1: selects the analysed individuals (every phenotype and covariate present, in the keep list), builds
 * W and the SNP filter. Throws RangeError when no phenotype is given, NumericError when n - c - 1 < 1.
 */
export function scanSamples(opts: ScanSamplesOptions): ScanSamples {
  if (opts.phenotypes.length === 0) throw new RangeError('gwasScan: no phenotype selected');
  const selection = selectSamples({ ids: opts.ids, phenotypes: opts.phenotypes.map((p) => p.values), ...(opts.covariates ? { covariates: opts.covariates } : {}), ...(opts.keep ? { keep: opts.keep } : {}) });
  const rows = selection.indices;
  const n = rows.length;
  const w = covariateDesign(opts.covariates, rows).w;
  const c = w.cols;
  if (n - c - 1 < 1) throw new NumericError(`${n} analysed individual${n === 1 ? '' : 's'} and ${c} covariate${c === 1 ? '' : 's'} (intercept included) leave no residual degrees of freedom: a scan needs at least ${c + 2} individuals with every phenotype and covariate`);
  const filter = new SnpFilter({ ...(opts.maf !== undefined ? { maf: opts.maf } : {}), ...(opts.miss !== undefined ? { miss: opts.miss } : {}), ...(opts.r2 !== undefined ? { r2: opts.r2 } : {}), covariates: w });
  const phenotypes = opts.phenotypes.map((p) => ({ name: p.name, y: Float64Array.from(rows, (i) => p.values[i]!) }));
  return { selection, rows, n, w, c, phenotypes, filter };
}

/**
 * The phenotypes grouped by missingness pattern, in order of first appearance: phenotypes missing for exactly
 * the same individuals (among those with every covariate, in the keep list) share a group. O(N p).
 */
export function phenotypePatterns(opts: Omit<ScanSamplesOptions, 'maf' | 'miss' | 'r2'>): PhenotypeInput[][] {
  const eligible = selectSamples({ ids: opts.ids, phenotypes: [], ...(opts.covariates ? { covariates: opts.covariates } : {}), ...(opts.keep ? { keep: opts.keep } : {}) }).indices;
  const groups = new Map<string, PhenotypeInput[]>();
  for (const p of opts.phenotypes) {
    const key = Array.from(eligible, (i) => (Number.isNaN(p.values[i]!) ? '0' : '1')).join('');
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  return [...groups.values()];
}
