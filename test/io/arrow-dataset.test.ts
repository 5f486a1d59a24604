import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArrowTable, type ArrowBatch } from '../../src/io/arrow-batch.js';
import { ArrowDatasetWriter, encodePartitionValue, isArrowDataset } from '../../src/io/arrow-dataset.js';
import { arrowOutputKind, arrowSiblingPath, openArrowTable } from '../../src/io/arrow-output.js';
import { ArrowStreamWriter } from '../../src/io/arrow-stream.js';
import { UsageError } from '../../src/errors.js';
import { polars } from '../helpers/polars.js';

const dir = mkdtempSync(join(tmpdir(), 'gpulmm-ds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const columns = [
  { name: 'pheno', type: 'utf8' as const },
  { name: 'chr', type: 'utf8' as const },
  { name: 'rs', type: 'utf8' as const },
  { name: 'ps', type: 'i32' as const },
  { name: 'beta', type: 'f64' as const },
  { name: 'ok', type: 'bool' as const },
];

/** Rows start..start+n-1: chromosome changes every 7 rows, phenotype alternates every 3 rows (interleaved runs). */
interface Rows extends ArrowBatch {
  pheno: string[];
  chr: string[];
  rs: string[];
  ps: Int32Array;
  beta: Float64Array;
  ok: boolean[];
}
function rows(start: number, n: number): Rows {
  const idx = Array.from({ length: n }, (_, i) => start + i);
  return {
    pheno: idx.map((i) => (Math.floor(i / 3) % 2 ? 'height' : 'CD14+ Mono')),
    chr: idx.map((i) => ['1', '2', 'X'][Math.floor(i / 7) % 3]!),
    rs: idx.map((i) => `rs${i}`),
    ps: Int32Array.from(idx, (i) => 1000 + i),
    beta: Float64Array.from(idx, (i) => (i % 11 === 5 ? NaN : i / 7)),
    ok: idx.map((i) => i % 4 !== 0),
  };
}

/** Every row of every file, with the partition values decoded from the folder names (our own reader). */
async function readBack(root: string, files: string[]) {
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    const parts = Object.fromEntries(f.split('/').slice(0, -1).map((s) => s.split('=').map(decodeURIComponent) as [string, string]));
    const t = await readArrowTable(join(root, f));
    for await (const b of t.batches) {
      for (let i = 0; i < b.rs!.length; i++) out.push({ ...parts, rs: b.rs![i], ps: b.ps![i], beta: b.beta![i], ok: b.ok![i] });
    }
  }
  return out;
}

