#!/usr/bin/env node
// Writes the simulated GWAS cohort of data/sim (see README.md): related individuals (families inside two
// subpopulations), SNPs on 5 chromosomes with missing genotypes and edge cases for every GEMMA SNP filter,
// two covariates, and two phenotypes (polygenic + causal; near-null). Deterministic: same bytes on every run.
//   node data/sim/generate.mjs [outDir]      (default: the folder of this script)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { seededRandom } from '../random.mjs';

const outDir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
mkdirSync(outDir, { recursive: true });

// Uniforms and normals from one fixed seed.
const { unif, norm } = seededRandom(20261122);
const binom2 = (p) => (unif() < p ? 1 : 0) + (unif() < p ? 1 : 0);
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

// ---- SNPs: 5 chromosomes x 400 SNPs, with special cases at fixed indices.
const N_CHR = 5;
const PER_CHR = 400;
const M = N_CHR * PER_CHR;
const FST = 0.05;
const kind = new Array(M).fill('common');
for (let j = 7; j < M; j += 97) kind[j] = 'rare'; // af < 0.01 -> maf filter
for (let j = 31; j < M; j += 401) kind[j] = 'mono'; // one genotype class only
kind[1234] = 'allhet'; // all heterozygous: one class, af 0.5 -> dropped as monomorphic
kind[555] = 'sexcopy'; // dosage = 2 * sex -> collinear with the covariates (r2 = 1)
const missRate = Array.from({ length: M }, (_, j) => (j % 53 === 11 ? 0.09 : j % 61 === 5 ? 0.03 : 0.01));
missRate[555] = 0;
const causal = [150, 900, 1650]; // strong effects on phenotype 1

// ---- Individuals: 50 families (2 parents + 3 children) and 100 unrelated, in two subpopulations.
const founders = [];
const ids = [];
const fam = []; // [FID, IID, father, mother, sex]
const pop = [];
const p0 = Array.from({ length: M }, () => 0.05 + 0.9 * unif());
const subFreq = [0, 1].map(() => p0.map((p) => clamp(p + norm() * Math.sqrt(FST * p * (1 - p)), 0.02, 0.98)));
const geno = []; // geno[i][j]: allele1 dosage (before special cases and missingness)
function founder(k) {
  return subFreq[k].map((p) => binom2(p));
}
function child(g1, g2) {
  return g1.map((a, j) => (unif() < a / 2 ? 1 : 0) + (unif() < g2[j] / 2 ? 1 : 0));
}
for (let f = 0; f < 50; f++) {
  const k = f < 30 ? 0 : 1;
  const dad = founder(k);
  const mum = founder(k);
  const fid = `F${String(f + 1).padStart(3, '0')}`;
  const members = [
    [`${fid}_1`, '0', '0', 1, dad],
    [`${fid}_2`, '0', '0', 2, mum],
    ...[3, 4, 5].map((c) => [`${fid}_${c}`, `${fid}_1`, `${fid}_2`, unif() < 0.5 ? 1 : 2, child(dad, mum)]),
  ];
  for (const [iid, pat, mat, sex, g] of members) {
    fam.push([fid, iid, pat, mat, sex]);
    geno.push(g);
    pop.push(k);
  }
}
for (let u = 0; u < 100; u++) {
  const k = u < 55 ? 0 : 1;
  const iid = `U${String(u + 1).padStart(3, '0')}`;
  fam.push([iid, iid, '0', '0', unif() < 0.5 ? 1 : 2]);
  geno.push(founder(k));
  pop.push(k);
}
const N = fam.length;

// Special SNPs, then missingness (NaN).
for (let i = 0; i < N; i++) {
  const sex01 = fam[i][4] - 1;
  for (let j = 0; j < M; j++) {
    if (kind[j] === 'rare') geno[i][j] = unif() < 0.004 ? 1 : 0;
    else if (kind[j] === 'mono') geno[i][j] = j % 2 ? 2 : 0;
    else if (kind[j] === 'allhet') geno[i][j] = 1;
    else if (kind[j] === 'sexcopy') geno[i][j] = 2 * sex01;
  }
}
const dosage = geno.map((g) => g.map((v, j) => (unif() < missRate[j] ? Number.NaN : v)));

