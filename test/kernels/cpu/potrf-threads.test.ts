import { afterAll, describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError } from '../../../kernels/backend.js';
import { cpuPotrf } from '../../../kernels/cpu/index.js';
import { cpuPotrfInPlace } from '../../../kernels/cpu/potrf.js';
import { gemmStrided, kernelWorkspace } from '../../../kernels/cpu/gemm-core.js';
import { commonPool, productSlices } from '../../../kernels/cpu/pool.js';
import type { F64Matrix } from '../../../kernels/matrix.js';
import { getFlag, setFlags } from '../../../src/flags.js';
import { randomSpd } from '../../helpers/random.js';

const threads0 = getFlag('threads');
afterAll(() => setFlags({ threads: threads0 }));

/** cpuPotrf with the `threads` flag at t (the error, if it throws). */
function potrfWith(t: number, a: F64Matrix): F64Matrix | unknown {
  setFlags({ threads: t });
  try {
    return cpuPotrf(a);
  } catch (e) {
    return e;
  }
}

describe('cpuPotrf on two threads', () => {
  // Above the split threshold (products of 2 * 128^3 flops) at the top levels of the recursion, ragged sizes.
  for (const n of [301, 517]) {
    it(`n=${n}: the factor equals the single-thread factor bit for bit`, () => {
      const a = randomSpd(n, n + 11);
      const one = potrfWith(1, a) as F64Matrix;
      const two = potrfWith(2, a) as F64Matrix;
      expect(two.data.length).toBe(one.data.length);
      let differ = 0;
      for (let i = 0; i < one.data.length; i++) if (!Object.is(one.data[i], two.data[i])) differ++;
      expect(differ).toBe(0);
    });
  }

  // n = 400: the top level splits at 200 and looks ahead; its A22's first block (columns 200-303) is factored
  // while the helpers still update the rest (column 250 fails then), column 333 after.
  for (const col of [250, 333]) {
    it(`a pivot failure at column ${col} names the same column and pivot as on one thread`, () => {
      const a = randomSpd(400, 5);
      a.data[col + col * 400] = -50;
      const one = potrfWith(1, a), two = potrfWith(2, a);
      expect(two).toBeInstanceOf(NotPositiveDefiniteError);
      expect((two as NotPositiveDefiniteError).column).toBe(col);
      expect((two as NotPositiveDefiniteError).column).toBe((one as NotPositiveDefiniteError).column);
      expect(Object.is((two as NotPositiveDefiniteError).pivot, (one as NotPositiveDefiniteError).pivot)).toBe(true);
      // The helpers were done before the error left: the next factorisation in the same workspace is exact.
      const good = randomSpd(400, 6);
      const l2 = potrfWith(2, good) as F64Matrix, l1 = potrfWith(1, good) as F64Matrix;
      expect(l2.data.every((x, i) => Object.is(x, l1.data[i]))).toBe(true);
    });
  }

  it('the common pool follows the threads flag (1: no helper)', () => {
    setFlags({ threads: 1 });
    expect(commonPool().threads).toBe(1);
    setFlags({ threads: 2 });
    expect(commonPool().threads).toBe(2);
  });
});

describe('cpuPotrfInPlace', () => {
  it("writes cpuPotrf's L over the lower triangle, leaves the upper one, and leaves A unchanged on failure", () => {
    setFlags({ threads: 2 });
    const n = 260;
    const a = randomSpd(n, 9);
    for (let j = 0; j < n; j++) for (let i = 0; i < j; i++) a.data[i + j * n] = -7; // marks the upper triangle
    const l = cpuPotrf(a);
    const b = { ...a, data: a.data.slice() };
    cpuPotrfInPlace(b);
    let differ = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) if (!Object.is(b.data[i + j * n], i >= j ? l.data[i + j * n] : -7)) differ++;
    }
    expect(differ).toBe(0);
    const bad = { ...a, data: a.data.slice() };
    bad.data[200 + 200 * n] = -1;
    const before = bad.data.slice();
    expect(() => cpuPotrfInPlace(bad)).toThrow(/at column 200/);
    expect(bad.data.every((x, i) => Object.is(x, before[i]))).toBe(true);
  });
});

describe('GemmPool.runChunksSync', () => {
  /** A product whose operands and C lie in the kernel's shared memory, C set to `c0`. */
  function setUp(m: number, n: number, k: number, c0: Float64Array): { w: Float64Array; cOff: number } {
    const w = kernelWorkspace(m * k + k * n + m * n);
    for (let i = 0; i < m * k + k * n; i++) w[i] = Math.sin(i + 1);
    w.set(c0, m * k + k * n);
    return { w, cOff: m * k + k * n };
  }

  for (const [m, n, k, byRows, lowerOnly] of [
    [300, 70, 90, true, false],
    [150, 150, 200, false, true],
    [97, 203, 64, false, false],
  ] as const) {
    it(`${m}x${n}x${k} in ${byRows ? 'row' : 'column'} chunks${lowerOnly ? ' (lower triangle)' : ''}: same bits as one product`, () => {
      setFlags({ threads: 2 });
      const c0 = Float64Array.from({ length: m * n }, (_, i) => Math.cos(i));
      let { w, cOff } = setUp(m, n, k, c0);
      gemmStrided(m, n, k, -0.5, w, 0, m, false, w, m * k, n, true, w, cOff, m, lowerOnly);
      const whole = w.slice(cOff, cOff + m * n);
      ({ w, cOff } = setUp(m, n, k, c0));
      const chunks = productSlices([m, n, k, -0.5, w, 0, m, false, w, m * k, n, true, w, cOff, m, lowerOnly], 6, byRows);
      expect(chunks.length).toBeGreaterThan(2);
      commonPool().runChunksSync(chunks);
      const split = w.slice(cOff, cOff + m * n);
      let differ = 0;
      for (let i = 0; i < whole.length; i++) if (!Object.is(whole[i], split[i])) differ++;
      expect(differ).toBe(0);
    });
  }
});
