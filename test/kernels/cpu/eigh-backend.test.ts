import { describe, expect, it } from 'vitest';
import { cpuEighWith } from '../../../kernels/cpu/eigh.js';
import { gemmStrided } from '../../../kernels/cpu/gemm-core.js';
import { cpuEigh } from '../../../kernels/cpu/index.js';
import { f64Matrix } from '../../../kernels/matrix.js';
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
