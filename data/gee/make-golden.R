#!/usr/bin/env Rscript
# Golden values for `gpulmm fit --method gee`, produced by geepack::geeglm (Debian: r-cran-geepack
# r-cran-jsonlite).
#
#   LC_ALL=C Rscript data/gee/make-golden.R        (from the repository root)
#
# Writes each dataset to data/gee/<name>.csv, reads it back with read.csv (so R fits exactly what gpulmm reads),
# fits each model twice: with geepack's defaults (geese.control epsilon = 1e-4, the numbers a user sees) and
# with epsilon = 1e-12 ("tight": the solution of the estimating equations itself), and writes
# data/gee/golden.json: coefficients, robust (sandwich) and naive standard errors, Wald statistics, the scale
# phi and the working correlation alpha with their sandwich standard errors.
suppressPackageStartupMessages({ library(geepack); library(jsonlite) })
out_dir <- "data/gee"
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."), geepack = as.character(packageVersion("geepack")))

write_data <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "NA")
  read.csv(path, stringsAsFactors = TRUE)
}

data(ohio); data(dietox); data(seizure)
ohio <- write_data(ohio, "ohio")
dietox <- write_data(dietox[, c("Pig", "Time", "Weight", "Cu", "Evit")], "dietox")
# seizure in long form (as geepack's vignette): four two-week visits per patient, log(baseline / 4) and
# log(age) as covariates; 10% of the visits removed at random so that ar1 distances come from the waves.
seiz <- local({
  s <- seizure
  s$id <- seq_len(nrow(s))
  l <- do.call(rbind, lapply(1:4, function(v) data.frame(id = s$id, visit = v, y = s[[paste0("y", v)]], trt = s$trt,
                                                          lbase = log(s$base / 4), lage = log(s$age))))
  l <- l[order(l$id, l$visit), ]
  set.seed(20261208)
  keep <- runif(nrow(l)) > 0.1
  l[keep, ]
})
seiz <- write_data(seiz, "seizure")

fits <- list(
  list(name = "ohio-exch", data = "ohio", formula = "resp ~ age + smoke + age:smoke", family = "binomial", id = "id", corstr = "exchangeable"),
  list(name = "ohio-ar1", data = "ohio", formula = "resp ~ age + smoke + age:smoke", family = "binomial", id = "id", corstr = "ar1"),
  list(name = "ohio-ind", data = "ohio", formula = "resp ~ age + smoke", family = "binomial", id = "id", corstr = "independence"),
  list(name = "dietox-ar1", data = "dietox", formula = "Weight ~ Time + Cu", family = "gaussian", id = "Pig", corstr = "ar1"),
  list(name = "dietox-exch", data = "dietox", formula = "Weight ~ Time + Cu + Evit", family = "gaussian", id = "Pig", corstr = "exchangeable"),
  list(name = "dietox-ind", data = "dietox", formula = "Weight ~ Time * Cu", family = "gaussian", id = "Pig", corstr = "independence"),
  list(name = "seizure-exch", data = "seizure", formula = "y ~ trt + lbase + lage", family = "poisson", id = "id", corstr = "exchangeable"),
  list(name = "seizure-ar1-waves", data = "seizure", formula = "y ~ trt + lbase + lage", family = "poisson", id = "id", corstr = "ar1", waves = "visit"),
  list(name = "seizure-ar1", data = "seizure", formula = "y ~ trt + lbase + lage", family = "poisson", id = "id", corstr = "ar1")
)
datasets <- list(ohio = ohio, dietox = dietox, seizure = seiz)

one_fit <- function(f, eps) {
  d <- datasets[[f$data]]
  d$.id <- d[[f$id]]
  d$.waves <- if (is.null(f$waves)) NULL else d[[f$waves]]
  args <- list(formula = as.formula(f$formula), family = get(f$family), data = d, id = quote(.id), corstr = f$corstr,
               control = geese.control(epsilon = eps, maxit = 200))
  if (!is.null(f$waves)) args$waves <- quote(.waves)
  m <- do.call(geeglm, args)
  s <- summary(m)
  g <- m$geese
  stopifnot(g$error == 0)
  list(coefficients = unname(g$beta), se = unname(sqrt(diag(g$vbeta))), se_naive = unname(sqrt(diag(g$vbeta.naiv))),
       wald = unname(s$coefficients$Wald), p = unname(s$coefficients[["Pr(>|W|)"]]),
       phi = unname(g$gamma), phi_se = unname(sqrt(diag(g$vgamma))),
       alpha = if (length(g$alpha)) unname(g$alpha) else NULL,
       alpha_se = if (length(g$alpha)) unname(sqrt(diag(g$valpha))) else NULL,
       names = names(g$beta), clusters = length(g$clusz), max_cluster = max(g$clusz))
}

out <- lapply(fits, function(f) c(f, list(default = one_fit(f, 1e-4), tight = one_fit(f, 1e-12))))
writeLines(toJSON(list(versions = versions, fits = out), auto_unbox = TRUE, digits = I(15), null = "null", pretty = TRUE),
           file.path(out_dir, "golden.json"))
