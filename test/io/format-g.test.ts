import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { f64Matrix } from '../../kernels/matrix.js';
import { formatG, MAX_G_BYTES, writeRowsG } from '../../src/io/format-g.js';
import { rng } from '../helpers/random.js';

/** writeRowsG's text of one row holding `xs`, split back into fields. */
function fields(xs: number[]): string[] {
  const out = new Uint8Array(xs.length * MAX_G_BYTES + 1);
  const len = writeRowsG(Float64Array.from(xs), 1, xs.length, 0, 1, out);
  const text = new TextDecoder().decode(out.subarray(0, len));
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\t');
}

/** Values a kinship holds and the awkward ones: powers of ten and their neighbours, exact ties at ten digits. */
function awkward(): number[] {
  const xs = [0, -0, NaN, Infinity, -Infinity, 1e-300, 5e-324, 1e21, 0.5, 1, -1, 2, 10, 0.1, 1 / 3, -2 / 3, 0.0001, 0.00009999999999999,
    -0.000099999999994, 999999999.95, 999999999.5, 99999999.99, 9999999999.5, 123456789.04, 1e-4 * (1 + 1e-12), -0.0004232185264,
    123456789.25, 12345678.125, 1234567.0625, 0.0001220703125, 0.999999999949, 0.99999999995, 9.9999999995, 0.00099999999995];
  for (let e = -5; e <= 10; e++) {
    const p = Number(`1e${e}`);
    let below = p, above = p;
    for (let k = 0; k < 3; k++) {
      below = below - below * 2 ** -52;
      above = above + above * 2 ** -52;
      xs.push(below, above, -below);
    }
    xs.push(p * (1 - 5e-11), p * (1 + 5e-11), p * (1 - 4.9e-11), p * (1 - 5.1e-11));
  }
  return xs;
}

describe('writeRowsG (printf %.10g straight into bytes)', () => {
  it('equals formatG on edge cases: signs, zeros, non-finite, powers of ten and their neighbours, exact ties', () => {
    const xs = awkward();
    expect(fields(xs)).toEqual(xs.map((x) => formatG(x)));
  });

  it('equals formatG on 400,000 random values over 16 decades', () => {
    const u = rng(2024);
    const xs = Array.from({ length: 400_000 }, (_, i) => (u() < 0.4 ? -1 : 1) * (i % 4 === 0 ? u() : u() * 10 ** Math.floor(u() * 16 - 7)));
    const got = fields(xs);
    const bad = xs.flatMap((x, i) => (got[i] === formatG(x) ? [] : [`${x}: ${got[i]} vs ${formatG(x)}`]));
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('writes whole rows of a column-major matrix: tabs between entries, a newline per row', () => {
    const k = f64Matrix(3, 2, Float64Array.from([0.25, -1, 1 / 3, 7, 1e-7, 2]));
    const out = new Uint8Array(3 * 2 * MAX_G_BYTES);
    const len = writeRowsG(k.data, 3, 2, 1, 3, out);
    expect(new TextDecoder().decode(out.subarray(0, len))).toBe(`-1\t1e-07\n${formatG(1 / 3)}\t2\n`);
  });
});

const DIST_WRITER = new URL('../../dist/src/io/kinship-file.js', import.meta.url);

describe('writeKinship text on helper threads (compiled build)', () => {
  it.skipIf(!existsSync(DIST_WRITER))('writes the same bytes with 1 and 2 threads, each row the formatG text of K', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kinship-text-'));
    try {
      const script = `
        const { writeKinship } = await import(${JSON.stringify(DIST_WRITER.href)});
        const n = 203, k = { rows: n, cols: n, ld: n + 1, data: new Float64Array((n + 1) * n) };
        let s = 3;
        const u = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
        for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) k.data[i + j * k.ld] = (u() - 0.3) * 10 ** Math.floor(u() * 10 - 6);
        await writeKinship(process.argv[2], k, 'gemma');
        process.stdout.write(JSON.stringify(Array.from(k.data)));`;
      writeFileSync(join(dir, 'write.mjs'), script);
      const run = (threads: string, file: string): number[] => {
        const r = spawnSync(process.execPath, [join(dir, 'write.mjs'), file], { encoding: 'utf8', env: { ...process.env, GPULMM_THREADS: threads } });
        expect(r.stderr).toBe('');
        return JSON.parse(r.stdout) as number[];
      };
      const data = run('2', join(dir, 'two.txt'));
      run('1', join(dir, 'one.txt'));
      const two = readFileSync(join(dir, 'two.txt'), 'utf8');
      expect(two).toBe(readFileSync(join(dir, 'one.txt'), 'utf8'));
      const n = 203;
      const want = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => formatG(data[i + j * (n + 1)]!)).join('\t')).join('\n') + '\n';
      expect(two).toBe(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

