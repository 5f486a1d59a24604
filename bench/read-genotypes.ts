/**
 * Read speed of one genotype input, doing what `plink2 --freq` does: stream every SNP block through the reader
 * and compute each SNP's ALT (counted-allele) frequency and allele-observation count. Prints one JSON line:
 * SNPs, samples, seconds to open (metadata pass) and to stream, SNPs per second over both, and a checksum of the
 * frequencies (their sum) plus the frequencies themselves when --freq-out FILE is given (to check against
 * plink2's .afreq).
 *
 * With --packed (hard-call sources: .bed, PGEN without dosages) the packed blocks are counted instead, four
 * genotypes per byte through two 256-entry tables, as plink2 counts its 2-bit arrays.
 *
 *   node dist/bench/read-genotypes.js --bfile P | --bgen F [--bgen-ref last|first] | --pfile P | --vcf F
 *        [--packed] [--block-size N] [--freq-out FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { genotypeFiles, openGenotypes, type GenotypeInputOptions } from '../gwas/genotype-input.js';

const { values } = parseArgs({
  options: {
    bfile: { type: 'string' },
    bgen: { type: 'string' },
    'bgen-ref': { type: 'string' },
    pfile: { type: 'string' },
    vcf: { type: 'string' },
    'vcf-field': { type: 'string' },
    'block-size': { type: 'string', default: '1024' },
    'freq-out': { type: 'string' },
    packed: { type: 'boolean', default: false },
  },
});
const input: GenotypeInputOptions = {
  ...(values.bfile ? { bfile: values.bfile } : {}),
  ...(values.bgen ? { bgen: values.bgen } : {}),
  ...(values['bgen-ref'] ? { bgenRef: values['bgen-ref'] as 'first' | 'last' } : {}),
  ...(values.pfile ? { pfile: values.pfile } : {}),
  ...(values.vcf ? { vcf: values.vcf } : {}),
  ...(values['vcf-field'] ? { vcfField: values['vcf-field'] as 'DS' | 'GT' | 'GP' } : {}),
};
const t0 = performance.now();
const source = await openGenotypes(input);
const t1 = performance.now();
const freq = new Float64Array(source.nSnps);
const obs = new Float64Array(source.nSnps);
if (values.packed) {
  if (!source.packedBlocks) throw new Error(`${source.describe}: no packed blocks (not a hard-call source)`);
  // COPIES[b] / CALLED[b]: allele1 copies and called genotypes among the four codes of byte b.
  const copiesOf = [2, 0, 1, 0];
  const COPIES = new Uint8Array(256);
  const CALLED = new Uint8Array(256);
  for (let b = 0; b < 256; b++) for (let k = 0; k < 4; k++) {
    const c = (b >> (2 * k)) & 3;
    COPIES[b]! += copiesOf[c]!;
    CALLED[b]! += c === 1 ? 0 : 1;
  }
  const n = source.samples.length;
  const bps = Math.ceil(n / 4);
  const full = n >> 2;
  for await (const b of source.packedBlocks(Number(values['block-size']))) {
    const codes = b.codes;
    for (let j = 0; j < b.snps.length; j++) {
      let s = 0;
      let called = 0;
      const at = j * bps;
      for (let k = at, end = at + full; k < end; k++) {
        const v = codes[k]!;
        s += COPIES[v]!;
        called += CALLED[v]!;
      }
      for (let i = 4 * full; i < n; i++) {
        const c = (codes[at + full]! >> (2 * (i & 3))) & 3;
        s += copiesOf[c]!;
        called += c === 1 ? 0 : 1;
      }
      freq[b.start + j] = s / (2 * called);
      obs[b.start + j] = 2 * called;
    }
  }
} else {
  for await (const b of source.blocks(Number(values['block-size']))) {
    const { rows, ld, data } = b.dosages;
    for (let j = 0; j < b.dosages.cols; j++) {
      let s = 0;
      let n = 0;
      for (let i = j * ld, end = j * ld + rows; i < end; i++) {
        const v = data[i]!;
        if (v === v) {
          s += v;
          n++;
        }
      }
      freq[b.start + j] = s / (2 * n);
      obs[b.start + j] = 2 * n;
    }
  }
}
const t2 = performance.now();
if (values['freq-out']) writeFileSync(values['freq-out'], Array.from(freq, (f, j) => `${source.snps[j]!.rs}\t${f}\t${obs[j]}`).join('\n') + '\n');
const seconds = (t2 - t0) / 1000;
console.log(JSON.stringify({
  files: genotypeFiles(input), path: values.packed ? 'packed' : 'f64 blocks', snps: source.nSnps, samples: source.samples.length,
  open_s: (t1 - t0) / 1000, stream_s: (t2 - t1) / 1000, snps_per_s: source.nSnps / seconds,
  freq_sum: freq.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0),
}));
