#!/usr/bin/env node
// Seeded simulated GWAS cohorts at any size, for benchmarks and tests (see README.md in this folder).
// Population structure (Balding-Nichols subpopulations), relatedness (nuclear families), missing genotypes,
// and phenotypes: a polygenic quantitative trait, a liability-threshold binary trait and a null trait.
// Streams SNP by SNP: memory is O(n + chunk), so n = 200,000 x m = 50,000 (2.5 GB of .bed) works.
// Deterministic: the same options give the same bytes, whatever the chunk size.
//
//   node data/simulate/cohort.mjs --out DIR/PREFIX [--n 2000] [--m 10000] [--seed 1] ...   (--help lists all)
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const OPTIONS = {
  out: { type: 'string', help: 'output prefix: PREFIX.bed/.bim/.fam, .pheno.txt, .phe, .covar.txt, .cov, .causal.txt' },
  n: { type: 'string', default: '2000', help: 'individuals' },
  m: { type: 'string', default: '10000', help: 'SNPs' },
  chr: { type: 'string', default: '22', help: 'chromosomes (SNPs spread evenly over 1..chr)' },
  seed: { type: 'string', default: '1', help: 'random seed (unsigned 32-bit integer)' },
  pops: { type: 'string', default: '2', help: 'subpopulations (founders drawn from one each)' },
  fst: { type: 'string', default: '0.05', help: 'Balding-Nichols Fst between subpopulations' },
  families: { type: 'string', default: '0.3', help: 'fraction of individuals in nuclear families (2 founders + children)' },
  children: { type: 'string', default: '2', help: 'children per family' },
  miss: { type: 'string', default: '0.02', help: 'missing-genotype rate (each genotype independently)' },
  maf: { type: 'string', default: '0.05-0.5', help: 'ancestral allele-frequency bins LO-HI[:weight],...; e.g. 0.001-0.01:0.2,0.01-0.5:0.8' },
  h2: { type: 'string', default: '0.5', help: 'heritability of the liability (causal SNPs only)' },
  causal: { type: 'string', default: '500', help: 'number of causal SNPs (0: every trait is null)' },
  'pop-effect': { type: 'string', default: '0.3', help: 'phenotype mean shift per subpopulation index, in SD units (stratification)' },
  prevalence: { type: 'string', default: '0.1', help: 'fraction of cases of the binary trait (liability threshold)' },
  'pheno-miss': { type: 'string', default: '0', help: 'missing rate of each phenotype, independently per trait' },
  help: { type: 'boolean', default: false, help: 'this list' },
};

const { values: args } = parseArgs({ options: Object.fromEntries(Object.entries(OPTIONS).map(([k, v]) => [k, { type: v.type, ...(v.default !== undefined ? { default: v.default } : {}) }])) });
if (args.help || !args.out) {
  process.stderr.write(`usage: node data/simulate/cohort.mjs --out PREFIX [options]\n${Object.entries(OPTIONS).map(([k, v]) => `  --${k.padEnd(12)} ${v.help}${v.default !== undefined && v.type !== 'boolean' ? ` (default ${v.default})` : ''}`).join('\n')}\n`);
  process.exit(args.help ? 0 : 2);
}

