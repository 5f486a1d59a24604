import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerScde } from '../../src/cli/scde.js';
import { SCDE_COLUMNS } from '../../src/sc/scde.js';
import { benjaminiHochberg } from '../../src/stats/multiple-testing.js';
import { FIXTURE_DIR } from './fixture.js';

async function cli(args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerScde(program);
  await program.parseAsync(['node', 'gpulmm', 'scde', ...args]);
}

const METHOD = SCDE_COLUMNS.indexOf('method');
const STATUS = SCDE_COLUMNS.indexOf('status');

describe('gpulmm scde end to end on data/sc/fixture', () => {
  it('writes matching TSV and Arrow tables, one analysis per cell type, BH within cell type', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-scde-'));
    const tsv = path.join(dir, 'res.tsv');
    const arrows = path.join(dir, 'res.arrows');
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await cli([
        '--counts', FIXTURE_DIR, '--cells', path.join(FIXTURE_DIR, 'cells.csv'), '--donor', 'donor', '--condition', 'group',
        '--covariates', 'score', '--celltype', 'batch', '--tsv', tsv, '--out', arrows, '--plot', path.join(dir, 'v'),
      ]);
    } finally {
      process.stderr.write = stderr;
    }
    expect(process.exitCode ?? 0).toBe(0);
    const lines = readFileSync(tsv, 'utf8').trimEnd().split('\n');
    expect(lines[0]!.split('\t')).toEqual([...SCDE_COLUMNS]);
    expect(lines.length).toBe(1 + 3 * 40);
    const table = tableFromIPC(readFileSync(arrows));
    expect(table.numRows).toBe(120);
    expect(table.schema.fields.map((f) => f.name)).toEqual([...SCDE_COLUMNS]);
    const rows = lines.slice(1).map((l) => l.split('\t'));
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(['b1', 'b2', 'b3']));
    rows.forEach((r, i) => {
      expect(r[0]).toBe(table.getChild('gene')!.get(i));
      const p = table.getChild('p')!.get(i) as number;
      expect(r[9] === 'NA' ? Number.NaN : Number(r[9])).toEqual(p);
      expect(r[METHOD]).toBe('lmm');
      if (r[STATUS] === 'ok' || r[STATUS] === 'singular') expect(Number.isFinite(p)).toBe(true);
      else expect(r[9]).toBe('NA');
    });
    for (const ct of ['b1', 'b2', 'b3']) {
      const sub = rows.filter((r) => r[1] === ct);
      const num = (v: string) => (v === 'NA' ? Number.NaN : Number(v));
      const q = benjaminiHochberg(Float64Array.from(sub, (r) => num(r[9]!)));
      sub.forEach((r, i) => expect(num(r[10]!)).toEqual(q[i]));
    }
    expect(rows.filter((r) => r[0] === 'G00').map((r) => r[STATUS])).toEqual(['all_zero', 'all_zero', 'all_zero']);
    // No temporary files left behind; one volcano plot per cell type.
    expect(readdirSync(dir).sort()).toEqual(['res.arrows', 'res.tsv', 'v.b1.volcano.png', 'v.b2.volcano.png', 'v.b3.volcano.png']);
    expect(readFileSync(path.join(dir, 'v.b1.volcano.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});
