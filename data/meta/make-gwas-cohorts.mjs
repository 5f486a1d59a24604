#!/usr/bin/env node
// Simulated GWAS summary statistics of several cohorts of one trait, for `gpulmm meta --gwas` (tests and bench):
//
//   node data/meta/make-gwas-cohorts.mjs --variants 400 --out data/meta/gwas --seed 15 --rates test
//   node data/meta/make-gwas-cohorts.mjs --variants 1000000 --out /work/scratch/NAME/cohorts --seed 15
//
// A shared variant list (chromosomes 1-22 and X, positions increasing; ~5% strand-ambiguous A/T or C/G SNPs, ~2%
// indels, ~0.5% multi-allelic sites with two variants at one position) with true effects (0.1% causal; half of them
// heterogeneous between cohorts). Each cohort (n = 8000, 5000, 3000, ...) reports a subset of the variants with
// beta ~ N(true, se^2), se = 1/sqrt(2 n af (1 - af)), in its own layout and allele conventions:
//   cohort 1: gpulmm/GEMMA assoc.txt (chr rs ps n_miss allele1 allele0 af beta se logl_H1 l_remle p_wald), X as "X"
//   cohort 2: GWAS-SSF .tsv.gz (chromosome base_pair_location effect_allele other_allele beta standard_error
//             effect_allele_frequency p_value rsid n), X as 23, missing values as #NA
//   cohort 3: BOLT-LMM table (SNP CHR BP GENPOS ALLELE1 ALLELE0 A1FREQ F_MISS BETA SE P_BOLT_LMM_INF), X as "X"
//   (more cohorts cycle through the three layouts)
// and per cohort: variants missing (5%), effect/other allele order swapped (30%: beta and af flipped), reported on the
// other strand (complemented alleles: for a strand-ambiguous SNP this reads as swapped labels; 1%, 'test' rates 5%), mismatched alleles (0.1%, 'test' 3%),
// failed fits with beta and se NA (0.1%, 'test' 2%). Deterministic for a seed (data/random.mjs).
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { join } from 'node:path';
import { seededRandom } from '../random.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const nVariants = Number(args.variants ?? 400);
const outDir = args.out ?? 'data/meta/gwas';
const seed = Number(args.seed ?? 15);
const nCohorts = Number(args.cohorts ?? 3);
const testRates = args.rates === 'test';
const rates = { missing: 0.05, swap: 0.3, strand: testRates ? 0.05 : 0.01, mismatch: testRates ? 0.03 : 0.001, invalid: testRates ? 0.02 : 0.001 };
const sizes = [8000, 5000, 3000, 6000, 4000];
mkdirSync(outDir, { recursive: true });

const rng = seededRandom(seed);
const { unif, norm } = rng;
const BASES = ['A', 'C', 'G', 'T'];
const COMP = { A: 'T', T: 'A', C: 'G', G: 'C' };

// ---- the shared variants ----
const variants = [];
{
  const perChr = Math.ceil(nVariants / 23);
  let chrIdx = 0;
  let pos = 10000;
  while (variants.length < nVariants) {
    if (variants.length >= perChr * (chrIdx + 1)) {
      chrIdx++;
      pos = 10000;
    }
    pos += 1 + Math.floor(unif() * 2000);
    const chr = chrIdx < 22 ? String(chrIdx + 1) : 'X';
    const sites = unif() < 0.005 ? 2 : 1;
    const ref = BASES[Math.floor(unif() * 4)];
    const used = new Set([ref]);
    for (let s = 0; s < sites && variants.length < nVariants; s++) {
      let alt;
      const r = unif();
      if (r < 0.02) alt = ref + BASES[Math.floor(unif() * 4)];
      else if (r < 0.07 && !used.has(COMP[ref])) alt = COMP[ref];
      else {
        const others = BASES.filter((b) => !used.has(b) && b !== COMP[ref]);
        alt = others.length ? others[Math.floor(unif() * others.length)] : BASES.find((b) => !used.has(b));
      }
      used.add(alt);
      const af = 0.02 + 0.96 * unif();
      const causal = unif() < 0.001;
      variants.push({ chr, pos, id: `rs${1000000 + variants.length}`, ref, alt, af, beta: causal ? 0.08 * norm() : 0, het: causal && unif() < 0.5 });
    }
  }
}

