#!/usr/bin/env bash
# Makes every committed fixture of data/formats from generate.mjs's outputs and data/sim, with the reference tools
# as converters and oracles (apt-get install plink2 tabix bcftools gemma sqlite3):
#   bash data/formats/convert.sh
# - dose.vcf (generate.mjs) -> dose.vcf.gz (bgzip) + .tbi + .csi, dose.bcf (+ .csi) (bcftools), and with plink2
#   (dosage=DS) BGEN v1.2 8-bit (plink2's default allele order: the first allele is ALT), v1.2 16-bit ref-first,
#   v1.3 (zstd, 16-bit), v1.1 (layout 1), PGEN (dosages);
# - dose.b8.bgen.bgi, edge-l2.bgen.bgi: bgenix-style indexes (make-bgi.mjs | sqlite3);
# - edge.vcf -> edge.bcf (bcftools), edge.pgen (multi-allelic and phased hard calls), edge-ds.pgen (biallelic records, phased + DS);
# - ld.vcf (generate.mjs) -> ld.pgen (LD-compressed records) and ld.bed (the same genotypes);
# - data/sim/sim (hard calls) -> BGEN v1.2 8-bit, v1.3, PGEN, VCF.gz (+ .tbi) and from it BCF (+ .csi, bcftools);
# - oracle/*.afreq: plink2 --freq of every dosage file, read back by plink2 itself (ALT frequencies from its
#   dosages, all individuals; the hard-call files are checked against data/sim/sim.bed genotype by genotype);
# - gemma/dose_*: GEMMA 0.98.5 on the BIMBAM copy of the dosages (-gk 1, then -lmm 4): the golden of the dosage
#   parity test.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
for tool in plink2 bgzip tabix bcftools gemma sqlite3; do command -v "$tool" >/dev/null || { echo "convert.sh: needs $tool" >&2; exit 1; }; done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
p2() { plink2 --silent --threads 1 "$@" >/dev/null; }

node generate.mjs "$here" >/dev/null
# bgzip/tabix/bcftools outputs.
bgzip -f -c dose.vcf > dose.vcf.gz
rm dose.vcf
tabix -f -p vcf dose.vcf.gz
tabix -f -C -p vcf dose.vcf.gz
bcftools view --no-version -Ob -o dose.bcf dose.vcf.gz
bcftools index -f dose.bcf
bcftools view --no-version -Ob -o edge.bcf edge.vcf

# Dosage conversions (plink2 keeps DS at its 1/16384 precision, then writes each format's own).
p2 --vcf dose.vcf.gz dosage=DS --export bgen-1.2 bits=8 --out dose.b8
p2 --vcf dose.vcf.gz dosage=DS --export bgen-1.2 bits=16 ref-first --out dose.b16rf
p2 --vcf dose.vcf.gz dosage=DS --export bgen-1.3 --out dose.b13
p2 --vcf dose.vcf.gz dosage=DS --export bgen-1.1 --out dose.b11
p2 --vcf dose.vcf.gz dosage=DS --make-pgen --out dose
rm -f dose.b16rf.sample dose.b13.sample dose.b11.sample   # v1.2+ carry the IDs; one .sample (of b8) is kept
# PGEN record types plink2 writes for edge.vcf: multi-allelic hard calls (patch sets), phased calls, phased calls
# with dosages (biallelic records only: plink2 2.00a3 writes no multi-allelic dosages).
p2 --vcf edge.vcf --vcf-half-call m --make-pgen --out edge
bcftools view --no-version -m2 -M2 -Ov -o "$work/edge-bi.vcf" edge.vcf
p2 --vcf "$work/edge-bi.vcf" dosage=DS --vcf-half-call m --make-pgen --out edge-ds

# LD-compressed PGEN records (and the same genotypes as .bed, the oracle).
p2 --vcf ld.vcf --make-pgen --out ld
p2 --vcf ld.vcf --make-bed --out ld
rm ld.vcf

# bgenix-style indexes (.bgi: SQLite) of two BGEN files, by make-bgi.mjs + sqlite3 (bgenix is not in Debian).
for f in dose.b8.bgen edge-l2.bgen; do rm -f "$f.bgi"; node make-bgi.mjs "$f" | sqlite3 "$f.bgi"; done

# Hard-call conversions of the simulated cohort.
p2 --bfile ../sim/sim --export bgen-1.2 bits=8 --out sim.b8
p2 --bfile ../sim/sim --export bgen-1.3 --out sim.b13
p2 --bfile ../sim/sim --make-pgen --out sim
p2 --bfile ../sim/sim --export vcf --out "$work/sim"
grep -v '^##fileDate' "$work/sim.vcf" | bgzip -c > sim.vcf.gz   # the date would change the bytes every day
tabix -f -p vcf sim.vcf.gz
bcftools view --no-version -Ob -o sim.bcf sim.vcf.gz
bcftools index -f sim.bcf
rm -f sim.b8.sample sim.b13.sample

# Oracle: plink2's own reading of every file, as ALT frequencies (dosage-based, every individual).
mkdir -p oracle
freq() { local out=$1; shift; p2 "$@" --nonfounders --freq cols=chrom,pos,ref,alt,altfreq,nobs --out "$work/$out"; mv "$work/$out.afreq" "oracle/$out.afreq"; }
freq dose.vcf --vcf dose.vcf.gz dosage=DS
freq dose.b8 --bgen dose.b8.bgen ref-last --sample dose.b8.sample
freq dose.b16rf --bgen dose.b16rf.bgen ref-first
freq dose.b13 --bgen dose.b13.bgen ref-last
freq dose.b11 --bgen dose.b11.bgen ref-last --sample dose.b8.sample
freq dose.pgen --pfile dose

# GEMMA on the BIMBAM copy of the dosages.
cp dose.geno.txt.gz dose.pheno.txt dose.anno.txt "$work"/
(
  cd "$work"
  gemma -g dose.geno.txt.gz -p dose.pheno.txt -a dose.anno.txt -gk 1 -o dose_kin >/dev/null
  gemma -g dose.geno.txt.gz -p dose.pheno.txt -a dose.anno.txt -k output/dose_kin.cXX.txt -lmm 4 -o dose_lmm4 >/dev/null
)
mkdir -p gemma
gzip -n -9 -c "$work/output/dose_lmm4.assoc.txt" > gemma/dose_lmm4.assoc.txt.gz
for log in dose_kin dose_lmm4; do
  sed -e '/^## Date/d' -e '/computation time/d' -e '/^##  *time on/d' "$work/output/$log.log.txt" | gzip -n -9 > "gemma/$log.log.txt.gz"
done
rm -f ./*.log
ls -l "$here" "$here/oracle" "$here/gemma" >&2
