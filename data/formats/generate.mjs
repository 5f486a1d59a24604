#!/usr/bin/env node
// Writes the genotype-format fixtures of data/formats (see README.md). Deterministic: same bytes on every run.
//   node data/formats/generate.mjs [outDir]      (default: the folder of this script)
// Then `bash data/formats/convert.sh` makes the plink2/bcftools/bgzip conversions and the GEMMA golden.
//
// 1. dose.*: an imputed-looking cohort, 200 individuals (40 families of 2 parents + 3 children) x 240 SNPs on
//    3 chromosomes, genotype probabilities with 3 decimals (GP), the dosage DS = GP1 + 2 GP2 (exact in decimal),
//    the most likely genotype as GT, about 1% missing entries; as a VCF and, with the same dosages, as BIMBAM
//    mean genotypes (allele1 = ALT, counted) for GEMMA, with a phenotype (polygenic + 2 causal SNPs).
// 2. edge.vcf + edge.expected.json: a few records for the VCF reader's rules (multi-allelic split, haploid,
//    phased, half calls, missing, FORMAT orders, records without DS), with the dosages each field should give;
//    convert.sh makes PGEN copies of it (multi-allelic hard calls, phased calls with dosages).
// 2b. ld.vcf: hard calls in strong LD, from which plink2 writes LD-compressed PGEN records (convert.sh).
// 3. edge-l2.bgen, edge-v11.bgen (+ edge.sample) + edge-bgen.expected.json: BGEN files encoded here, by a writer
//    independent of the reader, for what plink2 does not write: 3-, 5-, 7- and 10-bit probabilities, phased data,
//    ploidy 1 and 3, three alleles, missing samples, a one-allele variant, uncompressed layout 1; the expected
//    dosages are computed from the encoded integers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import { seededRandom } from '../random.mjs';

const outDir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
mkdirSync(outDir, { recursive: true });

const { unif, norm } = seededRandom(20261207);
const letters = ['A', 'C', 'G', 'T'];

// ---------------------------------------------------------------------------------------------------------
// 1. The dosage cohort.
const N_FAM = 40;
const N = 5 * N_FAM;
const CHRS = 3;
const PER_CHR = 80;
const M = CHRS * PER_CHR;
const ids = Array.from({ length: N }, (_, i) => `d${String(i + 1).padStart(3, '0')}`);
const af = Array.from({ length: M }, () => 0.05 + 0.9 * unif());
const geno = []; // true genotypes, geno[i][j] = ALT copies
for (let f = 0; f < N_FAM; f++) {
  const parent = () => af.map((p) => [unif() < p ? 1 : 0, unif() < p ? 1 : 0]);
  const dad = parent();
  const mum = parent();
  geno.push(dad.map((h) => h[0] + h[1]), mum.map((h) => h[0] + h[1]));
  for (let c = 0; c < 3; c++) geno.push(dad.map((h, j) => h[unif() < 0.5 ? 0 : 1] + mum[j][unif() < 0.5 ? 0 : 1]));
}
// Imputation quality per SNP: probability mass kept on the true genotype.
const quality = Array.from({ length: M }, (_, j) => (j % 17 === 4 ? 1 : 0.55 + 0.45 * unif()));
/** Genotype probabilities with 3 decimals (in thousandths, summing to 1000), or null for a missing entry. */
function probs(g, q) {
  if (unif() < 0.01) return null;
  const w = [0, 1, 2].map((k) => (k === g ? q : (1 - q) * unif()));
  const s = w.reduce((a, b) => a + b, 0);
  const t = w.map((x) => Math.round((1000 * x) / s));
  t[g] += 1000 - t[0] - t[1] - t[2];
  if (t.some((x) => x < 0)) return [g === 0 ? 1000 : 0, g === 1 ? 1000 : 0, g === 2 ? 1000 : 0];
  return t;
}
const gp = geno.map((row) => row.map((g, j) => probs(g, quality[j])));
const milli = (k) => (k / 1000).toString();
const dsOf = (t) => (t === null ? Number.NaN : (t[1] + 2 * t[2]) / 1000);
const snps = [];
for (let c = 0; c < CHRS; c++) {
  let ps = 5000 + Math.floor(unif() * 1000);
  for (let s = 0; s < PER_CHR; s++) {
    ps += 500 + Math.floor(unif() * 20000);
    const ref = Math.floor(unif() * 4);
    const alt = (ref + 1 + Math.floor(unif() * 3)) % 4;
    snps.push({ chr: String(c + 1), ps, rs: `rs${1000 + c * PER_CHR + s}`, ref: letters[ref], alt: letters[alt] });
  }
}
// Phenotype: polygenic on the dosages + two causal SNPs + noise; 4 missing.
const beta = Array.from({ length: M }, () => norm() * 0.08);
beta[30] = 0.6;
beta[170] = -0.5;
const pheno = ids.map((_, i) => {
  let g = 0;
  for (let j = 0; j < M; j++) g += beta[j] * (geno[i][j] - 2 * af[j]);
  return i % 53 === 7 ? 'NA' : (g + 0.8 * norm()).toFixed(6);
});