describe('ArrowDatasetWriter', () => {
  it('routes rows to hive partitions; each file is an IPC file; nothing at the path before close', async () => {
    const path = join(dir, 'ds');
    const w = await ArrowDatasetWriter.open(`${path}/`, { columns, partitionBy: ['pheno', 'chr'], metadata: { tool: 'gpulmm' }, maxOpenFiles: 2 });
    let start = 0;
    for (const n of [5, 0, 40, 1, 17]) {
      await w.write(rows(start, n));
      start += n;
    }
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).some((n) => n.startsWith('.ds.') && n.endsWith('.tmp'))).toBe(true);
    await w.close();
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(w.rowCount).toBe(63);
    const files = w.files.map((f) => f.path).sort();
    expect(files).toEqual(
      ['CD14%2B%20Mono', 'height'].flatMap((p) => ['1', '2', 'X'].map((c) => `pheno=${p}/chr=${c}/part-0.arrow`)).sort(),
    );
    // IPC *file* format: magic at both ends.
    for (const f of files) {
      const bytes = readFileSync(join(path, f));
      expect(bytes.subarray(0, 6).toString()).toBe('ARROW1');
      expect(bytes.subarray(bytes.length - 6).toString()).toBe('ARROW1');
    }
    const t = await readArrowTable(join(path, files[0]!));
    expect(t.columns.map((c) => c.name)).toEqual(['rs', 'ps', 'beta', 'ok']);
    expect(t.metadata.tool).toBe('gpulmm');
    await t.close();
    const got = await readBack(path, files);
    const want = rows(0, 63);
    const expected = want.rs.map((_, i) => ({ pheno: want.pheno[i], chr: want.chr[i], rs: want.rs[i], ps: want.ps[i], beta: want.beta[i], ok: want.ok[i] }));
    const key = (r: Record<string, unknown>) => Number(String(r.rs).slice(2));
    expect(got.sort((a, b) => key(a) - key(b))).toEqual(expected);
  });

  it.skipIf(!polars)('polars scan_ipc reads the directory as one table with the partition columns, values equal', async () => {
    const pl = polars!;
    const path = join(dir, 'ds-polars');
    const w = await ArrowDatasetWriter.open(path, { columns, partitionBy: ['pheno', 'chr'] });
    await w.write(rows(0, 50));
    await w.write(rows(50, 25));
    await w.close();
    const df = pl.scanIPC(path).collectSync().sort('ps');
    expect(df.height).toBe(75);
    expect(df.columns).toEqual(['rs', 'ps', 'beta', 'ok', 'pheno', 'chr']);
    const want = rows(0, 75);
    expect(df.getColumn('rs').toArray()).toEqual(want.rs);
    expect(df.getColumn('pheno').toArray()).toEqual(want.pheno);
    expect(df.getColumn('chr').toArray()).toEqual(want.chr);
    expect(Array.from(df.getColumn('ps').toArray() as number[])).toEqual(Array.from(want.ps as Int32Array));
    expect(Array.from(df.getColumn('beta').toArray() as number[])).toEqual(Array.from(want.beta as Float64Array));
    expect(df.getColumn('ok').toArray()).toEqual(want.ok);
    // Lazy: a filter on a partition column and a projection.
    const x = pl.scanIPC(path).filter(pl.col('chr').eq(pl.lit('X'))).select('rs').collectSync();
    expect(x.height).toBe(want.chr.filter((c) => c === 'X').length);
  });

  it('percent-encodes partition values; null and empty become the hive default partition', () => {
    expect(encodePartitionValue('CD14+ Mono')).toBe('CD14%2B%20Mono');
    expect(encodePartitionValue('a/b=c')).toBe('a%2Fb%3Dc');
    expect(encodePartitionValue('µ')).toBe('%C2%B5');
    expect(encodePartitionValue('chr1_alt-2.x')).toBe('chr1_alt-2.x');
    expect(encodePartitionValue(null)).toBe('__HIVE_DEFAULT_PARTITION__');
    expect(encodePartitionValue('')).toBe('__HIVE_DEFAULT_PARTITION__');
  });

  it('replaces an earlier dataset whole; refuses a directory holding other files and leaves it untouched', async () => {
    const path = join(dir, 'replace');
    for (const n of [30, 4]) {
      const w = await ArrowDatasetWriter.open(path, { columns, partitionBy: ['pheno', 'chr'] });
      await w.write(rows(0, n));
      await w.close();
    }
    expect((await readBack(path, ['pheno=CD14%2B%20Mono/chr=1/part-0.arrow', 'pheno=height/chr=1/part-0.arrow'])).length).toBe(4);
    expect(existsSync(join(path, 'pheno=height', 'chr=2'))).toBe(false);
    const foreign = join(dir, 'foreign');
    mkdirSync(join(foreign, 'sub'), { recursive: true });
    writeFileSync(join(foreign, 'sub', 'notes.txt'), 'mine');
    const err = await ArrowDatasetWriter.open(foreign, { columns, partitionBy: ['pheno', 'chr'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(String(err)).toMatch(/foreign already exists and is not an earlier output of this kind/);
    expect(readFileSync(join(foreign, 'sub', 'notes.txt'), 'utf8')).toBe('mine');
    writeFileSync(join(dir, 'plain-file'), 'x');
    await expect(ArrowDatasetWriter.open(join(dir, 'plain-file'), { columns, partitionBy: ['pheno'] })).rejects.toThrow(/not a directory/);
    expect(await isArrowDataset(path, ['pheno', 'chr'])).toBe(true);
    expect(await isArrowDataset(path, ['chr'])).toBe(false);
  });

  it('abort leaves nothing behind and an existing dataset untouched', async () => {
    const path = join(dir, 'kept');
    const first = await ArrowDatasetWriter.open(path, { columns, partitionBy: ['pheno', 'chr'] });
    await first.write(rows(0, 3));
    await first.close();
    const w = await ArrowDatasetWriter.open(path, { columns, partitionBy: ['pheno', 'chr'] });
    await w.write(rows(0, 60));
    await w.abort();
    expect(readdirSync(dir).filter((n) => n.startsWith('.kept'))).toEqual([]);
    expect(readdirSync(path)).toEqual(['pheno=CD14%2B%20Mono']);
    await expect(w.write(rows(0, 1))).rejects.toThrow(/already aborted/);
  });

  it('rejects bad layouts and bad batches before writing', async () => {
    const o = (x: object) => ArrowDatasetWriter.open(join(dir, 'bad'), { columns, partitionBy: ['pheno'], ...x });
    await expect(o({ partitionBy: [] })).rejects.toThrow(/at least one partition column/);
    await expect(o({ partitionBy: ['nope'] })).rejects.toThrow(/"nope" is not among the columns/);
    await expect(o({ partitionBy: ['ps'] })).rejects.toThrow(/must be utf8/);
    await expect(o({ fileName: '_x.arrow' })).rejects.toThrow(/fileName/);
    const w = await o({});
    const b = rows(0, 3);
    await expect(w.write({ ...b, extra: [] })).rejects.toThrow(/unknown column\(s\) extra/);
    await expect(w.write({ ...b, pheno: ['a'] })).rejects.toThrow(/partition columns have 1 rows, the others 3/);
    await expect(w.write({ ...b, beta: new Float64Array(2) })).rejects.toThrow(/"beta" has 2 rows/);
    expect(w.files).toEqual([]);
    await w.abort();
  });
});

describe('openArrowTable: layout from the name', () => {
  it('maps names to layouts and sidecars', () => {
    expect(arrowOutputKind('r/x.arrows')).toBe('stream');
    expect(arrowOutputKind('r/x.arrow')).toBe('file');
    expect(arrowOutputKind('r/x/')).toBe('dataset');
    expect(arrowOutputKind('r/x')).toBe('dataset');
    expect(arrowSiblingPath('r/x.arrows', '.json')).toBe('r/x.json');
    expect(arrowSiblingPath('r/x.arrow', '.json')).toBe('r/x.json');
    expect(arrowSiblingPath('r/x/', '.json')).toBe('r/x.json');
  });
  it('stream and file layouts keep the partition columns as columns; readArrowTable reads both back', async () => {
    for (const name of ['t.arrows', 't.arrow']) {
      const w = await openArrowTable(join(dir, name), { columns, partitionBy: ['pheno'], metadata: { k: 'v' } });
      await w.write(rows(0, 10));
      await w.write(rows(10, 5));
      await w.close();
      const t = await readArrowTable(join(dir, name));
      expect(t.columns).toEqual(columns);
      expect(t.metadata.k).toBe('v');
      const got: ArrowBatch[] = [];
      for await (const b of t.batches) got.push(b);
      expect(got.map((b) => b.rs!.length)).toEqual([10, 5]);
      expect(got[1]).toEqual(rows(10, 5));
    }
    await expect(readArrowTable(join(dir, 'plain-file'))).rejects.toThrow(/plain-file: not an Arrow IPC file or stream/);
  });
  it.skipIf(!polars)('polars reads the IPC file (scan_ipc) and the stream (read_ipc_stream)', async () => {
    const pl = polars!;
    const w = await ArrowStreamWriter.open(join(dir, 'one.arrow'), { columns, format: 'file' });
    await w.write(rows(0, 8));
    await w.write(rows(8, 8));
    await w.close();
    const df = pl.scanIPC(join(dir, 'one.arrow')).collectSync();
    expect(df.getColumn('rs').toArray()).toEqual(rows(0, 16).rs);
    const s = pl.readIPCStream(readFileSync(join(dir, 't.arrows')));
    expect(s.getColumn('chr').toArray()).toEqual(rows(0, 15).chr);
  });
});
