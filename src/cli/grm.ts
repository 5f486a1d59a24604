/**
 * `gpulmm grm`: the genomic relatedness matrix (GEMMA -gk 1 / -gk 2) from PLINK or BIMBAM genotypes, written
 * atomically as GEMMA text (readable by `gemma -k`) or the gpulmm binary format (see src/io/kinship-file.ts).
 */
import { Command, Option } from 'commander';
import { createBackend } from '../../kernels/select.js';
import type { BackendChoice } from '../../kernels/backend.js';
import { loadAnalysisInputs } from '../../gwas/inputs.js';
import { computeKinship, KINSHIP_BLOCK_SNPS, KINSHIP_MODES, type KinshipMode } from '../../gwas/kinship.js';
import { describeSelection } from '../../gwas/samples.js';
import { SnpFilter } from '../../gwas/snp-filter.js';
import { getFlag, setFlags } from '../flags.js';
import { writeKinship, type KinshipFormat } from '../io/kinship-file.js';
import { action } from './command.js';
import { parseNumberOption, POSITIVE_INT, PROBABILITY } from './option-values.js';
import { addGenotypeOptions, describeSkipped, genotypeInput, type GenotypeCliOptions } from './genotype-options.js';

interface GrmCliOptions extends GenotypeCliOptions {
  pheno?: string;
  phenoCol: string;
  covar?: string;
  keep?: string;
  grm: KinshipMode;
  out: string;
  format: KinshipFormat;
  maf: string;
  miss: string;
  backend?: BackendChoice;
  blockSize?: string;
  verbose?: boolean;
}

export function registerGrm(program: Command): void {
  addGenotypeOptions(program
    .command('grm')
    .description('Genomic relatedness matrix K = Z Z\'/m over all individuals (GEMMA -gk 1 centered, -gk 2 standardized).'))
    .option('--pheno <file>', 'phenotype file (BIMBAM layout); SNP filters are evaluated on individuals with the phenotype, as GEMMA does')
    .option('--pheno-col <k>', 'phenotype column (1-based, GEMMA -n)', '1')
    .option('--covar <file>', 'covariate file (GEMMA -c): individuals missing one are left out of the SNP filters, r^2 filter on W')
    .option('--keep <file>', 'individuals (IID, or FID IID per line) whose genotypes decide the SNP filters')
    .addOption(new Option('--grm <mode>', 'centered (GEMMA -gk 1) or standardized (-gk 2)').choices(['centered', 'standardized']).default('centered'))
    .requiredOption('--out <file>', 'output kinship file (written to a temporary name, renamed when complete)')
    .addOption(new Option('--format <format>', 'gemma: text, 10 significant digits (gemma -k reads it); binary: exact f64').choices(['gemma', 'binary']).default('gemma'))
    .option('--maf <f>', 'minimum allele frequency of SNPs entering K (GEMMA -maf)', '0.01')
    .option('--miss <f>', 'maximum missing rate of SNPs entering K (GEMMA -miss)', '0.05')
    .addOption(new Option('--backend <name>', 'kernel backend for the Z Z\' accumulation').choices(['auto', 'cpu', 'webgpu', 'gpujs']))
    .option('--block-size <n>', 'SNPs per streamed block')
    .option('--verbose', 'print timings')
    .action(action('grm', runGrm));
}

async function runGrm(opts: GrmCliOptions): Promise<void> {
  const genotypes = genotypeInput(opts);
  const phenoCol = parseNumberOption(opts.phenoCol, '--pheno-col', POSITIVE_INT);
  const blockSize = opts.blockSize === undefined ? undefined : parseNumberOption(opts.blockSize, '--block-size', POSITIVE_INT);
  setFlags({ backend: opts.backend, blockSize });
  const filter = { maf: parseNumberOption(opts.maf, '--maf', { min: 0, max: 0.5 }), miss: parseNumberOption(opts.miss, '--miss', PROBABILITY) };

  const t0 = performance.now();
  // Without a phenotype file or .fam/.psam (BIMBAM, BGEN, VCF): every individual decides the SNP filters.
  const usePheno = opts.bfile !== undefined || opts.pfile !== undefined || opts.pheno !== undefined;
  const inputs = await loadAnalysisInputs({ ...genotypes, ...(opts.pheno ? { pheno: opts.pheno } : {}), ...(opts.covar ? { covar: opts.covar } : {}), ...(opts.keep ? { keep: opts.keep } : {}), phenoCols: usePheno ? [phenoCol] : [] });
  for (const w of inputs.warnings) process.stderr.write(`gpulmm grm: warning: ${w}\n`);
  const backend = await createBackend(getFlag('backend'));
  try {
    const t1 = performance.now();
    const result = await computeKinship(inputs.source, {
      mode: opts.grm,
      filter: new SnpFilter({ ...filter, covariates: inputs.design.w }),
      filterRows: inputs.samples.indices,
      backend,
      blockSize: blockSize ?? Math.min(getFlag('blockSize'), KINSHIP_BLOCK_SNPS), // --block-size as given, else the kinship's block
    });
    const t2 = performance.now();
    await writeKinship(opts.out, result.k, opts.format);
    const t3 = performance.now();
    const n = inputs.source.samples.length;
    process.stderr.write(
      `gpulmm grm: ${opts.grm} kinship (GEMMA -gk ${KINSHIP_MODES[opts.grm].gk}) of ${n} individuals from ${result.nSnps} of ${inputs.source.nSnps} SNPs ` +
        `(filters on ${describeSelection(inputs.samples)}) -> ${opts.out}\n`,
    );
    const skipped = describeSkipped(inputs.source);
    if (skipped) process.stderr.write(`gpulmm grm: ${skipped}\n`);
    if (opts.verbose) {
      const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
      process.stderr.write(`gpulmm grm: read inputs ${s(t1 - t0)}, kinship (${backend.name}) ${s(t2 - t1)}, write ${s(t3 - t2)}\n`);
    }
  } finally {
    await backend.dispose();
  }
}
