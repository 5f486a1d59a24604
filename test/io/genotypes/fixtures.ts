/** The genotype-format fixtures of data/formats (made by generate.mjs and convert.sh) and their expected values. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const FORMATS = join(ROOT, 'data/formats');
export const fx = (name: string): string => join(FORMATS, name);

/** The true dosages of the dose cohort (its BIMBAM copy): dosage[snp][individual], NaN missing. */
export function doseTruth(): { rs: string[]; alt: string[]; ref: string[]; dosage: Float64Array[] } {
  const out = { rs: [] as string[], alt: [] as string[], ref: [] as string[], dosage: [] as Float64Array[] };
  for (const line of gunzipSync(readFileSync(fx('dose.geno.txt.gz'))).toString('utf8').trim().split('\n')) {
    const f = line.split(' ');
    out.rs.push(f[0]!);
    out.alt.push(f[1]!);
    out.ref.push(f[2]!);
    out.dosage.push(Float64Array.from(f.slice(3), (v) => (v === 'NA' ? Number.NaN : Number(v))));
  }
  return out;
}

/** plink2's --freq of a converted file (oracle/NAME.afreq): ALT frequency and allele observation count per SNP. */
export function plink2Freq(name: string): { id: string[]; altFreq: number[]; obs: number[] } {
  const rows = readFileSync(fx(`oracle/${name}.afreq`), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  return { id: rows.map((r) => r[2]!), altFreq: rows.map((r) => Number(r[5])), obs: rows.map((r) => Number(r[6])) };
}

/** ALT frequency and observation count (2 x non-missing) of dosage columns, as plink2 --freq defines them. */
export function freqOf(dosage: Float64Array[]): { altFreq: number[]; obs: number[] } {
  const altFreq: number[] = [];
  const obs: number[] = [];
  for (const col of dosage) {
    let s = 0;
    let n = 0;
    for (const v of col) if (!Number.isNaN(v)) (s += v), n++;
    altFreq.push(s / (2 * n));
    obs.push(2 * n);
  }
  return { altFreq, obs };
}

/** Expected values JSON (null = missing) as Float64Arrays with NaN. */
export function nanArray(values: (number | null)[]): Float64Array {
  return Float64Array.from(values, (v) => (v === null ? Number.NaN : v));
}
