#!/usr/bin/env Rscript
# Reference values for test/sc: glmmTMB negative-binomial (nbinom2) mixed model per gene on the fixture,
#   count ~ group + offset(log(library size)) + (1 | donor)    (Laplace approximation, ML)
#   Rscript data/sc/make-golden-nbglmm.R [fixtureDir=data/sc/fixture] [out=data/sc/golden-nbglmm.json]
suppressPackageStartupMessages({ library(Matrix); library(glmmTMB); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else "data/sc/fixture"
out <- if (length(args) >= 2) args[2] else "data/sc/golden-nbglmm.json"
counts <- as(readMM(file.path(dir, "matrix.mtx")), "CsparseMatrix")
genes <- read.delim(file.path(dir, "features.tsv"), header = FALSE)$V2
cells <- read.csv(file.path(dir, "cells.csv"), stringsAsFactors = FALSE)
cells$group <- factor(cells$group, levels = c("ctrl", "stim"))
cells$lib <- colSums(counts)
rows <- lapply(seq_along(genes), function(g) {
  d <- cells
  d$count <- as.numeric(counts[g, ])
  if (sum(d$count > 0) < 0.01 * nrow(d) || all(d$count == 0)) return(list(gene = genes[g], fitted = FALSE))
  fit <- glmmTMB(count ~ group + offset(log(lib)) + (1 | donor), data = d, family = nbinom2)
  co <- summary(fit)$coefficients$cond["groupstim", ]
  list(gene = genes[g], fitted = TRUE, beta = co[["Estimate"]], se = co[["Std. Error"]],
       sigma2 = as.numeric(VarCorr(fit)$cond$donor), theta = sigma(fit))
})
writeLines(toJSON(list(formula = "count ~ group + offset(log(lib)) + (1 | donor), nbinom2", genes = rows,
                       meta = list(R = R.version.string, glmmTMB = as.character(packageVersion("glmmTMB")))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
cat("wrote", out, "\n")