/** A numeric option within [lo, hi] (integers when `int`), or exit 2 naming it. */
function opt(name, lo, hi, int = false) {
  const raw = args[name];
  const v = Number(raw);
  if (!Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) {
    process.stderr.write(`cohort.mjs: --${name} ${raw}: expected ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}]\n`);
    process.exit(2);
  }
  return v;
}
const N = opt('n', 4, 1e8, true);
const M = opt('m', 1, 1e9, true);
const N_CHR = opt('chr', 1, 1000, true);
const SEED = opt('seed', 0, 2 ** 32 - 1, true);
const POPS = opt('pops', 1, 100, true);
const FST = opt('fst', 0, 0.99);
const FAMILY_FRAC = opt('families', 0, 1);
const CHILDREN = opt('children', 1, 20, true);
const MISS = opt('miss', 0, 0.99);
const H2 = opt('h2', 0, 1);
const N_CAUSAL = Math.min(opt('causal', 0, 1e9, true), M);
const POP_EFFECT = opt('pop-effect', -100, 100);
const PREVALENCE = opt('prevalence', 1e-6, 1 - 1e-6);
const PHENO_MISS = opt('pheno-miss', 0, 0.99);
const MAF_BINS = args.maf.split(',').map((bin) => {
  const m = /^([0-9.eE-]+)-([0-9.eE-]+)(?::([0-9.eE-]+))?$/.exec(bin.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  const w = m && m[3] !== undefined ? Number(m[3]) : 1;
  if (!(lo > 0 && hi >= lo && hi <= 0.5 && w > 0)) {
    process.stderr.write(`cohort.mjs: --maf ${args.maf}: bin "${bin}" is not LO-HI[:weight] with 0 < LO <= HI <= 0.5, weight > 0\n`);
    process.exit(2);
  }
  return { lo, hi, w };
});

// ---- Random numbers: counter-based, so that each SNP's draws depend only on (seed, stream, SNP index).
/** splitmix32-style mixing of a 32-bit integer. */
function mix(x) {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}
/** A mulberry32 generator seeded by (seed, stream, index). */
function rng(stream, index) {
  let s = mix(mix(SEED ^ mix(stream * 0x9e3779b9)) ^ mix(index + 0x632be5ab));
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const unif = () => (next() + 0.5) / 4294967296;
  const norm = () => Math.sqrt(-2 * Math.log(unif())) * Math.cos(2 * Math.PI * unif());
  /** Gamma(a, 1) by Marsaglia-Tsang (a < 1 boosted by U^(1/a)). */
  const gamma = (a) => {
    if (a < 1) return gamma(a + 1) * Math.pow(unif(), 1 / a);
    const d = a - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x, v;
      do {
        x = norm();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = unif();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  return { next, unif, norm, gamma };
}
const STREAM = { individuals: 1, freq: 2, geno: 3, miss: 4, causal: 5, pheno: 6, bim: 7 };

// ---- Individuals: families (2 founders + CHILDREN) first, then unrelated founders; each family in one subpopulation.
const famSize = 2 + CHILDREN;
const nFamilies = Math.floor((N * FAMILY_FRAC) / famSize);
const ind = rng(STREAM.individuals, 0);
const pop = new Uint8Array(N);
/** For a child: indices of father and mother; -1 for founders. */
const father = new Int32Array(N).fill(-1);
const mother = new Int32Array(N).fill(-1);
const fid = new Array(N);
const iid = new Array(N);
const sex = new Uint8Array(N); // 1 male, 2 female
const age = new Float64Array(N);
let i0 = 0;
for (let f = 0; f < nFamilies; f++) {
  const k = Math.floor(ind.unif() * POPS);
  const id = `F${String(f + 1).padStart(6, '0')}`;
  for (let r = 0; r < famSize; r++) {
    const i = i0 + r;
    pop[i] = k;
    fid[i] = id;
    iid[i] = `${id}_${r + 1}`;
    sex[i] = r === 0 ? 1 : r === 1 ? 2 : ind.unif() < 0.5 ? 1 : 2;
    if (r >= 2) {
      father[i] = i0;
      mother[i] = i0 + 1;
    }
  }
  i0 += famSize;
}
for (let i = i0; i < N; i++) {
  pop[i] = Math.floor(ind.unif() * POPS);
  fid[i] = iid[i] = `U${String(i - i0 + 1).padStart(7, '0')}`;
  sex[i] = ind.unif() < 0.5 ? 1 : 2;
}
for (let i = 0; i < N; i++) age[i] = Math.round((45 + 10 * ind.norm()) * 10) / 10;

// ---- Causal SNPs: N_CAUSAL distinct indices with standard-normal effects on the standardised genotype.
const causalBeta = new Map();
{
  const r = rng(STREAM.causal, 0);
  while (causalBeta.size < N_CAUSAL) {
    const j = Math.floor(r.unif() * M);
    if (!causalBeta.has(j)) causalBeta.set(j, r.norm());
  }
}

// ---- SNPs, streamed: ancestral frequency from the MAF bins, subpopulation frequencies from Beta (Balding-Nichols),
// founders' genotypes binomial(2, p_k), children by Mendelian transmission; missingness; the .bed bytes.
const wSum = MAF_BINS.reduce((s, b) => s + b.w, 0);
/** Ancestral frequency of the counted allele and its subpopulation frequencies for SNP j. */
function frequencies(j) {
  const r = rng(STREAM.freq, j);
  let u = r.unif() * wSum;
  let bin = MAF_BINS[MAF_BINS.length - 1];
  for (const b of MAF_BINS) {
    if (u < b.w) {
      bin = b;
      break;
    }
    u -= b.w;
  }
  let p = bin.lo + (bin.hi - bin.lo) * r.unif();
  if (r.unif() < 0.5) p = 1 - p; // the counted allele is the minor one half the time
  const pk = new Float64Array(POPS);
  for (let k = 0; k < POPS; k++) {
    if (FST === 0) pk[k] = p;
    else {
      const a = (p * (1 - FST)) / FST;
      const b = ((1 - p) * (1 - FST)) / FST;
      const x = r.gamma(a);
      const y = r.gamma(b);
      pk[k] = Math.min(1 - 1e-6, Math.max(1e-6, x / (x + y)));
    }
  }
  return { p, pk };
}

const bytesPerSnp = Math.ceil(N / 4);
const CHUNK = Math.max(1, Math.min(M, Math.floor((16 << 20) / bytesPerSnp)));
const out = args.out;
mkdirSync(dirname(out) || '.', { recursive: true });
const bed = openSync(`${out}.bed`, 'w');
writeSync(bed, Buffer.from([0x6c, 0x1b, 0x01]));
const bim = openSync(`${out}.bim`, 'w');
const chunk = Buffer.alloc(CHUNK * bytesPerSnp);
const g = new Uint8Array(N);
/** Genetic value (sum over causal SNPs of beta x standardised true genotype), before scaling to H2. */
const gv = new Float64Array(N);
const perChr = Math.ceil(M / N_CHR);
const LETTERS = ['A', 'C', 'G', 'T'];
const CODE = [0b11, 0b10, 0b00]; // dosage 0, 1, 2 of the counted allele (.bim column 5)
const LOG1M_MISS = Math.log1p(-MISS);
let bimLines = [];
let ps = 0;
const t0 = Date.now();
for (let c0 = 0; c0 < M; c0 += CHUNK) {
  const c1 = Math.min(M, c0 + CHUNK);
  chunk.fill(0, 0, (c1 - c0) * bytesPerSnp);
  for (let j = c0; j < c1; j++) {
    const { pk } = frequencies(j);
    const t16 = Array.from(pk, (p) => Math.round(p * 65536));
    const r = rng(STREAM.geno, j);
    // Founders: two alleles from the 16-bit halves of one draw; children: one coin per heterozygous parent.
    for (let i = 0; i < N; i++) {
      if (father[i] < 0) {
        const x = r.next();
        const t = t16[pop[i]];
        g[i] = ((x & 0xffff) < t ? 1 : 0) + ((x >>> 16) < t ? 1 : 0);
      } else {
        const gf = g[father[i]];
        const gm = g[mother[i]];
        const x = r.next();
        g[i] = (gf === 1 ? x & 1 : gf >> 1) + (gm === 1 ? (x >>> 1) & 1 : gm >> 1);
      }
    }
    const beta = causalBeta.get(j);
    if (beta !== undefined) {
      let s = 0;
      for (let i = 0; i < N; i++) s += g[i];
      const mean = s / N;
      let ss = 0;
      for (let i = 0; i < N; i++) ss += (g[i] - mean) ** 2;
      const sd = Math.sqrt(ss / N) || 1;
      for (let i = 0; i < N; i++) gv[i] += (beta * (g[i] - mean)) / sd;
    }
    // Packing (2 bits per genotype, PLINK 1 SNP-major), then missingness: geometric gaps between missing
    // genotypes (each genotype missing independently with probability MISS, one draw per missing genotype).
    const base = (j - c0) * bytesPerSnp;
    for (let i = 0; i < N; i++) chunk[base + (i >> 2)] |= CODE[g[i]] << ((i & 3) << 1);
    if (MISS > 0) {
      const rm = rng(STREAM.miss, j);
      for (let i = Math.floor(Math.log(rm.unif()) / LOG1M_MISS); i < N; i += 1 + Math.floor(Math.log(rm.unif()) / LOG1M_MISS)) {
        const at = base + (i >> 2);
        const shift = (i & 3) << 1;
        chunk[at] = (chunk[at] & ~(0b11 << shift)) | (0b01 << shift);
      }
    }
    // .bim: chromosome blocks of perChr SNPs, increasing positions.
    const chr = Math.floor(j / perChr) + 1;
    const rb = rng(STREAM.bim, j);
    ps = j % perChr === 0 ? 10000 + Math.floor(rb.unif() * 1000) : ps + 1 + Math.floor(rb.unif() * 20000);
    const a = Math.floor(rb.unif() * 4);
    const b = (a + 1 + Math.floor(rb.unif() * 3)) % 4;
    bimLines.push(`${chr}\trs${j + 1}\t${(ps / 1e6).toFixed(6)}\t${ps}\t${LETTERS[a]}\t${LETTERS[b]}`);
  }
  writeSync(bed, chunk, 0, (c1 - c0) * bytesPerSnp);
  writeSync(bim, `${bimLines.join('\n')}\n`);
  bimLines = [];
  if (process.stderr.isTTY) process.stderr.write(`\rcohort.mjs: ${c1} / ${M} SNPs (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
closeSync(bed);
closeSync(bim);
if (process.stderr.isTTY) process.stderr.write('\n');

// ---- Phenotypes (in .fam order): liability = sqrt(H2) * standardised genetic value + stratification + covariates
// + noise with variance 1 - H2; quant = liability; binary = 1 when the liability is above its (1 - prevalence)
// quantile; null = covariates + stratification + noise (no genetic effect).
const rp = rng(STREAM.pheno, 0);
let gm = 0;
for (let i = 0; i < N; i++) gm += gv[i];
gm /= N;
let gss = 0;
for (let i = 0; i < N; i++) gss += (gv[i] - gm) ** 2;
const gsd = Math.sqrt(gss / N) || 1;
const cov = (i) => 0.02 * (age[i] - 45) + 0.2 * (sex[i] - 1) + POP_EFFECT * pop[i];
const quant = new Float64Array(N);
const liability = new Float64Array(N);
const nul = new Float64Array(N);
for (let i = 0; i < N; i++) {
  const genetic = N_CAUSAL > 0 ? (Math.sqrt(H2) * (gv[i] - gm)) / gsd : 0;
  const e = Math.sqrt(N_CAUSAL > 0 ? 1 - H2 : 1);
  quant[i] = cov(i) + genetic + e * rp.norm();
  liability[i] = cov(i) + genetic + e * rp.norm();
  nul[i] = cov(i) + rp.norm();
}
const sorted = Float64Array.from(liability).sort();
const threshold = sorted[Math.min(N - 1, Math.floor((1 - PREVALENCE) * N))];
const binary = Float64Array.from(liability, (l) => (l >= threshold ? 1 : 0));
const traits = [['quant', quant], ['binary', binary], ['null', nul]];
const missing = traits.map((_, t) => {
  const r = rng(STREAM.pheno, t + 1);
  return Uint8Array.from({ length: N }, () => (r.unif() < PHENO_MISS ? 1 : 0));
});

const fmt = (v) => String(Math.round(v * 1e6) / 1e6);
const val = (t, i) => (missing[t][i] ? 'NA' : fmt(traits[t][1][i]));
const famLines = [];
const phenoLines = [];
const pheLines = [`FID\tIID\t${traits.map((t) => t[0]).join('\t')}`];
const covarLines = [];
const covLines = ['FID\tIID\tage\tsex'];
for (let i = 0; i < N; i++) {
  const pat = father[i] >= 0 ? iid[father[i]] : '0';
  const mat = mother[i] >= 0 ? iid[mother[i]] : '0';
  famLines.push(`${fid[i]} ${iid[i]} ${pat} ${mat} ${sex[i]} ${missing[0][i] ? -9 : fmt(quant[i])}`);
  phenoLines.push(traits.map((_, t) => val(t, i)).join(' '));
  pheLines.push(`${fid[i]}\t${iid[i]}\t${traits.map((_, t) => val(t, i)).join('\t')}`);
  covarLines.push(`${fmt(age[i])} ${sex[i] - 1}`);
  covLines.push(`${fid[i]}\t${iid[i]}\t${fmt(age[i])}\t${sex[i] - 1}`);
}
writeFileSync(`${out}.fam`, `${famLines.join('\n')}\n`);
writeFileSync(`${out}.pheno.txt`, `${phenoLines.join('\n')}\n`);
writeFileSync(`${out}.phe`, `${pheLines.join('\n')}\n`);
writeFileSync(`${out}.covar.txt`, `${covarLines.join('\n')}\n`);
writeFileSync(`${out}.cov`, `${covLines.join('\n')}\n`);
writeFileSync(`${out}.causal.txt`, `rs\tbeta\n${[...causalBeta].sort((a, b) => a[0] - b[0]).map(([j, b]) => `rs${j + 1}\t${fmt(b)}`).join('\n')}${causalBeta.size ? '\n' : ''}`);
const cases = binary.reduce((s, v) => s + v, 0);
process.stderr.write(`cohort.mjs: ${N} individuals (${nFamilies} families) x ${M} SNPs, ${N_CAUSAL} causal, ${cases} cases -> ${out}.* in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
