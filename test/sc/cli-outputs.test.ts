/** `gpulmm scde --out DIR/ --plot-format svg`: the celltype-partitioned Arrow dataset and vector volcano plots. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerScde } from '../../src/cli/scde.js';
import { SCDE_COLUMNS } from '../../src/sc/scde.js';
import { runCommand } from '../helpers/cli.js';
import { polars } from '../helpers/polars.js';
import { FIXTURE_DIR } from './fixture.js';

describe('gpulmm scde outputs', () => {
  it('--out DIR/ writes celltype=T/part-0.arrow per cell type, equal to the TSV; --plot-format svg writes SVG volcanoes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-scde-ds-'));
    const out = path.join(dir, 'res');
    const r = await runCommand(registerScde, 'scde', [
      '--counts', FIXTURE_DIR, '--cells', path.join(FIXTURE_DIR, 'cells.csv'), '--donor', 'donor', '--condition', 'group',
      '--covariates', 'score', '--celltype', 'batch', '--tsv', path.join(dir, 'res.tsv'), '--out', `${out}/`, '--plot', path.join(dir, 'v'), '--plot-format', 'svg',
    ]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['res', 'res.tsv', 'v.b1.volcano.svg', 'v.b2.volcano.svg', 'v.b3.volcano.svg']);
    expect(readdirSync(out).sort()).toEqual(['celltype=b1', 'celltype=b2', 'celltype=b3']);
    expect(readFileSync(path.join(dir, 'v.b2.volcano.svg'), 'utf8')).toMatch(/^<\?xml[^>]*>\s*<svg[^>]*>[\s\S]*<image[\s\S]*<\/svg>\s*$/);
    if (!polars) return;
    const pl = polars;
    const df = pl.scanIPC(out).collectSync();
    expect(df.height).toBe(120);
    expect([...df.columns].sort()).toEqual([...SCDE_COLUMNS].sort());
    const tsv = readFileSync(path.join(dir, 'res.tsv'), 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split('\t'));
    const key = (gene: unknown, ct: unknown) => `${String(ct)}/${String(gene)}`;
    const byKey = new Map(tsv.map((f) => [key(f[0], f[1]), f]));
    for (const rec of df.toRecords() as Record<string, unknown>[]) {
      const f = byKey.get(key(rec.gene, rec.celltype))!;
      expect(f).toBeDefined();
      const p = rec.p as number;
      expect(f[9] === 'NA' ? Number.NaN : Number(f[9])).toEqual(p);
      expect(Number(f[2])).toBe(rec.n_cells);
      expect(f[SCDE_COLUMNS.indexOf('status')]).toBe(rec.status);
    }
  });
});
