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
import { TsvWriter } from '../../src/io/tsv-output.js';
import type { ResultBatch } from '../scan.js';

export const BOLT_COLUMNS = ['SNP', 'CHR', 'BP', 'GENPOS', 'ALLELE1', 'ALLELE0', 'A1FREQ', 'F_MISS', 'BETA', 'SE', 'CHISQ_BOLT_LMM_INF', 'P_BOLT_LMM_INF'] as const;

/** C printf("%g", x): 6 significant digits, trailing zeros dropped, exponent form below 1e-4 or from 1e6. */
export function formatG(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const e = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (e < -4 || e >= 6) {
    const [m, ex] = x.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const sign = ex[0] === '-' ? '-' : '+';
    const digits = ex.replace(/^[+-]/, '');
    return `${mant}e${sign}${digits.padStart(2, '0')}`;
  }
  const s = x.toFixed(Math.max(0, 5 - e));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

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
        s.rs, s.chr, s.ps, 0, s.allele1, s.allele0, formatG(b.af[j]!), formatG(b.nMiss[j]! / this.n),
        formatG(a.beta[j]!), formatG(a.se[j]!), formatG(chi2), formatBoltP(a.log10pWald[j]!),
      ].join('\t'));
    }
  }
}
