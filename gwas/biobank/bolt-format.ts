/**
 * BOLT-LMM 2.4's `--statsFile` layout for the biobank scan (`--tsv-format bolt`), so that scripts written for
 * BOLT-LMM read gpulmm's results: tab-separated, header
 *   SNP CHR BP GENPOS ALLELE1 ALLELE0 A1FREQ F_MISS BETA SE CHISQ_BOLT_LMM_INF P_BOLT_LMM_INF
 * (BOLT's column set with --lmmInfOnly --verboseStats, less its LINREG columns). Numbers as BOLT prints them:
 * C's %g with 6 significant digits, p as "%.1E" (from log10 p, so p below the f64 range still prints, as BOLT
 * does). GENPOS is 0: the scan keeps no genetic map (BOLT prints the .bim's cM / 100). A1FREQ is the allele1
 * frequency and F_MISS the missing fraction over the analysed individuals. Written atomically.
 */
import type { AtomicFile } from '../../src/io/atomic-file.js';
import { formatG } from '../../src/io/format-g.js';
import { TsvWriter } from '../../src/io/tsv-output.js';
import type { ResultBatch } from '../scan.js';

export const BOLT_COLUMNS = ['SNP', 'CHR', 'BP', 'GENPOS', 'ALLELE1', 'ALLELE0', 'A1FREQ', 'F_MISS', 'BETA', 'SE', 'CHISQ_BOLT_LMM_INF', 'P_BOLT_LMM_INF'] as const;

/** C printf("%g", x): 6 significant digits (src/io/format-g.ts). */
const g6 = (x: number): string => formatG(x, 6);

/** BOLT's p-value text from log10 p: "%.1E" of p, e.g. 6.9E-01, 3.2E-310. */
export function formatBoltP(log10p: number): string {
  if (!Number.isFinite(log10p)) return Number.isNaN(log10p) ? 'nan' : '0.0E+00';
  let exp = Math.floor(log10p);
  let frac = Math.pow(10, log10p - exp);
  frac = Math.round(frac * 10) / 10;
  if (frac >= 10) {
    frac = 1;
    exp++;
  }
  const sign = exp < 0 ? '-' : '+';
  return `${frac.toFixed(1)}E${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Writes one phenotype's statistics in BOLT-LMM's layout (chi2 = (beta / se)^2, which is exact for these statistics). */
export class BoltTsvWriter extends TsvWriter<ResultBatch> {
  private constructor(file: AtomicFile, private readonly n: number) {
    super(file);
  }

  /** @param n analysed individuals (F_MISS = n_miss / n) */
  static async open(path: string, n: number): Promise<BoltTsvWriter> {
    return new BoltTsvWriter(await TsvWriter.openWithHeader(path, BOLT_COLUMNS), n);
  }

  protected formatRows(b: ResultBatch, rows: string[]): void {
    const a = b.assoc;
    for (let j = 0; j < b.snps.length; j++) {
      const s = b.snps[j]!;
      const z = a.beta[j]! / a.se[j]!;
      const chi2 = a.status[j] === 'ok' ? z * z : NaN;
      rows.push([
        s.rs, s.chr, s.ps, 0, s.allele1, s.allele0, g6(b.af[j]!), g6(b.nMiss[j]! / this.n),
        g6(a.beta[j]!), g6(a.se[j]!), g6(chi2), formatBoltP(a.log10pWald[j]!),
      ].join('\t'));
    }
  }
}
