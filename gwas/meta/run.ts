/**
 * GWAS meta-analysis driver: opens each cohort's summary statistics (src/io/sumstats.ts), streams the sorted merge
 * (merge.ts) into the outputs (TSV, plain or .gz; Arrow stream / file / dataset partitioned by chr=), and draws the
 * Manhattan and QQ plots of the fixed- and random-effects p-values. A cohort found unsorted is sorted in memory
 * and the merge restarts (outputs are written atomically, so nothing partial is left by the first attempt).
 *
 * Columns: chr rs ps allele1 allele0 n_cohorts direction af n beta se p log10p beta_re se_re p_re log10p_re tau2
 * q i2 p_het ambiguous. allele1 is the effect allele (the first cohort's), beta/se/p the inverse-variance fixed
 * effect, *_re the DerSimonian-Laird random effects, q / i2 / p_het Cochran's Q, I^2 (percent) and its p-value.
 */
import { InputError } from '../../src/errors.js';
import { openArrowTable, checkArrowOutput, type ArrowTableSink } from '../../src/io/arrow-output.js';
import type { ArrowColumnSpec } from '../../src/io/arrow-batch.js';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { openSumstats, type SumstatSource } from '../../src/io/sumstats.js';
import { TextOutput } from '../../src/io/text-output.js';
import { manhattanPlot, qqPlot, type PlotFormat } from '../../src/plot/index.js';
import { genomicInflation } from '../../src/stats/multiple-testing.js';
import type { AmbiguousPolicy } from './alleles.js';
import { Chromosomes, mergeCohorts, newCounts, sortedBlocks, UnsortedInputError, type CohortCounts, type MetaBatch } from './merge.js';

export interface GwasMetaOptions {
  inputs: string[];
  /** phenotype to take from inputs holding several (Arrow outputs of multi-phenotype scans) */
  pheno?: string;
  ambiguous: AmbiguousPolicy;
  /** with ambiguous 'af': the largest minor allele frequency that tells the strand (default 0.4) */
  ambiguousMaxMaf?: number;
  minCohorts: number;
  out?: string;
  tsv?: string;
  plot?: string;
  plotFormat?: PlotFormat;
  /** called after each output batch with the variants written so far */
  onProgress?: (variants: number) => void;
  /** called with each message for the user (a cohort sorted in memory) */
  onMessage?: (text: string) => void;
}

export interface CohortReport {
  path: string;
  format: string;
  columns: Record<string, string>;
  counts: CohortCounts;
  sortedInMemory: boolean;
}

export interface TopHit {
  chr: string;
  rs: string;
  ps: number;
  allele1: string;
  allele0: string;
  beta: number;
  se: number;
  log10p: number;
  direction: string;
}

export interface GwasMetaReport {
  cohorts: CohortReport[];
  variants: number;
  /** byCohortCount[m]: variants found in m cohorts */
  byCohortCount: number[];
  ambiguous: number;
  lambdaFe: number;
  lambdaRe: number;
  /** the 10 smallest fixed-effect p */
  top: TopHit[];
}

export const META_COLUMNS: ArrowColumnSpec[] = [
  { name: 'chr', type: 'utf8' }, { name: 'rs', type: 'utf8' }, { name: 'ps', type: 'i32' }, { name: 'allele1', type: 'utf8' }, { name: 'allele0', type: 'utf8' },
  { name: 'n_cohorts', type: 'i32' }, { name: 'direction', type: 'utf8' }, { name: 'af', type: 'f64' }, { name: 'n', type: 'f64' },
  ...['beta', 'se', 'p', 'log10p', 'beta_re', 'se_re', 'p_re', 'log10p_re', 'tau2', 'q', 'i2', 'p_het'].map((name) => ({ name, type: 'f64' as const })),
  { name: 'ambiguous', type: 'bool' },
];

/** A number for the TSV: 6 significant digits, NA for NaN. */
const num = (x: number) => (x === x ? (Number.isInteger(x) && Math.abs(x) < 1e15 ? String(x) : x.toPrecision(6)) : 'NA');

