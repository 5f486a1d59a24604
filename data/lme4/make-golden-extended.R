#!/usr/bin/env Rscript
# Golden values for what an lme4 user reaches for after the fit (issue 18): factor coding (relevel, factor
# levels, ordered factors, C() and options(contrasts)), type III F tests (lmerTest's anova), ... produced by lme4 /
# lmerTest on this machine.
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
  unbalanced = read_data("unbalanced"), Oats = read_data("Oats"), ChickWeight = read_data("ChickWeight"))

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

golden <- list(versions = as.list(versions), R = R.version.string, coding = coding, type3 = type3)
writeLines(toJSON(golden, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
  file.path(out_dir, "golden-extended.json"))
cat("wrote", file.path(out_dir, "golden-extended.json"), "\n")
