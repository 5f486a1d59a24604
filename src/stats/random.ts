/**
 * Seeded pseudo-random numbers, deterministic across runs and platforms (simulators, `fit --simulate`, tests).
 * Uniforms from Mulberry32 (32-bit state; period 2^32, ample for simulations of model responses), normals by
 * Box-Muller, Poisson by multiplication of uniforms (Knuth) below mean 30 and by Hörmann's transformed rejection
 * (PTRS, 1993) above, binomial as a sum of Bernoulli draws (trials are small counts in mixed models) or, for many
 * trials, geometric waiting times between successes.
 */

/** Mulberry32: a small, fast, seeded PRNG returning uniforms in [0, 1). Period 2^32. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box-Muller) from a uniform source. */
export function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

const LOG_FACT = (() => {
  const t = new Float64Array(11);
  for (let k = 2; k <= 10; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
})();
/** log k! (exact table to 10, Stirling's series above). */
function logFactorial(k: number): number {
  if (k <= 10) return LOG_FACT[k]!;
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
}

/** A Poisson(lambda) draw. */
export function poisson(u: () => number, lambda: number): number {
  if (!(lambda >= 0)) throw new RangeError(`poisson: mean must be >= 0, got ${lambda}`);
  if (lambda < 30) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let prod = u();
    while (prod > limit) {
      k++;
      prod *= u();
    }
    return k;
  }
  // PTRS (Hörmann 1993)
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = u() - 0.5;
    const V = u();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

/** A binomial(trials, prob) draw: Bernoulli sum up to 64 trials, else geometric waiting times (O(trials * prob)). */
export function binomial(u: () => number, trials: number, prob: number): number {
  if (!(prob >= 0 && prob <= 1) || !(trials >= 0) || !Number.isInteger(trials)) throw new RangeError(`binomial: bad arguments (${trials}, ${prob})`);
  if (prob > 0.5) return trials - binomial(u, trials, 1 - prob);
  if (trials <= 64) {
    let k = 0;
    for (let i = 0; i < trials; i++) if (u() < prob) k++;
    return k;
  }
  if (prob === 0) return 0;
  // successes are the number of geometric gaps that fit in the trials
  const lq = Math.log1p(-prob);
  let k = 0;
  let pos = Math.floor(Math.log(1 - u()) / lq);
  while (pos < trials) {
    k++;
    pos += 1 + Math.floor(Math.log(1 - u()) / lq);
  }
  return k;
}
