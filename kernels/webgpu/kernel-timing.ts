/**
 * Device-resident timing of the tiled matmul kernel, for benchmarks (bench/ decides what to record).
 *
 * A Backend call includes f64 -> f32 conversion, upload, read-back and widening: at n = 8192 that host work
 * (3 x 256 MiB) costs far more than the 2 n^3 flops on a modern GPU. This measures only the kernel: operands
 * already on the device, one dispatch per repetition, wall time from submit to queue completion (submit
 * latency is microseconds; a dispatch at n = 8192 is tens of milliseconds).
 */
import { GpuContext } from './context.js';
import { acquireDevice, releaseDevice } from './device.js';
import { matmulDispatch } from './tiling.js';

export interface DeviceGemmTiming {
  readonly n: number;
  /** Seconds per repetition, in run order (after one untimed warm-up that also compiles the pipeline). */
  readonly seconds: number[];
  readonly medianSeconds: number;
  /** 2 n^3 / medianSeconds / 1e12. */
  readonly tflops: number;
}

/** Times C = A B for n x n f32 operands resident on the device. Cost: (reps + 1) * 2 n^3 flops. */
export async function timeDeviceGemm(n: number, reps = 5): Promise<DeviceGemmTiming> {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(reps) || reps < 1) {
    throw new Error(`timeDeviceGemm: n and reps must be positive integers, got n=${n}, reps=${reps}`);
  }
  const shared = await acquireDevice();
  try {
    const ctx = new GpuContext(shared);
    return await ctx.run('gemm', `A ${n}x${n}, B ${n}x${n} (device-resident timing)`, async (scope) => {
      const a = ctx.zeros(scope, 'A', n, n);
      const b = ctx.zeros(scope, 'B', n, n);
      const c = ctx.zeros(scope, 'C', n, n);
      const call = { a, b, c, m: n, n, k: n, transA: false, transB: false, alpha: 1, beta: 0 };
      const prepared = ctx.prepare(scope, matmulDispatch(call, ctx));
      ctx.submit(scope, [prepared]);
      await shared.device.queue.onSubmittedWorkDone();
      const seconds: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        ctx.submit(scope, [prepared]);
        await shared.device.queue.onSubmittedWorkDone();
        seconds.push((performance.now() - t0) / 1e3);
      }
      const sorted = [...seconds].sort((x, y) => x - y);
      const medianSeconds = sorted[Math.floor((sorted.length - 1) / 2)]!;
      return { n, seconds, medianSeconds, tflops: (2 * n ** 3) / medianSeconds / 1e12 };
    });
  } finally {
    releaseDevice(shared);
  }
}
