/**
 * Batched weighted reduction on the cpu, f64: out[j] = sum_i w[i, j'] a[i, j] b[i, j''] where w and b are
 * n x m or n x 1 (broadcast: j' = 0 or j'' = 0). Cost 3nm flops, one pass over each operand column.
 */
import type { F64Matrix } from '../matrix.js';
import { checkBatchedWeightedDot } from '../validate.js';

/** Returns the m column sums; throws KernelError (op 'batchedWeightedDot', backend 'cpu') on bad input. */
export function cpuBatchedWeightedDot(w: F64Matrix, a: F64Matrix, b: F64Matrix): Float64Array {
  const { n, m } = checkBatchedWeightedDot('cpu', w, a, b);
  const out = new Float64Array(m);
  const wd = w.data, ad = a.data, bd = b.data;
  const wBroad = w.cols === 1 && m !== 1;
  const bBroad = b.cols === 1 && m !== 1;
  // With both w and b broadcast, fold them once into u = w .* b and reduce every column of a against u.
  const u = wBroad && bBroad ? new Float64Array(n) : null;
  if (u) for (let i = 0; i < n; i++) u[i] = wd[i]! * bd[i]!;
  for (let j = 0; j < m; j++) {
    const ac = j * a.ld;
    let s0 = 0, s1 = 0;
    let i = 0;
    if (u) {
      for (; i + 1 < n; i += 2) {
        s0 += u[i]! * ad[ac + i]!;
        s1 += u[i + 1]! * ad[ac + i + 1]!;
      }
      if (i < n) s0 += u[i]! * ad[ac + i]!;
    } else {
      const wc = wBroad ? 0 : j * w.ld;
      const bc = bBroad ? 0 : j * b.ld;
      for (; i + 1 < n; i += 2) {
        s0 += wd[wc + i]! * ad[ac + i]! * bd[bc + i]!;
        s1 += wd[wc + i + 1]! * ad[ac + i + 1]! * bd[bc + i + 1]!;
      }
      if (i < n) s0 += wd[wc + i]! * ad[ac + i]! * bd[bc + i]!;
    }
    out[j] = s0 + s1;
  }
  return out;
}
