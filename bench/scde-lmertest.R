#!/usr/bin/env Rscript
# lmerTest side of bench/scde-lmm.ts: per-gene lmer(y ~ cond + (1 | donor)) REML fits + Satterthwaite t on the
# same y = log1p(1e4 * count / library size) and the same donor split; times each fit.
#   Rscript bench/scde-lmertest.R <10x dir> <cells.csv> <donor col> <genes file (one 1-based index a line)>
#           <donors in group B, comma-separated | cond=COLUMN (a two-level condition, first sorted level = A)> <out tsv>
suppressPackageStartupMessages({ library(Matrix); library(lmerTest) })
a <- commandArgs(trailingOnly = TRUE)
dir <- a[1]; cellsFile <- a[2]; donorCol <- a[3]; genes <- as.integer(readLines(a[4])); groupB <- strsplit(a[5], ",")[[1]]; out <- a[6]
mtx <- file.path(dir, if (file.exists(file.path(dir, "matrix.mtx.gz"))) "matrix.mtx.gz" else "matrix.mtx")
counts <- as(readMM(if (grepl("gz$", mtx)) gzfile(mtx) else mtx), "CsparseMatrix")
bcFile <- file.path(dir, if (file.exists(file.path(dir, "barcodes.tsv.gz"))) "barcodes.tsv.gz" else "barcodes.tsv")
barcodes <- readLines(if (grepl("gz$", bcFile)) gzfile(bcFile) else bcFile)
cells <- read.csv(cellsFile, stringsAsFactors = FALSE, check.names = FALSE)
cells <- cells[match(barcodes, cells$barcode), ]
lib <- colSums(counts)
d <- data.frame(donor = factor(cells[[donorCol]]))
if (startsWith(a[5], "cond=")) {
  lv <- sort(unique(as.character(cells[[sub("^cond=", "", a[5])]])))
  stopifnot(length(lv) == 2)
  d$cond <- factor(ifelse(as.character(cells[[sub("^cond=", "", a[5])]]) == lv[2], "B", "A"), levels = c("A", "B"))
} else {
  d$cond <- factor(ifelse(as.character(cells[[donorCol]]) %in% groupB, "B", "A"), levels = c("A", "B"))
}
ctrl <- lmerControl(check.conv.singular = "ignore")
res <- do.call(rbind, lapply(genes, function(g) {
  d$y <- log1p(1e4 * as.numeric(counts[g, ]) / lib)
  t0 <- proc.time()[["elapsed"]]
  fit <- lmer(y ~ cond + (1 | donor), data = d, REML = TRUE, control = ctrl)
  co <- summary(fit)$coefficients["condB", ]
  el <- proc.time()[["elapsed"]] - t0
  data.frame(gene = g, beta = co[["Estimate"]], se = co[["Std. Error"]], df = co[["df"]], p = co[["Pr(>|t|)"]], seconds = el)
}))
write.table(res, out, sep = "\t", quote = FALSE, row.names = FALSE)
