import { describe, expect, it } from 'vitest';
import { formatFixed, formatSci } from '../../../gwas/gemma-format.js';

// Expected strings are what C's printf("%.6e") / printf("%.3f") print for these doubles (glibc, round-half-even
// on the exact binary value), e.g. checked with `printf '%.3f' 0.0625` in a shell (values exact in binary).
describe("GEMMA's number formats", () => {
  it('%.6e with a two-digit exponent and nan/inf', () => {
    expect(formatSci(-0.07882975)).toBe('-7.882975e-02');
    expect(formatSci(4.332964)).toBe('4.332964e+00');
    expect(formatSci(-1583.642)).toBe('-1.583642e+03');
    expect(formatSci(2.577727e-17)).toBe('2.577727e-17');
    expect(formatSci(1e-300)).toBe('1.000000e-300');
    expect(formatSci(0)).toBe('0.000000e+00');
    expect(formatSci(Number.NaN)).toBe('nan');
    expect(formatSci(Infinity)).toBe('inf');
  });
  it('exact ties round half to even like printf', () => {
    expect(formatFixed(0.0625, 3)).toBe('0.062');
    expect(formatFixed(0.4375, 3)).toBe('0.438');
    expect(formatFixed(0.443, 3)).toBe('0.443');
    expect(formatFixed(0.5, 0)).toBe('0');
    expect(formatSci(2.5, 0)).toBe('2e+00');
    expect(formatSci(3.5, 0)).toBe('4e+00');
    // Not a tie in binary: the double nearest 1.0000005 is 1.00000050000000006989, above the tie.
    expect(formatSci(1.0000005, 6)).toBe('1.000001e+00');
  });
});
