/** Hard-call dosages (0/1/2, NaN missing) as the 2-bit codes of a PackedBlock (src/io/genotype-source.ts). */
import type { F64Matrix } from '../../kernels/matrix.js';

/** Code of a dosage: 2 -> 0b00, 1 -> 0b10, 0 -> 0b11, missing -> 0b01. */
export function codeOf(d: number): number {
  if (d !== d) return 1;
  if (d === 2) return 0;
  if (d === 1) return 2;
  if (d === 0) return 3;
  throw new RangeError(`packCodes: ${d} is not a hard call`);
}

/** The columns of an N x m block of hard calls as ceil(N / 4) bytes per SNP (unused fields 0). */
export function packCodes(x: F64Matrix): Uint8Array {
  const bps = Math.ceil(x.rows / 4);
  const out = new Uint8Array(bps * x.cols);
  for (let j = 0; j < x.cols; j++) for (let i = 0; i < x.rows; i++) out[j * bps + (i >> 2)]! |= codeOf(x.data[i + j * x.ld]!) << (2 * (i & 3));
  return out;
}
