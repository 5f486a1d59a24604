import { describe, expect, test } from 'vitest';
import { countCodes, selectionMask } from '../../../src/io/packed-codes.js';
import { rng } from '../../helpers/random.js';

/** Plain-loop code counts over the samples `keep` of one SNP's bytes. */
function naive(bytes: Uint8Array, keep: number[]): number[] {
  const c = [0, 0, 0, 0];
  for (const i of keep) c[(bytes[i >> 2]! >> (2 * (i & 3))) & 3]!++;
  return c;
}

describe('countCodes: code counts from a byte table', () => {
  test('all fields and a selection, at sizes across the flush length (32767 bytes)', () => {
    const u = rng(3);
    for (const N of [1, 7, 4000, 131070, 200001]) {
      const bytes = Uint8Array.from({ length: Math.ceil(N / 4) + 5 }, () => Math.floor(u() * 256));
      const out = new Int32Array(8);
      countCodes(bytes, 5, Math.ceil(N / 4), out, 4);
      const sub = bytes.subarray(5);
      expect(Array.from(out.subarray(4))).toEqual(naive(sub, Array.from({ length: 4 * Math.ceil(N / 4) }, (_, i) => i)));
      const keep = Int32Array.from({ length: N }, (_, i) => i).filter(() => u() < 0.6);
      const { mask, fill } = selectionMask(keep, N);
      countCodes(bytes, 5, Math.ceil(N / 4), out, 0, mask, fill);
      const want = naive(sub, Array.from(keep));
      expect([out[0], out[1]! - (4 * Math.ceil(N / 4) - keep.length), out[2], out[3]]).toEqual(want);
    }
  });
});
