import { describe, expect, it } from 'vitest';
import { f64FromRows, f64Matrix, packF64, ShapeError, toF32, toF64 } from '../kernels/matrix.js';

describe('matrix convention', () => {
  it('stores column-major with a leading dimension', () => {
    const m = f64FromRows([[1, 2, 3], [4, 5, 6]]);
    expect(m.rows).toBe(2);
    expect(m.cols).toBe(3);
    expect(Array.from(m.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });
  it('rejects a buffer too short for the shape and ld', () => {
    expect(() => f64Matrix(3, 3, new Float64Array(8))).toThrow(ShapeError);
    expect(() => f64Matrix(3, 2, new Float64Array(6), 4)).toThrow(/needs 7 elements/);
    expect(() => f64Matrix(3, 2, new Float64Array(8), 2)).toThrow(/leading dimension/);
  });
  it('packs a strided view and round-trips through f32 explicitly', () => {
    const strided = f64Matrix(2, 2, new Float64Array([1, 2, 99, 3, 4, 99]), 3);
    const p = packF64(strided);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4]);
    const r = toF64(toF32(f64Matrix(1, 1, new Float64Array([0.1]))));
    expect(r.data[0]).toBe(Math.fround(0.1));
  });
});
