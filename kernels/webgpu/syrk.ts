/**
 * syrk on WebGPU: C = alpha * A A^T + beta * C (or A^T A when trans) in f32. Only tiles on or below the
 * diagonal are computed (the shared tiled generator in triangle mode); the lower triangle is mirrored into
 * the upper one while widening to f64, so both triangles of the result are filled.
 * Precision: f32 accumulation over k. Cost: n^2 k flops (about n (n + 16 tm) k with diagonal tiles).
 */
import type { SyrkOptions } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSyrk } from '../validate.js';
import type { GpuContext } from './context.js';
import { matmulDispatch } from './tiling.js';

export async function webGpuSyrk(ctx: GpuContext, a: F64Matrix, opts: SyrkOptions = {}): Promise<F64Matrix> {
  const { n, k } = checkSyrk('webgpu', a, opts);
  const shapes = `A ${shapeOf(a)}${opts.trans ? '^T' : ''}${opts.c ? `, C ${shapeOf(opts.c)}` : ''}`;
  return ctx.run('syrk', shapes, async (scope) => {
    if (n === 0) return f64Matrix(0, 0);
    const da = ctx.upload(scope, 'A', a);
    const dc = opts.c ? ctx.uploadCopy(scope, 'C', opts.c) : ctx.zeros(scope, 'C', n, n);
    const trans = opts.trans ?? false;
    const call = {
      a: da, b: da, c: dc, m: n, n, k,
      // A A^T: op(A) = A, op(B) = A^T.  A^T A: op(A) = A^T, op(B) = A.
      transA: trans, transB: !trans,
      alpha: opts.alpha ?? 1, beta: opts.c ? (opts.beta ?? 0) : 0,
      triangle: true,
    };
    ctx.submit(scope, [matmulDispatch(call, ctx)]);
    return ctx.download(scope, dc, 'lower-mirror');
  });
}
