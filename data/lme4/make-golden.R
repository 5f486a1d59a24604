#!/usr/bin/env Rscript
# Golden values for gpulmm's mixed-model engine (src/lmm/mixed), produced by lme4 / lmerTest / pbkrtest, with
# glmmTMB (exact Laplace) and performance (GLMM R2). Debian: r-cran-lme4 r-cran-lmertest r-cran-pbkrtest
# r-cran-glmmtmb r-cran-performance r-cran-jsonlite.
#
#   Rscript data/lme4/make-golden.R            (run from the repository root; the last digits, ~1e-13
#   relative, of some fits such as Penicillin vary from run to run in R itself)
#
# Writes every dataset to data/lme4/<name>.csv, reads it back with read.csv (so R fits exactly what gpulmm
# reads), fits each model and writes data/lme4/golden.json with the numbers the vitest suite compares to.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(glmmTMB); library(performance); library(jsonlite)
})
out_dir <- "data/lme4"
versions <- sapply(c("lme4", "lmerTest", "pbkrtest", "Matrix", "glmmTMB", "performance", "insight"), function(p) as.character(packageVersion(p)))

write_data <- function(df, name) {
  path <- file.path(out_dir, paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "NA")
  read.csv(path, stringsAsFactors = TRUE)
}

# Unbalanced simulated design: unequal group sizes, a factor, a numeric covariate, a few missing values.
set.seed(20261122)
ng <- 25
sizes <- sample(2:14, ng, replace = TRUE)
g <- rep(sprintf("g%02d", seq_len(ng)), sizes)
n <- length(g)
x <- round(rnorm(n, 5, 2), 3)
trt <- sample(c("ctl", "drugA", "drugB"), n, replace = TRUE)
b0 <- rnorm(ng, 0, 1.5)[as.integer(factor(g))]
b1 <- rnorm(ng, 0, 0.4)[as.integer(factor(g))]
y <- round(10 + 0.8 * x + c(ctl = 0, drugA = 1.2, drugB = -0.5)[trt] + b0 + b1 * x + rnorm(n, 0, 1.1), 4)
y[c(3, 17)] <- NA
x[40] <- NA
unbalanced <- data.frame(y = y, x = x, trt = trt, g = g)

cbpp2 <- transform(cbpp, failures = size - incidence)
grouse <- transform(grouseticks, cHEIGHT = HEIGHT - mean(HEIGHT))[, c("INDEX", "TICKS", "BROOD", "cHEIGHT", "YEAR", "LOCATION")]
binsim <- local({
  set.seed(7)
  gg <- rep(sprintf("s%02d", 1:30), each = 12)
  xx <- round(rnorm(length(gg)), 3)
  eta <- -0.3 + 0.9 * xx + rnorm(30, 0, 0.8)[as.integer(factor(gg))]
  data.frame(y = rbinom(length(gg), 1, plogis(eta)), x = xx, g = gg)
})

# Poisson counts with an exposure offset and a correlated random slope: 40 groups x 8.
poisim <- local({
  set.seed(11)
  gg <- rep(sprintf("p%02d", 1:40), each = 8)
  xx <- round(rnorm(length(gg)), 3)
  logexp <- round(log(runif(length(gg), 0.5, 2)), 4)
  ii <- as.integer(factor(gg))
  b <- MASS::mvrnorm(40, c(0, 0), matrix(c(0.4, 0.1, 0.1, 0.15), 2))
  eta <- logexp + 0.3 + 0.5 * xx + b[ii, 1] + b[ii, 2] * xx
  data.frame(y = rpois(length(gg), exp(eta)), x = xx, logexp = logexp, g = gg)
})

