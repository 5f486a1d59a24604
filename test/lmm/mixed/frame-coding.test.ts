/**
 * Factor coding of the model frame and grouping factors (model-frame.ts, design.ts) against direct
 * reference codings written in the test: R's level order (C-locale strings, or numeric order when every
 * level is a number), `a:b:c` levels in lexicographic order of the component level indices, trimming and
 * missing values of table input, and the same coding from a table and from named columns.
 */
import { describe, expect, it } from 'vitest';
import { parseFormula } from '../../../src/lmm/mixed/formula.js';
import { buildModelFrame, type DataInput, type FrameColumn } from '../../../src/lmm/mixed/model-frame.js';
import { buildReTerms } from '../../../src/lmm/mixed/design.js';
import { rng } from '../../helpers/random.js';

type Factor = Extract<FrameColumn, { kind: 'factor' }>;

/** A table as readTable returns it (strings, header, line numbers). */
function table(columns: Record<string, string[]>): DataInput {
  const header = Object.keys(columns);
  const n = columns[header[0]!]!.length;
  const rows = Array.from({ length: n }, (_, i) => header.map((h) => columns[h]![i]!));
  return { header, rows, lineNos: rows.map((_, i) => i + 2), path: 't.csv' };
}

/** Reference coding: distinct values sorted as R sorts factor levels, each row's index in that list. */
function referenceFactor(values: string[]): { levels: string[]; codes: number[] } {
  const u = [...new Set(values)];
  const numeric = u.every((s) => s.trim() !== '' && Number.isFinite(Number(s)));
  const levels = numeric ? u.sort((a, b) => Number(a) - Number(b)) : u.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { levels, codes: values.map((v) => levels.indexOf(v)) };
}

function groupColumn(data: DataInput, g: string): Factor {
  const frame = buildModelFrame(data, parseFormula(`y ~ 1 + (1 | ${g})`));
  return frame.columns.get(`group:${g}`) as Factor;
}

describe('factor coding', () => {
  it('ids, strings with leading zeros and mixed values keep R level order, from a table and from columns', () => {
    const u = rng(5);
    const pool = ['10', '9', '1', '01', '007', '7', 'b', 'a', 'B', '2.5', '-3'];
    // integer ids first (the table-indexed path), then ids with leading zeros (where the Map path takes over)
    // among the same values, then anything
    const zeros = ['01', '1', '007', '7', '10'];
    const g = Array.from({ length: 300 }, (_, i) =>
      i < 100 ? String(Math.floor(u() * 40)) : i < 150 ? zeros[Math.floor(u() * zeros.length)]! : pool[Math.floor(u() * pool.length)]!,
    );
    const y = g.map(() => String(u()));
    const ref = referenceFactor(g);
    for (const data of [table({ y, g }), { y: y.map(Number), g }]) {
      const col = groupColumn(data, 'g');
      expect(col.levels).toEqual(ref.levels);
      expect(Array.from(col.codes)).toEqual(ref.codes);
    }
  });
  it('numeric ids sort numerically, and a numeric column coded as factor(x) agrees with the grouping factor', () => {
    const g = ['2', '10', '1', '10', '30', '2', '1'];
    const y = g.map((_, i) => String(i * 0.7));
    const col = groupColumn(table({ y, g }), 'g');
    expect(col.levels).toEqual(['1', '2', '10', '30']);
    expect(Array.from(col.codes)).toEqual([1, 2, 0, 2, 3, 1, 0]);
    const frame = buildModelFrame(table({ y, g }), parseFormula('y ~ factor(g) + (1 | g)'));
    const fx = frame.columns.get('factor(g)') as Factor;
    expect(fx.levels).toEqual(col.levels);
    expect(Array.from(fx.codes)).toEqual(Array.from(col.codes));
  });
  it('table cells are trimmed; "", "NA" and blank cells are missing and drop their rows', () => {
    const g = [' a', 'b ', 'a', 'NA', ' ', 'c', 'b'];
    const x = ['1', '2', '', '4', '5', ' 6 ', 'NA'];
    const y = ['1', '2', '3', '4', '5', '6', '7'];
    const frame = buildModelFrame(table({ y, x, g }), parseFormula('y ~ x + (1 | g)'));
    expect(frame.n).toBe(3);
    expect(Array.from(frame.rowIndex)).toEqual([0, 1, 5]);
    expect(frame.messages[0]).toMatch(/dropped 4 rows with missing values/);
    const col = frame.columns.get('group:g') as Factor;
    expect(col.levels).toEqual(['a', 'b', 'c']);
    expect(Array.from((frame.columns.get('x') as Extract<FrameColumn, { kind: 'numeric' }>).values)).toEqual([1, 2, 6]);
  });
});

describe('interaction grouping factors', () => {
  /** Reference a:b:c coding: present combinations sorted by their component level indices. */
  function referenceInteraction(parts: Factor[], n: number): { levels: string[]; codes: number[] } {
    const keys = Array.from({ length: n }, (_, i) => parts.map((p) => p.codes[i]!));
    const distinct = [...new Map(keys.map((k) => [k.join(','), k])).values()].sort((a, b) => {
      for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return a[j]! - b[j]!;
      return 0;
    });
    const index = distinct.map((k) => k.join(','));
    return {
      levels: distinct.map((k) => k.map((c, j) => parts[j]!.levels[c]).join(':')),
      codes: keys.map((k) => index.indexOf(k.join(','))),
    };
  }

  it.each([
    ['few levels (table path)', 6, 400],
    ['many levels (Map path)', 300, 400],
  ])('a:b:c with %s', (_, levels, n) => {
    const u = rng(levels);
    const pick = (prefix: string) => Array.from({ length: n }, () => `${prefix}${Math.floor(u() * levels)}`);
    const data = table({ y: Array.from({ length: n }, () => String(u())), a: pick('a'), b: pick(''), c: pick('c') });
    const frame = buildModelFrame(data, parseFormula('y ~ 1 + (1 | a:b:c)'));
    const [term] = buildReTerms(parseFormula('y ~ 1 + (1 | a:b:c)').random, frame, false);
    const parts = ['a', 'b', 'c'].map((g) => frame.columns.get(`group:${g}`) as Factor);
    const ref = referenceInteraction(parts, frame.n);
    expect(term!.group).toBe('a:b:c');
    expect(term!.levels).toEqual(ref.levels);
    expect(Array.from(term!.codes)).toEqual(ref.codes);
  });
});
