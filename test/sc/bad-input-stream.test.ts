/**
 * Bad input to a streamed run: an .h5ad whose obs and X disagree, a 10x HDF5 of an unknown layout, counts that
 * are not integers for a count model, donors whose condition disagrees between cells. Each is an InputError
 * naming the file and the field, and the CLI leaves no output behind.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import h5wasm from 'h5wasm/node';
import { describe, expect, it } from 'vitest';
import { registerScde } from '../../src/cli/scde.js';
import { InputError } from '../../src/errors.js';
import { openH5ad } from '../../src/io/h5ad.js';
import { openTenxH5 } from '../../src/io/tenx-h5.js';
import { openScdeInput } from '../../src/sc/load-input.js';
import { planScde } from '../../src/sc/scde.js';
import { runScdeStream } from '../../src/sc/scde-stream.js';
import { FIXTURE_DIR, tinyH5ad } from './fixture.js';

const DATA = path.join(FIXTURE_DIR, '..');

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const program = new Command().exitOverride();
  registerScde(program);
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((s: string) => {
    stderr += s;
    return true;
  }) as typeof process.stderr.write;
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'gpulmm', 'scde', ...args]);
    return { code: Number(process.exitCode ?? 0), stderr };
  } finally {
    process.stderr.write = write;
    process.exitCode = before;
  }
}

describe('bad streamed input: InputError naming the file and the field, nothing written', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-badstream-'));

  it('an .h5ad whose obs and X disagree in length', async () => {
    const file = path.join(dir, 'short-obs.h5ad');
    await tinyH5ad(file, 3);
    await expect(openH5ad(file)).rejects.toThrow(InputError);
    await expect(openH5ad(file)).rejects.toThrow(/short-obs.h5ad: \/obs: 3 rows, but X has 4 rows \(cells\)/);
  });

  it('a 10x HDF5 of an unknown layout (Cell Ranger 2 genome groups; no matrix at all)', async () => {
    await h5wasm.ready;
    const v2 = path.join(dir, 'v2.h5');
    const f = new h5wasm.File(v2, 'w');
    const g = f.create_group('GRCh38');
    for (const name of ['genes', 'gene_names', 'barcodes']) g.create_dataset({ name, data: ['a'], dtype: 'S' });
    g.create_dataset({ name: 'indptr', data: new BigInt64Array([0n, 0n]) });
    f.close();
    await expect(openTenxH5(v2)).rejects.toThrow(InputError);
    await expect(openTenxH5(v2)).rejects.toThrow(/v2.h5: \/matrix: not found: unknown 10x HDF5 layout .*Cell Ranger 2 layout \(genome group \/GRCh38/);
    // An .h5ad is not a 10x HDF5 either.
    await expect(openTenxH5(path.join(DATA, 'fixture-csr.h5ad'))).rejects.toThrow(/fixture-csr.h5ad: \/matrix: not found: unknown 10x HDF5 layout .*top-level members: X, obs, var/);
    // Cell Ranger 3 group missing a member.
    const partial = path.join(dir, 'partial.h5');
    const p = new h5wasm.File(partial, 'w');
    p.create_group('matrix').create_dataset({ name: 'shape', data: new Int32Array([1, 1]) });
    p.close();
    await expect(openTenxH5(partial)).rejects.toThrow(/partial.h5: \/matrix\/barcodes: not found: unknown 10x HDF5 layout/);
  });

  it('non-integer counts for a count model: the element named, exit code 3, no output file', async () => {
    const file = path.join(dir, 'float.h5ad');
    await tinyH5ad(file, 4, [1, 2, 0.5, 4, 5]);
    const input = await openScdeInput({ h5ad: file, cellsFile: undefined });
    const cells = { ...input.cells, table: { ...input.cells.table, columns: new Map([...input.cells.table.columns, ['donor', ['a', 'b', 'c', 'd']], ['cond', ['x', 'x', 'y', 'y']]]) } };
    const plan = planScde(cells, input.genes, { donor: 'donor', condition: 'cond', method: 'pseudobulk' });
    const run = async () => {
      for await (const _ of runScdeStream({ ...input, cells }, plan)) void _;
    };
    await expect(run()).rejects.toThrow(InputError);
    await expect(run()).rejects.toThrow(/float.h5ad: X\/data\[2\] = 0.5: pseudobulk needs non-negative integer counts/);
    input.close();

    // The fixture with one value made fractional, through the CLI.
    const out = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-badstream-out-'));
    const mtxDir = path.join(out, 'in');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(mtxDir);
    const mtx = readFileSync(path.join(FIXTURE_DIR, 'matrix.mtx'), 'utf8').replace('integer', 'real').split('\n');
    const at = mtx.findIndex((l, i) => i > 2 && l.trim() !== '' && !l.startsWith('%'));
    mtx[at] = mtx[at]!.replace(/ (\d+)$/, ' $1.25');
    writeFileSync(path.join(mtxDir, 'matrix.mtx'), mtx.join('\n'));
    for (const f of ['features.tsv', 'barcodes.tsv', 'cells.csv']) copyFileSync(path.join(FIXTURE_DIR, f), path.join(mtxDir, f));
    const res = await cli(['--counts', mtxDir, '--cells', path.join(mtxDir, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--method', 'lmm,pseudobulk', '--tsv', path.join(out, 'res.tsv'), '--out', path.join(out, 'res.arrows')]);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/matrix.mtx: matrix.mtx\[\d+\] = \d+\.25: pseudobulk needs non-negative integer counts/);
    expect(readdirSync(out)).toEqual(['in']);
  });

  it('a donor in both conditions of a between-donor design names the metadata file and column', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'gpulmm-badstream-donor-'));
    const lines = readFileSync(path.join(FIXTURE_DIR, 'cells.csv'), 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    const gi = header.indexOf('group');
    const di = header.indexOf('donor');
    const firstD01 = lines.findIndex((l, i) => i > 0 && l.split(',')[di] === 'D01');
    const row = lines[firstD01]!.split(',');
    row[gi] = 'stim';
    lines[firstD01] = row.join(',');
    const cells = path.join(out, 'cells.csv');
    writeFileSync(cells, `${lines.join('\n')}\n`);
    const res = await cli(['--counts', FIXTURE_DIR, '--cells', cells, '--donor', 'donor', '--condition', 'group', '--tsv', path.join(out, 'res.tsv')]);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/cells.csv: column group: condition group is not donor-level: donor\(s\) D01 have cells in both ctrl and stim/);
    expect(readdirSync(out)).toEqual(['cells.csv']);
  });
});
