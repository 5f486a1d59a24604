/**
 * Writers of binary-trait scan results (gwas/scan-binary.ts): the Arrow output (`--out`: stream, file or dataset; the null models as
 * JSON under the schema metadata key `gpulmm.null_model`), a TSV (`--tsv`), both written under a temporary name
 * and renamed when complete, and the null model's summary lines. Columns per SNP:
 *   chr rs ps n_miss allele1 allele0 af n_cases n_controls af_cases af_controls beta se p log10p log10p_normal
 *   method status  (log10p_normal: the normal approximation's p, SAIGE's p.value.NA)
 * (`pheno` first in the Arrow output when several phenotypes are scanned or the output is a dataset). beta is per copy of allele1 on the
 * log-odds scale; af_cases / af_controls are allele1 frequencies among the non-missing cases / controls.
 */
import type { ArrowColumnSpec } from '../src/io/arrow-batch.js';
import { openArrowTable, type ArrowTableSink } from '../src/io/arrow-output.js';
import type { BinaryNullSummary } from '../src/lmm/binary/null-model.js';
import type { BinaryAssocColumns } from '../src/lmm/binary/score-test.js';
import type { AtomicFile } from '../src/io/atomic-file.js';
import { TsvWriter } from '../src/io/tsv-output.js';
import { allocAssocColumns } from '../src/lmm/snp/assoc.js';
import { formatFixed, formatSci } from './gemma-format.js';
import type { ResultBatch } from './scan-stream.js';

const STAT_COLUMNS = ['n_cases', 'n_controls', 'af_cases', 'af_controls', 'beta', 'se', 'p', 'log10p', 'log10p_normal', 'method', 'status'] as const;

/** Columns of the Arrow output, in order. */
export function binaryArrowColumns(severalPhenotypes: boolean): ArrowColumnSpec[] {
  const f = (name: string): ArrowColumnSpec => ({ name, type: 'f64' });
  return [
    ...(severalPhenotypes ? [{ name: 'pheno', type: 'utf8' as const }] : []),
    { name: 'chr', type: 'utf8' }, { name: 'rs', type: 'utf8' }, { name: 'ps', type: 'i32' }, { name: 'n_miss', type: 'i32' },
    { name: 'allele1', type: 'utf8' }, { name: 'allele0', type: 'utf8' }, f('af'),
    { name: 'n_cases', type: 'i32' }, { name: 'n_controls', type: 'i32' }, f('af_cases'), f('af_controls'),
    f('beta'), f('se'), f('p'), f('log10p'), f('log10p_normal'), { name: 'method', type: 'utf8' }, { name: 'status', type: 'utf8' },
  ];
}

/**
 * Opens the Arrow output `path` (stream, file or dataset by its name: src/io/arrow-output.ts) with the null models
 * (JSON) and `extra` in the schema metadata; `withPheno` adds the `pheno` column (a dataset's outer partition).
 */
export function openBinaryArrow(path: string, nullModels: Map<string, BinaryNullSummary>, withPheno: boolean, extra: Record<string, string>): Promise<ArrowTableSink> {
  return openArrowTable(path, {
    columns: binaryArrowColumns(withPheno),
    metadata: { ...extra, trait: 'binary', 'gpulmm.null_model': JSON.stringify(Object.fromEntries(nullModels)) },
    partitionBy: ['pheno', 'chr'],
  });
}

/** One record batch of the Arrow output. */
export async function writeBinaryArrowBatch(w: ArrowTableSink, b: ResultBatch<BinaryAssocColumns>, withPheno: boolean): Promise<void> {
  const m = b.snps.length;
  const a = b.assoc;
  await w.write({
    ...(withPheno ? { pheno: new Array<string>(m).fill(b.pheno) } : {}),
    chr: b.snps.map((s) => s.chr), rs: b.snps.map((s) => s.rs), ps: Int32Array.from(b.snps, (s) => s.ps), n_miss: b.nMiss,
    allele1: b.snps.map((s) => s.allele1), allele0: b.snps.map((s) => s.allele0), af: b.af,
    n_cases: a.nCases, n_controls: a.nControls, af_cases: a.afCases, af_controls: a.afControls,
    beta: a.beta, se: a.se, p: a.p, log10p: a.log10p, log10p_normal: a.log10pNormal, method: a.method, status: a.status,
  });
}

/** Tab-separated results for one phenotype: header, then one line per SNP. */
export class BinaryTsvWriter extends TsvWriter<ResultBatch<BinaryAssocColumns>> {
  private constructor(file: AtomicFile) {
    super(file);
  }

  static async open(path: string): Promise<BinaryTsvWriter> {
    return new BinaryTsvWriter(await TsvWriter.openWithHeader(path, ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af', ...STAT_COLUMNS]));
  }

  protected formatRows(b: ResultBatch<BinaryAssocColumns>, rows: string[]): void {
    const a = b.assoc;
    for (let j = 0; j < b.snps.length; j++) {
      const s = b.snps[j]!;
      rows.push([
        s.chr, s.rs, s.ps, b.nMiss[j], s.allele1, s.allele0, formatFixed(b.af[j]!, 3), a.nCases[j], a.nControls[j],
        formatFixed(a.afCases[j]!, 4), formatFixed(a.afControls[j]!, 4), formatSci(a.beta[j]!, 6), formatSci(a.se[j]!, 6),
        formatSci(a.p[j]!, 6), a.log10p[j]!.toFixed(4), a.log10pNormal[j]!.toFixed(4), a.method[j], a.status[j],
      ].join('\t'));
    }
  }
}

/** Summary lines of a binary null model (6 significant digits). */
export function describeBinaryNullModel(s: BinaryNullSummary): string[] {
  const g = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
  return [
    `cases ${s.nCases}, controls ${s.nControls}`,
    `tau (random-effect variance, logit scale) = ${g(s.tau)} (se ${g(s.tauSe)})`,
    `alpha (covariate effects) = ${s.alpha.map(g).join(' ')}`,
    `se(alpha) = ${s.alphaSe.map(g).join(' ')}`,
    `PQL/AI-REML iterations ${s.iterations}, ${s.converged ? 'converged' : `NOT converged (${s.status})`}`,
  ];
}

/** The batch as the LMM report (gwas/scan-report.ts) sees a score test: only `log10pScore` is filled. */
export function asScoreBatch(b: ResultBatch<BinaryAssocColumns>): ResultBatch {
  return { pheno: b.pheno, snps: b.snps, nMiss: b.nMiss, af: b.af, assoc: { ...allocAssocColumns(0), log10pScore: b.assoc.log10p } };
}
