#!/usr/bin/env Rscript
# Golden values for test/sc: lmerTest (REML, Satterthwaite df) per gene on the fixture from make-fixture.mjs.
#   Rscript data/sc/make-golden.R [fixtureDir=data/sc/fixture] [out=data/sc/golden-lmm.json]
# y = log1p(1e4 * count / library size), library size = cell total over all genes.
suppressPackageStartupMessages({ library(Matrix); library(lmerTest); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else "data/sc/fixture"
out <- if (length(args) >= 2) args[2] else "data/sc/golden-lmm.json"

counts <- as(readMM(file.path(dir, "matrix.mtx")), "CsparseMatrix")   # genes x cells
genes <- read.delim(file.path(dir, "features.tsv"), header = FALSE)$V2
cells <- read.csv(file.path(dir, "cells.csv"), stringsAsFactors = FALSE)
stopifnot(identical(cells$barcode, readLines(file.path(dir, "barcodes.tsv"))))
lib <- colSums(counts)
y <- log1p(t(t(as.matrix(counts)) / lib) * 1e4)

cells$donor <- factor(cells$donor)
cells$group <- factor(cells$group, levels = c("ctrl", "stim"))
cells$treat <- factor(cells$treat, levels = c("untr", "trt"))
cells$batch <- factor(cells$batch)

models <- list(
  between = list(formula = "y ~ group + (1 | donor)", coef = "groupstim", contrast = "stim:ctrl", condition = "group", covariates = list()),
  paired_cov = list(formula = "y ~ treat + score + batch + (1 | donor)", coef = "treattrt", contrast = "trt:untr", condition = "treat",
                    covariates = list("score", "batch"))
)
ctrl <- lmerControl(check.conv.singular = "ignore")
res <- lapply(models, function(m) {
  rows <- lapply(seq_along(genes), function(g) {
    d <- cells
    d$y <- y[g, ]
    if (all(d$y == 0)) return(list(gene = genes[g], fitted = FALSE))
    fit <- lmer(as.formula(m$formula), data = d, REML = TRUE, control = ctrl)
    co <- summary(fit)$coefficients[m$coef, ]
    vc <- as.data.frame(VarCorr(fit))
    list(gene = genes[g], fitted = TRUE, beta = co[["Estimate"]], se = co[["Std. Error"]], df = co[["df"]],
         t = co[["t value"]], p = co[["Pr(>|t|)"]], var_donor = vc$vcov[vc$grp == "donor"],
         var_resid = vc$vcov[vc$grp == "Residual"], singular = isSingular(fit), theta = getME(fit, "theta")[[1]])
  })
  c(m[c("formula", "coef", "contrast", "condition", "covariates")], list(genes = rows))
})
res$meta <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                 lmerTest = as.character(packageVersion("lmerTest")), fixture = dir)
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
cat("wrote", out, "\n")
