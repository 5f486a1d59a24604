#!/usr/bin/env Rscript
# Golden values for `gpulmm meta` (random-effects meta-analysis and meta-regression), produced by metafor's
# rma() (Debian: r-cran-metafor r-cran-jsonlite).
#
#   LC_ALL=C Rscript data/meta/make-golden.R        (from the repository root)
#
# Writes each dataset to data/meta/<name>.csv, reads it back with read.csv (so R fits exactly what gpulmm reads:
# factor levels in C-locale order), fits every combination of tau^2 estimator (REML, ML, DL, PM, FE), test
# (z, Knapp-Hartung) and moderators, and writes data/meta/golden.json. The iterative estimators run with tight
# tolerances (Fisher scoring threshold 1e-12, uniroot tol 1e-14) so the golden is the estimator's value itself,
# not one of metafor's stopping points (its defaults: threshold 1e-5, PM uniroot tol ~1.2e-4); the REML fits are
# also recorded with metafor's defaults ("default") to show how far those stop from the optimum.
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
out_dir <- "data/meta"
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."), metafor = as.character(packageVersion("metafor")))

write_data <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "NA")
  read.csv(path, stringsAsFactors = TRUE)
}

# BCG vaccine trials: log risk ratios (Colditz et al. 1994), moderators latitude, year, allocation (3 levels).
bcg <- local({
  d <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  data.frame(trial = d$trial, author = d$author, year = d$year, ablat = d$ablat, alloc = d$alloc,
             yi = round(as.numeric(d$yi), 10), vi = round(as.numeric(d$vi), 12), sei = round(sqrt(as.numeric(d$vi)), 12))
})
bcg <- write_data(bcg, "bcg")
# Passive smoking and lung cancer (Hackshaw et al. 1998): 37 log odds ratios, moderators design and year.
hackshaw <- write_data(as.data.frame(dat.hackshaw1998)[, c("study", "author", "year", "design", "yi", "vi")], "hackshaw")
# Homogeneous simulated studies (tau^2 = 0 truth; DL and PM truncate at 0, REML may too) with a missing value.
homog <- local({
  set.seed(20260415)
  k <- 9
  vi <- round(runif(k, 0.02, 0.2), 5)
  d <- data.frame(study = sprintf("s%d", 1:k), yi = round(0.3 + rnorm(k, 0, sqrt(vi)) * 0.5, 5), vi = vi, x = round(rnorm(k), 3))
  d$yi[4] <- NA
  d
})
homog <- write_data(homog, "homog")

tight <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000)

num <- function(v) if (is.null(v) || length(v) == 0 || all(is.na(v))) NULL else unname(v)
rma_golden <- function(id, data, m, call, mods = NULL, method, test) {
  fs <- m$fit.stats
  pr <- predict(m)
  list(
    id = id, data = paste0(data, ".csv"), call = call, mods = mods, method = method, test = test,
    k = m$k, p = m$p,
    coef = lapply(seq_along(m$beta), function(j) list(term = rownames(m$beta)[j], estimate = m$beta[j], se = m$se[j],
                                                   stat = m$zval[j], p = m$pval[j], ci_lb = m$ci.lb[j], ci_ub = m$ci.ub[j])),
    tau2 = m$tau2, se_tau2 = num(m$se.tau2), I2 = num(m$I2), H2 = num(m$H2), R2 = num(m$R2),
    QE = m$QE, QEp = m$QEp, QM = m$QM, QMp = m$QMp, QMdf = num(m$QMdf[!is.na(m$QMdf)]), ddf = num(m$ddf),
    logLik = list(ML = fs["ll", "ML"], REML = fs["ll", "REML"]),
    deviance = list(ML = fs["dev", "ML"], REML = fs["dev", "REML"]),
    AIC = list(ML = fs["AIC", "ML"], REML = fs["AIC", "REML"]),
    BIC = list(ML = fs["BIC", "ML"], REML = fs["BIC", "REML"]),
    AICc = list(ML = fs["AICc", "ML"], REML = fs["AICc", "REML"]),
    predict = list(pred = as.numeric(pr$pred), se = as.numeric(pr$se), ci_lb = as.numeric(pr$ci.lb), ci_ub = as.numeric(pr$ci.ub),
                   pi_lb = as.numeric(pr$pi.lb), pi_ub = as.numeric(pr$pi.ub))
  )
}

fits <- list()
specs <- list(
  list(data = "bcg", mods = NULL),
  list(data = "bcg", mods = "~ ablat"),
  list(data = "bcg", mods = "~ ablat + year"),
  list(data = "bcg", mods = "~ alloc"),
  list(data = "hackshaw", mods = NULL),
  list(data = "hackshaw", mods = "~ design + year"),
  list(data = "homog", mods = NULL),
  list(data = "homog", mods = "~ x")
)
for (s in specs) {
  for (method in c("REML", "ML", "DL", "PM", "FE")) {
    for (test in c("z", "knha")) {
      if (method == "FE" && test == "knha") next
      modsArg <- if (is.null(s$mods)) "" else paste0(", mods = ", s$mods)
      call <- sprintf("rma(yi, vi, data = %s%s, method = '%s', test = '%s', control = tight)", s$data, modsArg, method, test)
      m <- eval(parse(text = call))
      id <- paste(s$data, if (is.null(s$mods)) "int" else gsub("[^a-z]+", "", s$mods), method, test, sep = "-")
      g <- rma_golden(id, s$data, m, call, s$mods, method, test)
      if (method == "REML" && test == "z") {
        md <- eval(parse(text = sub(", control = tight", "", call)))
        g$default <- list(tau2 = md$tau2, estimate = as.numeric(md$beta))
      }
      fits[[length(fits) + 1]] <- g
    }
  }
}
# standard errors given instead of variances (sei = sqrt(vi)) must give the same fit
m <- rma(yi, sei = sei, data = bcg, method = "REML", control = tight)
fits[[length(fits) + 1]] <- rma_golden("bcg-sei-REML-z", "bcg", m, "rma(yi, sei = sei, data = bcg, method = 'REML', control = tight)", NULL, "REML", "z")

# t quantiles behind the Knapp-Hartung intervals (qt)
quantiles <- lapply(list(c(0.975, 12), c(0.025, 3), c(0.995, 1), c(0.975, 35), c(0.9, 2.5), c(0.6, 7)),
                    function(a) list(p = a[1], df = a[2], qt = qt(a[1], a[2])))

writeLines(toJSON(list(generator = "data/meta/make-golden.R", versions = versions, fits = fits, quantiles = quantiles),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), file.path(out_dir, "golden.json"))
cat("wrote", length(fits), "fits to", file.path(out_dir, "golden.json"), "\n")
