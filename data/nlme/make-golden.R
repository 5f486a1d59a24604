#!/usr/bin/env Rscript
# Golden values for gpulmm's residual correlation / variance structures (lme with correlation = and weights =)
# and nonlinear mixed models (nlme), produced by nlme (Debian: r-cran-nlme r-cran-jsonlite).
#
#   LC_ALL=C Rscript data/nlme/make-golden.R        (from the repository root)
#
# Writes each dataset to data/nlme/<name>.csv, reads it back with read.csv (so R fits exactly what gpulmm
# reads: factor levels in C-locale order, as gpulmm sorts them), fits each model and writes
# data/nlme/golden.json. lme fits run with tight optimiser tolerances (nlminb rel.tol 1e-14), so the golden is
# the optimum itself and not one of nlminb's stopping points; nlme fits run with nlme's defaults (the numbers a
# user sees) and again with tight tolerances ("tight").
suppressPackageStartupMessages({ library(nlme); library(jsonlite) })
# lmerTest (r-cran-lmertest) gives the reference Satterthwaite df of an equivalent lmer fit (below).
out_dir <- "data/nlme"
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."), nlme = as.character(packageVersion("nlme")))

write_data <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "NA")
  read.csv(path, stringsAsFactors = TRUE)
}

orthodont <- write_data(transform(as.data.frame(Orthodont)[, c("distance", "age", "Subject", "Sex")],
                                  occasion = as.integer((age - 8) / 2 + 1)), "Orthodont")
ovary <- write_data(transform(as.data.frame(Ovary)[, c("Mare", "Time", "follicles")],
                              sin2pi = sin(2 * pi * Time), cos2pi = cos(2 * pi * Time), t20 = 20 * Time), "Ovary")
ovary$Mare <- factor(ovary$Mare)
bodyweight <- write_data(as.data.frame(BodyWeight)[, c("weight", "Time", "Rat", "Diet")], "BodyWeight")
bodyweight$Rat <- factor(bodyweight$Rat)
oats <- write_data(as.data.frame(Oats)[, c("yield", "nitro", "Block", "Variety")], "Oats")

# Unbalanced simulated repeated measures: integer visit times with gaps, AR(1) errors (phi = 0.5), a 3-level
# treatment with its own residual SD, a covariate, a few missing values.
arsim <- local({
  set.seed(20260415)
  ng <- 60
  rows <- lapply(seq_len(ng), function(i) {
    t <- sort(sample(1:12, sample(3:10, 1)))
    trt <- sample(c("ctl", "low", "high"), 1)
    sd <- c(ctl = 1, low = 1.5, high = 0.7)[[trt]]
    e <- numeric(length(t))
    e[1] <- rnorm(1, 0, sd)
    for (k in seq_along(t)[-1]) { r <- 0.5^(t[k] - t[k - 1]); e[k] <- r * e[k - 1] + sqrt(1 - r^2) * rnorm(1, 0, sd) }
    x <- round(rnorm(length(t)), 3)
    data.frame(id = sprintf("s%02d", i), t = t, trt = trt, x = x,
               y = round(5 + 0.3 * t + 0.8 * x + c(ctl = 0, low = 0.5, high = 1)[[trt]] + rnorm(1, 0, 1) + e, 4))
  })
  d <- do.call(rbind, rows)
  d$y[c(5, 77)] <- NA
  d$x[120] <- NA
  d
})
arsim <- write_data(arsim, "arsim")

tight <- lmeControl(maxIter = 500, msMaxIter = 1000, msMaxEval = 4000, rel.tol = 1e-14, x.tol = 1e-12, returnObject = TRUE)

# The residual structure's parameters on the natural scale: corStruct (Phi / Rho) and varIdent's SD ratios
# per stratum (the reference stratum 1).
residual_pars <- function(m) {
  out <- list()
  cs <- m$modelStruct$corStruct
  if (!is.null(cs)) out$correlation <- as.list(coef(cs, unconstrained = FALSE))
  vs <- m$modelStruct$varStruct
  if (!is.null(vs)) {
    g <- attr(vs, "groupNames")
    r <- c(1, coef(vs, unconstrained = FALSE))
    names(r) <- g
    out$varIdent <- as.list(r)
  }
  out
}

