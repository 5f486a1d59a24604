/**
 * potrf on WebGPU: blocked right-looking Cholesky A = L L^T in f32, entirely on the device, one submission.
 *
 *   for k0 = 0, NB, 2 NB, ...:
 *     L_kk = chol(A_kk)                   one workgroup, the block in workgroup memory; a pivot <= 0 or not
 *                                         finite records (column, pivot) in a status buffer
 *     L_bk = A_bk L_kk^{-T}               rows are independent: the trsm block solver, parallel over rows,
 *                                         also writing a packed copy P of the panel
 *     A_bb = A_bb - P P^T                 lower tiles only (the shared tiled matmul in triangle mode)
 *
 * After the submission the status is read: a failed pivot throws NotPositiveDefiniteError with its
 * 0-based column (the first failing one). Only the lower triangle of A is read; the upper of L is zero.
 * Precision: f32; matrices whose condition number approaches 1 / 2^-24 may be reported as not positive
 * definite here while the f64 cpu backend factors them. Cost: n^3 / 3 flops, 3 n / NB dispatches.
 */
import { NotPositiveDefiniteError } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkSquare } from '../validate.js';
import type { GpuContext } from './context.js';
import type { Dispatch, GpuProgram } from './program.js';
import { matmulDispatch } from './tiling.js';
import { blockSolveProgram, NB } from './trsm.js';

type Potf2Uniform = 'ld' | 'off' | 'nb' | 'k0';

/** Unblocked Cholesky of one nb x nb (nb <= NB) diagonal block, written back to `a` and packed to `dl`. */
const potf2Program: GpuProgram<Potf2Uniform> = {
  name: 'potf2',
  cacheKey: `potf2-nb${NB}`,
  workgroupSize: [256, 1, 1],
  uniforms: [['ld', 'u32'], ['off', 'u32'], ['nb', 'u32'], ['k0', 'u32']],
  storage: [
    { name: 'a', access: 'read_write' },
    { name: 'dl', access: 'read_write' },
    { name: 'status', access: 'read_write' },
  ],
  body: () => `
const NB = ${NB}u;
const MAXF = 3.4028234e38;
var<workgroup> S: array<f32, ${NB * NB}>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_index) li: u32) {
  for (var e = li; e < NB * NB; e += 256u) {
    let i = e % NB;
    let c = e / NB;
    var v = 0.0;
    if (i < u.nb && c < u.nb) { v = a[u.off + i + c * u.ld]; }
    S[e] = v;
  }
  workgroupBarrier();
  for (var j = 0u; j < u.nb; j++) {
    // Pivot: the Schur complement's diagonal entry.
    let d = S[j + j * NB];
    workgroupBarrier();
    if (li == 0u) {
      if (!(d > 0.0 && d <= MAXF) && status[0] < 0.0) {
        status[0] = f32(u.k0 + j);
        status[1] = d;
      }
      S[j + j * NB] = sqrt(d);
    }
    let ljj = sqrt(d);
    for (var i = j + 1u + li; i < u.nb; i += 256u) { S[i + j * NB] = S[i + j * NB] / ljj; }
    workgroupBarrier();
    // Rank-1 update of the trailing lower triangle.
    let m = u.nb - j - 1u;
    for (var e = li; e < m * m; e += 256u) {
      let i = j + 1u + e % m;
      let c = j + 1u + e / m;
      if (c <= i) { S[i + c * NB] = S[i + c * NB] - S[i + j * NB] * S[c + j * NB]; }
    }
    workgroupBarrier();
  }
  for (var e = li; e < NB * NB; e += 256u) {
    let i = e % NB;
    let c = e / NB;
    let inside = i < u.nb && c <= i;
    dl[e] = select(0.0, S[e], inside);
    if (inside) { a[u.off + i + c * u.ld] = S[e]; }
  }
}
`,
};

export async function webGpuPotrf(ctx: GpuContext, a: F64Matrix): Promise<F64Matrix> {
  const n = checkSquare('potrf', 'webgpu', a);
  const shapes = `A ${shapeOf(a)}`;
  return ctx.run('potrf', shapes, async (scope) => {
    if (n === 0) return f64Matrix(0, 0);
    const da = ctx.uploadCopy(scope, 'A', a);
    const ld = da.ld;
    const dl = ctx.scratch(scope, 'diagonal block', NB * NB);
    const panel = ctx.scratch(scope, 'panel', n * NB);
    const status = ctx.bufferFrom(scope, Float32Array.of(-1, 0));
    const steps: Dispatch[] = [];
    for (let k0 = 0; k0 < n; k0 += NB) {
      const nb = Math.min(NB, n - k0);
      const rest = n - k0 - nb;
      // L_kk = chol(A_kk)
      steps.push({ program: potf2Program, uniforms: { ld, off: k0 + k0 * ld, nb, k0 }, buffers: [da.buffer, dl, status], workgroups: [1, 1, 1] });
      if (rest === 0) break;
      // L_bk = A_bk L_kk^{-T}: row r of the panel solves L_kk y = A_bk[r, :]^T; P[r, :] = y^T.
      steps.push({
        program: blockSolveProgram('rhs'),
        uniforms: {
          nb, count: rest, lOff: 0, ldL: NB,
          xOff: k0 + nb + k0 * ld, xsI: ld, xsJ: 1, sOff: 0, ssI: n, ssJ: 1,
          unit: 0, writeS: 1,
        },
        buffers: [dl, da.buffer, panel],
        workgroups: [Math.ceil(rest / 64), 1, 1],
      });
      // A_bb -= P P^T (lower tiles)
      const p = { buffer: panel, rows: rest, cols: nb, ld: n, offset: 0 };
      steps.push(matmulDispatch({
        a: p, b: p, c: { ...da, offset: (k0 + nb) * (1 + ld) },
        m: rest, n: rest, k: nb, transA: false, transB: true, alpha: -1, beta: 1, triangle: true,
      }, ctx));
    }
    ctx.submit(scope, steps);
    const st = await ctx.read(scope, status, 2);
    if (st[0]! >= 0) throw new NotPositiveDefiniteError('webgpu', shapes, st[0]!, st[1]!);
    return ctx.download(scope, da, 'lower-zero');
  });
}
