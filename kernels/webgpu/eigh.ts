/**
 * eigh on WebGPU: symmetric eigendecomposition A = V diag(w) V^T by parallel cyclic Jacobi in f32.
 *
 * Method: two-sided Jacobi with round-robin (circle method) pairing. n is padded to even N; a sweep is
 * N - 1 rounds, and each round rotates N / 2 disjoint index pairs (p, q) at once:
 *   1. jacobi-params (one workgroup): for each pair, the rotation (c, s) of Golub & Van Loan's symSchur2
 *      that zeroes a_pq: tau = (a_qq - a_pp) / (2 a_pq), t = sign(tau) / (|tau| + sqrt(1 + tau^2)),
 *      c = 1 / sqrt(1 + t^2), s = t c; it then advances the round counter held on the device;
 *   2. jacobi-rotate: thread (k, l) applies A <- J_k^T A J_l to the 2 x 2 block of pairs k, l and
 *      V <- V J_l to rows 2k, 2k + 1 (the pairs are disjoint, so the whole round is one dispatch), in
 *      Rutishauser's form x - s (y + rho x), y + s (x - rho y), rho = s / (1 + c): with the textbook
 *      c x - s y the f32 rounding of c^2 + s^2 - 1 is biased and scales V and A a little at every rotation
 *      (that bias made eigenvalue errors grow linearly with n on lavapipe);
 * The two dispatches of every round reuse the same bind groups (no per-round uniforms). After each sweep
 * the off-diagonal norm is read back; iteration stops once off(A) <= 4 * 2^-24 * ||A||_F, or once it has
 * reached the f32 rounding floor (off(A) <= 64 * 2^-24 ||A||_F and shrinking by less than 10% a sweep), or
 * after 40 sweeps. Clusters of eigenvalues closer than f32 resolution converge linearly at the end (about 12
 * sweeps for a 30 x 30 matrix with two 10-fold clusters), so the floor test must not be looser than this.
 * A is scaled by a power of two near 1 / max|a_ij| first (and the eigenvalues back), so squares never overflow f32.
 * Eigenvalues are sorted ascending on the host, with the columns of V.
 *
 * Precision: f32 throughout; eigenvalues within a few 1e-6 of the f64 result relative to max |w| for
 * n <= 256, V orthonormal to about 1e-6 (test/kernels/webgpu/eigh.test.ts holds both to 1e-5). Cost: about 4 n^3 flops per sweep, typically 6-10 sweeps (quadratic convergence),
 * 2 (N - 1) dispatches and one small read per sweep; memory traffic 2 n^2 * 8 bytes per round.
 * Only the lower triangle of A is read.
 */
import { f64Matrix, shapeOf, type F64Matrix } from '../matrix.js';
import type { EighResult } from '../backend.js';
import { checkSquare } from '../validate.js';
import { assertFiniteResult, type GpuContext, type OpScope, type PreparedDispatch } from './context.js';
import type { GpuProgram } from './program.js';
import { repack } from './repack.js';

const MAX_SWEEPS = 40;
const EPS32 = 2 ** -24;

const paramsProgram: GpuProgram<'n' | 'nEven'> = {
  name: 'jacobi-params',
  cacheKey: 'jacobi-params',
  workgroupSize: [256, 1, 1],
  uniforms: [['n', 'u32'], ['nEven', 'u32']],
  storage: [
    { name: 'a', access: 'read' },
    { name: 'rot', access: 'read_write' },
    { name: 'state', access: 'read_write', element: 'u32' },
  ],
  body: () => `
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_index) li: u32) {
  let players = u.nEven - 1u;
  let round = state[0];
  for (var k = li; k < u.nEven / 2u; k += 256u) {
    // Circle method: player nEven-1 stays, the others rotate by one each round.
    var p = u.nEven - 1u;
    var q = round;
    if (k > 0u) {
      p = (round + k) % players;
      q = (round + players - k) % players;
    }
    let lo = min(p, q);
    let hi = max(p, q);
    var c = 1.0;
    var s = 0.0;
    if (hi < u.n) {
      let apq = a[hi + lo * u.n];
      if (apq != 0.0) {
        let tau = (a[hi + hi * u.n] - a[lo + lo * u.n]) / (2.0 * apq);
        var t: f32;
        if (abs(tau) > 1.0e18) {
          t = 0.5 / tau;
        } else {
          t = sign(tau) / (abs(tau) + sqrt(1.0 + tau * tau));
          if (tau == 0.0) { t = 1.0; }
        }
        c = 1.0 / sqrt(1.0 + t * t);
        s = t * c;
      }
    }
    rot[4u * k] = f32(lo);
    rot[4u * k + 1u] = f32(hi);
    rot[4u * k + 2u] = s;
    rot[4u * k + 3u] = s / (1.0 + c);
  }
  storageBarrier();
  workgroupBarrier();
  if (li == 0u) { state[0] = (round + 1u) % players; }
}
`,
};

