#!/usr/bin/env Rscript
# Golden values for test/sc: limma-voom + eBayes on pseudobulk sums (donor x condition) of the fixture, with
# library-size normalisation (voom on the count matrix) and with TMM (DGEList -> edgeR::calcNormFactors -> voom).
#   Rscript data/sc/make-golden-pseudobulk.R [fixtureDir=data/sc/fixture] [out=data/sc/golden-pseudobulk.json]
# Gene filter as gpulmm's default: non-zero in >= 1% of the analysed cells. Library size = column sums over
# the kept genes (voom's default on the filtered matrix). Paired designs block on donor as a fixed effect.
suppressPackageStartupMessages({ library(Matrix); library(limma); library(edgeR); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else "data/sc/fixture"
out <- if (length(args) >= 2) args[2] else "data/sc/golden-pseudobulk.json"

counts <- as(readMM(file.path(dir, "matrix.mtx")), "CsparseMatrix")
genes <- read.delim(file.path(dir, "features.tsv"), header = FALSE)$V2
cells <- read.csv(file.path(dir, "cells.csv"), stringsAsFactors = FALSE)

run <- function(condition, levels, paired, tmm) {
  cond <- factor(cells[[condition]], levels = levels)
  sample <- factor(paste(cells$donor, cond, sep = "|"))
  ind <- sparseMatrix(i = seq_len(nrow(cells)), j = as.integer(sample), x = 1)
  pb <- as.matrix(counts %*% ind)
  sdonor <- factor(sub("\\|.*", "", levels(sample)))
  scond <- factor(sub(".*\\|", "", levels(sample)), levels = levels)
  design <- if (paired) model.matrix(~ scond + sdonor) else model.matrix(~ scond)
  nz <- rowSums(counts > 0)
  keep <- nz > 0 & nz >= 0.01 * ncol(counts)
  nf <- rep(1, ncol(pb))
  if (tmm) {
    d <- calcNormFactors(DGEList(pb[keep, ]))
    nf <- d$samples$norm.factors
    v <- voom(d, design)
  } else {
    v <- voom(pb[keep, ], design)
  }
  fit <- eBayes(lmFit(v, design))
  tt <- topTable(fit, coef = 2, number = Inf, sort.by = "none")
  se <- fit$stdev.unscaled[, 2] * sqrt(fit$s2.post)
  list(condition = condition, contrast = paste(levels[2], levels[1], sep = ":"), paired = paired, tmm = tmm, norm_factors = nf,
       df_prior = fit$df.prior, s2_prior = fit$s2.prior,
       genes = lapply(seq_along(genes), function(g) {
         if (!keep[g]) return(list(gene = genes[g], kept = FALSE))
         k <- sum(keep[1:g])
         list(gene = genes[g], kept = TRUE, logFC = tt$logFC[k], se = se[[k]], t = tt$t[k], p = tt$P.Value[k],
              df = fit$df.total[k], AveExpr = tt$AveExpr[k], s2_post = fit$s2.post[k])
       }))
}
res <- list(between = run("group", c("ctrl", "stim"), FALSE, FALSE), paired = run("treat", c("untr", "trt"), TRUE, FALSE),
            between_tmm = run("group", c("ctrl", "stim"), FALSE, TRUE), paired_tmm = run("treat", c("untr", "trt"), TRUE, TRUE),
            meta = list(R = R.version.string, limma = as.character(packageVersion("limma")),
                        edgeR = as.character(packageVersion("edgeR")), fixture = dir))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
cat("wrote", out, "\n")
