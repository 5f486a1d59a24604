#!/usr/bin/env Rscript
# Reference side of bench/scde-atlas.sh on the agreement subsample (a 10x directory + cells.csv):
#  lmerTest: per gene lmer(y ~ condition + (1 | donor)) and lmer(y ~ condition + (1 | donor) + (1 | batch)), REML,
#            Satterthwaite t; y = log1p(1e4 count / library size), library size = column sums of the subsample's
#            genes (as gpulmm computes it on that input);
#  limma-voom: donor x condition sums, DGEList -> edgeR::calcNormFactors (TMM) -> voom -> lmFit -> eBayes.
#   Rscript bench/scde-atlas-agreement.R <10x dir> <out tsv>
suppressPackageStartupMessages({ library(Matrix); library(lmerTest); library(limma); library(edgeR) })
a <- commandArgs(trailingOnly = TRUE)
dir <- a[1]; out <- a[2]
counts <- as(readMM(file.path(dir, "matrix.mtx")), "CsparseMatrix")
genes <- read.delim(file.path(dir, "features.tsv"), header = FALSE)$V2
barcodes <- readLines(file.path(dir, "barcodes.tsv"))
cells <- read.csv(file.path(dir, "cells.csv"), stringsAsFactors = FALSE)
cells <- cells[match(barcodes, cells$barcode), ]
lib <- colSums(counts)
d <- data.frame(donor = factor(cells$donor), batch = factor(cells$batch), condition = factor(cells$condition, levels = c("ctrl", "stim")))
ctrl <- lmerControl(check.conv.singular = "ignore")
t0 <- proc.time()[["elapsed"]]
lmm <- do.call(rbind, lapply(seq_along(genes), function(g) {
  d$y <- log1p(1e4 * as.numeric(counts[g, ]) / lib)
  fit <- lmer(y ~ condition + (1 | donor), data = d, REML = TRUE, control = ctrl)
  co <- summary(fit)$coefficients["conditionstim", ]
  data.frame(gene = genes[g], lmm_beta = co[["Estimate"]], lmm_se = co[["Std. Error"]], lmm_df = co[["df"]], lmm_p = co[["Pr(>|t|)"]])
}))
lmmSeconds <- proc.time()[["elapsed"]] - t0
t0 <- proc.time()[["elapsed"]]
crossed <- do.call(rbind, lapply(seq_along(genes), function(g) {
  d$y <- log1p(1e4 * as.numeric(counts[g, ]) / lib)
  fit <- lmer(y ~ condition + (1 | donor) + (1 | batch), data = d, REML = TRUE, control = ctrl)
  co <- summary(fit)$coefficients["conditionstim", ]
  vc <- as.data.frame(VarCorr(fit))
  data.frame(crossed_beta = co[["Estimate"]], crossed_se = co[["Std. Error"]], crossed_df = co[["df"]], crossed_p = co[["Pr(>|t|)"]],
             crossed_var_batch = vc$vcov[vc$grp == "batch"])
}))
crossedSeconds <- proc.time()[["elapsed"]] - t0
t0 <- proc.time()[["elapsed"]]
sample <- factor(paste(cells$donor, cells$condition, sep = "|"))
ind <- sparseMatrix(i = seq_len(nrow(cells)), j = as.integer(sample), x = 1)
pb <- as.matrix(counts %*% ind)
scond <- factor(sub(".*\\|", "", levels(sample)), levels = c("ctrl", "stim"))
design <- model.matrix(~ scond)
v <- voom(calcNormFactors(DGEList(pb)), design)
fit <- eBayes(lmFit(v, design))
tt <- topTable(fit, coef = 2, number = Inf, sort.by = "none")
pbSeconds <- proc.time()[["elapsed"]] - t0
res <- cbind(lmm, crossed, pb_logFC = tt$logFC, pb_p = tt$P.Value)
write.table(res, out, sep = "\t", quote = FALSE, row.names = FALSE)
cat(sprintf('{"lmerTestSeconds": %.3f, "lmerTestCrossedSeconds": %.3f, "limmaSeconds": %.3f, "R": "%s", "lme4": "%s", "lmerTest": "%s", "limma": "%s", "edgeR": "%s"}\n',
            lmmSeconds, crossedSeconds, pbSeconds, R.version.string, packageVersion("lme4"), packageVersion("lmerTest"), packageVersion("limma"), packageVersion("edgeR")))