# Random-effects covariance matrices (sigma^2 times each level's pdMatrix), outermost level first.
re_vcov <- function(m) {
  lapply(rev(as.list(m$modelStruct$reStruct)), function(pd) {
    v <- as.matrix(pd) * m$sigma^2
    list(names = colnames(v), vcov = unname(v))
  })
}

lme_golden <- function(id, data, m, formula, correlation = NULL, weights = NULL, call) {
  vc <- vcov(m)
  list(
    id = id, data = paste0(data, ".csv"), call = call, formula = formula, correlation = correlation, weights = weights,
    REML = m$method == "REML",
    fixef = lapply(names(fixef(m)), function(t) list(term = t, estimate = unname(fixef(m)[t]), se = sqrt(vc[t, t]))),
    sigma = m$sigma, logLik = as.numeric(logLik(m)), AIC = AIC(m), BIC = BIC(m), nobs = m$dims$N,
    npar = attr(logLik(m), "df"),
    re = re_vcov(m), residual = residual_pars(m)
  )
}

fits <- list()
add_lme <- function(id, data_name, call, formula, correlation = NULL, weights = NULL) {
  m <- eval(parse(text = call))
  fits[[length(fits) + 1]] <<- lme_golden(id, data_name, m, formula, correlation, weights, call)
  m
}

invisible(add_lme("orthodont-ar1", "Orthodont",
  "lme(distance ~ age + Sex, data = orthodont, random = ~ 1 | Subject, correlation = corAR1(form = ~ occasion | Subject), control = tight)",
  "distance ~ age + Sex + (1 | Subject)", correlation = "ar1(occasion | Subject)"))
invisible(add_lme("orthodont-ar1-ml", "Orthodont",
  "lme(distance ~ age + Sex, data = orthodont, random = ~ 1 | Subject, correlation = corAR1(form = ~ occasion | Subject), method = 'ML', control = tight)",
  "distance ~ age + Sex + (1 | Subject)", correlation = "ar1(occasion | Subject)"))
invisible(add_lme("orthodont-car1", "Orthodont",
  "lme(distance ~ age + Sex, data = orthodont, random = ~ 1 | Subject, correlation = corCAR1(form = ~ age | Subject), control = tight)",
  "distance ~ age + Sex + (1 | Subject)", correlation = "car1(age | Subject)"))
invisible(add_lme("orthodont-varident", "Orthodont",
  "lme(distance ~ age * Sex, data = orthodont, random = ~ age | Subject, weights = varIdent(form = ~ 1 | Sex), control = tight)",
  "distance ~ age * Sex + (age | Subject)", weights = "ident(| Sex)"))
invisible(add_lme("orthodont-varident-ml", "Orthodont",
  "lme(distance ~ age * Sex, data = orthodont, random = ~ age | Subject, weights = varIdent(form = ~ 1 | Sex), method = 'ML', control = tight)",
  "distance ~ age * Sex + (age | Subject)", weights = "ident(| Sex)"))
invisible(add_lme("ovary-ar1", "Ovary",
  "lme(follicles ~ sin2pi + cos2pi, data = ovary, random = list(Mare = pdDiag(~ sin2pi)), correlation = corAR1(form = ~ 1 | Mare), control = tight)",
  "follicles ~ sin2pi + cos2pi + (1 + sin2pi || Mare)", correlation = "ar1(| Mare)"))
invisible(add_lme("ovary-car1-ml", "Ovary",
  "lme(follicles ~ sin2pi + cos2pi, data = ovary, random = ~ 1 | Mare, correlation = corCAR1(form = ~ t20 | Mare), method = 'ML', control = tight)",
  "follicles ~ sin2pi + cos2pi + (1 | Mare)", correlation = "car1(t20 | Mare)"))
invisible(add_lme("bodyweight-car1-varident", "BodyWeight",
  "lme(weight ~ Time * factor(Diet), data = bodyweight, random = ~ Time | Rat, correlation = corCAR1(form = ~ Time | Rat), weights = varIdent(form = ~ 1 | Diet), control = tight)",
  "weight ~ Time * factor(Diet) + (Time | Rat)", correlation = "car1(Time | Rat)", weights = "ident(| Diet)"))