const vcf = [
  '##fileformat=VCFv4.2',
  '##source=gpulmm data/formats/generate.mjs',
  ...Array.from({ length: CHRS }, (_, c) => `##contig=<ID=${c + 1},length=10000000>`),
  '##INFO=<ID=R2,Number=1,Type=Float,Description="Simulated imputation quality">',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##FORMAT=<ID=DS,Number=A,Type=Float,Description="ALT dosage">',
  '##FORMAT=<ID=GP,Number=G,Type=Float,Description="Genotype probabilities">',
  ['#CHROM', 'POS', 'ID', 'REF', 'ALT', 'QUAL', 'FILTER', 'INFO', 'FORMAT', ...ids].join('\t'),
];
snps.forEach((s, j) => {
  const cells = gp.map((row) => {
    const t = row[j];
    if (t === null) return './.:.:.';
    const best = t.indexOf(Math.max(...t));
    return `${['0/0', '0/1', '1/1'][best]}:${milli(t[1] + 2 * t[2])}:${t.map(milli).join(',')}`;
  });
  vcf.push([s.chr, s.ps, s.rs, s.ref, s.alt, '.', 'PASS', `R2=${quality[j].toFixed(3)}`, 'GT:DS:GP', ...cells].join('\t'));
});
writeFileSync(join(outDir, 'dose.vcf'), vcf.join('\n') + '\n');
const bimbam = snps.map((s, j) => [s.rs, s.alt, s.ref, ...gp.map((row) => (row[j] === null ? 'NA' : milli(row[j][1] + 2 * row[j][2])))].join(' '));
writeFileSync(join(outDir, 'dose.geno.txt.gz'), gzipSync(bimbam.join('\n') + '\n', { level: 9 }));
writeFileSync(join(outDir, 'dose.anno.txt'), snps.map((s) => `${s.rs} ${s.ps} ${s.chr}`).join('\n') + '\n');
writeFileSync(join(outDir, 'dose.pheno.txt'), pheno.join('\n') + '\n');

