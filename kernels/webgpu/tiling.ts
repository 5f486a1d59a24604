/**
 * The one tiled matrix-product generator shared by gemm, syrk, the trsm updates and the potrf updates:
 *
 *   C[m x n] = alpha * op(A) op(B) + beta * C,   op(X) = X or X^T,   all operands column-major with
 *   explicit leading dimension and element offset (so a sub-block of a larger device matrix is an operand).
 *
 * Scheme (makeMatMulPackedSource-like, adapted to column-major):
 * - a workgroup of 16 x 16 threads computes a BM x BM tile of C (BM = 16 * TM, TM = 4 or 8);
 * - K advances in steps of BK = 16: both operand tiles are staged in workgroup memory as vec4 rows along
 *   the output's m (A) and n (B) axes, padded by one vec4 per row so transposed staging stores spread over
 *   banks; global loads are coalesced along whichever axis is contiguous in memory for that transpose, and
 *   go through registers one step ahead (the next step's loads are in flight during this step's FMAs);
 * - each thread keeps a TM x TM register tile: per k step it reads TM/4 vec4 of A and TM/4 vec4 of B
 *   (thread x reads vec4 index x + 16 r: consecutive threads read consecutive vec4, conflict-free; the two
 *   y values of a 32-wide warp read 2 addresses of B: broadcast) and does TM^2 fused multiply-adds;
 * - thread x owns rows 4x + 64 r of the tile, so the epilogue writes consecutive rows from consecutive
 *   threads: coalesced column-major stores (alpha, and beta * C read only when beta != 0).
 * - `triangle`: only tiles on or below the diagonal are launched (syrk, Cholesky trailing updates);
 *   entries above the diagonal inside diagonal tiles are computed too, the rest of the upper triangle is
 *   never written.
 *
 * Precision: f32 products, f32 accumulation in K order; error about K * 2^-24 * sum_k |a_ik b_kj|.
 * Cost: 2 m n K flops (half of that in triangle mode); global traffic (m n K)(1/BM + 1/BM) * 4 bytes.
 */
import { getFlag } from '../../src/flags.js';
import type { DeviceMatrix } from './context.js';
import { grid1d, type Dispatch, type GpuProgram } from './program.js';

export interface MatmulVariant {
  readonly transA: boolean;
  readonly transB: boolean;
  /** Register tile per thread is tm x tm; the workgroup tile is 16 tm square. */
  readonly tm: 4 | 8;
  /** Launch only tiles on or below the diagonal (requires m = n). */
  readonly triangle: boolean;
}

type MatmulUniform = 'M' | 'N' | 'K' | 'lda' | 'ldb' | 'ldc' | 'offA' | 'offB' | 'offC' | 'alpha' | 'beta';

const BK = 16;

export function matmulProgram(v: MatmulVariant): GpuProgram<MatmulUniform> {
  const bm = 16 * v.tm;
  return {
    name: 'matmul',
    cacheKey: `matmul-${v.transA ? 't' : 'n'}${v.transB ? 't' : 'n'}-tm${v.tm}${v.triangle ? '-lower' : ''}`,
    workgroupSize: [16, 16, 1],
    uniforms: [
      ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['lda', 'u32'], ['ldb', 'u32'], ['ldc', 'u32'],
      ['offA', 'u32'], ['offB', 'u32'], ['offC', 'u32'], ['alpha', 'f32'], ['beta', 'f32'],
    ],
    storage: [
      { name: 'a', access: 'read' },
      { name: 'b', access: 'read' },
      { name: 'c', access: 'read_write' },
    ],
    body: () => matmulBody(v, bm),
  };
}