const rotateProgram: GpuProgram<'n' | 'pairs'> = {
  name: 'jacobi-rotate',
  cacheKey: 'jacobi-rotate',
  workgroupSize: [16, 16, 1],
  uniforms: [['n', 'u32'], ['pairs', 'u32']],
  storage: [
    { name: 'a', access: 'read_write' },
    { name: 'v', access: 'read_write' },
    { name: 'rot', access: 'read' },
  ],
  body: () => `
fn ld(i: u32, j: u32) -> f32 {
  if (i >= u.n || j >= u.n) { return 0.0; }
  return a[i + j * u.n];
}

// Rotation of the pair (x, y) by (c, s) in Rutishauser's form: x - s (y + rho x), y + s (x - rho y) with
// rho = s / (1 + c). The cosine never appears, so an inexact c^2 + s^2 = 1 cannot scale V or A a little at
// every rotation (that bias grows linearly with the number of rotations).
fn rot2(x: f32, y: f32, s: f32, rho: f32) -> vec2<f32> {
  return vec2<f32>(x - s * (y + rho * x), y + s * (x - rho * y));
}

fn st(i: u32, j: u32, x: f32) {
  if (i < u.n && j < u.n) { a[i + j * u.n] = x; }
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let k = g.x;
  let l = g.y;
  if (k >= u.pairs || l >= u.pairs) { return; }
  let pk = u32(rot[4u * k]);
  let qk = u32(rot[4u * k + 1u]);
  let sk = rot[4u * k + 2u];
  let rk = rot[4u * k + 3u];
  let pl = u32(rot[4u * l]);
  let ql = u32(rot[4u * l + 1u]);
  let sl = rot[4u * l + 2u];
  let rl = rot[4u * l + 3u];
  // Block of rows (pk, qk) and columns (pl, ql): M <- J_k^T M J_l.
  let m00 = ld(pk, pl);
  let m01 = ld(pk, ql);
  let m10 = ld(qk, pl);
  let m11 = ld(qk, ql);
  let r0 = rot2(m00, m01, sl, rl);
  let r1 = rot2(m10, m11, sl, rl);
  let c0 = rot2(r0.x, r1.x, sk, rk);
  let c1 = rot2(r0.y, r1.y, sk, rk);
  var n00 = c0.x;
  var n01 = c1.x;
  var n10 = c0.y;
  var n11 = c1.y;
  if (k == l) {
    // The pivot block: a_pp - t a_pq, a_qq + t a_pq (t = tan), a_pq = 0 exactly.
    let t = sk / (1.0 - sk * rk);
    n00 = m00 - t * m10;
    n11 = m11 + t * m10;
    n01 = 0.0;
    n10 = 0.0;
  }
  st(pk, pl, n00);
  st(pk, ql, n01);
  st(qk, pl, n10);
  st(qk, ql, n11);
  // V <- V J_l on rows 2k, 2k + 1.
  if (ql < u.n) {
    for (var r = 2u * k; r < min(2u * k + 2u, u.n); r++) {
      let x = rot2(v[r + pl * u.n], v[r + ql * u.n], sl, rl);
      v[r + pl * u.n] = x.x;
      v[r + ql * u.n] = x.y;
    }
  }
}
`,
};

/** norms[0] = sum of squared off-diagonal entries, norms[1] = squared Frobenius norm (one workgroup). */
const normsProgram: GpuProgram<'n'> = {
  name: 'offdiag-norm',
  cacheKey: 'offdiag-norm',
  workgroupSize: [256, 1, 1],
  uniforms: [['n', 'u32']],
  storage: [
    { name: 'a', access: 'read' },
    { name: 'norms', access: 'read_write' },
  ],
  body: () => `
var<workgroup> off: array<f32, 256>;
var<workgroup> tot: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_index) li: u32) {
  var so = 0.0;
  var sa = 0.0;
  for (var j = 0u; j < u.n; j++) {
    for (var i = li; i < u.n; i += 256u) {
      let x = a[i + j * u.n];
      sa += x * x;
      if (i != j) { so += x * x; }
    }
  }
  off[li] = so;
  tot[li] = sa;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w / 2u) {
    if (li < w) {
      off[li] += off[li + w];
      tot[li] += tot[li + w];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    norms[0] = off[0];
    norms[1] = tot[0];
  }
}
`,
};