/** A p-value printed from its log10 when it underflows (1.23457e-400). */
function pValue(p: number, log10p: number): string {
  if (p > 0 || !Number.isFinite(log10p)) return num(p);
  const e = Math.floor(log10p);
  let m = 10 ** (log10p - e);
  let ex = e;
  if (m >= 9.999995) {
    m = 1;
    ex += 1;
  }
  return `${m.toFixed(5)}e${ex}`;
}

function tsvLines(b: MetaBatch): string {
  const r = b.ivw;
  let s = '';
  for (let i = 0; i < b.length; i++) {
    s += `${b.chr[i]}\t${b.rs[i]}\t${b.ps[i]}\t${b.allele1[i]}\t${b.allele0[i]}\t${b.nCohorts[i]}\t${b.direction[i]}\t${num(b.af[i]!)}\t${num(b.n[i]!)}\t`;
    s += `${num(r.betaFe[i]!)}\t${num(r.seFe[i]!)}\t${pValue(r.pFe[i]!, r.log10pFe[i]!)}\t${num(r.log10pFe[i]!)}\t`;
    s += `${num(r.betaRe[i]!)}\t${num(r.seRe[i]!)}\t${pValue(r.pRe[i]!, r.log10pRe[i]!)}\t${num(r.log10pRe[i]!)}\t`;
    s += `${num(r.tau2[i]!)}\t${num(r.q[i]!)}\t${num(r.i2[i]!)}\t${num(r.pHet[i]!)}\t${b.ambiguous[i] ? 1 : 0}\n`;
  }
  return s;
}

const arrowBatch = (b: MetaBatch) => ({
  chr: b.chr, rs: b.rs, ps: b.ps, allele1: b.allele1, allele0: b.allele0, n_cohorts: b.nCohorts, direction: b.direction, af: b.af, n: b.n,
  beta: b.ivw.betaFe, se: b.ivw.seFe, p: b.ivw.pFe, log10p: b.ivw.log10pFe, beta_re: b.ivw.betaRe, se_re: b.ivw.seRe, p_re: b.ivw.pRe,
  log10p_re: b.ivw.log10pRe, tau2: b.ivw.tau2, q: b.ivw.q, i2: b.ivw.i2, p_het: b.ivw.pHet, ambiguous: b.ambiguous,
});