function matmulBody(v: MatmulVariant, bm: number): string {
  const chunks = v.tm / 4;
  const range = (k: number) => Array.from({ length: k }, (_, i) => i);
  const accName = (col: number, r: number) => `acc${col}_${r}`;
  const decl = range(v.tm).flatMap((col) => range(chunks).map((r) => `  var ${accName(col, r)} = vec4<f32>(0.0);`));
  const loadFrag = [
    ...range(chunks).map((r) => `      let a${r} = As[p * AS + lx + ${16 * r}u];`),
    ...range(chunks).map((c) => `      let b${c} = Bs[p * AS + ly + ${16 * c}u];`),
  ];
  const fma = range(chunks).flatMap((c) =>
    range(4).flatMap((jj) => range(chunks).map((r) => `      ${accName(4 * c + jj, r)} = fma(a${r}, vec4<f32>(b${c}[${jj}]), ${accName(4 * c + jj, r)});`)),
  );
  // Epilogue as a loop over the register tile (q = (4 c + jj) chunks + r): unrolled, it multiplies
  // compile time on LLVM-based drivers (lavapipe: 17 s for TM = 8); GPU compilers unroll it back.
  const outs = range(chunks).flatMap((c) => range(4).flatMap((jj) => range(chunks).map((r) => accName(4 * c + jj, r))));
  // Staging loops: idx runs fastest along the axis that is contiguous in memory.
  const stageA = v.transA
    ? 'let p = idx % BK; let i = idx / BK;'
    : 'let i = idx % BM; let p = idx / BM;';
  const stageB = v.transB
    ? 'let j = idx % BM; let p = idx / BM;'
    : 'let p = idx % BK; let j = idx / BK;';
  // Staging through registers: thread li moves elements idx = li + 256 l of each operand tile.
  const loads = range((bm * BK) / 256);
  const regDecl = loads.map((l) => `  var ra${l} = 0.0;\n  var rb${l} = 0.0;`).join('\n');
  const fetch = (k0: string) =>
    loads
      .map((l) => `    { let idx = li + ${256 * l}u; { ${stageA} ra${l} = loadA(row0 + i, ${k0} + p); } { ${stageB} rb${l} = loadB(${k0} + p, col0 + j); } }`)
      .join('\n');
  const stash = loads
    .map((l) => `    { let idx = li + ${256 * l}u; { ${stageA} As[p * AS + i / 4u][i % 4u] = ra${l}; } { ${stageB} Bs[p * AS + j / 4u][j % 4u] = rb${l}; } }`)
    .join('\n');
  const tile = v.triangle
    ? `  let t = wg.x + wg.y * nwg.x;
  let tiles = (u.M + BM - 1u) / BM;
  if (t >= tiles * (tiles + 1u) / 2u) { return; }
  var bi = u32((sqrt(8.0 * f32(t) + 1.0) - 1.0) * 0.5);
  loop { if (bi * (bi + 1u) / 2u <= t) { break; } bi = bi - 1u; }
  loop { if ((bi + 1u) * (bi + 2u) / 2u > t) { break; } bi = bi + 1u; }
  let bj = t - bi * (bi + 1u) / 2u;
  let row0 = bi * BM;
  let col0 = bj * BM;`
    : `  let row0 = wg.x * BM;
  let col0 = wg.y * BM;`;
  return `
const BM = ${bm}u;
const BK = ${BK}u;
const AS = ${bm / 4 + 1}u; // vec4 per staged k-row, one vec4 of padding
var<workgroup> As: array<vec4<f32>, ${BK * (bm / 4 + 1)}>;
var<workgroup> Bs: array<vec4<f32>, ${BK * (bm / 4 + 1)}>;

fn loadA(i: u32, p: u32) -> f32 {
  if (i >= u.M || p >= u.K) { return 0.0; }
  return a[u.offA + ${v.transA ? 'p + i * u.lda' : 'i + p * u.lda'}];
}

fn loadB(p: u32, j: u32) -> f32 {
  if (p >= u.K || j >= u.N) { return 0.0; }
  return b[u.offB + ${v.transB ? 'j + p * u.ldb' : 'p + j * u.ldb'}];
}

fn storeRows(i0: u32, j: u32, acc: vec4<f32>) {
  if (j >= u.N) { return; }
  for (var ii = 0u; ii < 4u; ii++) {
    let i = i0 + ii;
    if (i < u.M) {
      let at = u.offC + i + j * u.ldc;
      var x = u.alpha * acc[ii];
      if (u.beta != 0.0) { x = x + u.beta * c[at]; }
      c[at] = x;
    }
  }
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${tile}
  let lx = lid.x;
  let ly = lid.y;
${decl.join('\n')}
${regDecl}
  let steps = (u.K + BK - 1u) / BK;
${fetch('0u')}
  for (var s = 0u; s < steps; s++) {
    let k0 = s * BK;
${stash}
    workgroupBarrier();
    // Prefetch the next K step into registers: its global loads are in flight during this step's FMAs.
    if (s + 1u < steps) {
${fetch('k0 + BK')}
    }
    let pEnd = min(BK, u.K - k0); // runtime bound: also keeps LLVM-based drivers from unrolling 16 x TM^2 FMAs
    for (var p = 0u; p < pEnd; p++) {
${loadFrag.join('\n')}
${fma.join('\n')}
    }
    workgroupBarrier();
  }
  var outs = array<vec4<f32>, ${outs.length}>(${outs.join(', ')});
  for (var q = 0u; q < ${outs.length}u; q++) {
    let r = q % ${chunks}u;
    let jj = (q / ${chunks}u) % 4u;
    let cq = q / ${4 * chunks}u;
    storeRows(row0 + 4u * lx + 64u * r, col0 + 4u * ly + 64u * cq + jj, outs[q]);
  }
}
`;
}

