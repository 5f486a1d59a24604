/**
 * GEMMA's weighted cross-products and their projection recursion (Zhou & Stephens 2012, supplement section 3.1).
 *
 * The model's columns are ordered v_1..v_c (covariates), then x (the SNP, absent in the null model), then y.
 * With q columns there are q(q+1)/2 unordered pairs (a <= b); `pairIndex(a, b, q)` numbers them row by row.
 * For weights h (h = Hi, Hi^2 or Hi^3 with Hi_i = 1 / (lambda d_i + 1)) the level-0 sums are
 *   P0[a,b] = sum_i Hi_i a_i b_i,   PP0[a,b] = sum_i Hi_i^2 a_i b_i,   PPP0[a,b] = sum_i Hi_i^3 a_i b_i,
 * and level p projects out column p (1-based) of level p-1:
 *   P_p[a,b]   = P[a,b] - P[a,p] P[b,p] / P[p,p]
 *   PP_p[a,b]  = PP[a,b] + P[a,p] P[b,p] PP[p,p] / P[p,p]^2 - (P[a,p] PP[b,p] + P[b,p] PP[a,p]) / P[p,p]
 *   PPP_p[a,b] = PPP[a,b] - P[a,p] P[b,p] PP[p,p]^2 / P[p,p]^3
 *                - (P[a,p] PPP[b,p] + P[b,p] PPP[a,p] + PP[a,p] PP[b,p]) / P[p,p]
 *                + (P[a,p] PP[b,p] PP[p,p] + P[b,p] PP[a,p] PP[p,p] + P[a,p] P[b,p] PPP[p,p]) / P[p,p]^2
 * (right-hand sides at level p-1; a pivot P[p,p] = 0 leaves the level unchanged, as GEMMA does).
 * P_p[y,y] is y' P_p y, the residual quadratic form after projecting out the first p columns under H^-1.
 * Cost O(q^4) per evaluation: negligible next to the O(n q^2) sums.
 */

/** Number of unordered column pairs for q columns. */
export function pairCount(q: number): number {
  return (q * (q + 1)) / 2;
}

/** Index of the pair (a, b), 0-based columns, in row-major upper-triangle order. */
export function pairIndex(a: number, b: number, q: number): number {
  if (a > b) {
    const t = a;
    a = b;
    b = t;
  }
  return a * q - (a * (a - 1)) / 2 + (b - a);
}

/**
 * The projection levels 0..nProj of P (and PP, PPP when `order` >= 2, 3), all pairs, written into
 * `p`, `pp`, `ppp` as (nProj + 1) x nPairs row-major tables whose row 0 already holds the level-0 sums.
 * Writes into its arguments (rows 1..nProj).
 */
export function projectLevelsInto(
  q: number,
  nProj: number,
  order: 1 | 2 | 3,
  p: Float64Array,
  pp: Float64Array,
  ppp: Float64Array,
): void {
  const np = pairCount(q);
  for (let lev = 1; lev <= nProj; lev++) {
    const w = lev - 1; // column projected out at this level (0-based)
    const prev = (lev - 1) * np;
    const cur = lev * np;
    const iww = prev + pairIndex(w, w, q);
    const sww = p[iww]!;
    const s2ww = order >= 2 ? pp[iww]! : 0;
    const s3ww = order >= 3 ? ppp[iww]! : 0;
    for (let a = lev; a < q; a++) {
      const iaw = prev + pairIndex(a, w, q);
      const saw = p[iaw]!;
      const s2aw = order >= 2 ? pp[iaw]! : 0;
      const s3aw = order >= 3 ? ppp[iaw]! : 0;
      for (let b = a; b < q; b++) {
        const ab = pairIndex(a, b, q);
        const ibw = prev + pairIndex(b, w, q);
        const sbw = p[ibw]!;
        if (sww === 0) {
          p[cur + ab] = p[prev + ab]!;
          if (order >= 2) pp[cur + ab] = pp[prev + ab]!;
          if (order >= 3) ppp[cur + ab] = ppp[prev + ab]!;
          continue;
        }
        p[cur + ab] = p[prev + ab]! - (saw * sbw) / sww;
        if (order >= 2) {
          const s2bw = pp[ibw]!;
          pp[cur + ab] = pp[prev + ab]! + (saw * sbw * s2ww) / (sww * sww) - (saw * s2bw + sbw * s2aw) / sww;
          if (order >= 3) {
            const s3bw = ppp[ibw]!;
            let v = ppp[prev + ab]! - (saw * sbw * s2ww * s2ww) / (sww * sww * sww);
            v -= (saw * s3bw + sbw * s3aw + s2aw * s2bw) / sww;
            v += (saw * s2bw * s2ww + sbw * s2aw * s2ww + saw * sbw * s3ww) / (sww * sww);
            ppp[cur + ab] = v;
          }
        }
      }
    }
  }
}
