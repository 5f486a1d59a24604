/**
 * Writers of scan results: the Arrow output (`--out`: an IPC stream `.arrows`, an IPC file `.arrow`, or a
 * dataset directory partitioned by `pheno=`/`chr=` (src/io/arrow-output.ts); one record batch per result
 * batch, the null model as JSON under the schema metadata key `gpulmm.null_model`), its `.json` sidecar, and
 * GEMMA's assoc.txt layout (`--tsv`), all written under a temporary name and renamed only when complete.
 */
import type { ArrowColumnSpec } from '../src/io/arrow-batch.js';
import { openArrowTable, type ArrowTableSink } from '../src/io/arrow-output.js';
import { openAtomic, type AtomicFile } from '../src/io/atomic-file.js';
import { TsvWriter } from '../src/io/tsv-output.js';
import type { TestSelection } from '../src/lmm/snp/assoc.js';
import type { NullModel } from '../src/lmm/snp/null-model.js';
import { formatFixed, formatSci } from './gemma-format.js';
import type { ResultBatch } from './scan.js';

/** GEMMA's -lmm mode for a test selection (1 wald, 2 lrt, 3 score, 4 all). */
export function gemmaMode(t: TestSelection): 1 | 2 | 3 | 4 {
  if (t.wald && t.lrt && t.score) return 4;
  if (t.wald && !t.lrt && !t.score) return 1;
  if (t.lrt && !t.wald && !t.score) return 2;
  if (t.score && !t.wald && !t.lrt) return 3;
  throw new RangeError('test selection must be one of wald, lrt, score or all (GEMMA -lmm 1/2/3/4)');
}

/** Statistic columns of GEMMA's assoc.txt after `af`, per -lmm mode. */
const GEMMA_STATS: Record<1 | 2 | 3 | 4, readonly (keyof ResultBatch['assoc'])[]> = {
  1: ['beta', 'se', 'loglH1', 'lRemle', 'pWald'],
  2: ['loglH1', 'lMle', 'pLrt'],
  3: ['beta', 'se', 'pScore'],
  4: ['beta', 'se', 'loglH1', 'lRemle', 'lMle', 'pWald', 'pLrt', 'pScore'],
};
const GEMMA_NAMES: Record<string, string> = {
  beta: 'beta', se: 'se', loglH1: 'logl_H1', lRemle: 'l_remle', lMle: 'l_mle', pWald: 'p_wald', pLrt: 'p_lrt', pScore: 'p_score',
};

/** Writes GEMMA's assoc.txt for one phenotype: header, then one line per SNP (tab-separated, GEMMA's formats). */
export class GemmaTsvWriter extends TsvWriter<ResultBatch> {
  private constructor(file: AtomicFile, private readonly mode: 1 | 2 | 3 | 4) {
    super(file);
  }

  static async open(path: string, tests: TestSelection): Promise<GemmaTsvWriter> {
    const mode = gemmaMode(tests);
    const header = ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af', ...GEMMA_STATS[mode].map((k) => GEMMA_NAMES[k]!)];
    return new GemmaTsvWriter(await TsvWriter.openWithHeader(path, header), mode);
  }

  protected formatRows(b: ResultBatch, rows: string[]): void {
    const cols = GEMMA_STATS[this.mode].map((k) => b.assoc[k] as Float64Array);
    for (let j = 0; j < b.snps.length; j++) {
      const s = b.snps[j]!;
      let line = `${s.chr}\t${s.rs}\t${s.ps}\t${b.nMiss[j]}\t${s.allele1}\t${s.allele0}\t${formatFixed(b.af[j]!, 3)}`;
      for (const c of cols) line += `\t${formatSci(c[j]!, 6)}`;
      rows.push(line);
    }
  }
}