export async function webGpuEigh(ctx: GpuContext, a: F64Matrix): Promise<EighResult> {
  const n = checkSquare('eigh', 'webgpu', a);
  const shapes = `A ${shapeOf(a)}`;
  return ctx.run('eigh', shapes, async (scope) => {
    // Work on A / 2^ceil(log2 max|a_ij|) so that squares in the norms and rotations stay far from f32 overflow.
    let big = 0;
    for (let j = 0; j < n; j++) for (let i = j; i < n; i++) big = Math.max(big, Math.abs(a.data[i + j * a.ld]!));
    const scale = big === 0 ? 0 : 2 ** Math.ceil(Math.log2(big)); // a power of two: scaling is exact
    if (scale === 0) return sortedPairs(n, 1, new Float32Array(n * n), identityF32(n));
    const sym = repack(ctx, scope, 'A', ctx.upload(scope, 'A', a), { symmetrizeLower: true, alpha: 1 / scale });
    ctx.checkFits(scope, 'V', n * n);
    const v = ctx.bufferFrom(scope, identityF32(n));
    const nEven = n + (n % 2);
    const pairs = nEven / 2;
    const rot = ctx.scratch(scope, 'rotations', 4 * pairs);
    const state = ctx.bufferFrom(scope, Uint32Array.of(0));
    const normsBuf = ctx.scratch(scope, 'norms', 2);
    const params = ctx.prepare(scope, { program: paramsProgram, uniforms: { n, nEven }, buffers: [sym.out.buffer, rot, state], workgroups: [1, 1, 1] });
    const side = Math.ceil(pairs / 16);
    const rotate = ctx.prepare(scope, { program: rotateProgram, uniforms: { n, pairs }, buffers: [sym.out.buffer, v, rot], workgroups: [side, side, 1] });
    const norms = ctx.prepare(scope, { program: normsProgram, uniforms: { n }, buffers: [sym.out.buffer, normsBuf], workgroups: [1, 1, 1] });
    const sweep: PreparedDispatch[] = [];
    for (let r = 0; r < nEven - 1; r++) sweep.push(params, rotate);
    sweep.push(norms);

    ctx.submit(scope, [sym.dispatch, norms]);
    let [off, total] = await readNorms(ctx, scope, normsBuf);
    for (let s = 0; s < MAX_SWEEPS && off > 4 * EPS32 * total; s++) {
      ctx.submit(scope, sweep);
      const prev = off;
      [off, total] = await readNorms(ctx, scope, normsBuf);
      // At the rounding floor (near it and no longer shrinking) more sweeps only stir noise.
      if (off <= 64 * EPS32 * total && off > 0.9 * prev) break;
    }
    const d = await ctx.read(scope, sym.out.buffer, n * n);
    const vectors = await ctx.read(scope, v, n * n);
    assertFiniteResult(scope, d, n);
    assertFiniteResult(scope, vectors, n);
    return sortedPairs(n, scale, d, vectors);
  });
}

async function readNorms(ctx: GpuContext, scope: OpScope, buf: GPUBuffer): Promise<[number, number]> {
  const r = await ctx.read(scope, buf, 2);
  return [Math.sqrt(r[0]!), Math.sqrt(r[1]!)];
}

function identityF32(n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out[i + i * n] = 1;
  return out;
}

/** Diagonal of the rotated A (times `scale`) ascending, with the matching columns of V, widened to f64. */
function sortedPairs(n: number, scale: number, d: Float32Array, v: Float32Array): EighResult {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x + x * n]! - d[y + y * n]!);
  const values = new Float64Array(n);
  const vectors = f64Matrix(n, n);
  order.forEach((src, j) => {
    values[j] = scale * d[src + src * n]!;
    for (let i = 0; i < n; i++) vectors.data[i + j * n] = v[i + src * n]!;
  });
  return { values, vectors };
}