const fmt = (x, na = 'NA') => (Number.isFinite(x) ? x.toPrecision(7) : na);
/** two-sided normal p of z (Abramowitz-Stegun 7.1.26 erfc is enough for a generated p column) */
function pNorm2(z) {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return Math.max(y, 1e-300);
}

const LAYOUTS = ['gemma', 'ssf', 'bolt'];
for (let c = 0; c < nCohorts; c++) {
  const layout = LAYOUTS[c % 3];
  const n = sizes[c % sizes.length];
  const name = layout === 'gemma' ? `cohort${c + 1}.assoc.txt` : layout === 'ssf' ? `cohort${c + 1}.tsv.gz` : `cohort${c + 1}.bolt.tsv`;
  const file = createWriteStream(join(outDir, name));
  const gz = layout === 'ssf' ? createGzip({ level: 6 }) : null;
  if (gz) gz.pipe(file);
  const sink = gz ?? file;
  const header = {
    gemma: 'chr\trs\tps\tn_miss\tallele1\tallele0\taf\tbeta\tse\tlogl_H1\tl_remle\tp_wald',
    ssf: 'chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tstandard_error\teffect_allele_frequency\tp_value\trsid\tn',
    bolt: 'SNP\tCHR\tBP\tGENPOS\tALLELE1\tALLELE0\tA1FREQ\tF_MISS\tBETA\tSE\tP_BOLT_LMM_INF',
  }[layout];
  let buf = `${header}\n`;
  for (const v of variants) {
    if (unif() < rates.missing) continue;
    const af = Math.min(0.99, Math.max(0.01, v.af + 0.02 * norm()));
    const se = 1 / Math.sqrt(2 * n * af * (1 - af));
    const truth = v.beta + (v.het ? 0.05 * norm() : 0);
    let beta = truth + se * norm();
    let sev = se;
    // the counted (effect) allele is alt unless the cohort swaps the order
    let e = v.alt;
    let o = v.ref;
    let f = af;
    if (unif() < rates.swap) {
      [e, o] = [o, e];
      beta = -beta;
      f = 1 - f;
    }
    const snp = e.length === 1 && o.length === 1;
    if (snp && unif() < rates.strand) {
      e = COMP[e];
      o = COMP[o];
    }
    if (snp && unif() < rates.mismatch) o = BASES.find((b) => b !== e && b !== o && b !== COMP[e] && b !== COMP[o]) ?? BASES.find((b) => b !== e && b !== o);
    if (unif() < rates.invalid) {
      beta = NaN;
      sev = NaN;
    }
    const p = Number.isFinite(beta) ? pNorm2(beta / sev) : NaN;
    const chr = layout === 'ssf' && v.chr === 'X' ? '23' : v.chr;
    if (layout === 'gemma') buf += `${chr}\t${v.id}\t${v.pos}\t0\t${e}\t${o}\t${f.toFixed(3)}\t${fmt(beta)}\t${fmt(sev)}\t-1000\t1\t${fmt(p)}\n`;
    else if (layout === 'ssf') buf += `${chr}\t${v.pos}\t${e}\t${o}\t${fmt(beta, '#NA')}\t${fmt(sev, '#NA')}\t${f.toFixed(4)}\t${fmt(p, '#NA')}\t${v.id}\t${n}\n`;
    else buf += `${v.id}\t${chr}\t${v.pos}\t0\t${e}\t${o}\t${f.toFixed(4)}\t0\t${fmt(beta)}\t${fmt(sev)}\t${fmt(p)}\n`;
    if (buf.length > 1 << 20) {
      if (!sink.write(buf)) await once(sink, 'drain');
      buf = '';
    }
  }
  sink.end(buf);
  await once(file, 'finish');
  process.stdout.write(`${join(outDir, name)}\n`);
}
