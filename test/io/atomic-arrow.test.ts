import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordBatchReader } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ArrowStreamWriter } from '../../src/io/arrow-stream.js';
import { openAtomic } from '../../src/io/atomic-file.js';

const dir = mkdtempSync(join(tmpdir(), 'gpulmm-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openAtomic', () => {
  it('nothing appears under the final name until commit; content is exact across the 1 MiB buffer', async () => {
    const path = join(dir, 'out.txt');
    const f = await openAtomic(path);
    const parts: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const s = `row ${i}\t${'z'.repeat(i % 40)}\n`;
      parts.push(s);
      await f.write(i % 2 ? s : Buffer.from(s));
    }
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).some((n) => n.startsWith('.out.txt.') && n.endsWith('.tmp'))).toBe(true);
    await f.commit();
    expect(readFileSync(path, 'utf8')).toBe(parts.join(''));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await expect(f.write('more')).rejects.toThrow(/already committed/);
  });
  it('abort removes the temporary and leaves an existing destination untouched', async () => {
    const path = join(dir, 'keep.txt');
    const first = await openAtomic(path);
    await first.write('old');
    await first.commit();
    const f = await openAtomic(path);
    await f.write('new partial');
    await f.flush();
    await f.abort();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
  it('creates missing parent directories', async () => {
    const f = await openAtomic(join(dir, 'new', 'sub', 'x.txt'));
    await f.write('ok');
    await f.commit();
    expect(readFileSync(join(dir, 'new', 'sub', 'x.txt'), 'utf8')).toBe('ok');
  });
  it('a destination that cannot be created is a clear error', async () => {
    writeFileSync(join(dir, 'a-file'), '');
    await expect(openAtomic(join(dir, 'a-file', 'x.txt'))).rejects.toThrow(/x\.txt: cannot create: .*(ENOTDIR|EEXIST)/);
  });
});

const columns = [
  { name: 'rs', type: 'utf8' as const },
  { name: 'pos', type: 'i32' as const },
  { name: 'beta', type: 'f64' as const },
  { name: 'ok', type: 'bool' as const },
];
function batch(start: number, n: number) {
  return {
    rs: Array.from({ length: n }, (_, i) => `rs${start + i}`),
    pos: Int32Array.from({ length: n }, (_, i) => 1000 + start + i),
    beta: Float64Array.from({ length: n }, (_, i) => (i === 1 ? NaN : (start + i) / 7)),
    ok: Array.from({ length: n }, (_, i) => (start + i) % 3 !== 0),
  };
}

describe('ArrowStreamWriter', () => {
  it('writes several batches readable by apache-arrow, with schema metadata, and flushes each batch', async () => {
    const path = join(dir, 'res.arrow');
    const w = await ArrowStreamWriter.open(path, { columns, metadata: { tool: 'gpulmm', model: 'lmm' } });
    const sizes = [5, 0, 1000, 37];
    let start = 0;
    let tempPath = '';
    for (const [k, n] of sizes.entries()) {
      await w.write(batch(start, n));
      start += n;
      if (k === 2) {
        // Mid-run: the temporary already holds the flushed batches.
        tempPath = join(dir, readdirSync(dir).find((f) => f.startsWith('.res.arrow.'))!);
        const partial = RecordBatchReader.from(readFileSync(tempPath));
        let rows = 0;
        for (const b of partial) rows += b.numRows;
        expect(rows).toBe(1005);
        expect(existsSync(path)).toBe(false);
      }
    }
    await w.close();
    expect(existsSync(tempPath)).toBe(false);
    const reader = RecordBatchReader.from(readFileSync(path)).open();
    const schema = reader.schema;
    const got = [...reader];
    expect(schema.metadata.get('tool')).toBe('gpulmm');
    expect(schema.metadata.get('model')).toBe('lmm');
    expect(schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['rs:Utf8', 'pos:Int32', 'beta:Float64', 'ok:Bool']);
    expect(got.map((b) => b.numRows)).toEqual(sizes);
    const last = got[3]!;
    const want = batch(1005, 37);
    expect(last.getChild('rs')!.toArray()).toEqual(want.rs);
    expect(Array.from(last.getChild('pos')!.toArray() as Int32Array)).toEqual(Array.from(want.pos));
    expect(Array.from(last.getChild('beta')!.toArray() as Float64Array)).toEqual(Array.from(want.beta));
    expect(Array.from(last.getChild('ok')!, Boolean)).toEqual(want.ok);
  });
  it('utf8 nulls and non-ASCII strings, bool bits across byte boundaries', async () => {
    const path = join(dir, 'strings.arrow');
    const w = await ArrowStreamWriter.open(path, { columns: [{ name: 's', type: 'utf8' }, { name: 'b', type: 'bool' }] });
    const s = ['a', null, 'µé→𝛽', '', 'plain', null, 'x'.repeat(100), 'ü', 'z'];
    const b = s.map((_, i) => i % 3 === 1);
    await w.write({ s, b });
    await w.close();
    const [got] = [...RecordBatchReader.from(readFileSync(path))];
    expect(got!.getChild('s')!.toArray()).toEqual(s);
    expect(got!.getChild('s')!.nullCount).toBe(2);
    expect(Array.from(got!.getChild('b')!, Boolean)).toEqual(b);
  });
  it('abort leaves nothing behind', async () => {
    const sub = mkdtempSync(join(dir, 'abort-'));
    const w = await ArrowStreamWriter.open(join(sub, 'a.arrow'), { columns });
    await w.write(batch(0, 10));
    await w.abort();
    expect(readdirSync(sub)).toEqual([]);
  });
  it('rejects missing, extra, mistyped and ragged columns', async () => {
    const w = await ArrowStreamWriter.open(join(dir, 'bad.arrow'), { columns });
    const b = batch(0, 3);
    await expect(w.write({ ...b, extra: [] })).rejects.toThrow(/unknown column\(s\) extra/);
    await expect(w.write({ rs: b.rs, pos: b.pos, ok: b.ok })).rejects.toThrow(/missing column "beta"/);
    await expect(w.write({ ...b, pos: Float64Array.from(b.pos) })).rejects.toThrow(/"pos" \(i32\) got Float64Array/);
    await expect(w.write({ ...b, beta: new Float64Array(2) })).rejects.toThrow(/"beta" has 2 rows, "rs" has 3/);
    await w.abort();
    await expect(ArrowStreamWriter.open(join(dir, 'x.arrow'), { columns: [columns[0]!, columns[0]!] })).rejects.toThrow(/duplicate/);
  });
  const hasPyarrow = spawnSync('python3', ['-c', 'import pyarrow'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasPyarrow)('pyarrow reads the stream', async () => {
    const path = join(dir, 'py.arrow');
    const w = await ArrowStreamWriter.open(path, { columns, metadata: { k: 'v' } });
    await w.write(batch(0, 4));
    await w.write(batch(4, 6));
    await w.close();
    const py = spawnSync('python3', ['-c', `import pyarrow as pa; t = pa.ipc.open_stream(open(${JSON.stringify(path)}, 'rb')).read_all(); print(t.num_rows, t.schema.metadata[b'k'].decode())`], { encoding: 'utf8' });
    expect(py.stdout.trim()).toBe('10 v');
  });
});
