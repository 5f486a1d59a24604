/**
 * Triangular solves on WebGPU (f32), blocked so that every step is parallel across right-hand sides.
 *
 * Every variant is reduced on the device (kernels/webgpu/repack.ts) to the canonical one, L X = B with L
 * lower and X overwritten in place: right-side solves transpose B and op(T); an upper effective matrix
 * is reversed (J U J is lower, J the reversal). The canonical solve is right-looking with blocks of NB rows:
 *   for each diagonal block k:  X_k <- L_kk^{-1} X_k      (one workgroup per 64 right-hand sides,
 *                                                          L_kk and X_k staged in workgroup memory)
 *                               X_below <- X_below - L_below,k X_k   (the shared tiled matmul)
 * Precision: f32; forward error about n * 2^-24 * cond(T) relative. Cost: n^2 r flops, 2 n / NB dispatches.
 */
import type { TrsmOptions } from '../backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import { checkTrsm } from '../validate.js';
import type { DeviceMatrix, GpuContext, OpScope } from './context.js';
import { grid1d, type Dispatch, type GpuProgram } from './program.js';
import { repack } from './repack.js';
import { matmulDispatch } from './tiling.js';

/** Rows per diagonal block (shared with potrf, whose diagonal blocks this kernel solves against). */
export const NB = 32;
/** Right-hand sides per workgroup (one thread each). */
const RHS = 64;

/** Which index of the right-hand-side block is contiguous in memory (it drives the staging loop order). */
export type Contiguous = 'row' | 'rhs';

type SolveUniform = 'nb' | 'count' | 'lOff' | 'ldL' | 'xOff' | 'xsI' | 'xsJ' | 'sOff' | 'ssI' | 'ssJ' | 'unit' | 'writeS';

/**
 * Solves L y = x for `count` vectors against one nb x nb (nb <= NB) lower block L, in place:
 * element i of vector j sits at x[xOff + i xsI + j xsJ]; the solution is also written to
 * s[sOff + i ssI + j ssJ] when writeS != 0 (a packed copy for the update that follows).
 */
export function blockSolveProgram(contiguous: Contiguous): GpuProgram<SolveUniform> {
  const stage = contiguous === 'row' ? 'let i = e % NB; let j = e / NB;' : 'let j = e % RHS; let i = e / RHS;';
  return {
    name: 'block-solve',
    cacheKey: `block-solve-nb${NB}-${contiguous}`,
    workgroupSize: [RHS, 1, 1],
    uniforms: [
      ['nb', 'u32'], ['count', 'u32'], ['lOff', 'u32'], ['ldL', 'u32'], ['xOff', 'u32'], ['xsI', 'u32'], ['xsJ', 'u32'],
      ['sOff', 'u32'], ['ssI', 'u32'], ['ssJ', 'u32'], ['unit', 'u32'], ['writeS', 'u32'],
    ],
    storage: [
      { name: 'lmat', access: 'read' },
      { name: 'x', access: 'read_write' },
      { name: 's', access: 'read_write' },
    ],
    body: () => `
const NB = ${NB}u;
const RHS = ${RHS}u;
const XS = ${RHS + 1}u; // padded row stride of the staged block
var<workgroup> Ls: array<f32, ${NB * NB}>;
var<workgroup> Xs: array<f32, ${NB * (RHS + 1)}>;

@compute @workgroup_size(${RHS}, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let j0 = (wg.x + wg.y * nwg.x) * RHS;
  if (j0 >= u.count) { return; }
  // Stage the lower triangle of the diagonal block and this workgroup's right-hand sides.
  for (var e = li; e < NB * NB; e += RHS) {
    let i = e % NB;
    let c = e / NB;
    var v = 0.0;
    if (i < u.nb && c <= i) { v = lmat[u.lOff + i + c * u.ldL]; }
    Ls[e] = v;
  }
  for (var e = li; e < NB * RHS; e += RHS) {
    ${stage}
    var v = 0.0;
    if (i < u.nb && j0 + j < u.count) { v = x[u.xOff + i * u.xsI + (j0 + j) * u.xsJ]; }
    Xs[i * XS + j] = v;
  }
  workgroupBarrier();
  // Forward substitution, one right-hand side per thread.
  for (var i = 0u; i < u.nb; i++) {
    var acc = Xs[i * XS + li];
    for (var c = 0u; c < i; c++) { acc = acc - Ls[i + c * NB] * Xs[c * XS + li]; }
    if (u.unit == 0u) { acc = acc / Ls[i + i * NB]; }
    Xs[i * XS + li] = acc;
  }
  workgroupBarrier();
  for (var e = li; e < NB * RHS; e += RHS) {
    ${stage}
    if (i < u.nb && j0 + j < u.count) {
      let v = Xs[i * XS + j];
      x[u.xOff + i * u.xsI + (j0 + j) * u.xsJ] = v;
      if (u.writeS != 0u) { s[u.sOff + i * u.ssI + (j0 + j) * u.ssJ] = v; }
    }
  }
}
`,
  };
}