/** One matrix product on device operands; op(A) is m x k, op(B) is k x n, C is m x n (written in place). */
export interface MatmulCall {
  readonly a: DeviceMatrix;
  readonly b: DeviceMatrix;
  readonly c: DeviceMatrix;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly alpha: number;
  /** 0 never reads C. */
  readonly beta: number;
  readonly triangle?: boolean;
}

/** The device limits a matmul dispatch must respect. */
export interface DispatchLimits {
  readonly maxWorkgroupsPerDim: number;
  readonly maxWorkgroupBytes: number;
}

/** Workgroup memory of one matmul variant: two BK x (BM + 4) f32 staging tiles. */
export function matmulWorkgroupBytes(tm: 4 | 8): number {
  return 2 * BK * (4 * tm + 1) * 16;
}

/**
 * Register tile for a product of this output size: 8 x 8 once there are enough 128-wide tiles to fill a GPU
 * and the device has the workgroup memory (16.5 KiB; WebGPU's default limit is 16 KiB), else 4 x 4.
 */
export function chooseTm(m: number, n: number, maxWorkgroupBytes: number): 4 | 8 {
  const flag = getFlag('webgpuTile');
  const want = flag === 'auto' ? (Math.ceil(m / 128) * Math.ceil(n / 128) >= 128 ? 8 : 4) : flag === '128' ? 8 : 4;
  return want === 8 && matmulWorkgroupBytes(8) <= maxWorkgroupBytes ? 8 : 4;
}

/** The dispatch computing `call` (tile size chosen from the output shape and the device limits). */
export function matmulDispatch(call: MatmulCall, limits: DispatchLimits): Dispatch<MatmulUniform> {
  const maxPerDim = limits.maxWorkgroupsPerDim;
  const triangle = call.triangle ?? false;
  if (triangle && call.m !== call.n) throw new Error(`matmul: triangle mode needs a square result, got ${call.m}x${call.n}`);
  const tm = chooseTm(call.m, call.n, limits.maxWorkgroupBytes);
  const bm = 16 * tm;
  const tr = Math.ceil(call.m / bm);
  const tc = Math.ceil(call.n / bm);
  let workgroups: [number, number, number];
  if (triangle) {
    workgroups = grid1d((tr * (tr + 1)) / 2, maxPerDim);
  } else {
    if (tr > maxPerDim || tc > maxPerDim) throw new Error(`matmul: ${call.m}x${call.n} needs more than ${maxPerDim} tiles per dimension`);
    workgroups = [Math.max(1, tr), Math.max(1, tc), 1];
  }
  return {
    program: matmulProgram({ transA: call.transA, transB: call.transB, tm, triangle }),
    uniforms: {
      M: call.m, N: call.n, K: call.k,
      lda: call.a.ld, ldb: call.b.ld, ldc: call.c.ld,
      offA: call.a.offset, offB: call.b.offset, offC: call.c.offset,
      alpha: call.alpha, beta: call.beta,
    },
    buffers: [call.a.buffer, call.b.buffer, call.c.buffer],
    workgroups,
  };
}
