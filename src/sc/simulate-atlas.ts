/**
 * A seeded simulator of atlas-like single-cell counts for benchmarks and tests: many donors in two conditions,
 * cell types, a second grouping factor (processing batch, crossed with donor), and a share of differentially
 * expressed genes per cell type. Cells are generated block by block, each from its own seeded stream, so any
 * block size gives the same matrix and memory stays bounded by the block.
 *
 * Hierarchical negative-binomial model. For gene g in cell i of cell type k, donor d, batch b:
 *   c_gi ~ NB(mean L_i p_g(k, d, b), size theta_g),   log p_g(k,d,b) = z_g + m_gk + u_gd + v_gb + s_d delta_gk - log Z_kdb
 * z_g ~ N(0, geneSd^2) baseline; m_gk = log 4 for 3% marker genes of each cell type (else 0); donor effects
 * u_gd ~ N(0, donorSd^2); batch effects v_gb ~ N(0, batchSd^2); s_d = 1 for stimulated donors (half, at random);
 * delta_gk = +-U(0.4, 1.2) for the DE genes (deFraction of the genes, drawn per cell type), else 0; Z_kdb
 * normalises p to sum 1 over genes. Library sizes L_i ~ LogNormal(log L0, 0.4^2), L0 set so a cell has about
 * `nnzPerCell` non-zero genes; theta_g ~ LogNormal(log 3, 0.5^2). Each donor's cells come in one run (as
 * samples are concatenated in an atlas), split over two of the batches; cell types at fixed proportions.
 *
 * Sampling is sparse: per (cell type, donor, batch) group the genes are binned by p (powers of two); per cell
 * and bin, candidate genes are drawn by geometric skips at the bin's largest P(c > 0) under a Poisson bound
 * (1 - exp(-mu), which bounds every NB with the same mean) and accepted with the gene's exact NB P(c > 0); an
 * accepted gene draws its count from the zero-truncated NB. Cost per cell: O(bins + 2 x non-zeros).
 */
import type { CountBlock } from '../io/count-blocks.js';
import type { ObsColumn } from '../io/h5-write.js';
import { mulberry32, normal, poisson } from '../stats/random.js';

export interface AtlasSimOptions {
  readonly cells: number;
  readonly genes: number;
  readonly donors: number;
  readonly cellTypes?: number;
  /** Batches; each donor's cells go to two of them (default max(2, donors / 5)). */
  readonly batches?: number;
  readonly seed?: number;
  /** Target non-zero genes per cell (default 500). */
  readonly nnzPerCell?: number;
  /** Share of DE genes per cell type (default 0.1). */
  readonly deFraction?: number;
  readonly donorSd?: number;
  readonly batchSd?: number;
  readonly geneSd?: number;
}

/** A simulated atlas: names, metadata, truth, and its counts generated on request. */
export interface SimulatedAtlas {
  readonly nCells: number;
  readonly nGenes: number;
  readonly geneIds: string[];
  readonly geneNames: string[];
  readonly barcodes: string[];
  /** obs columns: donor, condition, cell_type, batch (categorical), age (donor-level), sex (donor-level), pct_mito (cell-level). */
  readonly obs: ObsColumn[];
  /** delta_gk (natural log fold change, stimulated vs control): de[k * genes + g]; 0 for genes not DE in cell type k. */
  readonly delta: Float64Array;
  readonly cellTypeNames: string[];
  /** Cells [from, to) as cell-major blocks of at most `cellsPerBlock` cells (int32 counts, genes ascending). */
  blocks(cellsPerBlock: number, from?: number, to?: number): Generator<CountBlock>;
}

