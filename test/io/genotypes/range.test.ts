import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openBimbam } from '../../../src/io/bimbam.js';
import { openPlink } from '../../../src/io/plink.js';
import { SIM, SIM_PREFIX } from '../../gwas/input/sim-fixtures.js';
import { readAll } from './helpers.js';

describe('SNP range reads (GenotypeSource.blocks range)', () => {
  test('PLINK and BIMBAM: a range equals the same SNPs of a full read, for ragged blocks and a keep list', async () => {
    const sources = [await openPlink(SIM_PREFIX), await openBimbam(join(SIM, 'sim.geno.txt.gz'), { annoPath: join(SIM, 'sim.anno.txt') })];
    const keep = Int32Array.from([0, 2, 3, 99, 200, 349]);
    for (const src of sources) {
      const full = await readAll(src, 500, keep);
      for (const range of [{ start: 0, end: 1 }, { start: 733, end: 1501 }, { start: 1990, end: 2000 }, { start: 40, end: 40 }]) {
        const part = await readAll(src, 97, keep, range);
        expect(part.dosage).toEqual(full.dosage.slice(range.start, range.end));
      }
      expect((await readAll(src, 333)).hard.every((h) => h)).toBe(src.describe.endsWith('.bed'));
    }
  });

  test('invalid ranges are rejected', async () => {
    const src = await openPlink(SIM_PREFIX);
    for (const range of [{ start: -1, end: 3 }, { start: 5, end: 4 }, { start: 0, end: 2001 }, { start: 0.5, end: 3 }]) {
      await expect(readAll(src, 10, undefined, range)).rejects.toThrow(/range must satisfy/);
    }
  });
});