// ---- Covariates: age (continuous) and sex (0/1); a few ages missing.
const age = Array.from({ length: N }, (_, i) => (i % 71 === 13 ? Number.NaN : Math.round((40 + 8 * norm()) * 10) / 10));
const sex = fam.map((r) => r[4] - 1);

// ---- Phenotypes. y1: covariates + polygenic (h2 ~ 0.5) + 3 causal SNPs + noise; y2: covariates + noise
// (pve near 0). Uses the true genotypes (before missingness).
const beta = Array.from({ length: M }, () => norm() * Math.sqrt(0.5 / (M * 0.5)));
for (const j of causal) beta[j] = 0.45;
const y1 = [];
const y2 = [];
for (let i = 0; i < N; i++) {
  let g = 0;
  for (let j = 0; j < M; j++) g += beta[j] * (geno[i][j] - 2 * p0[j]);
  const a = Number.isNaN(age[i]) ? 40 : age[i];
  y1.push(0.03 * (a - 40) + 0.4 * sex[i] + 0.3 * pop[i] + g + Math.sqrt(0.5) * norm());
  y2.push(0.02 * (a - 40) + 0.2 * sex[i] + norm());
}
const missY1 = (i) => i % 37 === 3;
const missY2 = (i) => i % 29 === 17;

// ---- Writers.
const fmt = (v) => (Number.isNaN(v) ? 'NA' : String(Math.round(v * 1e6) / 1e6));
const lines = (rows) => rows.map((r) => r.join(' ')).join('\n') + '\n';
const letters = ['A', 'C', 'G', 'T'];
const snps = [];
for (let c = 0; c < N_CHR; c++) {
  let ps = 10000 + Math.floor(unif() * 5000);
  for (let s = 0; s < PER_CHR; s++) {
    const j = c * PER_CHR + s;
    ps += 1000 + Math.floor(unif() * 50000);
    const a = Math.floor(unif() * 4);
    const b = (a + 1 + Math.floor(unif() * 3)) % 4;
    snps.push({ chr: String(c + 1), rs: `snp${String(j + 1).padStart(4, '0')}`, cm: (ps / 1e6).toFixed(4), ps, a1: letters[a], a0: letters[b] });
  }
}

// PLINK .fam (phenotype 1 in column 6, -9 missing), .bim, .bed (SNP-major; 00=2, 10=1, 11=0, 01=missing).
writeFileSync(join(outDir, 'sim.fam'), lines(fam.map((r, i) => [...r, missY1(i) ? -9 : fmt(y1[i])])));
writeFileSync(join(outDir, 'sim.bim'), lines(snps.map((s) => [s.chr, s.rs, s.cm, s.ps, s.a1, s.a0])));
const bps = Math.ceil(N / 4);
const bed = Buffer.alloc(3 + M * bps);
bed.set([0x6c, 0x1b, 0x01]);
const CODE = { 2: 0b00, 1: 0b10, 0: 0b11 };
for (let j = 0; j < M; j++) {
  for (let i = 0; i < N; i++) {
    const v = dosage[i][j];
    const code = Number.isNaN(v) ? 0b01 : CODE[v];
    bed[3 + j * bps + (i >> 2)] |= code << (2 * (i & 3));
  }
}
writeFileSync(join(outDir, 'sim.bed'), bed);

// BIMBAM: mean genotypes (rs, allele1, allele0, dosages; NA missing), phenotypes (2 columns), annotation.
const genoLines = snps.map((s, j) => [s.rs, s.a1, s.a0, ...dosage.map((g) => (Number.isNaN(g[j]) ? 'NA' : String(g[j])))].join(', '));
writeFileSync(join(outDir, 'sim.geno.txt.gz'), gzipSync(genoLines.join('\n') + '\n', { level: 9 }));
writeFileSync(join(outDir, 'sim.pheno.txt'), lines(fam.map((_, i) => [missY1(i) ? 'NA' : fmt(y1[i]), missY2(i) ? 'NA' : fmt(y2[i])])));
writeFileSync(join(outDir, 'sim.anno.txt'), lines(snps.map((s) => [s.rs, s.ps, s.chr])));
writeFileSync(join(outDir, 'sim.covar.txt'), lines(fam.map((_, i) => [fmt(age[i]), sex[i]])));
console.log(`wrote ${N} individuals x ${M} SNPs to ${outDir}`);
