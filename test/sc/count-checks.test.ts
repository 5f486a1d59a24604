/**
 * A count matrix holds counts (issue 17): a negative or non-finite value in a 10x .mtx, a 10x HDF5 or an .h5ad is an
 * InputError naming the file and the line (text) or the element (HDF5), whatever the method, and scde exits with the
 * input code leaving nothing behind.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerScde } from '../../src/cli/scde.js';
import { InputError } from '../../src/errors.js';
import { openScdeInput } from '../../src/sc/load-input.js';
import { runCommand } from '../helpers/cli.js';
import { FIXTURE_DIR, tinyH5ad } from './fixture.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'gpulmm-counts-'));

/** The fixture's 10x directory with its first entry's value replaced by `value`; returns the dir and that line. */
function fixtureWith(value: string): { dir: string; line: number } {
  const dir = path.join(tmp(), 'in');
  mkdirSync(dir);
  const mtx = readFileSync(path.join(FIXTURE_DIR, 'matrix.mtx'), 'utf8').split('\n');
  const at = mtx.findIndex((l, i) => i > 2 && l.trim() !== '' && !l.startsWith('%'));
  mtx[at] = mtx[at]!.replace(/ (\d+)$/, ` ${value}`);
  writeFileSync(path.join(dir, 'matrix.mtx'), mtx.join('\n'));
  for (const f of ['features.tsv', 'barcodes.tsv', 'cells.csv']) copyFileSync(path.join(FIXTURE_DIR, f), path.join(dir, f));
  return { dir, line: at + 1 };
}

async function readAll(file: string): Promise<void> {
  const input = await openScdeInput({ h5ad: file, cellsFile: undefined });
  try {
    for await (const _ of input.source.blocks(1000)) void _;
  } finally {
    input.close();
  }
}

describe('count matrices hold counts', () => {
  it('a negative count in matrix.mtx: exit 3 naming the file, line and entry, for a method that needs no integers; no output', async () => {
    const { dir, line } = fixtureWith('-3');
    const out = path.dirname(dir);
    const r = await runCommand(registerScde, 'scde', ['--counts', dir, '--cells', path.join(dir, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--method', 'lmm', '--tsv', path.join(out, 'res.tsv')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${path.join(dir, 'matrix.mtx')}:${line}: value -3 of entry (`);
    expect(r.stderr).toMatch(/is negative: expected a count \(>= 0\)/);
    expect(readdirSync(out)).toEqual(['in']);
  });

  it('non-finite values in matrix.mtx name the line', async () => {
    for (const v of ['nan', 'inf', '-Infinity']) {
      const { dir, line } = fixtureWith(v);
      const r = await runCommand(registerScde, 'scde', ['--counts', dir, '--cells', path.join(dir, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--method', 'welch', '--tsv', path.join(dir, 'res.tsv')]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`matrix.mtx:${line}: value "${v}" is not a finite number`);
    }
  });

  it('a barcode twice in barcodes.tsv: exit 3 naming the file and both lines', async () => {
    const { dir } = fixtureWith('7');
    const bc = readFileSync(path.join(dir, 'barcodes.tsv'), 'utf8').split('\n');
    bc[5] = bc[1]!;
    writeFileSync(path.join(dir, 'barcodes.tsv'), bc.join('\n'));
    const r = await runCommand(registerScde, 'scde', ['--counts', dir, '--cells', path.join(dir, 'cells.csv'), '--donor', 'donor', '--condition', 'group', '--method', 'welch', '--tsv', path.join(dir, 'res.tsv')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${path.join(dir, 'barcodes.tsv')}:6: duplicate barcode '${bc[1]}' (entries 2 and 6; first on line 2)`);
  });

  it('.h5ad X with a negative or NaN value: InputError naming the element', async () => {
    const dir = tmp();
    const neg = path.join(dir, 'neg.h5ad');
    await tinyH5ad(neg, 4, [1, 2, -1.5, 4, 5]);
    await expect(readAll(neg)).rejects.toThrow(InputError);
    await expect(readAll(neg)).rejects.toThrow(/neg\.h5ad: X\/data\[2\] = -1\.5: expected a count \(a finite number >= 0\)/);
    const nan = path.join(dir, 'nan.h5ad');
    await tinyH5ad(nan, 4, [1, 2, 3, Number.NaN, 5]);
    await expect(readAll(nan)).rejects.toThrow(/nan\.h5ad: X\/data\[3\] = NaN: expected a count/);
    const ok = path.join(dir, 'ok.h5ad');
    await tinyH5ad(ok, 4, [1, 2, 0.5, 4, 5]); // normalised (non-integer) values are fine for the methods that take them
    await expect(readAll(ok)).resolves.toBeUndefined();
  });
});
