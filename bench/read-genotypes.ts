/**
 * Read speed of one genotype input, doing what `plink2 --freq` does: stream every SNP block through the reader
 * and compute each SNP's ALT (counted-allele) frequency and allele-observation count. Prints one JSON line:
 * SNPs, samples, seconds to open (metadata pass) and to stream, SNPs per second over both, and a checksum of the
 * frequencies (their sum) plus the frequencies themselves when --freq-out FILE is given (to check against
 * plink2's .afreq).
 *
 *   node dist/bench/read-genotypes.js --bfile P | --bgen F [--bgen-ref last|first] | --pfile P | --vcf F
 *        [--block-size N] [--freq-out FILE]
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
const t2 = performance.now();
if (values['freq-out']) writeFileSync(values['freq-out'], Array.from(freq, (f, j) => `${source.snps[j]!.rs}\t${f}\t${obs[j]}`).join('\n') + '\n');
const seconds = (t2 - t0) / 1000;
console.log(JSON.stringify({
  files: genotypeFiles(input), snps: source.nSnps, samples: source.samples.length,
  open_s: (t1 - t0) / 1000, stream_s: (t2 - t1) / 1000, snps_per_s: source.nSnps / seconds,
  freq_sum: freq.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0),
}));
