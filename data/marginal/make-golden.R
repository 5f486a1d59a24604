#!/usr/bin/env Rscript
# Golden values for the population-averaged (marginal) effects of GLMM fits (`gpulmm fit --marginal`), computed
# by direct numerical integration in R on lme4's fits (Debian: r-cran-lme4 r-cran-jsonlite):
#
#   LC_ALL=C Rscript data/marginal/make-golden.R        (from the repository root; reads data/lme4/*.csv)
#
# For row i with linear predictor eta_i = offset_i + x_i' beta and random part z_i' b, b = Lambda u, u ~ N(0, I),
# z_i' b ~ N(0, v_i) with v_i = |Lambda' z_i|^2, so the marginal mean is the one-dimensional integral
#   mu_i^M = int g^{-1}(eta_i + sqrt(v_i) s) dnorm(s) ds                 (stats::integrate, rel.tol 1e-12)
# for scalar and vector random effects alike (integrated over s in [-40, 40]). Marginal coefficients as Hedeker et al. (2018, Biometrics 74:354)
# and GLMMadaptive's marginal_coefs: beta^M = (X'X)^{-1} X' (g(mu^M) - offset); their delta-method covariance
# J vcov(beta) J' with J = (X'X)^{-1} X' diag(g'(mu^M) dmu^M/deta) X (uncertainty of the variance parameters not
# included). Also a grid of (eta, v) with both integrals, for the quadrature alone.
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
versions <- list(R = paste(R.version$major, R.version$minor, sep = "."), lme4 = as.character(packageVersion("lme4")))
rd <- function(name) read.csv(file.path("data/lme4", paste0(name, ".csv")), stringsAsFactors = TRUE)
data <- list(binsim = rd("binsim"), cbpp = rd("cbpp"), poisim = rd("poisim"))

inv <- list(binomial = plogis, poisson = exp)
dinv <- list(binomial = dlogis, poisson = exp)
link <- list(binomial = qlogis, poisson = log)
dlink <- list(binomial = function(mu) 1 / (mu * (1 - mu)), poisson = function(mu) 1 / mu)
integ <- function(f, eta, v) integrate(function(s) f(eta + sqrt(v) * s) * dnorm(s), -40, 40, rel.tol = 1e-12, abs.tol = 0)$value

marginal <- function(name, dname, formula, family) {
  fam <- family()$family
  m <- glmer(as.formula(formula), data = data[[dname]], family = family)
  X <- getME(m, "X")
  off <- if (is.null(getME(m, "offset"))) rep(0, nrow(X)) else getME(m, "offset")
  eta <- drop(X %*% fixef(m)) + off
  ZL <- as.matrix(getME(m, "Z") %*% getME(m, "Lambda"))
  v <- rowSums(ZL^2)
  mu <- mapply(function(e, s2) integ(inv[[fam]], e, s2), eta, v)
  dmu <- mapply(function(e, s2) integ(dinv[[fam]], e, s2), eta, v)
  XtX <- crossprod(X)
  bm <- drop(solve(XtX, crossprod(X, link[[fam]](mu) - off)))
  J <- solve(XtX, crossprod(X, (dlink[[fam]](mu) * dmu) * X))
  V <- J %*% as.matrix(vcov(m)) %*% t(J)
  list(name = name, data = paste0(dname, ".csv"), formula = formula, family = fam,
       names = colnames(X), conditional = unname(fixef(m)), conditional_se = unname(sqrt(diag(as.matrix(vcov(m))))),
       marginal = unname(bm), marginal_se = unname(sqrt(diag(V))),
       mu_marginal_head = unname(mu[1:10]), v_head = unname(v[1:10]))
}

fits <- list(
  marginal("binsim", "binsim", "y ~ x + (1 | g)", binomial),
  marginal("binsim-slope", "binsim", "y ~ x + (x | g)", binomial),
  marginal("cbpp", "cbpp", "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)", binomial),
  marginal("poisim-slope", "poisim", "y ~ x + offset(logexp) + (x | g)", poisson)
)
grid <- expand.grid(eta = c(-6, -2, -0.5, 0, 1.3, 4), v = c(0.01, 0.5, 1, 4, 9, 25))
grid$logit_mu <- mapply(function(e, s2) integ(plogis, e, s2), grid$eta, grid$v)
grid$logit_dmu <- mapply(function(e, s2) integ(dlogis, e, s2), grid$eta, grid$v)
writeLines(toJSON(list(versions = versions, fits = fits, grid = grid), auto_unbox = TRUE, digits = I(15), pretty = TRUE),
           "data/marginal/golden.json")
