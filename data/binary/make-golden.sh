#!/usr/bin/env bash
# Regenerates data/binary: the small family cohort (data/simulate/cohort.mjs) and golden.json from the R
# reference implementations (GMMAT glmmkin, SPAtest, brglm2, lme4 glmer). Needs plink1.9, R with lme4 and brglm2
# (Debian) and SPAtest + GMMAT in RLIB (bash data/binary/install-r-references.sh RLIB ...). CI does not run it.
#   bash data/binary/make-golden.sh RLIB
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rlib=${1:?usage: make-golden.sh RLIB}
node "$here/../simulate/cohort.mjs" --out "$here/fam" --n 600 --m 400 --chr 2 --families 0.8 --children 3 \
  --prevalence 0.15 --maf 0.001-0.01:0.3,0.01-0.5:0.7 --causal 40 --h2 0.6 --miss 0.01 --seed 12
rm -f "$here/fam.phe" "$here/fam.cov"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plink1.9 --bfile "$here/fam" --keep-allele-order --recode A --out "$tmp/fam" >/dev/null
R_LIBS="$rlib" Rscript "$here/make-golden.R" "$here" "$tmp/fam.raw" "$here/golden.json"
