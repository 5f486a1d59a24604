#!/usr/bin/env Rscript
# Golden values for what an lme4 user reaches for after the fit (issue 18): factor coding (relevel, factor
# levels, ordered factors, C() and options(contrasts)), type III F tests (lmerTest's anova), predictions for new
# data, moments of simulated responses, profile and Wald confidence intervals; produced by lme4 / lmerTest on this
# machine.
# Debian: r-cran-lme4 r-cran-lmertest r-cran-nlme r-cran-jsonlite.
#
#   Rscript data/lme4/make-golden-extended.R      (from the repository root; reads the CSVs of make-golden.R)
#
# Writes data/lme4/Orthodont.csv, Oats.csv, ChickWeight.csv and data/lme4/golden-extended.json.
suppressPackageStartupMessages({ library(lme4); library(lmerTest); library(jsonlite) })
out_dir <- "data/lme4"
versions <- sapply(c("lme4", "lmerTest", "Matrix"), function(p) as.character(packageVersion(p)))
read_data <- function(name) read.csv(file.path(out_dir, paste0(name, ".csv")), stringsAsFactors = TRUE)

orth <- as.data.frame(nlme::Orthodont)
orth$Subject <- as.character(orth$Subject)
orth$Sex <- as.character(orth$Sex)
write.csv(orth, file.path(out_dir, "Orthodont.csv"), row.names = FALSE)
oats <- as.data.frame(nlme::Oats)
oats$Block <- as.character(oats$Block); oats$Variety <- as.character(oats$Variety)
write.csv(oats, file.path(out_dir, "Oats.csv"), row.names = FALSE)
chick <- as.data.frame(ChickWeight)
chick$Chick <- as.character(chick$Chick); chick$Diet <- as.integer(as.character(chick$Diet))
write.csv(chick, file.path(out_dir, "ChickWeight.csv"), row.names = FALSE)
data <- list(Orthodont = read_data("Orthodont"), sleepstudy = read_data("sleepstudy"), cbpp = read_data("cbpp"),
  unbalanced = read_data("unbalanced"), Oats = read_data("Oats"), ChickWeight = read_data("ChickWeight"),
  Dyestuff = read_data("Dyestuff"), Dyestuff2 = read_data("Dyestuff2"), Penicillin = read_data("Penicillin"),
  Pastes = read_data("Pastes"))

fixef_rows <- function(cs) lapply(seq_len(nrow(cs)), function(i) {
  r <- list(term = rownames(cs)[i], estimate = cs[i, 1], se = cs[i, 2])
  if (ncol(cs) == 5) r$df <- cs[i, 3]
  r
})

# A fit with its fixed effects (names as lme4 writes them), Satterthwaite df and log-likelihood.
coded_fit <- function(id, dname, formula, family = "gaussian", contrasts = c("contr.treatment", "contr.poly")) {
  old <- options(contrasts = contrasts)
  on.exit(options(old))
  f <- as.formula(formula)
  fit <- if (family == "gaussian") lmerTest::lmer(f, data = data[[dname]]) else glmer(f, data = data[[dname]], family = family)
  cs <- if (family == "gaussian") summary(fit, ddf = "Satterthwaite")$coefficients else summary(fit)$coefficients
  list(id = id, data = paste0(dname, ".csv"), formula = formula, family = family,
    contrasts = sub("^contr\\.", "", contrasts), fixef = fixef_rows(cs), logLik = as.numeric(logLik(fit)))
}

coding <- list(
  coded_fit("orthodont-relevel", "Orthodont", 'distance ~ age * relevel(Sex, "Male") + (age | Subject)'),
  coded_fit("orthodont-levels", "Orthodont", 'distance ~ age + factor(Sex, levels = c("Male", "Female")) + (1 | Subject)'),
  coded_fit("sleepstudy-ordered", "sleepstudy", "Reaction ~ ordered(Days) + (1 | Subject)"),
  coded_fit("unbalanced-helmert", "unbalanced", "y ~ x + C(trt, helmert) + (1 | g)"),
  coded_fit("unbalanced-levels-subset", "unbalanced", 'y ~ x + factor(trt, levels = c("drugB", "ctl")) + (1 | g)'),
  coded_fit("unbalanced-sum-option", "unbalanced", "y ~ x * trt + (1 | g)", contrasts = c("contr.sum", "contr.poly")),
  coded_fit("cbpp-sum", "cbpp", "cbind(incidence, size - incidence) ~ C(factor(period), sum) + (1 | herd)", family = "binomial")
)

# lmerTest's anova(type = 3): F, numerator and Satterthwaite denominator df per term.
type3_fit <- function(id, dname, formula, contrasts = c("contr.treatment", "contr.poly")) {
  old <- options(contrasts = contrasts)
  on.exit(options(old))
  fit <- lmerTest::lmer(as.formula(formula), data = data[[dname]])
  a <- anova(fit, type = 3, ddf = "Satterthwaite")
  list(id = id, data = paste0(dname, ".csv"), formula = formula, contrasts = sub("^contr\\.", "", contrasts),
    rows = lapply(seq_len(nrow(a)), function(i) list(term = rownames(a)[i], sumSq = a[i, "Sum Sq"], meanSq = a[i, "Mean Sq"],
      numDf = a[i, "NumDF"], denDf = a[i, "DenDF"], F = a[i, "F value"], p = a[i, "Pr(>F)"])))
}
type3 <- list(
  type3_fit("unbalanced", "unbalanced", "y ~ x * trt + (1 | g)"),
  type3_fit("unbalanced-sum", "unbalanced", "y ~ x * trt + (1 | g)", contrasts = c("contr.sum", "contr.poly")),
  type3_fit("orthodont", "Orthodont", "distance ~ age * Sex + (age | Subject)"),
  type3_fit("oats", "Oats", "yield ~ Variety * factor(nitro) + (1 | Block)"),
  type3_fit("chickweight", "ChickWeight", "weight ~ Time * factor(Diet) + (1 | Chick)")
)

