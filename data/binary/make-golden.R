# Golden values for the binary-trait tests (test/lmm/binary): run by make-golden.sh.
#   Rscript make-golden.R DATADIR FAM.raw OUT.json
# Cohort: DATADIR/fam.* (600 individuals: 96 families of 5 and 120 singletons; 400 SNPs, 30% with MAF < 0.01).
# Trait: column 2 of fam.pheno.txt (binary); covariates: intercept, age, sex (fam.covar.txt).
# K: block-diagonal family matrix, K_ij = 1 when i and j share a family ID (the issue's glmer comparison).
# 1. GMMAT glmmkin (PQL + AI-REML, tol 1e-8): tau, alpha, se(alpha), fitted mu, the offset b = eta - X alpha.
# 2. Per SNP (mean-imputed dosage of the .bim column-5 allele), with GMMAT's mu and P:
#    T = g'(y - mu), var1 = g' P g, g~ = g - X (X'WX)^-1 X'W g, q = T / sqrt(var1) * sqrt(sum w g~^2) + sum mu g~,
#    p from SPAtest:::Saddle_Prob(q, mu, g~, Cutoff = 2) (SAIGE's variance-adjusted SPA).
# 3. SPAtest::ScoreTest_SPA(method = "SPA") with the logistic null (no kinship): p per SNP.
# 4. brglm2 (Firth, AS_mean) on y ~ age + sex + g with offset b, for the SNPs with SPA p < 0.05 and 12 rare ones.
#    (the dosage of the .bim column-5 allele, as the scan; Fisher scoring damped where full steps diverge)
# 5. lme4 glmer(y ~ age + sex + (1 | family), binomial) (Laplace), for the documented PQL-vs-Laplace comparison.
suppressPackageStartupMessages({
  library(GMMAT); library(SPAtest); library(brglm2); library(lme4); library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; raw <- args[2]; out <- args[3]
fam <- read.table(file.path(dir, "fam.fam"), colClasses = c("character", "character", rep("NULL", 4)))
ph <- read.table(file.path(dir, "fam.pheno.txt"))
cv <- read.table(file.path(dir, "fam.covar.txt"))
d <- data.frame(id = fam[[2]], family = fam[[1]], y = ph[[2]], age = cv[[1]], sex = cv[[2]])
n <- nrow(d)
geno <- read.table(raw, header = TRUE)
G <- as.matrix(geno[, -(1:6)])
G <- apply(G, 2, function(g) { g[is.na(g)] <- mean(g, na.rm = TRUE); g })
poly <- which(apply(G, 2, var) > 0)  # monomorphic SNPs are left out (the scan's filter drops them too)
G <- G[, poly]
K <- outer(d$family, d$family, "==") * 1
dimnames(K) <- list(d$id, d$id)
X <- cbind(1, d$age, d$sex)

# 1. GMMAT.
fit <- glmmkin(y ~ age + sex, data = d, kins = K, id = "id", family = binomial(link = "logit"), tol = 1e-8)
mu <- as.numeric(fit$fitted.values)
eta <- as.numeric(fit$linear.predictors)
alpha <- as.numeric(fit$coefficients)
offset <- eta - as.numeric(X %*% alpha)
P <- if (!is.null(fit$P)) as.matrix(fit$P) else fit$Sigma_i - fit$Sigma_iX %*% fit$cov %*% t(fit$Sigma_iX)
w <- mu * (1 - mu)

# 2. Variance-adjusted SPA per SNP with GMMAT's null.
xwx_inv <- solve(t(X) %*% (X * w))
spa_mixed <- t(apply(G, 2, function(g) {
  T <- sum(g * (d$y - mu))
  var1 <- as.numeric(t(g) %*% P %*% g)
  gt <- as.numeric(g - X %*% (xwx_inv %*% (t(X) %*% (w * g))))
  var2 <- sum(w * gt^2)
  m1 <- sum(mu * gt)
  q <- T / sqrt(var1) * sqrt(var2) + m1
  r <- SPAtest:::Saddle_Prob(q, mu = mu, g = gt, Cutoff = 2, alpha = 5e-8, output = "P")
  c(T = T, var1 = var1, log10p = log10(r$p.value), log10p_normal = pchisq(T^2 / var1, 1, lower.tail = FALSE, log.p = TRUE) / log(10))
}))

# 3. SPAtest end to end with the logistic null (no random effect).
spa_glm <- ScoreTest_SPA(t(G), d$y, cbind(d$age, d$sex), method = "SPA", minmac = 1, Cutoff = 2)

# 4. brglm2 Firth with the GMMAT offset.
rare <- which(pmin(colMeans(G), 2 - colMeans(G)) / 2 < 0.01)
firth_idx <- sort(unique(c(which(spa_mixed[, "log10p"] < log10(0.05)), head(rare, 12))))
firth <- lapply(firth_idx, function(j) {
  dd <- data.frame(y = d$y, age = d$age, sex = d$sex, g = G[, j], off = offset)
  # brglm2's full Fisher-scoring steps diverge on some rare SNPs: damped steps (slowit) then converge.
  for (slowit in c(1, 0.5, 0.2)) {
    f <- suppressWarnings(glm(y ~ age + sex + g + offset(off), data = dd, family = binomial, method = "brglmFit",
                              type = "AS_mean", control = brglmControl(epsilon = 1e-12, maxit = 1000, slowit = slowit)))
    if (f$converged) break
  }
  list(snp = poly[j] - 1, beta = unname(coef(f)["g"]), se = unname(sqrt(diag(vcov(f)))["g" == names(coef(f))]),
       converged = f$converged, slowit = slowit)
})

# 5. lme4 glmer (Laplace).
gm <- glmer(y ~ age + sex + (1 | family), data = d, family = binomial, control = glmerControl(optimizer = "bobyqa"))

res <- list(
  tools = list(GMMAT = as.character(packageVersion("GMMAT")), SPAtest = as.character(packageVersion("SPAtest")),
               brglm2 = as.character(packageVersion("brglm2")), lme4 = as.character(packageVersion("lme4")),
               R = R.version.string),
  n = n, snps = colnames(G), snpIndex = poly - 1,
  gmmat = list(tau = unname(fit$theta[2]), alpha = alpha, alphaSe = sqrt(diag(fit$cov)), converged = fit$converged,
               mu = mu, offset = offset),
  spaMixed = list(T = unname(spa_mixed[, "T"]), var1 = unname(spa_mixed[, "var1"]), log10p = unname(spa_mixed[, "log10p"]),
                  log10pNormal = unname(spa_mixed[, "log10p_normal"])),
  spaGlm = list(log10p = log10(spa_glm$p.value)),
  firth = firth,
  glmer = list(alpha = unname(fixef(gm)), alphaSe = unname(sqrt(diag(as.matrix(vcov(gm))))),
               sigma2 = unname(as.numeric(VarCorr(gm)$family)), logLik = as.numeric(logLik(gm)))
)
writeLines(toJSON(res, digits = I(15), auto_unbox = TRUE), out)
cat("tau", res$gmmat$tau, "glmer sigma2", res$glmer$sigma2, "firth SNPs", length(firth), "\n")