/** Columns of the Arrow output, in order (`pheno` first when several phenotypes are scanned). */
export function arrowColumns(severalPhenotypes: boolean): ArrowColumnSpec[] {
  const f = (name: string): ArrowColumnSpec => ({ name, type: 'f64' });
  return [
    ...(severalPhenotypes ? [{ name: 'pheno', type: 'utf8' as const }] : []),
    { name: 'chr', type: 'utf8' }, { name: 'rs', type: 'utf8' }, { name: 'ps', type: 'i32' }, { name: 'n_miss', type: 'i32' },
    { name: 'allele1', type: 'utf8' }, { name: 'allele0', type: 'utf8' },
    f('af'), f('beta'), f('se'), f('logl_H1'), f('l_remle'), f('l_mle'), f('p_wald'), f('p_lrt'), f('p_score'),
    { name: 'n', type: 'i32' }, f('log10p_wald'), f('log10p_lrt'), f('log10p_score'), { name: 'status', type: 'utf8' },
  ];
}

/**
 * Opens the Arrow output `path` (layout from its name: arrowOutputKind) with the null models (JSON) in the
 * schema metadata; `withPheno` adds the `pheno` column (always there in a dataset, as its outer partition).
 */
export async function openArrowOutput(path: string, nullModels: Map<string, NullModel>, withPheno: boolean, extra: Record<string, string>): Promise<ArrowTableSink> {
  return openArrowTable(path, {
    columns: arrowColumns(withPheno),
    metadata: { ...extra, 'gpulmm.null_model': JSON.stringify(Object.fromEntries(nullModels)) },
    partitionBy: ['pheno', 'chr'],
  });
}

/** One record batch of the Arrow output. */
export async function writeArrowBatch(w: ArrowTableSink, b: ResultBatch, n: number, severalPhenotypes: boolean): Promise<void> {
  const m = b.snps.length;
  const a = b.assoc;
  await w.write({
    ...(severalPhenotypes ? { pheno: new Array<string>(m).fill(b.pheno) } : {}),
    chr: b.snps.map((s) => s.chr), rs: b.snps.map((s) => s.rs), ps: Int32Array.from(b.snps, (s) => s.ps), n_miss: b.nMiss,
    allele1: b.snps.map((s) => s.allele1), allele0: b.snps.map((s) => s.allele0),
    af: b.af, beta: a.beta, se: a.se, logl_H1: a.loglH1, l_remle: a.lRemle, l_mle: a.lMle,
    p_wald: a.pWald, p_lrt: a.pLrt, p_score: a.pScore, n: new Int32Array(m).fill(n),
    log10p_wald: a.log10pWald, log10p_lrt: a.log10pLrt, log10p_score: a.log10pScore, status: a.status,
  });
}

/** Writes the null-model sidecar (`FILE.json` next to `FILE.arrows`) atomically. */
export async function writeNullModelJson(path: string, nullModels: Map<string, NullModel>, extra: Record<string, unknown>): Promise<void> {
  const f = await openAtomic(path);
  try {
    await f.write(`${JSON.stringify({ ...extra, null_model: Object.fromEntries(nullModels) }, null, 2)}\n`);
    await f.commit();
  } catch (e) {
    await f.abort();
    throw e;
  }
}

/** GEMMA-log style lines for a null model (6 significant digits, as its log prints). */
export function describeNullModel(nm: NullModel): string[] {
  const g = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
  return [
    `REMLE log-likelihood in the null model = ${g(nm.loglRemle)}`,
    `MLE log-likelihood in the null model = ${g(nm.loglMle)}`,
    `pve estimate in the null model = ${g(nm.pve)}`,
    `se(pve) in the null model = ${g(nm.pveSe)}`,
    `vg estimate in the null model = ${g(nm.vg)}`,
    `ve estimate in the null model = ${g(nm.ve)}`,
    `beta estimate in the null model = ${nm.beta.map(g).join(' ')}`,
    `se(beta) = ${nm.betaSe.map(g).join(' ')}`,
  ];
}
