/** Shared parity checks: run gwasScan end to end and compare with GEMMA 0.98.5 assoc/log files. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { gwasScan, type GwasScanOptions } from '../../../gwas/scan.js';
import { formatFixed } from '../../../gwas/gemma-format.js';
import { readCovariateFile } from '../../../src/io/gemma-tables.js';
import { famPhenotype, openPlink } from '../../../src/io/plink.js';
import type { NullModel } from '../../../src/lmm/snp/null-model.js';

export { existsSync };

export interface GemmaTable {
  header: string[];
  rows: string[][];
}

export async function readGemmaAssoc(path: string): Promise<GemmaTable> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  return { header: lines[0]!, rows: lines.slice(1) };
}

/** Null-model numbers GEMMA's log prints (6 significant digits). */
export async function readGemmaLog(path: string): Promise<Record<string, number>> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  const get = (label: string): number => Number(new RegExp(`## ${label.replace(/[()]/g, '\\$&')} = +(\\S+)`).exec(text)![1]);
  return {
    loglRemle: get('REMLE log-likelihood in the null model'),
    loglMle: get('MLE log-likelihood in the null model'),
    pve: get('pve estimate in the null model'),
    pveSe: get('se(pve) in the null model'),
    vg: get('vg estimate in the null model'),
    ve: get('ve estimate in the null model'),
  };
}

/** Runs the scan on a PLINK prefix (phenotype 1 of the .fam), all three tests, and returns rows by rs. */
export async function scanPlink(prefix: string, extra: Partial<GwasScanOptions> & { covarFile?: string } = {}) {
  const source = await openPlink(prefix);
  const { covarFile, ...rest } = extra;
  const covariates = covarFile ? (await readCovariateFile(covarFile)).values : undefined;
  const scan = await gwasScan({
    source, phenotypes: [{ name: 'p1', values: famPhenotype(source.fam, 1) }], ...(covariates ? { covariates } : {}),
    kinship: { mode: 'centered' }, tests: { wald: true, lrt: true, score: true }, backend: 'cpu', ...rest,
  });
  const rows = new Map<string, { af: number; nMiss: number; beta: number; se: number; pWald: number; pLrt: number; pScore: number; l10: [number, number, number]; status: string }>();
  for await (const b of scan.batches) {
    b.snps.forEach((s, j) => {
      const a = b.assoc;
      rows.set(s.rs, {
        af: b.af[j]!, nMiss: b.nMiss[j]!, beta: a.beta[j]!, se: a.se[j]!, pWald: a.pWald[j]!, pLrt: a.pLrt[j]!, pScore: a.pScore[j]!,
        l10: [a.log10pWald[j]!, a.log10pLrt[j]!, a.log10pScore[j]!], status: a.status[j]!,
      });
    });
  }
  return { rows, nullModel: scan.nullModels.get('p1')!, summary: scan.summary };
}

/** The parity targets against a GEMMA -lmm 4 assoc table. */
export function expectLmm4Parity(gemma: GemmaTable, rows: Awaited<ReturnType<typeof scanPlink>>['rows']): void {
  const h = (name: string): number => gemma.header.indexOf(name);
  expect(rows.size).toBe(gemma.rows.length); // the same analysed SNPs
  let worst = { wald: 0, lrt: 0, score: 0, beta: 0 };
  for (const g of gemma.rows) {
    const r = rows.get(g[h('rs')]!);
    expect(r, `SNP ${g[h('rs')]} analysed`).toBeDefined();
    expect(r!.status).toBe('ok');
    expect(formatFixed(r!.af, 3)).toBe(g[h('af')]);
    expect(r!.nMiss).toBe(Number(g[h('n_miss')]));
    const d = (p: number, ref: string): number => Math.abs(Math.log10(p) - Math.log10(Number(ref)));
    worst = {
      wald: Math.max(worst.wald, d(r!.pWald, g[h('p_wald')]!)),
      lrt: Math.max(worst.lrt, d(r!.pLrt, g[h('p_lrt')]!)),
      score: Math.max(worst.score, d(r!.pScore, g[h('p_score')]!)),
      beta: Math.max(worst.beta, Math.abs(r!.beta - Number(g[h('beta')])) / Number(g[h('se')])),
    };
    // log10 p agrees with log10 of p where p is representable.
    expect(Math.abs(r!.l10[0] - Math.log10(r!.pWald))).toBeLessThan(1e-9);
  }
  expect(worst.wald).toBeLessThanOrEqual(1e-3);
  expect(worst.score).toBeLessThanOrEqual(1e-3);
  expect(worst.lrt).toBeLessThanOrEqual(5e-3);
  expect(worst.beta).toBeLessThanOrEqual(1e-3);
}

/** Null model to GEMMA's printed digits (6 significant). */
export function expectNullParity(nm: NullModel, log: Record<string, number>): void {
  for (const k of ['loglRemle', 'loglMle', 'pve', 'pveSe', 'vg', 've'] as const) {
    expect(Number(nm[k].toPrecision(6)), k).toBe(log[k]);
  }
}
