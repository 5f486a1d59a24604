/**
 * batchedWeightedDot on WebGPU: out[j] = sum_i w[i, j'] a[i, j] b[i, j''] for every column j of a
 * (w and b are n x m, or n x 1 broadcast: j' = 0 / j'' = 0, expressed as a column stride of 0).
 * One workgroup of 256 threads per column: strided partial sums, then a tree reduction in workgroup
 * memory. Precision: f32, error about (n / 256 + 8) * 2^-24 * sum_i |w a b|. Cost: 3 n m flops.
 */
import { shapeOf, type F64Matrix } from '../matrix.js';
import { checkBatchedWeightedDot } from '../validate.js';
import { assertFiniteResult, type GpuContext } from './context.js';
import { grid1d, type GpuProgram } from './program.js';

type DotUniform = 'n' | 'm' | 'wStride' | 'bStride';

const dotProgram: GpuProgram<DotUniform> = {
  name: 'batched-weighted-dot',
  cacheKey: 'batched-weighted-dot',
  workgroupSize: [256, 1, 1],
  uniforms: [['n', 'u32'], ['m', 'u32'], ['wStride', 'u32'], ['bStride', 'u32']],
  storage: [
    { name: 'w', access: 'read' },
    { name: 'a', access: 'read' },
    { name: 'b', access: 'read' },
    { name: 'out', access: 'read_write' },
  ],
  body: () => `
var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = wg.x + wg.y * nwg.x;
  if (j >= u.m) { return; }
  let wo = j * u.wStride;
  let ao = j * u.n;
  let bo = j * u.bStride;
  var s = 0.0;
  for (var i = li; i < u.n; i += 256u) { s = fma(w[wo + i] * a[ao + i], b[bo + i], s); }
  part[li] = s;
  workgroupBarrier();
  for (var h = 128u; h > 0u; h = h / 2u) {
    if (li < h) { part[li] += part[li + h]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[j] = part[0]; }
}
`,
};

export async function webGpuBatchedWeightedDot(ctx: GpuContext, w: F64Matrix, a: F64Matrix, b: F64Matrix): Promise<Float64Array> {
  const { n, m } = checkBatchedWeightedDot('webgpu', w, a, b);
  const shapes = `w ${shapeOf(w)}, a ${shapeOf(a)}, b ${shapeOf(b)}`;
  return ctx.run('batchedWeightedDot', shapes, async (scope) => {
    if (m === 0) return new Float64Array(0);
    if (n === 0) return new Float64Array(m);
    const dw = ctx.upload(scope, 'w', w);
    const da = ctx.upload(scope, 'a', a);
    const db = ctx.upload(scope, 'b', b);
    const out = ctx.scratch(scope, 'out', m);
    ctx.submit(scope, [{
      program: dotProgram,
      uniforms: { n, m, wStride: w.cols === 1 ? 0 : n, bStride: b.cols === 1 ? 0 : n },
      buffers: [dw.buffer, da.buffer, db.buffer, out],
      workgroups: grid1d(m, ctx.maxWorkgroupsPerDim),
    }]);
    const r = await ctx.read(scope, out, m);
    assertFiniteResult(scope, r, 1);
    return Float64Array.from(r);
  });
}
