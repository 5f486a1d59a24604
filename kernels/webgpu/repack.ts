/**
 * Repack: a packed copy of a device matrix with an index map, so the solvers need only one canonical case
 * (lower triangular, left side) and held matrices can be transformed on the device:
 *
 *   out(i, j) = alpha * in(s_i, s_j),  out is rows x cols packed, where with r = flipRows ? rows-1-i : i and
 *   c = flipCols ? cols-1-j : j:  (s_i, s_j) = transpose ? (c, r) : (r, c), then (max, min) of the pair
 *   when `symmetrizeLower` (reads only the lower triangle of a square input).
 *
 * Flipping rows and columns of a triangular matrix (J T J, J the reversal) turns upper into lower.
 * Precision: exact (alpha = 1) or one f32 rounding. Cost: rows * cols reads and writes.
 */
import type { DeviceMatrix, GpuContext, OpScope } from './context.js';
import type { Dispatch, GpuProgram } from './program.js';

export interface RepackMap {
  transpose?: boolean;
  flipRows?: boolean;
  flipCols?: boolean;
  symmetrizeLower?: boolean;
  alpha?: number;
}

type RepackUniform = 'rows' | 'cols' | 'ldIn' | 'offIn' | 'flags' | 'alpha';

const repackProgram: GpuProgram<RepackUniform> = {
  name: 'repack',
  cacheKey: 'repack',
  workgroupSize: [16, 16, 1],
  uniforms: [['rows', 'u32'], ['cols', 'u32'], ['ldIn', 'u32'], ['offIn', 'u32'], ['flags', 'u32'], ['alpha', 'f32']],
  storage: [
    { name: 'src', access: 'read' },
    { name: 'dst', access: 'read_write' },
  ],
  body: () => `
@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x;
  let j = g.y;
  if (i >= u.rows || j >= u.cols) { return; }
  let r = select(i, u.rows - 1u - i, (u.flags & 2u) != 0u);
  let c = select(j, u.cols - 1u - j, (u.flags & 4u) != 0u);
  var si = select(r, c, (u.flags & 1u) != 0u);
  var sj = select(c, r, (u.flags & 1u) != 0u);
  if ((u.flags & 8u) != 0u) {
    let hi = max(si, sj);
    sj = min(si, sj);
    si = hi;
  }
  dst[i + j * u.rows] = u.alpha * src[u.offIn + si + sj * u.ldIn];
}
`,
};

/** Output shape of repacking `src` with `map`. */
function repackShape(src: DeviceMatrix, map: RepackMap): [number, number] {
  return map.transpose ? [src.cols, src.rows] : [src.rows, src.cols];
}

/** A new packed device matrix (freed with the op) and the dispatch that fills it from `src`. */
export function repack(ctx: GpuContext, scope: OpScope, what: string, src: DeviceMatrix, map: RepackMap): { out: DeviceMatrix; dispatch: Dispatch } {
  const [rows, cols] = repackShape(src, map);
  const out = ctx.zeros(scope, what, rows, cols);
  const flags = (map.transpose ? 1 : 0) | (map.flipRows ? 2 : 0) | (map.flipCols ? 4 : 0) | (map.symmetrizeLower ? 8 : 0);
  const dispatch: Dispatch<RepackUniform> = {
    program: repackProgram,
    uniforms: { rows, cols, ldIn: src.ld, offIn: src.offset, flags, alpha: map.alpha ?? 1 },
    buffers: [src.buffer, out.buffer],
    workgroups: [Math.max(1, Math.ceil(rows / 16)), Math.max(1, Math.ceil(cols / 16)), 1],
  };
  return { out, dispatch };
}
