/** `gpulmm gwas --out DIR/`: the Arrow IPC file dataset, read by an independent reader (polars). */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatFixed, formatSci } from '../../gwas/gemma-format.js';
import { registerGwas } from '../../src/cli/gwas.js';
import { readArrowTable } from '../../src/io/arrow-batch.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCommand } from '../helpers/cli.js';
import { polars } from '../helpers/polars.js';

const SIM = 'data/sim/';

describe('gpulmm gwas --out DIR/ (Arrow IPC file dataset)', () => {
  test('hive folders pheno=/chr=, one IPC file each; polars reads the folder as one table equal to the TSV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-gwas-ds-'));
    for (const ext of ['bed', 'bim', 'fam']) copyFileSync(`${SIM}sim.${ext}`, join(dir, `sim.${ext}`));
    copyFileSync(`${SIM}sim.pheno.txt`, join(dir, 'sim.pheno.txt'));
    const out = join(dir, 'res');
    const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', join(dir, 'sim'), '--pheno', join(dir, 'sim.pheno.txt'), '--pheno-col', '1,2', '--test', 'all', '--out', `${out}/`, '--tsv', join(dir, 'o.assoc.txt'), '--plot', join(dir, 'pl'), '--plot-format', 'pdf']);
    expect(r.code).toBe(0);
    const chrs = [...new Set(readFileSync(`${SIM}sim.bim`, 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[0]!))];
    expect(readdirSync(out).sort()).toEqual(['pheno=p1', 'pheno=p2']);
    for (const p of ['p1', 'p2']) expect(readdirSync(join(out, `pheno=${p}`)).sort()).toEqual(chrs.map((c) => `chr=${c}`).sort());
    expect(readdirSync(join(out, 'pheno=p1', `chr=${chrs[0]}`))).toEqual(['part-0.arrow']);
    // The null models: schema metadata of every file and the sidecar next to the folder.
    expect(existsSync(`${out}.json`)).toBe(true);
    const t = await readArrowTable(join(out, 'pheno=p2', `chr=${chrs[0]}`, 'part-0.arrow'));
    expect(Object.keys(JSON.parse(t.metadata['gpulmm.null_model']!))).toEqual(['p1', 'p2']);
    expect(t.columns.map((c) => c.name)).not.toContain('chr');
    await t.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    // --plot-format pdf: a Manhattan and a QQ per phenotype and test.
    const pdfs = readdirSync(dir).filter((f) => f.endsWith('.pdf')).sort();
    expect(pdfs.length).toBe(2 * 3 * 2);
    expect(pdfs).toContain('pl.p2.lrt.qq.pdf');
    expect(readFileSync(join(dir, 'pl.p1.wald.manhattan.pdf')).subarray(0, 5).toString()).toBe('%PDF-');

    if (!polars) return;
    const pl = polars;
    const df = pl.scanIPC(out, {}).collectSync();
    expect(df.height).toBe(2 * 1934);
    const cols = ['chr', 'rs', 'ps', 'n_miss', 'allele1', 'allele0', 'af', 'beta', 'se', 'logl_H1', 'l_remle', 'l_mle', 'p_wald', 'p_lrt', 'p_score'];
    for (const p of ['p1', 'p2']) {
      const tsv = readFileSync(join(dir, `o.${p}.assoc.txt`), 'utf8').trimEnd().split('\n');
      expect(tsv[0]!.split('\t')).toEqual(cols);
      // polars infers chr as an integer here (every chromosome is a number): compare as text.
      const sub = df.filter(pl.col('pheno').eq(pl.lit(p))).sort(['chr', 'ps']);
      const records = sub.toRecords() as Record<string, string | number>[];
      const lines = records.map((rec) =>
        cols.map((c) => (c === 'af' ? formatFixed(rec[c] as number, 3) : typeof rec[c] === 'number' && !['chr', 'ps', 'n_miss'].includes(c) ? formatSci(rec[c] as number, 6) : String(rec[c]))).join('\t'),
      );
      const want = tsv.slice(1).map((l) => l.split('\t')).sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[2]) - Number(b[2])).map((f) => f.join('\t'));
      expect(lines).toEqual(want);
      expect(new Set(records.map((x) => x.n))).toEqual(new Set([records[0]!.n]));
      expect(records.every((x) => x.status === 'ok')).toBe(true);
    }
  }, 60_000);

  test('--out DIR/ that holds other files: usage error before the scan, the directory untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-gwas-ds-'));
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine', 'notes.txt'), 'keep me');
    const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', `${SIM}sim`, '--out', `${join(dir, 'mine')}/`]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/--out .*mine\/: exists and is not an earlier gpulmm dataset \(it holds other files\)/);
    expect(r.stderr).not.toMatch(/analysed/);
    expect(readdirSync(join(dir, 'mine'))).toEqual(['notes.txt']);
  });
});
