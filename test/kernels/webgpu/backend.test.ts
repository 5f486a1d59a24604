// The WebGPU backend as a whole: adapter info and software detection, backend choice, held matrices,
// shader dumps, dispose, and device loss turned into clear errors.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, OP_NAMES, type Backend } from '../../../kernels/backend.js';
import { cpuGemm } from '../../../kernels/cpu/index.js';
import { createBackend } from '../../../kernels/select.js';
import { createWebGpuBackend } from '../../../kernels/webgpu/backend.js';
import { GpuContext } from '../../../kernels/webgpu/context.js';
import { acquireDevice, isSoftwareAdapter, releaseDevice, type SharedDevice } from '../../../kernels/webgpu/device.js';
import { webGpuGemm } from '../../../kernels/webgpu/gemm.js';
import { timeDeviceGemm } from '../../../kernels/webgpu/kernel-timing.js';
import { setFlags } from '../../../src/flags.js';
import { maxRelErr, randomMatrix } from '../../helpers/random.js';
import { info } from './setup.js';

describe('software adapter detection', () => {
  const gpu = (over: Partial<GPUAdapterInfo & { isFallbackAdapter: boolean }>) =>
    ({ vendor: '', architecture: '', device: '', description: '', ...over }) as GPUAdapterInfo;
  it('flags lavapipe, SwiftShader, WARP and fallback adapters, not real GPUs', () => {
    expect(isSoftwareAdapter(gpu({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15' }))).toBe(true);
    expect(isSoftwareAdapter(gpu({ description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' }))).toBe(true);
    expect(isSoftwareAdapter(gpu({ vendor: 'google', device: 'SwiftShader Device (Subzero)' }))).toBe(true);
    expect(isSoftwareAdapter(gpu({ description: 'Microsoft Basic Render Driver' }))).toBe(true);
    expect(isSoftwareAdapter(gpu({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapter(gpu({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3', description: 'NVIDIA: 550.54' }))).toBe(false);
  });
});

describe('storage binding limit', () => {
  // A device stand-in with a 1 KiB binding limit: the op must stop before any GPU call, naming the limit.
  const fake = {
    device: {
      limits: { maxStorageBufferBindingSize: 1024, maxBufferSize: 2 ** 30, maxComputeWorkgroupsPerDimension: 65535 },
      pushErrorScope: () => undefined,
      popErrorScope: async () => null,
    },
    lost: null,
  } as unknown as SharedDevice;
  it('an operand larger than maxStorageBufferBindingSize is a KernelError naming op, shapes and limit', async () => {
    const ctx = new GpuContext(fake);
    await expect(webGpuGemm(ctx, randomMatrix(20, 20, 1), randomMatrix(20, 1, 2))).rejects.toThrow(
      /gemm on webgpu \(A 20x20, B 20x1\): A needs 1600 bytes, more than this adapter's storage binding limit of 1024 bytes/,
    );
    expect(() => ctx.hold(randomMatrix(20, 20, 1))).toThrow(/hold: the matrix needs 1600 bytes/);
  });
});

describe.skipIf(!info.available)('webgpu backend', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createWebGpuBackend();
  });
  afterAll(async () => {
    await be?.dispose();
  });

  it('dumps each generated program once when GPULMM_DUMP_SHADERS is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-wgsl-'));
    setFlags({ dumpShaders: dir });
    try {
      const w = randomMatrix(10, 1, 1);
      await be.batchedWeightedDot(w, randomMatrix(10, 3, 2), w);
      await be.batchedWeightedDot(w, randomMatrix(10, 2, 3), w);
      const files = readdirSync(dir);
      expect(files).toEqual(['batched-weighted-dot.wgsl']);
      expect(readFileSync(join(dir, files[0]!), 'utf8')).toMatch(/@compute @workgroup_size\(256, 1, 1\)/);
    } finally {
      setFlags({ dumpShaders: '' });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports its adapter with vendor, architecture, device, description and limits', async () => {
    const i = await be.info();
    expect(i).toMatchObject({ name: 'webgpu', available: true, precision: 'f32' });
    expect(i.adapter?.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(i.adapter?.isSoftware).toBe(info.adapter?.isSoftware);
    if (/llvmpipe|lavapipe/i.test(`${i.adapter?.device} ${i.adapter?.description}`)) expect(i.adapter?.isSoftware).toBe(true);
    for (const op of OP_NAMES) expect(be.supports(op)).toBe(true);
  });

  it('auto never picks a software adapter', async () => {
    const chosen = await createBackend('auto');
    try {
      expect(chosen.name).toBe(info.adapter?.isSoftware ? 'cpu' : 'webgpu');
    } finally {
      await chosen.dispose();
    }
  });

  it('hold keeps a device copy until release (the copy, not later host edits, is used)', async () => {
    const u = randomMatrix(30, 30, 1);
    const x = randomMatrix(30, 4, 2);
    be.hold(u);
    const first = await be.gemm(u, x, { transA: true });
    expect(maxRelErr(first, cpuGemm(u, x, { transA: true }))).toBeLessThan(1e-4);
    u.data[0] = 1000;
    expect(maxRelErr(await be.gemm(u, x, { transA: true }), first)).toBe(0);
    // A held C stays intact when used as the accumulator of a product.
    const c = randomMatrix(30, 4, 3);
    be.hold(c);
    const once = await be.gemm(u, x, { c, beta: 1 });
    expect(maxRelErr(await be.gemm(u, x, { c, beta: 1 }), once)).toBe(0);
    be.release(c);
    be.release(u);
    expect(maxRelErr(await be.gemm(u, x, { transA: true }), cpuGemm(u, x, { transA: true }))).toBeLessThan(1e-4);
  });

  it('a lost device makes every op fail with a KernelError saying so; a new backend gets a new device', async () => {
    const other = await createWebGpuBackend();
    const shared = await acquireDevice();
    shared.device.destroy(); // what a driver reset looks like from here
    await shared.device.lost;
    await expect(other.gemm(randomMatrix(2, 2, 1), randomMatrix(2, 2, 2))).rejects.toThrow(KernelError);
    await expect(other.potrf(randomMatrix(2, 2, 1))).rejects.toThrow(/potrf on webgpu \(A 2x2\): device lost/);
    releaseDevice(shared);
    await other.dispose();
    await be.dispose();
    be = await createWebGpuBackend();
    const a = randomMatrix(5, 5, 3);
    expect(maxRelErr(await be.gemm(a, a), cpuGemm(a, a))).toBeLessThan(1e-4);
  });

  it('times the device-resident matmul kernel (a measurement helper for bench/)', async () => {
    const t = await timeDeviceGemm(64, 3);
    expect(t.seconds).toHaveLength(3);
    expect(t.medianSeconds).toBeGreaterThan(0);
    expect(t.tflops).toBeCloseTo((2 * 64 ** 3) / t.medianSeconds / 1e12, 12);
  });

  it('is unusable after dispose, with a clear error', async () => {
    const b = await createWebGpuBackend();
    await b.dispose();
    await expect(b.gemm(randomMatrix(2, 2, 1), randomMatrix(2, 2, 2))).rejects.toThrow(/webgpu.*used after dispose/);
  });
});
