/**
 * Read speed of one genotype input, doing what `plink2 --freq` does: stream every SNP block through the reader
 * and compute each SNP's ALT (counted-allele) frequency and allele-observation count. Prints one JSON line:
 * SNPs, samples, seconds to open (metadata pass) and to stream, SNPs per second over both, and a checksum of the
 * frequencies (their sum) plus the frequencies themselves when --freq-out FILE is given (to check against
 * plink2's .afreq).
 *
 * With --packed (hard-call sources: .bed, PGEN without dosages) the packed blocks are counted instead, four
 * genotypes per byte through one 256-entry table (countCodes, what the kinship pass counts with), as plink2
 * counts its 2-bit arrays.
 *
 *   node dist/bench/read-genotypes.js --bfile P | --bgen F [--bgen-ref last|first] | --pfile P | --vcf F
 *        [--packed] [--block-size N] [--freq-out FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { genotypeFiles, openGenotypes, type GenotypeInputOptions } from '../gwas/genotype-input.js';
import { countCodes } from '../src/io/packed-codes.js';

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
  // Code counts per SNP through the product's byte table (src/io/packed-codes.ts): the unused fields of the last
  // byte read as code 0 (two copies), taken off.
  const n = source.samples.length;
  const bps = Math.ceil(n / 4);
  const counts = new Int32Array(4);
  for await (const b of source.packedBlocks(Number(values['block-size']))) {
    for (let j = 0; j < b.snps.length; j++) {
      countCodes(b.codes, j * bps, bps, counts, 0);
      const c0 = counts[0]! - (4 * bps - n);
      const called = n - counts[1]!;
      freq[b.start + j] = (2 * c0 + counts[2]!) / (2 * called);
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