# Crossed design with a correlated random slope on the factor with fewer levels (the dense block of the
# blocked Cholesky then holds a 2 x 2 covariance term): 30 subjects x 8 items.
crossed <- local({
  set.seed(31)
  subj <- rep(sprintf("s%02d", 1:30), each = 8)
  item <- rep(sprintf("i%d", 1:8), times = 30)
  keep <- runif(length(subj)) > 0.15
  subj <- subj[keep]; item <- item[keep]
  x <- round(rnorm(length(subj)), 3)
  bi <- MASS::mvrnorm(8, c(0, 0), matrix(c(1, 0.3, 0.3, 0.5), 2))
  ii <- as.integer(factor(item))
  y <- round(2 + 0.7 * x + rnorm(30, 0, 0.8)[as.integer(factor(subj))] + bi[ii, 1] + bi[ii, 2] * x + rnorm(length(x), 0, 0.6), 4)
  data.frame(y = y, x = x, subj = subj, item = item)
})

data <- list(
  sleepstudy = write_data(sleepstudy, "sleepstudy"),
  Dyestuff = write_data(Dyestuff, "Dyestuff"),
  Dyestuff2 = write_data(Dyestuff2, "Dyestuff2"),
  Penicillin = write_data(Penicillin, "Penicillin"),
  Pastes = write_data(Pastes, "Pastes"),
  cbpp = write_data(cbpp2, "cbpp"),
  grouseticks = write_data(grouse, "grouseticks"),
  unbalanced = write_data(unbalanced, "unbalanced"),
  binsim = write_data(binsim, "binsim"),
  poisim = write_data(poisim, "poisim"),
  crossed = write_data(crossed, "crossed")
)

na_null <- function(v) ifelse(is.na(v), NA, v)

varcorr_rows <- function(fit) {
  vc <- as.data.frame(VarCorr(fit))
  lapply(seq_len(nrow(vc)), function(i) list(grp = vc$grp[i], var1 = if (is.na(vc$var1[i])) NULL else vc$var1[i],
    var2 = if (is.na(vc$var2[i])) NULL else vc$var2[i], vcov = vc$vcov[i], sdcor = vc$sdcor[i]))
}

ranef_rows <- function(fit) {
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  lapply(seq_len(nrow(re)), function(i) list(grp = as.character(re$grpvar[i]), term = as.character(re$term[i]),
    level = as.character(re$grp[i]), value = re$condval[i], condsd = re$condsd[i]))
}

common <- function(fit, ranef = FALSE) {
  ll <- logLik(fit)
  list(
    REMLcrit = if (isREML(fit)) unname(REMLcrit(fit)) else NULL,
    deviance = if (isREML(fit)) NULL else unname(deviance(fit)),
    logLik = as.numeric(ll), df = attr(ll, "df"), AIC = AIC(fit), BIC = BIC(fit), nobs = nobs(fit),
    ngrps = as.list(ngrps(fit)), theta = I(unname(getME(fit, "theta"))), singular = isSingular(fit),
    sigma = sigma(fit), varcorr = varcorr_rows(fit), ranef = if (ranef) ranef_rows(fit) else NULL)
}

lmm <- function(id, dname, formula, REML = TRUE, kr = TRUE, ranef = FALSE) {
  fit <- lmerTest::lmer(as.formula(formula), data = data[[dname]], REML = REML)
  cs <- summary(fit, ddf = "Satterthwaite")$coefficients
  fixef <- lapply(seq_len(nrow(cs)), function(i) list(term = rownames(cs)[i], estimate = cs[i, 1], se = cs[i, 2],
    df = cs[i, 3], t = cs[i, 4], p = cs[i, 5]))
  res <- c(list(id = id, data = paste0(dname, ".csv"), formula = formula, family = "gaussian", REML = REML,
    fixef = fixef), common(fit, ranef))
  if (kr && REML) {
    ck <- summary(fit, ddf = "Kenward-Roger")$coefficients
    res$kenwardRoger <- lapply(seq_len(nrow(ck)), function(i) list(term = rownames(ck)[i], se = ck[i, 2],
      df = ck[i, 3], t = ck[i, 4], p = ck[i, 5]))
  }
  # Nakagawa R2 (random-intercept and slope models: Johnson 2014 mean variance of Z Sigma Z') and ICC.
  m <- as(fit, "lmerMod")
  X <- getME(m, "X")
  var_f <- var(as.vector(X %*% fixef(m)))
  vc <- VarCorr(m)
  var_r <- sum(sapply(names(vc), function(gn) {
    S <- vc[[gn]]
    Z <- X[, colnames(S), drop = FALSE]
    mean(rowSums((Z %*% S) * Z))
  }))
  var_e <- sigma(m)^2
  res$r2 <- list(marginal = var_f / (var_f + var_r + var_e), conditional = (var_f + var_r) / (var_f + var_r + var_e),
    icc = var_r / (var_r + var_e))
  res
}

