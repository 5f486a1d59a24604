/**
 * What needs every SNP of a scan, per phenotype: lambda_GC per test, the top hits of the first selected test,
 * and the Manhattan and QQ plots. Shared by `gpulmm gwas` (fed by the scan's batches) and `gpulmm merge` (fed
 * by the shards' batches in shard order), so the two print and draw the same thing for the same results.
 * Memory: chr, position, rs and one f64 per selected test for every tested SNP (O(m)).
 */
import { writeFileAtomic } from '../src/io/atomic-file.js';
import type { TestSelection } from '../src/lmm/snp/assoc.js';
import { manhattanPlot, qqPlot, type PlotFormat } from '../src/plot/index.js';
import { genomicInflation } from '../src/stats/multiple-testing.js';
import type { ResultBatch } from './scan.js';

type TestName = 'wald' | 'lrt' | 'score';

interface PhenoColumns {
  chr: string[];
  ps: number[];
  rs: string[];
  log10: Partial<Record<TestName, number[]>>;
}

/** One phenotype's report: lambda_GC per selected test and the five smallest p of the first selected test. */
export interface PhenoReport {
  pheno: string;
  nTested: number;
  lambdaGc: Partial<Record<TestName, number>>;
  topTest: TestName;
  top: { chr: string; rs: string; ps: number; p: number }[];
}

/** Collects the scan's batches (any order of phenotypes; SNPs in file order per phenotype) and reports. */
export class ScanReport {
  private readonly kept = new Map<string, PhenoColumns>();
  readonly testNames: TestName[];

  constructor(tests: TestSelection) {
    this.testNames = (['wald', 'lrt', 'score'] as const).filter((t) => tests[t]);
  }

  /** Keeps positions and log10 p of one batch. O(batch). */
  add(b: ResultBatch): void {
    let k = this.kept.get(b.pheno);
    if (!k) {
      k = { chr: [], ps: [], rs: [], log10: {} };
      this.kept.set(b.pheno, k);
    }
    for (const s of b.snps) {
      k.chr.push(s.chr);
      k.ps.push(s.ps);
      k.rs.push(s.rs);
    }
    const cols: Record<TestName, Float64Array> = { wald: b.assoc.log10pWald, lrt: b.assoc.log10pLrt, score: b.assoc.log10pScore };
    for (const t of this.testNames) {
      const arr = (k.log10[t] ??= []);
      const v = cols[t];
      for (let j = 0; j < v.length; j++) arr.push(v[j]!);
    }
  }

  /** Per phenotype (in the order first seen): lambda_GC of each selected test and the top 5 hits. */
  reports(): PhenoReport[] {
    const out: PhenoReport[] = [];
    const topTest = this.testNames[0]!;
    for (const [pheno, k] of this.kept) {
      const lambdaGc: PhenoReport['lambdaGc'] = {};
      for (const t of this.testNames) {
        // a phenotype whose every SNP test is NaN (all monomorphic among its individuals, say) has no lambda_GC:
        // NaN, printed as "no finite p-values" (a per-phenotype status, not a failure of the whole scan)
        const p = Float64Array.from(k.log10[t]!, (v) => Math.pow(10, v));
        lambdaGc[t] = p.some((v) => !Number.isNaN(v)) ? genomicInflation(p) : NaN;
      }
      const main = k.log10[topTest]!;
      const order = [...main.keys()].filter((i) => Number.isFinite(main[i]!)).sort((a, b) => main[a]! - main[b]!).slice(0, 5);
      out.push({ pheno, nTested: k.chr.length, lambdaGc, topTest, top: order.map((i) => ({ chr: k.chr[i]!, rs: k.rs[i]!, ps: k.ps[i]!, p: Math.pow(10, main[i]!) })) });
    }
    return out;
  }

  /** The summary lines `gpulmm gwas` prints: lambda_GC per test, then the top hits (tagged [pheno] when several). */
  lines(reports: PhenoReport[], several: boolean): string[] {
    const lines: string[] = [];
    for (const r of reports) {
      const tag = several ? `[${r.pheno}] ` : '';
      for (const t of this.testNames) lines.push(`${tag}lambda_GC (${t}) = ${Number.isNaN(r.lambdaGc[t]!) ? 'NA (no finite p-values)' : r.lambdaGc[t]!.toFixed(4)}`);
      lines.push(`${tag}top hits (${r.topTest}):`);
      for (const h of r.top) lines.push(`  ${h.chr}\t${h.rs}\t${h.ps}\tp ${h.p.toExponential(2)}`);
    }
    return lines;
  }

  /**
   * Writes PREFIX[.PHENO][.TEST].manhattan.FORMAT and .qq.FORMAT (phenotype part when several, test part when more
   * than one test is selected; FORMAT png, svg or pdf), atomically.
   */
  async writePlots(prefix: string, reports: PhenoReport[], several: boolean, format: PlotFormat = 'png'): Promise<void> {
    for (const r of reports) {
      const k = this.kept.get(r.pheno)!;
      for (const t of this.testNames) {
        const p = `${prefix}${several ? `.${r.pheno}` : ''}${this.testNames.length > 1 ? `.${t}` : ''}`;
        const values = Float64Array.from(k.log10[t]!);
        const title = `gpulmm gwas ${r.pheno} (${t})`;
        await writeFileAtomic(`${p}.manhattan.${format}`, manhattanPlot({ chr: k.chr, pos: k.ps, log10p: values, title, format }));
        await writeFileAtomic(`${p}.qq.${format}`, qqPlot({ log10p: values, title, lambda: r.lambdaGc[t]!, format }));
      }
    }
  }
}
