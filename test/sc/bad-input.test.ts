import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CountsInputError, readMtx, type SparseCounts } from '../../src/io/mtx.js';
import { CellJoinError, joinCells } from '../../src/sc/cell-table.js';
import { buildDesign, DesignError, type CellTable } from '../../src/sc/design.js';
import { runScde, type ScdeBlock, type ScdeOptions } from '../../src/sc/scde.js';

/** A tiny dense-to-CSC helper: counts[g][c]. */
function sparse(counts: number[][]): SparseCounts {
  const nGenes = counts.length;
  const nCells = counts[0]!.length;
  const colPtr = new Float64Array(nCells + 1);
  const rows: number[] = [];
  const vals: number[] = [];
  let integer = true;
  for (let c = 0; c < nCells; c++) {
    for (let g = 0; g < nGenes; g++) {
      const v = counts[g]![c]!;
      if (v !== 0) {
        rows.push(g);
        vals.push(v);
        if (!Number.isInteger(v)) integer = false;
      }
    }
    colPtr[c + 1] = rows.length;
  }
  return { nGenes, nCells, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(vals), integer };
}

function table(cols: Record<string, string[]>): CellTable {
  const n = Object.values(cols)[0]!.length;
  return { columns: new Map(Object.entries(cols)), nCells: n, source: 'cells.csv' };
}

/** 4 donors x 6 cells, donor-level condition (d1, d2: A; d3, d4: B), 3 genes (gene 2 all zero). */
function smallInput(values = (g: number, c: number) => (g === 2 ? 0 : 1 + ((g * 7 + c * 3) % 5))) {
  const nc = 24;
  const donor = Array.from({ length: nc }, (_, c) => `d${1 + Math.floor(c / 6)}`);
  const cond = donor.map((d) => (d === 'd1' || d === 'd2' ? 'A' : 'B'));
  const counts = sparse([0, 1, 2].map((g) => Array.from({ length: nc }, (_, c) => values(g, c))));
  const t = table({ barcode: donor.map((_, c) => `c${c}`), donor, cond, three: cond.map((v, c) => (c % 6 === 0 ? 'C' : v)) });
  return { counts, genes: ['g0', 'g1', 'g2'], cells: { table: t, present: Int32Array.from({ length: nc }, (_, i) => i), missing: 0, missingExamples: [] } };
}

const run = (input: ReturnType<typeof smallInput>, opts: Partial<ScdeOptions>): ScdeBlock[] => [
  ...runScde(input, { donor: 'donor', condition: 'cond', ...opts }),
];

