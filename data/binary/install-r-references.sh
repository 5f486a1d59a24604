#!/usr/bin/env bash
# Installs the R reference implementations used by data/binary/make-golden.R from local source copies
# (none of them is packaged by Debian; CI does not run this: the goldens it produces are committed).
#   bash data/binary/install-r-references.sh LIBDIR SPATEST_SRC [COMPQUADFORM_SRC GMMAT_SRC]
# SPATEST_SRC: a source tree of SPAtest (pure R, github leeshawn/SPAtest); GMMAT (github hanchenphd/GMMAT) needs
# CompQuadForm (CRAN) and, from Debian: r-cran-rcpparmadillo r-cran-foreach r-cran-data.table libblas-dev liblapack-dev gfortran g++.
set -euo pipefail
lib=$1; spa=$2; cqf=${3:-}; gmmat=${4:-}
mkdir -p "$lib"
R CMD INSTALL --no-test-load -l "$lib" "$spa"
if [ -n "$cqf" ] && [ -n "$gmmat" ]; then
  R CMD INSTALL -l "$lib" "$cqf"
  R_LIBS="$lib" MAKEFLAGS="-j2" R CMD INSTALL -l "$lib" "$gmmat"
fi
Rscript -e ".libPaths('$lib'); for (p in c('SPAtest', if (nzchar('$gmmat')) 'GMMAT')) cat(p, as.character(packageVersion(p, lib.loc = '$lib')), '\n')"
