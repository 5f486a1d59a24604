#!/usr/bin/env Rscript
# Golden per-variant meta-analysis of the simulated cohorts in data/meta/gwas/ (made by make-gwas-cohorts.mjs),
# for `gpulmm meta --gwas`: alleles aligned here independently of gpulmm (same rules: chromosomes without a chr
# prefix and 23 = X; a cohort's record joins the variant of an earlier cohort at its position whose alleles are the
# same, swapped (beta flipped), or the same / swapped on the other strand for single-base alleles; no match at a
# position an earlier cohort has is a mismatch, dropped, unless its id differs from theirs (another variant of a
# multi-allelic site); NA beta/se dropped; strand-ambiguous A/T, C/G SNPs aligned by their labels (AMBIGUOUS keep,
# as METAL) or, with AMBIGUOUS af, put on the earlier cohort's strand when the two effect allele frequencies lie on
# opposite sides of 0.5 and dropped when either is missing or has a minor allele frequency above 0.4), then every
# variant meta-analysed with metafor (Debian: r-cran-metafor r-cran-jsonlite): rma(method = "FE") and
# rma(method = "DL").
#
#   LC_ALL=C Rscript data/meta/make-gwas-golden.R [DIR [NROWS OUT [AMBIGUOUS]]]      (from the repository root)
#
# Without arguments: data/meta/gwas/golden.json (keep) and golden-af.json (af). bench/gwas-meta.sh runs it on the
# first NROWS lines of each of its large cohorts (the per-variant metafor loop, timed, as the reference for a
# subsample) writing OUT.
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else "data/meta/gwas"
nrows <- if (length(args) >= 2) as.integer(args[2]) else -1L
runs <- if (length(args) >= 3) list(list(out = args[3], ambiguous = if (length(args) >= 4) args[4] else "keep")) else
  list(list(out = file.path(dir, "golden.json"), ambiguous = "keep"), list(out = file.path(dir, "golden-af.json"), ambiguous = "af"))

read_cohort <- function(file, cols) {
  # cols: chr, pos, effect, other, beta, se, id, effect allele frequency
  d <- read.delim(file.path(dir, file), colClasses = "character", nrows = nrows)
  data.frame(id = d[[cols[7]]], chr = d[[cols[1]]], pos = as.numeric(d[[cols[2]]]), ea = toupper(d[[cols[3]]]), oa = toupper(d[[cols[4]]]),
             beta = suppressWarnings(as.numeric(d[[cols[5]]])), se = suppressWarnings(as.numeric(d[[cols[6]]])),
             af = suppressWarnings(as.numeric(d[[cols[8]]])), stringsAsFactors = FALSE)
}
cohorts <- list(
  read_cohort("cohort1.assoc.txt", c("chr", "ps", "allele1", "allele0", "beta", "se", "rs", "af")),
  read_cohort("cohort2.tsv.gz", c("chromosome", "base_pair_location", "effect_allele", "other_allele", "beta", "standard_error", "rsid", "effect_allele_frequency")),
  read_cohort("cohort3.bolt.tsv", c("CHR", "BP", "ALLELE1", "ALLELE0", "BETA", "SE", "SNP", "A1FREQ"))
)
comp <- c(A = "T", T = "A", C = "G", G = "C")
flip <- function(a) if (nchar(a) == 1 && a %in% names(comp)) comp[[a]] else NA

