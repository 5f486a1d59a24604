import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { f64FromRows, f64Matrix } from '../../../kernels/matrix.js';
import { InputError } from '../../../src/errors.js';
import { formatG, readKinship, readKinshipBinary, readKinshipText, writeKinship } from '../../../src/io/kinship-file.js';
import { rng } from '../../helpers/random.js';
import { GOLDEN, gunzipText, tempDir } from './sim-fixtures.js';

async function errorOf(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('GEMMA text kinship', () => {
  test('formatG matches C printf %.10g (the shell printf builtin uses the C library)', () => {
    const xs = [0.1, 1 / 3, -2 / 3, 123456.789012345, 1e-5, -1.234567890123e-7, 9.99999999999, 12345678901234, 0.5, 1, 0, 2.5e-300, 1e21, 0.000123456789012,
      0.0001, 0.00009999999999999, -0.000099999999994, 999999999.95, 9999999999.5, 123456789.04, 1e-4 * (1 + 1e-12), -0.0004232185264];
    const c = execFileSync('bash', ['-c', `printf '%.10g\\n' ${xs.map((x) => x.toPrecision(17)).join(' ')}`], { encoding: 'utf8' }).trim().split('\n');
    expect(xs.map((x) => formatG(x))).toEqual(c);
  });

  test('formatG matches C printf %.10g on 3000 random values over 14 decades', () => {
    const u = rng(12345);
    const xs = Array.from({ length: 3000 }, () => (u() < 0.5 ? -1 : 1) * u() * 10 ** Math.floor(u() * 14 - 6));
    const c = execFileSync('bash', ['-c', `printf '%.10g\\n' ${xs.map((x) => x.toPrecision(17)).join(' ')}`], { encoding: 'utf8' }).trim().split('\n');
    expect(xs.map((x) => formatG(x))).toEqual(c);
  });

  test("reading GEMMA's kin.cXX and writing it back gives GEMMA's bytes", async () => {
    const dir = tempDir();
    const golden = join(GOLDEN, 'kin.cXX.txt.gz');
    const k = await readKinship(golden, 350);
    expect([k.rows, k.cols]).toEqual([350, 350]);
    await writeKinship(join(dir, 'k.cXX.txt'), k, 'gemma');
    expect(readFileSync(join(dir, 'k.cXX.txt'), 'utf8')).toBe(gunzipText(golden));
    expect(readdirSync(dir)).toEqual(['k.cXX.txt']); // no temporary left behind
  });

  test('binary format round-trips exactly and is recognised by its magic', async () => {
    const dir = tempDir();
    const k = f64FromRows([[1 / 3, Math.PI], [Math.PI, 1e-300]]);
    await writeKinship(join(dir, 'k.bin'), k, 'binary');
    const bytes = readFileSync(join(dir, 'k.bin'));
    expect(bytes.length).toBe(16 + 8 * 4);
    expect(bytes.toString('latin1', 0, 8)).toBe('gpulmmK\0');
    expect(Array.from((await readKinship(join(dir, 'k.bin'))).data)).toEqual(Array.from(k.data));
    writeFileSync(join(dir, 'cut.bin'), bytes.subarray(0, bytes.length - 8));
    expect((await errorOf(readKinshipBinary(join(dir, 'cut.bin')))).message).toMatch(/cut\.bin: binary kinship header says n = 2, so 48 bytes, but the file has 40 bytes/);
    expect((await errorOf(readKinship(join(dir, 'k.bin'), 3))).message).toMatch(/kinship is 2 x 2 but the genotype file has 3 individuals/);
  });
});

describe('bad kinship files name the file and line', () => {
  const dir = tempDir();
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  test('wrong size for the genotype file', async () => {
    const e = await errorOf(readKinshipText(write('small.txt', '1\t0.5\n0.5\t1\n'), 3));
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/kinship row 1 has 2 values, expected 3 \(the genotype file has 3 individuals\)/);
    const rows = await errorOf(readKinshipText(write('rows.txt', '1\t0\n0\t1\n'.repeat(2)), 2));
    expect(rows.line).toBe(3);
    expect(rows.message).toMatch(/more than 2 rows/);
  });

  test('ragged and non-square', async () => {
    const e = await errorOf(readKinshipText(write('ragged.txt', '1 0 0\n0 1\n0 0 1\n')));
    expect([e.line, e.message]).toEqual([2, expect.stringMatching(/row 2 has 2 values, expected 3 \(line 1 has 3\)/)]);
    expect((await errorOf(readKinshipText(write('wide.txt', '1 0 0\n0 1 0\n')))).message).toMatch(/2 rows of 3 values: expected a square/);
  });

  test('not symmetric, non-numeric', async () => {
    const e = await errorOf(readKinshipText(write('asym.txt', '1 0.5 0\n0.5 1 0.2\n0 0.3 1\n')));
    expect([e.line, e.column]).toEqual([3, 2]);
    expect(e.message).toMatch(/not symmetric: K\[3,2\] = 0.3 but K\[2,3\] = 0.2/);
    const n = await errorOf(readKinshipText(write('text.txt', '1 x\n0 1\n')));
    expect([n.line, n.column]).toEqual([1, 2]);
  });

  test('writer refuses a non-square matrix', async () => {
    await expect(writeKinship(join(dir, 'bad.txt'), f64Matrix(2, 3))).rejects.toThrow(/square, got 2x3/);
  });
});