/** The dispatches solving L X = X in place (L packed-or-strided n x n lower, X n x r); see the file comment. */
export function lowerSolveDispatches(ctx: GpuContext, scope: OpScope, l: DeviceMatrix, x: DeviceMatrix, unit: boolean): Dispatch[] {
  const n = l.rows;
  const r = x.cols;
  const s = ctx.scratch(scope, 'trsm block copy', NB * r);
  const out: Dispatch[] = [];
  for (let k0 = 0; k0 < n; k0 += NB) {
    const nb = Math.min(NB, n - k0);
    const rest = n - k0 - nb;
    out.push({
      program: blockSolveProgram('row'),
      uniforms: {
        nb, count: r, lOff: l.offset + k0 + k0 * l.ld, ldL: l.ld,
        xOff: x.offset + k0, xsI: 1, xsJ: x.ld, sOff: 0, ssI: 1, ssJ: NB,
        unit: unit ? 1 : 0, writeS: rest > 0 ? 1 : 0,
      },
      buffers: [l.buffer, x.buffer, s],
      workgroups: grid1d(Math.ceil(r / RHS), ctx.maxWorkgroupsPerDim),
    });
    if (rest > 0) {
      out.push(matmulDispatch({
        a: { ...l, offset: l.offset + k0 + nb + k0 * l.ld },
        b: { buffer: s, rows: nb, cols: r, ld: NB, offset: 0 },
        c: { ...x, offset: x.offset + k0 + nb },
        m: rest, n: r, k: nb, transA: false, transB: false, alpha: -1, beta: 1,
      }, ctx));
    }
  }
  return out;
}

/** trsm (see TrsmOptions): op(T) X = alpha B or X op(T) = alpha B; T's other triangle is never read. */
export async function webGpuTrsm(ctx: GpuContext, t: F64Matrix, b: F64Matrix, opts: TrsmOptions = {}): Promise<F64Matrix> {
  checkTrsm('webgpu', t, b, opts);
  const shapes = `T ${shapeOf(t)}, B ${shapeOf(b)}`;
  return ctx.run('trsm', shapes, async (scope) => {
    if (b.rows * b.cols === 0) return f64Matrix(b.rows, b.cols);
    const right = (opts.side ?? 'left') === 'right';
    // Effective left-side matrix E = op(T) (left) or op(T)^T (right); E is lower unless flipped.
    const tr = (opts.trans ?? false) !== right;
    const flip = (opts.lower ?? true) === tr;
    const dt = ctx.upload(scope, 'T', t);
    const db = ctx.upload(scope, 'B', b);
    const steps: Dispatch[] = [];
    let l = dt;
    if (tr || flip) {
      const e = repack(ctx, scope, 'T repacked', dt, { transpose: tr, flipRows: flip, flipCols: flip });
      steps.push(e.dispatch);
      l = e.out;
    }
    const x = repack(ctx, scope, 'X', db, { transpose: right, flipRows: flip, alpha: opts.alpha ?? 1 });
    steps.push(x.dispatch, ...lowerSolveDispatches(ctx, scope, l, x.out, opts.unitDiagonal ?? false));
    let result = x.out;
    if (right || flip) {
      const back = repack(ctx, scope, 'X result', x.out, right ? { transpose: true, flipCols: flip } : { flipRows: flip });
      steps.push(back.dispatch);
      result = back.out;
    }
    ctx.submit(scope, steps);
    return ctx.download(scope, result);
  });
}

/** potrs: solves (L L^T) X = B given the lower Cholesky factor L: L Y = B, then L^T X = Y (reversed to lower). */
export async function webGpuPotrs(ctx: GpuContext, l: F64Matrix, b: F64Matrix): Promise<F64Matrix> {
  checkTrsm('webgpu', l, b, {}, 'potrs');
  const shapes = `L ${shapeOf(l)}, B ${shapeOf(b)}`;
  return ctx.run('potrs', shapes, async (scope) => {
    if (b.rows * b.cols === 0) return f64Matrix(b.rows, b.cols);
    const dl = ctx.upload(scope, 'L', l);
    const db = ctx.upload(scope, 'B', b);
    const y = repack(ctx, scope, 'Y', db, {});
    const lt = repack(ctx, scope, 'L^T reversed', dl, { transpose: true, flipRows: true, flipCols: true });
    const z = repack(ctx, scope, 'Y reversed', y.out, { flipRows: true });
    const x = repack(ctx, scope, 'X', z.out, { flipRows: true });
    ctx.submit(scope, [
      y.dispatch,
      ...lowerSolveDispatches(ctx, scope, dl, y.out, false),
      lt.dispatch,
      z.dispatch,
      ...lowerSolveDispatches(ctx, scope, lt.out, z.out, false),
      x.dispatch,
    ]);
    return ctx.download(scope, x.out);
  });
}