// ---------------------------------------------------------------------------------------------------------
// 2. VCF edge cases: 4 samples. Expected dosage of each output SNP under each field choice (null = missing).
const edgeIds = ['s1', 's2', 's3', 's4'];
const edgeRecords = [
  // chr pos id ref alt info format cells, then the expected SNPs: [allele1, {GT, DS, GP}]
  { r: ['1', 100, 'bi', 'A', 'G', '.', 'GT:DS:GP', '0/0:0.1:0.9,0.1,0', '0|1:1.2:0.1,0.6,0.3', '1/1:1.9:0,0.1,0.9', './.:.:.'],
    want: [['G', { GT: [0, 1, 2, null], DS: [0.1, 1.2, 1.9, null], GP: [0.1, 1.2, 1.9, null] }]] },
  { r: ['1', 200, 'multi', 'A', 'C,T', 'X=1', 'GT:DS:GP', '0/1:0.9,0.1:0.05,0.85,0.025,0.05,0,0.025', '1/2:1,1:0,0,0,0,1,0', '2/2:0,2:0,0,0,0,0,1', '0/0:0,0:1,0,0,0,0,0'],
    want: [['C', { GT: [1, 1, 0, 0], DS: [0.9, 1, 0, 0], GP: [0.9, 1, 0, 0] }], ['T', { GT: [0, 1, 2, 0], DS: [0.1, 1, 2, 0], GP: [0.1, 1, 2, 0] }]] },
  // GT only: haploid calls count 2 x (plink2's haploid convention), a half call is missing.
  { r: ['1', 300, 'haploid', 'C', 'G', '.', 'GT', '1', '0', '0/.', '.'],
    want: [['G', { GT: [2, 0, null, null], DS: [2, 0, null, null], GP: [2, 0, null, null] }]] },
  // Three ALT alleles (plink2 PGEN: 1-bit REF-ALTx patches and 2-bit ALTx-ALTy pairs).
  { r: ['1', 250, 'multi3', 'G', 'A,C,T', '.', 'GT', '0/3', '2/3', '1/3', '3/3'],
    want: [['A', { GT: [0, 0, 1, 0], DS: [0, 0, 1, 0], GP: [0, 0, 1, 0] }], ['C', { GT: [0, 1, 0, 0], DS: [0, 1, 0, 0], GP: [0, 1, 0, 0] }], ['T', { GT: [1, 1, 1, 2], DS: [1, 1, 1, 2], GP: [1, 1, 1, 2] }]] },
  // DS and GP in another order; s4 lacks trailing fields (dropped trailing fields are missing).
  { r: ['2', 50, 'order', 'T', 'A', '.', 'GT:GP:DS', '0/1:0,1,0:1', '1|1:0.2,0.3,0.5:1.3', '0/0:1,0,0:0', '1/0:.'],
    want: [['A', { GT: [1, 2, 0, 1], DS: [1, 1.3, 0, null], GP: [1, 1.3, 0, null] }]] },
  // No DS or GP in FORMAT: every mode falls back to GT.
  { r: ['2', 60, 'gtonly', 'G', 'C', '.', 'GT:AD', '0/1:3,4', '1/1:0,7', '0/0:9,0', '0/1:.'],
    want: [['C', { GT: [1, 2, 0, 1], DS: [1, 2, 0, 1], GP: [1, 2, 0, 1] }]] },
];
const edgeVcf = [
  '##fileformat=VCFv4.3',
  '##contig=<ID=1>',
  '##contig=<ID=2>',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '##FORMAT=<ID=DS,Number=A,Type=Float,Description="Dosage">',
  '##FORMAT=<ID=GP,Number=G,Type=Float,Description="Genotype probabilities">',
  '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allele depths">',
  '##INFO=<ID=X,Number=1,Type=Integer,Description="An INFO field">',
  ['#CHROM', 'POS', 'ID', 'REF', 'ALT', 'QUAL', 'FILTER', 'INFO', 'FORMAT', ...edgeIds].join('\t'),
  ...edgeRecords.map(({ r }) => [...r.slice(0, 5), '.', 'PASS', ...r.slice(5)].join('\t')),
];
writeFileSync(join(outDir, 'edge.vcf'), edgeVcf.join('\n') + '\n');
const edgeExpected = { samples: edgeIds, snps: [] };
for (const { r, want } of edgeRecords) {
  for (const [allele1, values] of want) edgeExpected.snps.push({ chr: r[0], ps: r[1], rs: r[2], allele0: r[3], allele1, multiallelic: r[4].includes(','), ...values });
}
writeFileSync(join(outDir, 'edge.expected.json'), JSON.stringify(edgeExpected, null, 1) + '\n');

