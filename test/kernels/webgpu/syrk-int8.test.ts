// The exact int8 Gram on WebGPU (Backend.int8Gram) against the cpu's integer syrk: exactly equal, for both
// shader variants (dot4I8Packed and extractBits), C split over several device buffers, ragged blocks and
// signed values; and the kinship computed with it equal bit for bit to the cpu backend's.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, type Backend } from '../../../kernels/backend.js';
import { createCpuBackend, cpuSyrkInt8 } from '../../../kernels/cpu/index.js';
import { createWebGpuBackend } from '../../../kernels/webgpu/backend.js';
import { WebGpuSyrkInt8Accumulator } from '../../../kernels/webgpu/syrk-int8.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { computeKinship } from '../../../gwas/kinship.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import { rng } from '../../helpers/random.js';
import { SIM_PREFIX } from '../../gwas/input/sim-fixtures.js';
import { info, useGpuContext } from './setup.js';

/** n x k bytes in [lo, hi], column-major with ld = n. */
function bytes(n: number, k: number, lo: number, hi: number, seed: number): Int8Array {
  const u = rng(seed);
  return Int8Array.from({ length: n * k }, () => lo + Math.floor(u() * (hi - lo + 1)));
}

/** Lower triangle of the accumulator's sums as a full symmetric f64 array (to compare with cpuSyrkInt8). */
function full(sums: { parts: Int32Array[]; ld: number }, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      let v = 0;
      for (const p of sums.parts) v += p[i + j * sums.ld]!;
      out[i + j * n] = out[j + i * n] = v;
    }
  }
  return out;
}

describe.skipIf(!info.available)('webgpu int8 Gram', () => {
  const context = useGpuContext();

  for (const packedDot of [true, false]) {
    for (const [n, tilesPerSegment] of [[1, undefined], [37, undefined], [130, 2], [200, undefined]] as const) {
      it(`${packedDot ? 'dot4I8Packed' : 'extractBits'}: n=${n}${tilesPerSegment ? ', C in buffers of 2 tiles' : ''}, ragged blocks: equals the cpu's integer syrk exactly`, async () => {
        const blocks = [5, 64, 13, 1, 130];
        const k = blocks.reduce((a, b) => a + b, 0);
        const all = bytes(n, k, 0, 2, n + (packedDot ? 1 : 0));
        all.fill(-3, 5 * n, 6 * n); // one signed column (any int8 works, not only dosages)
        const acc = new WebGpuSyrkInt8Accumulator(context(), n, { packedDot, tilesPerSegment });
        let p0 = 0;
        for (const kb of blocks) {
          await acc.add({ rows: n, cols: kb, ld: n, data: all.subarray(p0 * n, (p0 + kb) * n) });
          p0 += kb;
        }
        expect(acc.cols).toBe(k);
        expect(Array.from(full(await acc.lowerSums(), n))).toEqual(Array.from(cpuSyrkInt8({ rows: n, cols: k, ld: n, data: all }).data));
      });
    }
  }

  it('checks the int32 bound, shapes, and use after lowerSums', async () => {
    const acc = new WebGpuSyrkInt8Accumulator(context(), 3);
    await expect(acc.add({ rows: 3, cols: 140_000, ld: 3, data: new Int8Array(420_000).fill(-127) })).rejects.toThrow(/overflows int32 accumulation/);
    await expect(acc.add({ rows: 4, cols: 1, ld: 4, data: new Int8Array(4) })).rejects.toThrow(KernelError);
    await acc.lowerSums();
    await expect(acc.add({ rows: 3, cols: 1, ld: 3, data: new Int8Array(3) })).rejects.toThrow(/after lowerSums/);
  });
});

describe.skipIf(!info.available)('kinship on the webgpu backend', () => {
  let gpu: Backend;
  let cpu: Backend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend();
    cpu = await createCpuBackend();
  });
  afterAll(async () => {
    await gpu?.dispose();
    await cpu?.dispose();
  });

  it('data/sim centred K: the same bits as the cpu backend (integer Gram on the device)', async () => {
    const inputs = await loadAnalysisInputs({ bfile: SIM_PREFIX });
    const sha = (d: Float64Array) => createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
    const run = async (backend: Backend) =>
      sha((await computeKinship(inputs.source, { mode: 'centered', filter: new SnpFilter(), filterRows: inputs.samples.indices, backend, blockSize: 700 })).k.data);
    expect(await run(gpu)).toBe(await run(cpu));
  });
});