# predict(fit, newdata, re.form = NULL / NA, allow.new.levels = TRUE) on the link (and response) scale, and the
# standard error of the population-level prediction sqrt(diag(X_new vcov X_new')). newdata: written as CSV.
predict_case <- function(id, dname, formula, newdata, family = "gaussian") {
  path <- file.path(out_dir, paste0("newdata-", id, ".csv"))
  write.csv(newdata, path, row.names = FALSE)
  nd <- read.csv(path, stringsAsFactors = TRUE)
  f <- as.formula(formula)
  fit <- if (family == "gaussian") lmer(f, data = data[[dname]]) else glmer(f, data = data[[dname]], family = family)
  X <- model.matrix(delete.response(terms(fit, fixed.only = TRUE)), model.frame(delete.response(terms(fit, fixed.only = TRUE)), nd, xlev = fit@frame[, sapply(fit@frame, is.factor), drop = FALSE] |> lapply(levels)))
  se <- sqrt(rowSums((X %*% as.matrix(vcov(fit))) * X))
  res <- list(id = id, data = paste0(dname, ".csv"), newdata = basename(path), formula = formula, family = family,
    fit = I(unname(predict(fit, nd, re.form = NULL, allow.new.levels = TRUE))),
    population = I(unname(predict(fit, nd, re.form = NA))), sePopulation = I(unname(se)))
  if (family != "gaussian") res$mu <- I(unname(predict(fit, nd, re.form = NULL, allow.new.levels = TRUE, type = "response")))
  res
}
predictions <- list(
  predict_case("sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)",
    data.frame(Days = c(0, 3.5, 9, 2, 12), Subject = c("308", "309", "372", "999", "new"))),
  predict_case("orthodont", "Orthodont", 'distance ~ age * relevel(Sex, "Male") + (age | Subject)',
    data.frame(age = c(8, 11, 14, 10), Sex = c("Male", "Female", "Female", "Male"), Subject = c("M01", "F03", "X99", "M16"))),
  predict_case("cbpp", "cbpp", "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)",
    data.frame(period = c(1, 2, 3, 4, 1), herd = c(1, 5, 15, 99, 3), size = 10, incidence = 0), family = "binomial")
)

# Moments of simulate(fit, nsim) (re.form = NA: new random effects), per observation, from NSIM draws; for
# gaussian fits also the exact moments X beta and diag(Z Sigma Z') + sigma^2.
NSIM <- 4000
sim_case <- function(id, dname, formula, family = "gaussian") {
  f <- as.formula(formula)
  fit <- if (family == "gaussian") lmer(f, data = data[[dname]]) else glmer(f, data = data[[dname]], family = family)
  s <- as.matrix(simulate(fit, nsim = NSIM, seed = 20261207))
  if (family == "binomial" && is.matrix(simulate(fit, nsim = 1)[[1]])) s <- sapply(simulate(fit, nsim = NSIM, seed = 20261207), function(m) m[, 1])
  res <- list(id = id, data = paste0(dname, ".csv"), formula = formula, family = family, nsim = NSIM,
    mean = I(unname(rowMeans(s))), var = I(unname(apply(s, 1, var))))
  if (family == "gaussian") {
    Z <- getME(fit, "Z"); L <- getME(fit, "Lambda")
    res$exactMean <- I(unname(as.vector(getME(fit, "X") %*% fixef(fit))))
    res$exactVar <- I(unname(sigma(fit)^2 * (rowSums((Z %*% L)^2) + 1)))
  }
  res
}
simulations <- list(
  sim_case("sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)"),
  sim_case("cbpp", "cbpp", "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)", family = "binomial")
)

# confint(fit, method = "profile") and "Wald".
ci_case <- function(id, dname, formula) {
  fit <- lmer(as.formula(formula), data = data[[dname]])
  pr <- suppressMessages(confint(fit, method = "profile"))
  wa <- confint(fit, method = "Wald")
  rows <- function(ci) lapply(seq_len(nrow(ci)), function(i) list(parm = rownames(ci)[i], lower = na_null(ci[i, 1]), upper = na_null(ci[i, 2])))
  list(id = id, data = paste0(dname, ".csv"), formula = formula, profile = rows(pr), wald = rows(wa))
}
na_null <- function(v) if (is.na(v)) NULL else v
intervals <- list(
  ci_case("sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)"),
  ci_case("dyestuff", "Dyestuff", "Yield ~ 1 + (1 | Batch)"),
  ci_case("dyestuff2", "Dyestuff2", "Yield ~ 1 + (1 | Batch)"),
  ci_case("penicillin", "Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
  ci_case("orthodont", "Orthodont", 'distance ~ age * relevel(Sex, "Male") + (age | Subject)')
)

golden <- list(versions = as.list(versions), R = R.version.string, coding = coding, type3 = type3,
  predictions = predictions, simulations = simulations, intervals = intervals)
writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
  file.path(out_dir, "golden-extended.json"))
cat("wrote", file.path(out_dir, "golden-extended.json"), "\n")
