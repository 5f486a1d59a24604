/**
 * dropRankDeficient keeps the leading independent columns with relative tolerance 1e-7 (lme4's
 * chkRank.drop.cols), whether a design passes the Gram screen (all columns far from dependent) or needs the
 * exact Gram-Schmidt test: columns x + eps z sit at relative distance about eps from the span of x.
 */
import { describe, expect, it } from 'vitest';
import { f64Matrix } from '../../../kernels/matrix.js';
import { dropRankDeficient } from '../../../src/lmm/mixed/design.js';
import { normal, rng } from '../../helpers/random.js';

function design(columns: Float64Array[], names: string[]) {
  const n = columns[0]!.length;
  const x = f64Matrix(n, columns.length);
  columns.forEach((c, j) => x.data.set(c, j * n));
  return { x, names, assign: names.map((_, j) => j - 1) };
}

describe('dropRankDeficient', () => {
  const n = 200;
  const z = normal(rng(3));
  const one = new Float64Array(n).fill(1);
  const x = Float64Array.from({ length: n }, () => z());
  const w = Float64Array.from({ length: n }, () => z());
  const near = (eps: number) => x.map((v, i) => v + eps * w[i]!);

  it('keeps every column of a clearly full-rank design, returning it as it is', () => {
    const d = design([one, x, near(1e-2)], ['(Intercept)', 'x', 'x2']);
    const r = dropRankDeficient(d);
    expect(r.dropped).toEqual([]);
    expect(r.design).toBe(d);
  });
  it.each([
    [1e-5, []],
    [1e-10, ['x2']],
  ])('x + %s w beside x: dropped %j', (eps, dropped) => {
    const r = dropRankDeficient(design([one, x, near(eps)], ['(Intercept)', 'x', 'x2']));
    expect(r.dropped).toEqual(dropped);
    expect(r.design.names).toEqual(['(Intercept)', 'x', 'x2'].filter((s) => !dropped.includes(s)));
  });
  it('drops exact copies, multiples and zero columns, keeping the first of each', () => {
    const zero = new Float64Array(n);
    const r = dropRankDeficient(design([one, x, zero, x.map((v) => 3 * v), w, one.map((v, i) => v + 2 * w[i]!)], ['a', 'b', 'c', 'd', 'e', 'f']));
    expect(r.dropped).toEqual(['c', 'd', 'f']);
    expect(r.design.names).toEqual(['a', 'b', 'e']);
    expect(r.design.assign).toEqual([-1, 0, 3]);
    expect(Array.from(r.design.x.data.subarray(2 * n, 3 * n))).toEqual(Array.from(w));
  });
});