// ---------------------------------------------------------------------------------------------------------
// 2b. ld.vcf: hard calls in strong LD (blocks of near-copies, some with REF/ALT swapped) so that plink2 writes
//     LD-compressed PGEN records (plain and inverted) from it.
{
  const n = 300;
  const rows = [];
  let prev = null;
  for (let j = 0; j < 80; j++) {
    let g;
    if (j % 10 === 0) {
      const p = 0.2 + 0.6 * unif();
      g = Array.from({ length: n }, () => (unif() < p ? 1 : 0) + (unif() < p ? 1 : 0));
    } else {
      g = prev.map((v) => (unif() < 0.02 ? Math.floor(unif() * 3) : v));
      if (j % 4 === 3) g = g.map((v) => 2 - v);
    }
    prev = j % 4 === 3 ? g.map((v) => 2 - v) : g;
    const cells = g.map((v) => (unif() < 0.01 ? './.' : ['0/0', '0/1', '1/1'][v]));
    rows.push(['4', 1000 + 100 * j, `ld${j}`, 'A', 'G', '.', 'PASS', '.', 'GT', ...cells].join('\t'));
  }
  const head = ['##fileformat=VCFv4.2', '##contig=<ID=4>', '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">', ['#CHROM', 'POS', 'ID', 'REF', 'ALT', 'QUAL', 'FILTER', 'INFO', 'FORMAT', ...Array.from({ length: n }, (_, i) => `L${i + 1}`)].join('\t')];
  writeFileSync(join(outDir, 'ld.vcf'), [...head, ...rows].join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------------------
// 3. BGEN edge cases, encoded by hand (spec: https://www.chg.ox.ac.uk/~gav/bgen_format/).
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const str16 = (s) => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s, 'latin1')]);
const str32 = (s) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s, 'latin1')]);
/** Packs unsigned integers of `bits` bits each, least significant bit first. */
function packBits(values, bits) {
  const out = Buffer.alloc(Math.ceil((values.length * bits) / 8));
  let bit = 0;
  for (const v of values) for (let b = 0; b < bits; b++, bit++) if (Math.floor(v / 2 ** b) % 2) out[bit >> 3] |= 1 << (bit & 7);
  return out;
}
/** Genotypes (allele count vectors) of ploidy z over k alleles in colex order: compare the last count first. */
function genotypes(k, z) {
  const out = [];
  const walk = (prefix, left) => {
    if (prefix.length === k - 1) return void out.push([...prefix, left]);
    for (let c = 0; c <= left; c++) walk([...prefix, c], left - c);
  };
  walk([], z);
  return out.sort((x, y) => { for (let i = k - 1; i >= 0; i--) if (x[i] !== y[i]) return x[i] - y[i]; return 0; });
}
/** Random integer probabilities of `count` outcomes summing to maxv. */
function randomSplit(count, maxv) {
  const cuts = Array.from({ length: count - 1 }, () => Math.floor(unif() * (maxv + 1))).sort((a, b) => a - b);
  return [...cuts, maxv].map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]));
}
const NB = 5;
const bgenIds = ['b1', 'b2', 'b3', 'b4', 'b5'];
/**
 * One layout-2 variant: samples given as {ploidy, missing}; returns the data block and, per allele a, the expected
 * dosage (2/Z) * E[copies of a] per sample (null when missing or ploidy 0).
 */