/** A seed for stream `k` of a run seeded `seed` (a hash, so neighbouring streams are unrelated). */
function streamSeed(seed: number, k: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(k + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Gamma and zero-truncated NB draws on a uniform stream (normal and Poisson from src/stats/random.ts). */
class Draws {
  readonly normal: () => number;
  constructor(readonly u: () => number) {
    this.normal = normal(u);
  }
  /** Gamma(shape, 1) (Marsaglia & Tsang 2000; shape < 1 by boosting). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * this.u() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const uu = 1 - this.u();
      if (Math.log(uu) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }
  /** NB(mean mu, size theta) conditioned on a positive count; p0 = P(0) = (theta / (theta + mu))^theta. */
  truncatedNb(mu: number, theta: number, p0: number): number {
    if (mu < 8) {
      const r = mu / (theta + mu);
      let target = this.u() * (1 - p0);
      let pk = p0 * theta * r; // P(1)
      let k = 1;
      while (target > pk && k < 10000) {
        target -= pk;
        pk *= ((k + theta) / (k + 1)) * r;
        k++;
      }
      return k;
    }
    for (;;) {
      const k = poisson(this.u, mu * (this.gamma(theta) / theta));
      if (k > 0) return k;
    }
  }
}

/** Cell-type proportions: a fixed, decreasing profile (largest type about 30%). */
function cellTypeShares(k: number): Float64Array {
  const w = Float64Array.from({ length: k }, (_, i) => 1 / (i + 1.5));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/** Genes of one group in bins of p within a factor 2 of the bin's upper bound: order, bin starts, bin bounds. */
interface GroupBins {
  readonly p: Float64Array;
  readonly order: Int32Array;
  readonly binStart: Int32Array;
  readonly binMax: Float64Array;
}

/** Bins genes by floor(log2(pmax / p)) with a counting sort (order within a bin does not matter). Cost O(genes). */
function binGenes(p: Float64Array): GroupBins {
  let pmax = 0;
  for (const v of p) pmax = Math.max(pmax, v);
  const nBins = 64;
  const bin = new Uint8Array(p.length);
  const count = new Int32Array(nBins + 1);
  for (let g = 0; g < p.length; g++) {
    const t = p[g]! > 0 ? Math.min(nBins - 1, Math.floor(Math.log2(pmax / p[g]!))) : nBins - 1;
    bin[g] = t;
    count[t + 1]!++;
  }
  for (let t = 0; t < nBins; t++) count[t + 1]! += count[t]!;
  const next = count.slice(0, nBins);
  const order = new Int32Array(p.length);
  for (let g = 0; g < p.length; g++) order[next[bin[g]!]!++] = g;
  const binMax = Float64Array.from({ length: nBins }, (_, t) => pmax / 2 ** t);
  return { p, order, binStart: count, binMax };
}

/**
 * Sets up a simulated atlas (metadata, gene effects; O(genes x (donors + batches + cell types)) memory); the
 * counts come from `blocks`.
 */
export function simulateAtlas(o: AtlasSimOptions): SimulatedAtlas {
  const nC = o.cells;
  const nG = o.genes;
  const nD = o.donors;
  const K = o.cellTypes ?? 8;
  const B = o.batches ?? Math.max(2, Math.round(nD / 5));
  const seed = o.seed ?? 1;
  const deFraction = o.deFraction ?? 0.1;
  const donorSd = o.donorSd ?? 0.25;
  const batchSd = o.batchSd ?? 0.15;
  const geneSd = o.geneSd ?? 1.8;
  if (!(nC >= 1 && nG >= 2 && nD >= 2 && K >= 1 && B >= 1)) throw new RangeError('simulateAtlas: need cells >= 1, genes >= 2, donors >= 2');
  const r = new Draws(mulberry32(streamSeed(seed, -1)));

  // Step 1: gene-level parameters.
  const z = Float64Array.from({ length: nG }, () => geneSd * r.normal());
  const theta = Float64Array.from({ length: nG }, () => Math.exp(Math.log(3) + 0.5 * r.normal()));
  const marker = new Float64Array(K * nG);
  const delta = new Float64Array(K * nG);
  for (let k = 0; k < K; k++) {
    for (let g = 0; g < nG; g++) {
      if (r.u() < 0.03) marker[k * nG + g] = Math.log(4);
      if (r.u() < deFraction) delta[k * nG + g] = (r.u() < 0.5 ? -1 : 1) * (0.4 + 0.8 * r.u());
    }
  }
  const donorEff = Float64Array.from({ length: nD * nG }, () => donorSd * r.normal());
  const batchEff = Float64Array.from({ length: B * nG }, () => batchSd * r.normal());

  // Step 2: donors (condition at random, half each; age, sex), their batches and cell counts.
  const stim = new Uint8Array(nD);
  const perm = Int32Array.from({ length: nD }, (_, i) => i);
  for (let i = nD - 1; i > 0; i--) {
    const j = Math.floor(r.u() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  for (let i = 0; i < Math.floor(nD / 2); i++) stim[perm[i]!] = 1;
  const age = Float64Array.from({ length: nD }, () => Math.round(20 + 60 * r.u()));
  const sex = Int8Array.from({ length: nD }, () => (r.u() < 0.5 ? 0 : 1));
  const batchA = Int32Array.from({ length: nD }, (_, d) => d % B);
  const batchB = Int32Array.from({ length: nD }, (_, d) => (d + 1 + Math.floor(d / B)) % B);
  const weight = Float64Array.from({ length: nD }, () => Math.exp(0.3 * r.normal()));
  const wsum = weight.reduce((a, b) => a + b, 0);
  const donorStart = new Int32Array(nD + 1);
  for (let d = 0; d < nD; d++) donorStart[d + 1] = Math.round((nC * weight.slice(0, d + 1).reduce((a, b) => a + b, 0)) / wsum);
  donorStart[nD] = nC;

  // Step 3: per-cell metadata (from per-cell streams, so any block of cells can be generated alone).
  const shares = cellTypeShares(K);
  const cellDonor = new Int16Array(nC);
  const cellType = new Int8Array(nC);
  const cellBatch = new Int16Array(nC);
  const libSize = new Float64Array(nC);
  const pctMito = new Float64Array(nC);
  const barcodes: string[] = new Array(nC);
  const cellSeed = (i: number) => streamSeed(seed, i);
  // L0 such that a median cell of the base profile has about nnzPerCell non-zero genes.
  const L0 = libraryForNnz(z, theta, o.nnzPerCell ?? 500);
  for (let d = 0; d < nD; d++) {
    for (let i = donorStart[d]!; i < donorStart[d + 1]!; i++) {
      const c = new Draws(mulberry32(cellSeed(i) ^ 0x5bd1e995));
      cellDonor[i] = d;
      const u = c.u();
      let k = 0;
      let acc = shares[0]!;
      while (u > acc && k < K - 1) acc += shares[++k]!;
      cellType[i] = k;
      cellBatch[i] = (i - donorStart[d]!) * 2 < donorStart[d + 1]! - donorStart[d]! ? batchA[d]! : batchB[d]!;
      libSize[i] = L0 * Math.exp(0.4 * c.normal());
      pctMito[i] = Math.round(1000 * 8 * c.u()) / 1000;
      barcodes[i] = `C${String(i).padStart(7, '0')}-${d + 1}`;
    }
  }
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  const wD = String(nD).length;
  const wB = String(B).length;
  const cellTypeNames = Array.from({ length: K }, (_, k) => `type${k + 1}`);
  const obs: ObsColumn[] = [
    { name: 'donor', categories: Array.from({ length: nD }, (_, d) => `D${pad(d + 1, wD)}`), codes: cellDonor },
    { name: 'condition', categories: ['ctrl', 'stim'], codes: Int8Array.from(cellDonor, (d) => stim[d]!) },
    { name: 'cell_type', categories: cellTypeNames, codes: cellType },
    { name: 'batch', categories: Array.from({ length: B }, (_, b) => `B${pad(b + 1, wB)}`), codes: cellBatch },
    { name: 'age', numbers: Float64Array.from(cellDonor, (d) => age[d]!) },
    { name: 'sex', categories: ['F', 'M'], codes: Int8Array.from(cellDonor, (d) => sex[d]!) },
    { name: 'pct_mito', numbers: pctMito },
  ];

  // Step 4: per (cell type, donor, batch) normalised p and bins, built on first use and kept for the donor.
  let cacheDonor = -1;
  const cache = new Map<number, GroupBins>();
  const groupBins = (k: number, d: number, b: number): GroupBins => {
    if (d !== cacheDonor) {
      cache.clear();
      cacheDonor = d;
    }
    const key = k * B + b;
    let bins = cache.get(key);
    if (!bins) {
      const p = new Float64Array(nG);
      let s = 0;
      for (let g = 0; g < nG; g++) {
        const v = Math.exp(z[g]! + marker[k * nG + g]! + donorEff[d * nG + g]! + batchEff[b * nG + g]! + (stim[d] ? delta[k * nG + g]! : 0));
        p[g] = v;
        s += v;
      }
      for (let g = 0; g < nG; g++) p[g]! /= s;
      bins = binGenes(p);
      cache.set(key, bins);
    }
    return bins;
  };

  function* blocks(cellsPerBlock: number, from = 0, to = nC): Generator<CountBlock> {
    const keys = new Float64Array(nG);
    for (let a = from; a < to; a += cellsPerBlock) {
      const b = Math.min(to, a + cellsPerBlock);
      const ptr = new Int32Array(b - a + 1);
      let genes = new Int32Array(1 << 16);
      let vals = new Int32Array(1 << 16);
      let n = 0;
      for (let i = a; i < b; i++) {
        const c = new Draws(mulberry32(cellSeed(i)));
        const bins = groupBins(cellType[i]!, cellDonor[i]!, cellBatch[i]!);
        const L = libSize[i]!;
        let m = 0;
        for (let t = 0; t < bins.binMax.length; t++) {
          const muMax = L * bins.binMax[t]!;
          const qMax = -Math.expm1(-muMax);
          if (qMax < 1e-12) break;
          const lo = bins.binStart[t]!;
          const hi = bins.binStart[t + 1]!;
          const logSkip = Math.log1p(-qMax);
          let j = lo - 1;
          for (;;) {
            j += qMax >= 1 ? 1 : 1 + Math.floor(Math.log(1 - c.u()) / logSkip);
            if (j >= hi) break;
            const g = bins.order[j]!;
            const mu = L * bins.p[g]!;
            const th = theta[g]!;
            const p0 = (th / (th + mu)) ** th;
            if (c.u() * qMax >= 1 - p0) continue;
            keys[m++] = g * 1048576 + Math.min(c.truncatedNb(mu, th, p0), 1048575);
          }
        }
        const sorted = keys.subarray(0, m).sort();
        if (n + m > genes.length) {
          const grow = (x: Int32Array) => {
            const y = new Int32Array(Math.max(2 * x.length, n + m));
            y.set(x.subarray(0, n));
            return y;
          };
          genes = grow(genes);
          vals = grow(vals);
        }
        for (let e = 0; e < m; e++) {
          const key = sorted[e]!;
          genes[n] = Math.floor(key / 1048576);
          vals[n++] = key % 1048576;
        }
        ptr[i - a + 1] = n;
      }
      yield { major: 'cell', start: a, count: b - a, ptr, minor: genes.slice(0, n), values: vals.slice(0, n), firstEntry: 0 };
    }
  }

  return {
    nCells: nC,
    nGenes: nG,
    geneIds: Array.from({ length: nG }, (_, g) => `SIMG${String(g + 1).padStart(6, '0')}`),
    geneNames: Array.from({ length: nG }, (_, g) => `Gene${g + 1}`),
    barcodes,
    obs,
    delta,
    cellTypeNames,
    blocks,
  };
}

/** Library size at which a cell of baseline profile p = softmax(z) has about `target` non-zero genes (bisection). */
function libraryForNnz(z: Float64Array, theta: Float64Array, target: number): number {
  let s = 0;
  for (const v of z) s += Math.exp(v);
  const expected = (L: number) => {
    let e = 0;
    for (let g = 0; g < z.length; g++) {
      const mu = (L * Math.exp(z[g]!)) / s;
      const th = theta[g]!;
      e += 1 - (th / (th + mu)) ** th;
    }
    return e;
  };
  let lo = 1;
  let hi = 1e7;
  if (expected(hi) < target) return hi;
  for (let it = 0; it < 60; it++) {
    const mid = Math.sqrt(lo * hi);
    if (expected(mid) < target) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

/** The atlas's cell metadata as CSV text (header first, then cells [from, to)), for 10x inputs' --cells. */
export function* atlasCellsCsv(atlas: SimulatedAtlas, from = 0, to = atlas.nCells, linesPerChunk = 65536): Generator<string> {
  const cols = atlas.obs;
  if (from === 0) yield `barcode,${cols.map((c) => c.name).join(',')}\n`;
  for (let a = from; a < to; a += linesPerChunk) {
    const lines: string[] = [];
    for (let i = a; i < Math.min(to, a + linesPerChunk); i++) {
      lines.push(`${atlas.barcodes[i]},${cols.map((c) => ('numbers' in c ? String(c.numbers[i]) : c.categories[c.codes[i]!])).join(',')}`);
    }
    yield `${lines.join('\n')}\n`;
  }
}