describe('scde bad input: clear errors or per-gene status, never a crash or a silent NaN', () => {
  it('barcodes missing from the metadata: error naming how many, or dropped on request', () => {
    const parsed = { header: ['barcode', 'donor'], rows: [['b1', 'x'], ['b3', 'y']], lineNos: [2, 3] };
    expect(() => joinCells(['b1', 'b2', 'b3', 'b4'], parsed, 'cells.csv')).toThrow(CellJoinError);
    expect(() => joinCells(['b1', 'b2', 'b3', 'b4'], parsed, 'cells.csv')).toThrow(/2 of 4 barcodes .* not in cells.csv \(e.g. b2, b4\)/);
    const j = joinCells(['b1', 'b2', 'b3', 'b4'], parsed, 'cells.csv', { onMissing: 'drop' });
    expect(j.missing).toBe(2);
    expect([...j.present]).toEqual([0, 2]);
    expect(j.table.columns.get('donor')).toEqual(['x', '', 'y', '']);
  });

  it('duplicate barcodes in the metadata name both lines', () => {
    const parsed = { header: ['barcode'], rows: [['b1'], ['b1']], lineNos: [2, 5] };
    expect(() => joinCells(['b1'], parsed, 'cells.csv')).toThrow(/cells.csv:5: barcode "b1" already on line 2/);
  });

  it('a condition with three levels needs --contrast', () => {
    const input = smallInput();
    expect(() => run(input, { condition: 'three' })).toThrow(DesignError);
    expect(() => run(input, { condition: 'three' })).toThrow(/3 level\(s\) \(A, B, C\); give --contrast/);
    expect(() => run(input, { condition: 'three', contrast: 'B:D' })).toThrow(/level "D" not found/);
    // With a contrast the C cells leave the analysis; C cells are in every donor, so this is still between-donor.
    const [block] = run(input, { condition: 'three', contrast: 'B:A' });
    expect(block!.nCells[0]).toBe(20);
  });

  it('a donor-level condition where some donor has both levels is an error; so is paired with a one-level donor', () => {
    const input = smallInput();
    const cond = input.cells.table.columns.get('cond')!.slice();
    cond[0] = 'B'; // d1 now has A and B, the other donors one level each
    const t = table({ ...Object.fromEntries(input.cells.table.columns), cond });
    const bad = { ...input, cells: { ...input.cells, table: t } };
    expect(() => run(bad, {})).toThrow(/not donor-level: donor\(s\) d1 have cells in both A and B/);
    expect(() => run(bad, { design: 'paired' })).toThrow(/--design paired: donor\(s\) d2, d3, d4 have cells in only one/);
    expect(() => run(input, { design: 'paired' })).toThrow(/--design paired: the data are between-donor/);
  });

  it('non-integer counts are refused by the count models (pseudobulk, nbglmm) but fine for lmm', () => {
    const input = smallInput((g, c) => (g === 2 ? 0 : 0.5 + ((g + c) % 3)));
    expect(() => run(input, { method: 'pseudobulk' })).toThrow(/pseudobulk needs integer counts/);
    expect(() => run(input, { method: 'nbglmm' })).toThrow(/nbglmm needs integer counts/);
    expect(run(input, { method: 'lmm' })[0]!.status.slice(0, 2).every((s) => s === 'ok' || s === 'singular')).toBe(true);
  });

  it('all-zero genes get status all_zero and NA statistics', () => {
    for (const method of ['lmm', 'pseudobulk', 'nbglmm', 'welch'] as const) {
      const [block] = run(smallInput(), { method });
      expect(block!.status[2], method).toBe('all_zero');
      expect(Number.isNaN(block!.p[2]!)).toBe(true);
      expect(Number.isFinite(block!.p[1]!), method).toBe(true);
    }
  });

  it('a single donor per condition: every gene gets status too_few_donors', () => {
    const input = smallInput();
    const cells = { ...input.cells, present: Int32Array.from({ length: 12 }, (_, i) => i + 6) }; // d2 (A) and d3 (B)
    const [block] = run({ ...input, cells }, {});
    expect(block!.nDonors[0]).toBe(2);
    expect(new Set(block!.status)).toEqual(new Set(['too_few_donors']));
  });

  it('fewer cells than fixed effects + 2: every gene gets status too_few_cells', () => {
    const input = smallInput();
    const num = Array.from({ length: 24 }, (_, c) => String(c % 5));
    const t = table({ ...Object.fromEntries(input.cells.table.columns), num });
    // One cell per donor and a numeric covariate: 4 cells for 3 fixed effects.
    const cells = { ...input.cells, table: t, present: Int32Array.from([0, 6, 12, 18]) };
    for (const method of ['lmm', 'pseudobulk', 'nbglmm', 'welch'] as const) {
      const [block] = run({ ...input, cells }, { method, covariates: ['num'] });
      expect(new Set(block!.status), method).toEqual(new Set(['too_few_cells']));
    }
  });

  it('a cell type lacking one condition is skipped with a status when other cell types run', () => {
    const input = smallInput();
    const ct = input.cells.table.columns.get('donor')!.map((d) => (d === 'd4' ? 'onlyB' : 'T'));
    const t = table({ ...Object.fromEntries(input.cells.table.columns), ct });
    const blocks = run({ ...input, cells: { ...input.cells, table: t } }, { celltype: 'ct' });
    expect(blocks.map((b) => b.celltype)).toEqual(['T', 'onlyB']);
    expect(new Set(blocks[1]!.status)).toEqual(new Set(['design_unusable']));
    expect(() => run({ ...input, cells: { ...input.cells, table: t } }, { celltype: 'ct', celltypeValue: 'X' })).toThrow(/"X" not found/);
  });

  it('missing metadata values drop the cell, reported in the design', () => {
    const input = smallInput();
    const donor = input.cells.table.columns.get('donor')!.slice();
    donor[0] = 'NA';
    const d = buildDesign(table({ ...Object.fromEntries(input.cells.table.columns), donor }), input.cells.present, { donor: 'donor', condition: 'cond' });
    expect(d.droppedMissing).toBe(1);
    expect(d.cells.length).toBe(23);
  });

  it('malformed Matrix Market files name the file and line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-mtx-'));
    const file = path.join(dir, 'matrix.mtx');
    writeFileSync(file, '%%MatrixMarket matrix coordinate integer general\n%c\n2 2 2\n1 1 3\n3 1 1\n');
    await expect(readMtx(file)).rejects.toThrow(CountsInputError);
    await expect(readMtx(file)).rejects.toThrow(/matrix.mtx:5: index \(3, 1\) outside 2 x 2/);
    writeFileSync(file, '%%MatrixMarket matrix coordinate integer general\n2 2 3\n1 1 3\n2 2 1\n');
    await expect(readMtx(file)).rejects.toThrow(/promises 3 entries, file has 2/);
    writeFileSync(file, '%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n');
    await expect(readMtx(file)).rejects.toThrow(/format "array" not supported/);
    writeFileSync(file, '%%MatrixMarket matrix coordinate real general\n2 3 3\n2 1 1.5\n1 1 2\n1 3 4e0\n');
    const m = await readMtx(file);
    expect([...m.colPtr]).toEqual([0, 2, 2, 3]);
    expect([...m.rowIdx]).toEqual([0, 1, 0]);
    expect([...m.values]).toEqual([2, 1.5, 4]);
    expect(m.integer).toBe(false);
  });
});