golden <- function(out_file, ambiguous) {
  variants <- list()   # key chr:pos -> list of variants (ea, oa, first cohort, beta[3], se[3])
  counts <- lapply(seq_along(cohorts), function(i) c(used = 0, invalid = 0, mismatched = 0, swapped = 0, strandFlipped = 0, duplicates = 0, ambiguousUnresolved = 0))
  for (c in seq_along(cohorts)) {
    d <- cohorts[[c]]
    d$chr[d$chr == "23"] <- "X"
    # at each position, the records whose id names an earlier cohort's variant there go first
    earlier_ids <- unlist(lapply(names(variants), function(key) paste(key, vapply(variants[[key]], function(v) v$id, ""))))
    names_earlier <- paste(paste(d$chr, d$pos, sep = ":"), d$id) %in% earlier_ids
    key <- paste(d$chr, d$pos, sep = ":")
    d <- d[order(match(key, key), !names_earlier, seq_len(nrow(d))), ]
    for (i in seq_len(nrow(d))) {
      r <- d[i, ]
      if (is.na(r$beta) || is.na(r$se) || r$se <= 0) { counts[[c]]["invalid"] <- counts[[c]]["invalid"] + 1; next }
      key <- paste(r$chr, r$pos, sep = ":")
      vs <- variants[[key]]
      # a record whose id names a variant at this position is matched against that variant only; otherwise, of the
      # variants whose alleles match (same, swapped, or either on the other strand), a match by labels, then one this
      # cohort has not given yet, then the first; a variant this cohort has already given counts only when matched
      # by labels with the same id (a duplicate)
      hit <- 0; sign <- 1; strand <- FALSE; best <- -1
      fe <- flip(r$ea); fo <- flip(r$oa)
      named <- Filter(function(k) vs[[k]]$id == r$id, seq_along(vs))
      for (k in if (length(named) > 0) named[1] else seq_along(vs)) {
        v <- vs[[k]]
        m <- if (r$ea == v$ea && r$oa == v$oa) c(1, 0) else if (r$ea == v$oa && r$oa == v$ea) c(-1, 0)
             else if (!is.na(fe) && !is.na(fo) && fe == v$ea && fo == v$oa) c(1, 1)
             else if (!is.na(fe) && !is.na(fo) && fe == v$oa && fo == v$ea) c(-1, 1) else NULL
        # a variant this cohort already gave: only the same record again (a duplicate: same labels and id)
        if (is.null(m) || (!is.na(v$beta[c]) && (m[2] == 1 || v$id != r$id))) next
        # two different rsIDs name two variants
        if (v$id != r$id && grepl("^rs[0-9]+$", v$id) && grepl("^rs[0-9]+$", r$id)) next
        score <- 10 * (m[2] == 0) + is.na(v$beta[c])
        if (score > best) { best <- score; hit <- k; sign <- m[1]; strand <- m[2] == 1 }
      }
      amb <- nchar(r$ea) == 1 && !is.na(flip(r$ea)) && flip(r$ea) == r$oa
      if (hit > 0 && amb && ambiguous == "af") {
        ref_af <- vs[[hit]]$af[vs[[hit]]$first]
        a <- if (sign > 0) r$af else 1 - r$af
        if (is.na(ref_af) || is.na(a) || min(ref_af, 1 - ref_af) > 0.4 || min(a, 1 - a) > 0.4) {
          counts[[c]]["ambiguousUnresolved"] <- counts[[c]]["ambiguousUnresolved"] + 1; next
        }
        if ((ref_af - 0.5) * (a - 0.5) < 0) { sign <- -sign; strand <- TRUE }
      }
      if (hit > 0) {
        if (!is.na(vs[[hit]]$beta[c])) { counts[[c]]["duplicates"] <- counts[[c]]["duplicates"] + 1; next }
        vs[[hit]]$beta[c] <- sign * r$beta
        vs[[hit]]$se[c] <- r$se
        vs[[hit]]$af[c] <- if (sign > 0) r$af else 1 - r$af
      } else {
        # a mismatch: alleles matching none of an earlier cohort's variants at this position, unless the record names
        # another variant (a different id: a multi-allelic site)
        earlier <- Filter(function(v) v$first < c, vs)
        if (length(earlier) > 0 && any(vapply(earlier, function(v) v$id == r$id, TRUE))) { counts[[c]]["mismatched"] <- counts[[c]]["mismatched"] + 1; next }
        b <- rep(NA_real_, length(cohorts)); s <- b; f <- b; b[c] <- r$beta; s[c] <- r$se; f[c] <- r$af
        vs[[length(vs) + 1]] <- list(id = r$id, chr = r$chr, pos = r$pos, ea = r$ea, oa = r$oa, first = c, beta = b, se = s, af = f)
      }
      variants[[key]] <- vs
      counts[[c]]["used"] <- counts[[c]]["used"] + 1
      if (sign < 0) counts[[c]]["swapped"] <- counts[[c]]["swapped"] + 1
      if (strand) counts[[c]]["strandFlipped"] <- counts[[c]]["strandFlipped"] + 1
    }
  }

  # with NROWS, variants past the last position every cohort reached may lack records that were not read
  complete_below <- min(vapply(cohorts, function(d) { x <- d[d$chr == d$chr[1], ]; max(x$pos) }, 0))
  t0 <- proc.time()[["elapsed"]]
  out <- list()
  for (vs in variants) for (v in vs) {
    ok <- !is.na(v$beta)
    m <- sum(ok)
    fe <- rma(yi = v$beta[ok], sei = v$se[ok], method = "FE")
    g <- list(chr = v$chr, ps = v$pos, allele1 = v$ea, allele0 = v$oa, n_cohorts = m,
              direction = paste(ifelse(is.na(v$beta), "?", ifelse(v$beta > 0, "+", ifelse(v$beta < 0, "-", "0"))), collapse = ""),
              beta = as.numeric(fe$beta), se = fe$se, p = fe$pval, q = fe$QE)
    if (m >= 2) {
      re <- rma(yi = v$beta[ok], sei = v$se[ok], method = "DL")
      g <- c(g, list(beta_re = as.numeric(re$beta), se_re = re$se, p_re = re$pval, tau2 = re$tau2, i2 = re$I2, p_het = re$QEp))
    }
    out[[length(out) + 1]] <- g
  }
  rma_seconds <- proc.time()[["elapsed"]] - t0
  g <- list(generator = "data/meta/make-gwas-golden.R", ambiguous = ambiguous, metafor = as.character(packageVersion("metafor")), counts = lapply(counts, as.list), variants = out)
  if (nrows > 0) g <- c(g, list(nrows = nrows, complete_below = list(chr = cohorts[[1]]$chr[1], ps = complete_below), rma_seconds = rma_seconds))
  writeLines(toJSON(g, auto_unbox = TRUE, digits = NA, pretty = FALSE), out_file)
  cat("wrote", length(out), "variants to", out_file, "\n")
}
for (run in runs) golden(run$out, run$ambiguous)