invisible(add_lme("oats-cs", "Oats",
  "lme(yield ~ nitro, data = oats, random = ~ 1 | Block, correlation = corCompSymm(form = ~ 1 | Block/Variety), control = tight)",
  "yield ~ nitro + (1 | Block)", correlation = "cs(| Block/Variety)"))
invisible(add_lme("oats-cs-ml", "Oats",
  "lme(yield ~ nitro + Variety, data = oats, random = ~ 1 | Block, correlation = corCompSymm(form = ~ 1 | Block/Variety), method = 'ML', control = tight)",
  "yield ~ nitro + Variety + (1 | Block)", correlation = "cs(| Block/Variety)"))
invisible(add_lme("arsim-ar1-varident", "arsim",
  "lme(y ~ t + x + trt, data = arsim, random = ~ 1 | id, correlation = corAR1(form = ~ t | id), weights = varIdent(form = ~ 1 | trt), na.action = na.omit, control = tight)",
  "y ~ t + x + trt + (1 | id)", correlation = "ar1(t | id)", weights = "ident(| trt)"))
invisible(add_lme("arsim-ar1-ml", "arsim",
  "lme(y ~ t + x + trt, data = arsim, random = ~ 1 | id, correlation = corAR1(form = ~ t | id), method = 'ML', na.action = na.omit, control = tight)",
  "y ~ t + x + trt + (1 | id)", correlation = "ar1(t | id)"))

# Compound symmetry within Block/Variety with rho > 0 is the random intercept of Block:Variety reparametrised:
# the same likelihood, so the same Satterthwaite df (they do not depend on the parametrisation); lmerTest's df
# of the equivalent lmer fit are the reference for gpulmm's df with a residual structure.
suppressPackageStartupMessages(library(lmerTest))
for (k in seq_along(fits)) {
  if (!startsWith(fits[[k]]$id, "oats-cs")) next
  eq_formula <- sub("(1 | Block)", "(1 | Block) + (1 | Block:Variety)", fits[[k]]$formula, fixed = TRUE)
  eq <- lmer(as.formula(eq_formula), data = oats, REML = fits[[k]]$REML)
  fits[[k]]$satterthwaiteEquivalent <- list(formula = eq_formula, logLik = as.numeric(logLik(eq)),
                                            df = unname(coef(summary(eq))[, "df"]))
}

# ---- nonlinear mixed models ----
theoph <- write_data(as.data.frame(Theoph)[, c("Subject", "Wt", "Dose", "Time", "conc")], "Theoph")
theoph$Subject <- factor(theoph$Subject)
orange <- write_data(as.data.frame(Orange)[, c("Tree", "age", "circumference")], "Orange")
orange$Tree <- factor(orange$Tree)

# nlme's PNLS step stops with an error when its tolerance cannot be met: the tight refit tries pnlsTol
# 1e-8, 1e-7, 1e-6 in turn and records the one that worked
tight_controls <- lapply(c(1e-8, 1e-7, 1e-6), function(tol)
  nlmeControl(maxIter = 500, pnlsMaxIter = 50, msMaxIter = 500, tolerance = tol, pnlsTol = tol, msTol = 1e-12))

# se: sqrt(diag(vcov)); the summary's t table (summary.nlme, adjustSigma = TRUE) scales ML standard errors by
# sqrt(N / (N - p)) and gives nlme's containment df
nlme_golden <- function(m) {
  vc <- vcov(m)
  tt <- summary(m)$tTable
  list(
    fixef = lapply(names(fixef(m)), function(t) list(term = t, estimate = unname(fixef(m)[t]), se = sqrt(vc[t, t]),
                                                     summarySe = tt[t, "Std.Error"], df = tt[t, "DF"], t = tt[t, "t-value"], p = tt[t, "p-value"])),
    sigma = m$sigma, logLik = as.numeric(logLik(m)), AIC = AIC(m), BIC = BIC(m), nobs = m$dims$N,
    re = re_vcov(m), iterations = m$numIter,
    ranef = lapply(as.list(ranef(m)), unname)
  )
}

