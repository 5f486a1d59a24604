import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { numericColumn, readTable, stringColumn } from '../../src/io/csv.js';
import { readLines } from '../../src/io/lines.js';

const dir = mkdtempSync(join(tmpdir(), 'gpulmm-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
async function collect(path: string) {
  const out: { line: string; lineNo: number }[] = [];
  for await (const l of readLines(path)) out.push(l);
  return out;
}

describe('readLines', () => {
  it('plain text: CRLF, BOM, no final newline', async () => {
    const got = await collect(file('a.txt', '\uFEFFx,y\r\n1,2\r\n\r\nlast'));
    expect(got).toEqual([
      { line: 'x,y', lineNo: 1 },
      { line: '1,2', lineNo: 2 },
      { line: '', lineNo: 3 },
      { line: 'last', lineNo: 4 },
    ]);
  });
  it('gzip detected by magic bytes whatever the name; concatenated members read through', async () => {
    const gz = Buffer.concat([gzipSync('a\nb\n'), gzipSync('c\n')]);
    expect((await collect(file('looks-plain.txt', gz))).map((l) => l.line)).toEqual(['a', 'b', 'c']);
  });
  it('large multi-chunk file keeps every line and its number, incl. multi-byte characters across chunks', async () => {
    const n = 300_000;
    const text = Array.from({ length: n }, (_, i) => `${i}\tµ${'x'.repeat(i % 7)}`).join('\n') + '\n';
    for (const p of [file('big.tsv', text), file('big.tsv.gz', gzipSync(text))]) {
      let count = 0;
      for await (const { line, lineNo } of readLines(p)) {
        if (line !== `${lineNo - 1}\tµ${'x'.repeat((lineNo - 1) % 7)}`) throw new Error(`line ${lineNo}: ${line}`);
        count++;
      }
      expect(count).toBe(n);
    }
  });
  it('missing file and corrupt gzip are InputErrors naming the file', async () => {
    await expect(collect(join(dir, 'nope.txt'))).rejects.toThrow(/nope\.txt: cannot open: no such file \(ENOENT\)/);
    const bad = Buffer.concat([gzipSync('a\n'.repeat(1000)).subarray(0, 30), Buffer.from('garbage')]);
    await expect(collect(file('bad.gz', bad))).rejects.toBeInstanceOf(InputError);
  });
});

describe('readTable', () => {
  it('auto-detects comma, tab and whitespace', async () => {
    expect((await readTable(file('c.csv', 'a,b\n1,2\n'))).rows).toEqual([['1', '2']]);
    expect((await readTable(file('t.tsv', 'a\tb c\n1\t2 3\n'))).header).toEqual(['a', 'b c']);
    const w = await readTable(file('w.txt', '  a   b\n\n 1 \t 2  \n'));
    expect(w.header).toEqual(['a', 'b']);
    expect(w.rows).toEqual([['1', '2']]);
    expect(w.lineNos).toEqual([3]);
  });
  it('RFC 4180 quotes: separators, doubled quotes and line breaks inside quotes', async () => {
    const t = await readTable(file('q.csv', 'id,note,x\n1,"a, b",2\n2,"say ""hi""",3\n3,"two\nlines",4\n4,,5\n5,"",\n'));
    expect(t.rows).toEqual([
      ['1', 'a, b', '2'],
      ['2', 'say "hi"', '3'],
      ['3', 'two\nlines', '4'],
      ['4', '', '5'],
      ['5', '', ''],
    ]);
    expect(t.lineNos).toEqual([2, 3, 4, 6, 7]);
  });
  it('headerless tables get V1.. names; comments are skipped', async () => {
    const t = await readTable(file('h.txt', '# comment\n1 2\n3 4\n'), { header: false, comment: '#' });
    expect(t.header).toEqual(['V1', 'V2']);
    expect(t.rows.length).toBe(2);
  });
  it('ragged rows, stray quotes and unclosed quotes name file:line', async () => {
    await expect(readTable(file('r.csv', 'a,b\n1,2\n3\n'))).rejects.toThrow(/r\.csv:3: expected 2 fields as on the header on line 1, found 1/);
    await expect(readTable(file('s.csv', 'a,b\n"1"x,2\n'))).rejects.toThrow(/s\.csv:2:1: expected/);
    await expect(readTable(file('u.csv', 'a,b\n"1,2\n'))).rejects.toThrow(/u\.csv:2: quoted field is not closed/);
    await expect(readTable(file('e.csv', '\n\n'))).rejects.toThrow(/empty table/);
  });
});

describe('column accessors', () => {
  it('numericColumn parses numbers, NA and Inf; errors name line and column', async () => {
    const t = await readTable(file('n.csv', 'id,y\na,1.5\nb,NA\nc,-2e-3\nd,Inf\ne,\n'));
    const y = numericColumn(t, 'y');
    expect(Array.from(y)).toEqual([1.5, NaN, -0.002, Infinity, NaN]);
    expect(() => numericColumn(t, 'y', { allowMissing: false })).toThrow(/n\.csv:3:2: missing value/);
    expect(() => numericColumn(t, 'id')).toThrow('n.csv:2:1: expected a number in column "id", got "a"');
    expect(() => numericColumn(t, 'z')).toThrow(/n\.csv:1: no column "z"; columns are: id, y/);
    expect(stringColumn(t, 'id')).toEqual(['a', 'b', 'c', 'd', 'e']);
    const bad = await readTable(file('hex.csv', 'y\n0x10\n'));
    expect(() => numericColumn(bad, 'y')).toThrow(/got "0x10"/);
  });
  it('InputError fields and message format', () => {
    const e = new InputError('file.csv', 12, 3, 'expected a number, got "abc"');
    expect(e.message).toBe('file.csv:12:3: expected a number, got "abc"');
    expect([e.file, e.line, e.column, e.detail]).toEqual(['file.csv', 12, 3, 'expected a number, got "abc"']);
    expect(new InputError('f', undefined, 2, 'm').message).toBe('f: m');
  });
});
