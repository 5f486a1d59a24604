/**
 * gemm on WebGPU: C = alpha * op(A) op(B) + beta * C in f32 through the shared tiled generator
 * (kernels/webgpu/tiling.ts). Inputs are rounded to f32 on upload; the result is widened to f64.
 * Precision: f32 accumulation, relative error about k * 2^-24 on well-conditioned inputs.
 * Cost: 2 m n k flops on the device; (mk + kn + 2mn) * 4 bytes over the bus.
 */
import type { GemmOptions } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkGemm } from '../validate.js';
import type { GpuContext } from './context.js';
import { matmulDispatch } from './tiling.js';

export async function webGpuGemm(ctx: GpuContext, a: F64Matrix, b: F64Matrix, opts: GemmOptions = {}): Promise<F64Matrix> {
  const { m, n, k } = checkGemm('webgpu', a, b, opts);
  const shapes = `A ${shapeOf(a)}${opts.transA ? '^T' : ''}, B ${shapeOf(b)}${opts.transB ? '^T' : ''}${opts.c ? `, C ${shapeOf(opts.c)}` : ''}`;
  return ctx.run('gemm', shapes, async (scope) => {
    if (m === 0 || n === 0) return f64Matrix(m, n);
    const da = ctx.upload(scope, 'A', a);
    const db = ctx.upload(scope, 'B', b);
    const dc = opts.c ? ctx.uploadCopy(scope, 'C', opts.c) : ctx.zeros(scope, 'C', m, n);
    const call = {
      a: da, b: db, c: dc, m, n, k,
      transA: opts.transA ?? false, transB: opts.transB ?? false,
      alpha: opts.alpha ?? 1, beta: opts.c ? (opts.beta ?? 0) : 0,
    };
    ctx.submit(scope, [matmulDispatch(call, ctx)]);
    return ctx.download(scope, dc);
  });
}
