// Seeded random numbers for the data generators (data/*/generate.mjs): Mulberry32 uniforms in [0, 1) and
// Box-Muller normals. Deterministic: the same seed gives the same sequence on every run and platform.

/** A generator of uniforms and standard normals from a 32-bit seed. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  const unif = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const norm = () => Math.sqrt(-2 * Math.log(1 - unif())) * Math.cos(2 * Math.PI * unif());
  return { unif, norm };
}
