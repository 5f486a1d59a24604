import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { EighResult } from '../../../kernels/backend.js';
import { createCpuBackend } from '../../../kernels/cpu/index.js';
import { f64FromRows } from '../../../kernels/matrix.js';
import { cachedEigen, decomposeKinship, eigenCacheKey, fileFingerprint, hashSampleIds } from '../../../gwas/eigen-cache.js';
import { restrictAndCenter } from '../../../gwas/kinship.js';
import { maxRelErr, randomSpd } from '../../helpers/random.js';
import { tempDir } from './sim-fixtures.js';

describe('eigendecomposition as GEMMA uses it', () => {
  test('double-centred K has a zero eigenvalue, set exactly to 0; U diag(d) U\' reconstructs K', async () => {
    const k = restrictAndCenter(randomSpd(12, 5), Int32Array.from({ length: 12 }, (_, i) => i));
    const { values, vectors } = await decomposeKinship(k, await createCpuBackend());
    expect(values[0]).toBe(0);
    expect(values.filter((d) => d === 0).length).toBe(1);
    const back = k.data.map((_, idx) => {
      const i = idx % 12;
      const j = Math.floor(idx / 12);
      let s = 0;
      for (let q = 0; q < 12; q++) s += vectors.data[i + q * 12]! * values[q]! * vectors.data[j + q * 12]!;
      return s;
    });
    expect(maxRelErr(back, k.data)).toBeLessThan(1e-12);
  });

  test('zeroes eigenvalues by magnitude: |d| < 1e-10 becomes 0, a clearly negative one is kept', async () => {
    const k = f64FromRows([[-0.5, 0, 0], [0, 3e-11, 0], [0, 0, -2e-11]]);
    const { values } = await decomposeKinship(k, await createCpuBackend());
    expect(Array.from(values)).toEqual([-0.5, 0, 0]);
  });
});

describe('eigen cache', () => {
  const eig: EighResult = { values: Float64Array.from([0, 2]), vectors: f64FromRows([[Math.SQRT1_2, Math.SQRT1_2], [-Math.SQRT1_2, Math.SQRT1_2]]) };

  test('computes once, then reuses; corrupt or stale entries are recomputed with a message', async () => {
    const dir = tempDir();
    const key = eigenCacheKey({ kinship: 'k.txt', samples: hashSampleIds(['a', 'b']), mode: 'centered' });
    let calls = 0;
    const compute = async (): Promise<EighResult> => {
      calls++;
      return eig;
    };
    const log: string[] = [];
    expect((await cachedEigen(dir, key, 2, compute, (m) => log.push(m))).origin).toBe('computed');
    const again = await cachedEigen(dir, key, 2, compute, (m) => log.push(m));
    expect(again.origin).toBe('cache');
    expect(calls).toBe(1);
    expect(Array.from(again.eig.values)).toEqual([0, 2]);
    expect(Array.from(again.eig.vectors.data)).toEqual(Array.from(eig.vectors.data));

    const file = join(dir, `${key}.eig`);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(file, bytes);
    expect((await cachedEigen(dir, key, 2, compute, (m) => log.push(m))).origin).toBe('recomputed');
    expect(log.at(-2)).toMatch(/corrupt \(checksum mismatch\); recomputing/);
    expect(calls).toBe(2);

    // An entry renamed to another key is not taken for it.
    const other = eigenCacheKey({ kinship: 'other' });
    writeFileSync(join(dir, `${other}.eig`), readFileSync(file));
    expect((await cachedEigen(dir, other, 2, compute, (m) => log.push(m))).origin).toBe('recomputed');
    expect(log.at(-2)).toMatch(/holds another key \(stale\)/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('keys change with any input, not with key order; file fingerprints see content changes', async () => {
    expect(eigenCacheKey({ a: 1, b: [1, 2] })).toBe(eigenCacheKey({ b: [1, 2], a: 1 }));
    expect(eigenCacheKey({ a: 1, loco: '3' })).not.toBe(eigenCacheKey({ a: 1, loco: '4' }));
    const dir = tempDir();
    writeFileSync(join(dir, 'k.txt'), '1 0\n0 1\n');
    const before = await fileFingerprint(join(dir, 'k.txt'), true);
    writeFileSync(join(dir, 'k.txt'), '1 0\n0 2\n');
    expect((await fileFingerprint(join(dir, 'k.txt'), true)).sha256).not.toBe(before.sha256);
  });
});
