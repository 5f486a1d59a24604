import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { openBimbam, readAnnotation } from '../../../src/io/bimbam.js';
import { InputError } from '../../../src/errors.js';
import { openPlink } from '../../../src/io/plink.js';
import { SIM, SIM_PREFIX, tempDir } from './sim-fixtures.js';

async function firstError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

async function drain(src: { blocks(b: number, keep?: Int32Array): AsyncIterable<unknown> }, keep?: Int32Array): Promise<void> {
  for await (const _ of src.blocks(64, keep)) void _;
}

describe('BIMBAM reader', () => {
  test('sim geno (gz) + anno: same SNPs, positions and dosages as the PLINK copy', async () => {
    const bim = await openBimbam(join(SIM, 'sim.geno.txt.gz'), { annoPath: join(SIM, 'sim.anno.txt') });
    const plink = await openPlink(SIM_PREFIX);
    expect(bim.samples.length).toBe(350);
    expect(bim.samples[0]).toBe('1');
    expect(bim.snps).toEqual(plink.snps);
    const keep = Int32Array.from([1, 2, 50, 349]);
    const a = bim.blocks(777, keep)[Symbol.asyncIterator]();
    for await (const pb of plink.blocks(777, keep)) {
      const { value: bb } = await a.next();
      expect(bb!.start).toBe(pb.start);
      expect(Array.from(bb!.dosages.data)).toEqual(Array.from(pb.dosages.data));
    }
    expect((await a.next()).done).toBe(true);
  });

  test('without annotation: chr -9 and ps -9 as in GEMMA', async () => {
    const bim = await openBimbam(join(SIM, 'sim.geno.txt.gz'));
    expect(bim.snps[0]).toEqual({ chr: '-9', rs: 'snp0001', ps: -9, allele1: 'C', allele0: 'G' });
  });

  test('bad lines name the file, line and column', async () => {
    const dir = tempDir();
    const geno = join(dir, 'g.txt.gz');
    writeFileSync(geno, gzipSync('rs1, A, G, 0, 1, 2\nrs2, C, T, 1, 2\n'));
    const e = await firstError(openBimbam(geno));
    expect([e.line, e.message]).toEqual([2, expect.stringMatching(/expected 3 \+ 3 fields .* found 5/)]);
    writeFileSync(join(dir, 'd.txt'), 'rs1 A G 0 1 2\nrs2 C T 1 two 0\n');
    const src = await openBimbam(join(dir, 'd.txt'));
    const d = await firstError(drain(src));
    expect([d.line, d.column]).toEqual([2, 5]);
    expect(d.message).toMatch(/expected a dosage in \[0, 2\] or NA, found 'two'/);
    writeFileSync(join(dir, 'r.txt'), 'rs1 A G 0 1 3\n');
    expect((await firstError(drain(await openBimbam(join(dir, 'r.txt')))))).toMatchObject({ line: 1, column: 6 });
    writeFileSync(join(dir, 'a.txt'), 'rs1 12x 1\n');
    expect((await firstError(readAnnotation(join(dir, 'a.txt')))).message).toMatch(/a\.txt:1:2: expected an integer position or NA/);
  });
});