glmm <- function(id, dname, formula, family, ranef = FALSE) {
  fit <- glmer(as.formula(formula), data = data[[dname]], family = family)
  cs <- summary(fit)$coefficients
  fixef <- lapply(seq_len(nrow(cs)), function(i) list(term = rownames(cs)[i], estimate = cs[i, 1], se = cs[i, 2],
    z = cs[i, 3], p = cs[i, 4]))
  c(list(id = id, data = paste0(dname, ".csv"), formula = formula, family = fit@resp$family$family, REML = FALSE,
    fixef = fixef), common(fit, ranef), glmer_internals(fit, formula, dname, family),
    list(glmmTMB = exact_laplace(formula, dname, family), r2 = r2_glmm(fit)))
}

# Nakagawa R2 and adjusted ICC of a GLMM as performance computes them (insight::get_variance: pi^2/3 for
# logit, log1p(1/exp(beta0 of the null model)) for Poisson; observation-level random effects as dispersion).
# nullConverged: whether lme4 fitted the null model (the Poisson variance's intercept) without a convergence
# warning; variance parts as insight::get_variance reports them.
r2_glmm <- function(fit) {
  warned <- FALSE
  keep <- function(w) {
    if (grepl("failed to converge|unidentifiable", conditionMessage(w))) warned <<- TRUE
    invokeRestart("muffleWarning")
  }
  r <- withCallingHandlers(r2_nakagawa(fit), warning = keep)
  ic <- suppressWarnings(icc(fit))
  v <- suppressWarnings(insight::get_variance(fit))
  list(marginal = unname(r$R2_marginal), conditional = unname(r$R2_conditional), icc = unname(ic$ICC_adjusted),
    varFixed = v$var.fixed, varRandom = v$var.random, varResidual = v$var.residual, nullConverged = !warned)
}

# The exact Laplace fit (inner Newton iterated to convergence) by glmmTMB (TMB, automatic differentiation):
# the reference for gpulmm's laplace = 'exact' mode. Covariance parameters by group: the variances, then the
# covariances in lower.tri order (the order of as.data.frame(VarCorr(glmer fit)) within a group).
exact_laplace <- function(formula, dname, family) {
  m <- glmmTMB(as.formula(formula), data = data[[dname]], family = family)
  cs <- summary(m)$coefficients$cond
  list(logLik = as.numeric(logLik(m)), fixef = lapply(seq_len(nrow(cs)), function(i) list(term = rownames(cs)[i],
    estimate = cs[i, 1], se = cs[i, 2])), varcorr = lapply(VarCorr(m)$cond, function(S) I(c(diag(S), S[lower.tri(S)]))),
    pdHess = m$sdr$pdHess)
}