/** Growable f64 column (the plots need every variant's position and p). */
class Column {
  data = new Float64Array(1 << 16);
  length = 0;
  push(v: ArrayLike<number>): void {
    if (this.length + v.length > this.data.length) {
      const next = new Float64Array(Math.max(this.data.length * 2, this.length + v.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    for (let i = 0; i < v.length; i++) this.data[this.length + i] = v[i]!;
    this.length += v.length;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Validates the outputs before any reading (an Arrow dataset path that holds other files is refused). */
export async function checkMetaOutputs(o: { out?: string }, option: string): Promise<void> {
  if (o.out) await checkArrowOutput(o.out, ['chr'], option);
}

/** Runs the meta-analysis of `inputs` (module comment); returns the per-cohort counts and a summary. */
export async function runGwasMeta(o: GwasMetaOptions): Promise<GwasMetaReport> {
  const sources: SumstatSource[] = [];
  for (const path of o.inputs) sources.push(await openSumstats(path, { pheno: o.pheno }));
  const sortInMemory = new Set<number>();
  for (;;) {
    const counts = sources.map(() => newCounts());
    const chroms = new Chromosomes();
    const inputs = sources.map((s, c) => (sortInMemory.has(c) ? sortedBlocks(s.blocks(), chroms) : s.blocks()));
    const tsv = o.tsv ? await TextOutput.open(o.tsv) : null;
    let arrow: ArrowTableSink | null = null;
    try {
      arrow = o.out ? await openArrowTable(o.out, { columns: META_COLUMNS, metadata: { 'gpulmm.meta_inputs': JSON.stringify(o.inputs) }, partitionBy: ['chr'] }) : null;
      if (tsv) await tsv.write(`${META_COLUMNS.map((c) => c.name).join('\t')}\n`);
      const chr: string[] = [];
      const ps = new Column();
      const lFe = new Column();
      const lRe = new Column();
      const byCohortCount = new Array<number>(sources.length + 1).fill(0);
      let variants = 0;
      let ambiguous = 0;
      const top: TopHit[] = [];
      for await (const b of mergeCohorts(inputs, chroms, counts, { ambiguous: o.ambiguous, ambiguousMaxMaf: o.ambiguousMaxMaf, minCohorts: o.minCohorts })) {
        if (tsv) await tsv.write(tsvLines(b));
        if (arrow) await arrow.write(arrowBatch(b));
        for (let i = 0; i < b.length; i++) {
          chr.push(b.chr[i]!);
          byCohortCount[b.nCohorts[i]!]!++;
          if (b.ambiguous[i]) ambiguous++;
          const l = b.ivw.log10pFe[i]!;
          if (top.length < 10 || l < top[top.length - 1]!.log10p) {
            top.push({ chr: b.chr[i]!, rs: b.rs[i]!, ps: b.ps[i]!, allele1: b.allele1[i]!, allele0: b.allele0[i]!, beta: b.ivw.betaFe[i]!, se: b.ivw.seFe[i]!, log10p: l, direction: b.direction[i]! });
            top.sort((x, y) => x.log10p - y.log10p);
            if (top.length > 10) top.pop();
          }
        }
        ps.push(b.ps);
        lFe.push(b.ivw.log10pFe);
        lRe.push(b.ivw.log10pRe);
        variants += b.length;
        o.onProgress?.(variants);
      }
      if (tsv) await tsv.close();
      if (arrow) await arrow.close();
      const lambda = (l: Float64Array) => (l.length === 0 ? NaN : genomicInflation(Float64Array.from(l, (x) => 10 ** x)));
      const report: GwasMetaReport = {
        cohorts: sources.map((s, c) => ({ path: s.path, format: s.format, columns: s.columns, counts: counts[c]!, sortedInMemory: sortInMemory.has(c) })),
        variants, byCohortCount, ambiguous, lambdaFe: lambda(lFe.view()), lambdaRe: lambda(lRe.view()), top,
      };
      if (o.plot && variants > 0) {
        const format = o.plotFormat ?? 'png';
        for (const [tag, l, lam] of [['fe', lFe.view(), report.lambdaFe], ['re', lRe.view(), report.lambdaRe]] as const) {
          const title = `gpulmm meta (${tag === 'fe' ? 'fixed effects' : 'random effects, DL'})`;
          await writeFileAtomic(`${o.plot}.${tag}.manhattan.${format}`, manhattanPlot({ chr, pos: ps.view(), log10p: l, title, format }));
          await writeFileAtomic(`${o.plot}.${tag}.qq.${format}`, qqPlot({ log10p: l, title, lambda: lam, format }));
        }
      }
      return report;
    } catch (e) {
      await tsv?.abort();
      await arrow?.abort();
      if (e instanceof UnsortedInputError && tsv?.inPlace) {
        throw new InputError(sources[e.cohort]!.path, sources[e.cohort]!.format.startsWith('arrow') ? undefined : e.line, undefined, `not sorted by chromosome and position: sort it, or write the TSV to a file instead of ${tsv.path} (an unsorted input is sorted in memory and the meta-analysis starts again, which a stream cannot take back)`);
      }
      if (e instanceof UnsortedInputError && !sortInMemory.has(e.cohort)) {
        sortInMemory.add(e.cohort);
        const where = sources[e.cohort]!.format.startsWith('arrow') ? `row ${e.line} of its part` : `line ${e.line}`;
        o.onMessage?.(`${sources[e.cohort]!.path} is not sorted by chromosome and position (${where}): sorting it in memory and starting again`);
        continue;
      }
      throw e;
    }
  }
}
