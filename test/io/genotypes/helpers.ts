/** Shared checks of the genotype readers: everything a source yields, gathered per SNP. */
import { expect } from 'vitest';
import type { GenotypeSource, SnpRange } from '../../../gwas/types.js';
import { InputError } from '../../../src/errors.js';

/** Every SNP column a source yields (dosage[snp][row]), checking block starts, shapes and SNP metadata on the way. */
export async function readAll(src: GenotypeSource, blockSize: number, keep?: Int32Array, range?: SnpRange): Promise<{ dosage: Float64Array[]; hard: boolean[] }> {
  const dosage: Float64Array[] = [];
  const hard: boolean[] = [];
  let next = range?.start ?? 0;
  for await (const b of src.blocks(blockSize, keep, range)) {
    expect(b.start).toBe(next);
    expect(b.snps.length).toBe(b.dosages.cols);
    expect(b.dosages.rows).toBe(keep ? keep.length : src.samples.length);
    b.snps.forEach((s, j) => s === src.snps[b.start + j] || expect(s).toEqual(src.snps[b.start + j]));
    for (let j = 0; j < b.dosages.cols; j++) {
      dosage.push(b.dosages.data.slice(j * b.dosages.ld, j * b.dosages.ld + b.dosages.rows));
      hard.push(b.hardCalls === true);
    }
    next += b.dosages.cols;
  }
  expect(next).toBe(range?.end ?? src.nSnps);
  return { dosage, hard };
}

/** The InputError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

/** Drains a source (all blocks). */
export async function drain(src: GenotypeSource, blockSize = 64): Promise<void> {
  for await (const _ of src.blocks(blockSize)) void _;
}

/** Largest |a - b| over two dosage tables; NaN must match NaN exactly (a NaN against a number is Infinity). */
export function maxDiff(a: Float64Array[], b: Float64Array[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let j = 0; j < a.length; j++) {
    const x = a[j]!;
    const y = b[j]!;
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const yi = y[i]!;
      if (Number.isNaN(xi) || Number.isNaN(yi)) {
        if (Number.isNaN(xi) !== Number.isNaN(yi)) return Infinity;
        continue;
      }
      worst = Math.max(worst, Math.abs(xi - yi));
    }
  }
  return worst;
}

/** Every SNP of a source's packed blocks, unpacked to allele1 copies (NaN missing), checking starts and padding. */
export async function readPacked(src: GenotypeSource, blockSize: number, range?: SnpRange): Promise<Float64Array[]> {
  const n = src.samples.length;
  const bps = Math.ceil(n / 4);
  const out: Float64Array[] = [];
  let next = range?.start ?? 0;
  for await (const b of src.packedBlocks!(blockSize, range)) {
    expect(b.start).toBe(next);
    expect(b.codes.length).toBe(b.snps.length * bps);
    for (let j = 0; j < b.snps.length; j++) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) col[i] = [2, Number.NaN, 1, 0][(b.codes[j * bps + (i >> 2)]! >> (2 * (i & 3))) & 3]!;
      if (n & 3) expect(b.codes[(j + 1) * bps - 1]! >> (2 * (n & 3))).toBe(0);
      out.push(col);
    }
    next += b.snps.length;
  }
  expect(next).toBe(range?.end ?? src.nSnps);
  return out;
}
