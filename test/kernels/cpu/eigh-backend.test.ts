import { describe, expect, it } from 'vitest';
import { cpuEighWith } from '../../../kernels/cpu/eigh.js';
import { gemmStrided } from '../../../kernels/cpu/gemm-core.js';
import { cpuEigh } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
import { getFlag, setFlags } from '../../../src/flags.js';
import { randomMatrix } from '../../helpers/random.js';
import { get } from './reference.js';
import { cpuBackendFor } from '../../helpers/cpu-backend.js';

/** Symmetric part of a Gaussian n x n matrix. */
function randomSymmetric(n: number, seed: number) {
  const g = randomMatrix(n, n, seed);
  const a = f64Matrix(n, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) a.data[i + j * n] = (get(g, i, j) + get(g, j, i)) / 2;
  return a;
}

describe('cpu eigh with its products on the worker pool', () => {
  const backend = cpuBackendFor(3);

  // n = 400: the trailing updates, the top merges and the back-transformation are all large enough to split.
  it('backend eigh equals cpuEigh bit for bit (n=400)', async () => {
    const a = randomSymmetric(400, 31);
    const ref = cpuEigh(a);
    const r = await backend().eigh(a);
    expect(r.values).toEqual(ref.values);
    expect(r.vectors.data).toEqual(ref.vectors.data);
  });

  // n = 600: the symv of the first panels is cut in two column ranges (one per thread when the pool has two).
  it('the same bits with the process pool on one thread and on two (n=600), A V = V diag(w)', () => {
    const a = randomSymmetric(600, 33);
    const before = getFlag('threads');
    try {
      setFlags({ threads: 1 });
      const one = cpuEigh(a);
      setFlags({ threads: 2 });
      const two = cpuEigh(a);
      expect(two.values).toEqual(one.values);
      expect(two.vectors.data).toEqual(one.vectors.data);
      let res = 0;
      for (const j of [0, 299, 599]) {
        for (let i = 0; i < 600; i++) {
          let s = 0;
          for (let p = 0; p < 600; p++) s += a.data[i + p * 600]! * two.vectors.data[p + j * 600]!;
          res = Math.max(res, Math.abs(s - two.values[j]! * two.vectors.data[i + j * 600]!));
        }
      }
      expect(res).toBeLessThan(1e-12);
    } finally {
      setFlags({ threads: before });
    }
  });

  it('hands every product to the driver with its operands on SharedArrayBuffers, in every stage', async () => {
    const a = randomSymmetric(400, 32);
    const kinds = new Set<string>();
    let unshared = 0;
    const r = await cpuEighWith(a, async (p) => {
      const [, , , , x, , , , y, , , , c, , , lowerOnly] = p;
      if (![x, y, c].every((v) => v.buffer instanceof SharedArrayBuffer)) unshared++;
      kinds.add(lowerOnly ? 'trailing update' : c.length === 400 * 400 ? 'vectors' : 'other');
      gemmStrided(...p);
    });
    expect(unshared).toBe(0);
    expect([...kinds].sort()).toEqual(['other', 'trailing update', 'vectors']);
    expect(r.values).toEqual(cpuEigh(a).values);
  });
});