function layout2Variant({ k, bits, phased, samples }) {
  const maxv = 2 ** bits - 1;
  const values = [];
  const expected = Array.from({ length: k }, () => []);
  for (const { ploidy, missing } of samples) {
    const nvals = phased ? ploidy * (k - 1) : genotypes(k, ploidy).length - 1;
    if (missing) {
      values.push(...new Array(nvals).fill(0)); // a missing sample's probabilities are stored as zeros
      for (let a = 0; a < k; a++) expected[a].push(null);
      continue;
    }
    const copies = new Array(k).fill(0);
    if (phased) {
      for (let h = 0; h < ploidy; h++) {
        const p = randomSplit(k, maxv);
        values.push(...p.slice(0, k - 1));
        p.forEach((v, a) => (copies[a] += v));
      }
    } else {
      const gts = genotypes(k, ploidy);
      const p = randomSplit(gts.length, maxv);
      values.push(...p.slice(0, nvals));
      gts.forEach((g, gi) => g.forEach((c, a) => (copies[a] += c * p[gi])));
    }
    for (let a = 0; a < k; a++) expected[a].push(ploidy === 0 ? null : (2 * copies[a]) / (ploidy * maxv));
  }
  const ploidies = samples.map((s) => s.ploidy);
  const data = Buffer.concat([
    u32(samples.length), u16(k), Buffer.from([Math.min(...ploidies), Math.max(...ploidies)]),
    Buffer.from(samples.map((s) => s.ploidy | (s.missing ? 0x80 : 0))), Buffer.from([phased ? 1 : 0, bits]), packBits(values, bits),
  ]);
  return { data, expected };
}
const diploid = (missingAt = -1) => Array.from({ length: NB }, (_, i) => ({ ploidy: 2, missing: i === missingAt }));
const l2Variants = [
  { id: 'v3bit', k: 2, bits: 3, phased: false, samples: diploid(2) },
  { id: 'v5phased', k: 2, bits: 5, phased: true, samples: diploid(4) },
  { id: 'v8multi', k: 3, bits: 8, phased: false, samples: diploid(0) },
  { id: 'v10ploidy', k: 2, bits: 10, phased: false, samples: [1, 2, 3, 0, 2].map((p, i) => ({ ploidy: p, missing: i === 4 })) },
  { id: 'v7phasedmulti', k: 3, bits: 7, phased: true, samples: [2, 1, 2, 2, 3].map((p) => ({ ploidy: p, missing: false })) },
  { id: 'v16', k: 2, bits: 16, phased: false, samples: diploid(1) },
  { id: 'v1allele', k: 1, bits: 8, phased: false, samples: diploid() },
];
function bgenFile({ layout, compression, withIds, variants }) {
  const flags = compression + 4 * layout + (withIds ? 2 ** 31 : 0);
  const header = Buffer.concat([u32(20), u32(variants.length), u32(NB), Buffer.from('bgen'), u32(flags)]);
  const idBlock = withIds ? Buffer.concat(bgenIds.map(str16)) : Buffer.alloc(0);
  const sampleBlock = withIds ? Buffer.concat([u32(8 + idBlock.length), u32(NB), idBlock]) : Buffer.alloc(0);
  const body = variants.map((v) => Buffer.concat([v.head, v.genotypes]));
  return Buffer.concat([u32(header.length + sampleBlock.length), header, sampleBlock, ...body]);
}
const expectedBgen = { samples: bgenIds, l2: [], v11: [] };
const l2 = l2Variants.map((v, n) => {
  const { data, expected } = layout2Variant(v);
  const alleles = ['A', 'C', 'G'].slice(0, v.k);
  const head = Buffer.concat([str16(`${v.id}_snpid`), str16(v.id), str16('01'), u32(1000 * (n + 1)), u16(v.k), ...alleles.map(str32)]);
  const z = deflateSync(data);
  expectedBgen.l2.push({ rs: v.id, chr: '01', ps: 1000 * (n + 1), alleles, dosage: expected });
  return { head, genotypes: Buffer.concat([u32(z.length + 4), u32(data.length), z]) };
});
writeFileSync(join(outDir, 'edge-l2.bgen'), bgenFile({ layout: 2, compression: 1, withIds: true, variants: l2 }));
// Layout 1 (v1.1), uncompressed, no sample IDs (they come from edge.sample): three u16 probabilities / 32768.
const v11 = [0, 1, 2].map((n) => {
  const triples = Array.from({ length: NB }, (_, i) => (i === n ? [0, 0, 0] : randomSplit(3, 32768)));
  const head = Buffer.concat([u32(NB), str16(`s${n}`), str16(`rs_v11_${n}`), str16('2'), u32(500 + n), str32('T'), str32('G')]);
  const genotypes = Buffer.concat(triples.flat().map(u16));
  expectedBgen.v11.push({ rs: `rs_v11_${n}`, chr: '2', ps: 500 + n, alleles: ['T', 'G'], dosage: [0, 1].map((a) => triples.map(([aa, ab, bb]) => (aa + ab + bb === 0 ? null : (a === 0 ? 2 * aa + ab : ab + 2 * bb) / (aa + ab + bb)))) });
  return { head, genotypes };
});
writeFileSync(join(outDir, 'edge-v11.bgen'), bgenFile({ layout: 1, compression: 0, withIds: false, variants: v11 }));
writeFileSync(join(outDir, 'edge.sample'), ['ID_1 ID_2 missing sex', '0 0 0 D', ...bgenIds.map((id) => `fam_${id} ${id} 0 1`)].join('\n') + '\n');
writeFileSync(join(outDir, 'edge-bgen.expected.json'), JSON.stringify(expectedBgen, null, 1) + '\n');
console.log(`wrote dose (${N} x ${M}), edge.vcf, edge-l2.bgen, edge-v11.bgen to ${outDir}`);