nlme_fits <- list()
add_nlme <- function(id, data_name, call, model, fixed, random, start) {
  m <- eval(parse(text = call))
  mt <- NULL
  for (tc in tight_controls) {
    tightN <- tc
    mt <- tryCatch(eval(parse(text = sub(")$", ", control = tightN)", call))), error = function(e) NULL)
    if (!is.null(mt)) break
  }
  g <- c(list(id = id, data = paste0(data_name, ".csv"), call = call, model = model, fixed = fixed, random = random,
              start = start, method = m$method), nlme_golden(m))
  if (!is.null(mt)) g$tight <- c(list(tolerance = tightN$tolerance), nlme_golden(mt))
  nlme_fits[[length(nlme_fits) + 1]] <<- g
}

ssfol_expr <- "Dose * exp(lKe + lKa - lCl) * (exp(-exp(lKe) * Time) - exp(-exp(lKa) * Time)) / (exp(lKa) - exp(lKe))"
add_nlme("theoph-ssfol", "Theoph",
  "nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), data = theoph, fixed = lKe + lKa + lCl ~ 1, random = pdDiag(lKa + lCl ~ 1), groups = ~ Subject, start = c(lKe = -2.5, lKa = 0.5, lCl = -3))",
  "conc ~ SSfol(Dose, Time, lKe, lKa, lCl)", list("lKe + lKa + lCl ~ 1"), "lKa + lCl ~ 1 | Subject", list(lKe = -2.5, lKa = 0.5, lCl = -3))
add_nlme("theoph-ssfol-full", "Theoph",
  "nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), data = theoph, fixed = lKe + lKa + lCl ~ 1, random = pdSymm(lKa + lCl ~ 1), groups = ~ Subject, start = c(lKe = -2.5, lKa = 0.5, lCl = -3))",
  "conc ~ SSfol(Dose, Time, lKe, lKa, lCl)", list("lKe + lKa + lCl ~ 1"), "lKa + lCl ~ 1 | Subject, symm", list(lKe = -2.5, lKa = 0.5, lCl = -3))
add_nlme("theoph-ssfol-wt", "Theoph",
  "nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), data = theoph, fixed = list(lKe ~ 1, lKa ~ 1, lCl ~ Wt), random = pdDiag(lKa + lCl ~ 1), groups = ~ Subject, start = c(-2.5, 0.5, -3, 0))",
  "conc ~ SSfol(Dose, Time, lKe, lKa, lCl)", list("lKe ~ 1", "lKa ~ 1", "lCl ~ Wt"), "lKa + lCl ~ 1 | Subject", list(lKe = -2.5, lKa = 0.5, lCl = -3, "lCl.Wt" = 0))
add_nlme("theoph-expression", "Theoph",
  sprintf("nlme(conc ~ %s, data = theoph, fixed = lKe + lKa + lCl ~ 1, random = pdDiag(lKa + lCl ~ 1), groups = ~ Subject, start = c(lKe = -2.5, lKa = 0.5, lCl = -3))", ssfol_expr),
  paste("conc ~", ssfol_expr), list("lKe + lKa + lCl ~ 1"), "lKa + lCl ~ 1 | Subject", list(lKe = -2.5, lKa = 0.5, lCl = -3))
add_nlme("orange-logistic", "Orange",
  "nlme(circumference ~ Asym / (1 + exp(-(age - xmid) / scal)), data = orange, fixed = Asym + xmid + scal ~ 1, random = Asym ~ 1, groups = ~ Tree, start = c(Asym = 192, xmid = 727, scal = 348))",
  "circumference ~ Asym / (1 + exp(-(age - xmid) / scal))", list("Asym + xmid + scal ~ 1"), "Asym ~ 1 | Tree", list(Asym = 192, xmid = 727, scal = 348))

golden <- list(versions = versions, fits = fits, nlme = nlme_fits)
writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
           file.path(out_dir, "golden.json"))
cat("wrote", length(fits), "lme fits and", length(nlme_fits), "nlme fits to", file.path(out_dir, "golden.json"), "\n")