# glmer's intermediate quantities: the stage-1 (nAGQ = 0) optimum, the stage-2 Laplace deviance function at
# the optimum, at the stage-1 point and one approximate se either side along each coordinate, the
# finite-difference Hessian (deriv12) and vcov(beta) from it.
glmer_internals <- function(fit, formula, dname, family) {
  devfun <- glmer(as.formula(formula), data = data[[dname]], family = family, devFunOnly = TRUE)
  pp <- environment(devfun)$pp
  stage1 <- c(unname(pp$theta), unname(pp$delb))
  par <- unname(c(getME(fit, "theta"), fixef(fit)))
  H <- fit@optinfo$derivs$Hessian
  step <- sqrt(diag(solve(H / 2)))
  pts <- c(list(par, stage1), unlist(lapply(seq_along(par), function(i) lapply(c(-1, 1), function(s) {
    q <- par; q[i] <- q[i] + s * step[i]; q
  })), recursive = FALSE))
  # the tight minimum of the same deviance function (glmer's Nelder-Mead stops at FtolAbs 1e-5)
  nt <- length(pp$theta)
  tight <- minqa::bobyqa(par, devfun, lower = c(getME(fit, "lower"), rep(-Inf, length(par) - nt)),
    control = list(rhobeg = 1e-3, rhoend = 1e-11))
  list(stage1 = list(theta = I(stage1[seq_along(pp$theta)]), beta = I(stage1[-seq_along(pp$theta)])),
    devfun = lapply(pts, function(q) list(par = I(q), value = devfun(q))),
    tightMinimum = list(par = I(tight$par), value = tight$fval),
    hessian = I(unname(H)), vcov = I(unname(as.matrix(vcov(fit)))))
}

fits <- list(
  lmm("sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)", ranef = TRUE),
  lmm("sleepstudy-ml", "sleepstudy", "Reaction ~ Days + (Days | Subject)", REML = FALSE),
  lmm("sleepstudy-uncorr", "sleepstudy", "Reaction ~ Days + (Days || Subject)"),
  lmm("sleepstudy-intercept", "sleepstudy", "Reaction ~ Days + (1 | Subject)"),
  lmm("dyestuff", "Dyestuff", "Yield ~ 1 + (1 | Batch)"),
  lmm("dyestuff2", "Dyestuff2", "Yield ~ 1 + (1 | Batch)"),
  lmm("penicillin", "Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", ranef = TRUE),
  lmm("pastes", "Pastes", "strength ~ 1 + (1 | batch/cask)", ranef = TRUE),
  lmm("pastes-interaction", "Pastes", "strength ~ 1 + (1 | batch) + (1 | batch:cask)"),
  lmm("unbalanced", "unbalanced", "y ~ x + trt + (x | g)"),
  lmm("unbalanced-ml", "unbalanced", "y ~ x * trt + (1 | g)", REML = FALSE),
  lmm("crossed-slope", "crossed", "y ~ x + (1 | subj) + (x | item)", ranef = TRUE),
  glmm("cbpp", "cbpp", "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)", binomial, ranef = TRUE),
  glmm("cbpp-failures", "cbpp", "cbind(incidence, failures) ~ factor(period) + (1 | herd)", binomial),
  glmm("grouseticks", "grouseticks", "TICKS ~ factor(YEAR) + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)", poisson),
  glmm("binsim", "binsim", "y ~ x + (1 | g)", binomial),
  glmm("binsim-slope", "binsim", "y ~ x + (x | g)", binomial),
  glmm("poisim-slope", "poisim", "y ~ x + offset(logexp) + (x | g)", poisson)
)

# Likelihood-ratio anova of nested models (anova refits REML fits with ML).
m0 <- lmer(Reaction ~ Days + (1 | Subject), data$sleepstudy)
m1 <- lmer(Reaction ~ Days + (Days | Subject), data$sleepstudy)
a <- anova(m0, m1)
anova_rows <- list(list(models = c("Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (Days | Subject)"),
  data = "sleepstudy.csv", npar = a$npar, logLik = a$logLik, deviance = a$deviance, Chisq = na_null(a$Chisq)[2],
  Df = a$Df[2], p = a[["Pr(>Chisq)"]][2]))

golden <- list(versions = as.list(versions), R = R.version.string, fits = fits, anova = anova_rows)
writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
  file.path(out_dir, "golden.json"))
cat("wrote", file.path(out_dir, "golden.json"), "\n")
