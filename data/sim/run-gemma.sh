#!/usr/bin/env bash
# Runs GEMMA 0.98.5 (Debian package `gemma`) on the simulated cohort and stores its outputs, gzipped, in
# data/sim/gemma/ (the golden files of the parity tests). Run from anywhere:  bash data/sim/run-gemma.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/gemma"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
case "$(gemma -h 2>&1 || true)" in
  *"GEMMA 0.98.5"*) ;;
  *) echo "run-gemma.sh: needs GEMMA 0.98.5 (apt-get install gemma)" >&2; exit 1 ;;
esac
cp "$here"/sim.bed "$here"/sim.bim "$here"/sim.fam "$here"/sim.covar.txt "$here"/sim.pheno.txt "$here"/sim.anno.txt "$here"/sim.geno.txt.gz "$work"/
cd "$work"
run() { echo "+ gemma $*" >&2; gemma "$@" > /dev/null; }

# PLINK input, phenotype = .fam column 6.
run -bfile sim -gk 1 -o kin                   # centred kinship  -> kin.cXX.txt
run -bfile sim -gk 2 -o kin_std               # standardised     -> kin_std.sXX.txt
for t in 1 2 3 4; do
  run -bfile sim -k output/kin.cXX.txt -lmm $t -o lmm$t
done
run -bfile sim -k output/kin.cXX.txt -c sim.covar.txt -lmm 4 -o lmm4_covar
run -bfile sim -c sim.covar.txt -gk 1 -o kin_covar   # kinship SNPs filtered with covariates (r2 filter active)

# BIMBAM input: phenotype 1 and 2 (2 has no genetic component: pve near 0), with covariates.
run -g sim.geno.txt.gz -p sim.pheno.txt -a sim.anno.txt -gk 1 -o bimbam_kin
cmp -s output/bimbam_kin.cXX.txt output/kin.cXX.txt || { echo "run-gemma.sh: BIMBAM and PLINK kinships differ" >&2; exit 1; }
for n in 1 2; do
  run -g sim.geno.txt.gz -p sim.pheno.txt -a sim.anno.txt -n $n -c sim.covar.txt -k output/kin.cXX.txt -lmm 4 -o bimbam_lmm4_covar_n$n
done

# Kept small (< 2 MB): one kinship file (kin.cXX, = bimbam_kin.cXX, checked above); the standardised and
# covariate-filtered kinships are 0.7 MB each, so only their logs are kept (tests rerun gemma for them).
rm output/bimbam_kin.cXX.txt output/kin_std.sXX.txt output/kin_covar.cXX.txt

rm -rf "$out"
mkdir -p "$out"
for f in output/*; do
  case "$f" in
    *.log.txt) sed -e '/^## Date/d' -e '/computation time/d' -e '/^##  *time on/d' "$f" | gzip -n -9 > "$out/$(basename "$f").gz" ;;
    *) gzip -n -9 -c "$f" > "$out/$(basename "$f").gz" ;;
  esac
done
ls -l "$out" >&2
