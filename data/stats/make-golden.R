# Golden values for test/stats/*.test.ts, computed by R's own distribution functions.
# Run from the repository root:  Rscript data/stats/make-golden.R   (writes data/stats/golden.json)
# Each case holds the R value `p` (NA when it underflows or is out of the tested range) and, for tails,
# `lnp`, the natural log of the same tail from R's log.p = TRUE, which stays finite far below 1e-308.

num <- function(v) if (is.na(v) || !is.finite(v)) "null" else sprintf("%.17g", v)
rows <- character(0)
add <- function(fn, args, p, lnp = NA) {
  rows <<- c(rows, sprintf('{"fn":"%s","args":[%s],"p":%s,"lnp":%s}',
                           fn, paste(vapply(args, num, ""), collapse = ","), num(p), num(lnp)))
}

# F upper tail: pf(x, d1, d2, lower.tail = FALSE).
for (x in c(1e-6, 0.01, 0.5, 1, 2.5, 10, 50, 200, 2000, 1e5, 1e7))
  for (d1 in c(1, 2, 3.7, 10, 150))
    for (d2 in c(1, 5.5, 30, 1400, 1e5))
      add("f", list(x, d1, d2), pf(x, d1, d2, lower.tail = FALSE), pf(x, d1, d2, lower.tail = FALSE, log.p = TRUE))

# Chi-square upper tail.
for (x in c(1e-8, 0.01, 0.5, 1, 3.84, 10, 50, 100, 500, 5000, 1e5))
  for (df in c(0.7, 1, 2, 3.3, 10, 100, 1000, 1e5))
    add("chi2", list(x, df), pchisq(x, df, lower.tail = FALSE), pchisq(x, df, lower.tail = FALSE, log.p = TRUE))

# Two-sided t: 2 P(T > |t|). (R switches to a normal approximation above df = 4e5, so df stays below.)
for (t in c(0, 0.1, -1, 2, 5, -10, 30, 100, 1e3, 1e5))
  for (df in c(1, 2.5, 10, 30, 1000, 1e5))
    add("t2", list(t, df), 2 * pt(-abs(t), df), log(2) + pt(-abs(t), df, log.p = TRUE))

# Normal upper tail.
for (z in c(-40, -8, -3, -1, -1e-3, 0, 1e-3, 0.5, 1, 1.96, 3, 8, 20, 37, 40, 100, 1e3))
  add("normal", list(z), pnorm(z, lower.tail = FALSE), pnorm(z, lower.tail = FALSE, log.p = TRUE))

# Normal quantile.
for (p in c(1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.01, 0.02425, 0.025, 0.3, 0.5 - 1e-12, 0.5, 0.7, 0.975, 0.99999,
            1 - 1e-12))
  add("qnorm", list(p), qnorm(p))

# Chi-square quantile, lower tail and upper tail.
for (p in c(1e-200, 1e-50, 1e-10, 0.001, 0.05, 0.5, 0.95, 0.999, 1 - 1e-12))
  for (df in c(0.7, 1, 2, 3.3, 10, 100, 1e4)) {
    add("qchisq", list(p, df, 1), qchisq(p, df))
    add("qchisq", list(p, df, 0), qchisq(p, df, lower.tail = FALSE))
  }

# Multiple testing: BH-adjusted p and lambda_GC on fixed p-value vectors (with NA, ties, zeros and ones).
set.seed(20261122)
pv <- list(
  c(0.01, 0.04, 0.03, 0.5, NA, 0.04, 0, 1, 0.2, NA, 1e-12),
  runif(1001)^2,
  c(runif(500), NA, runif(499)^3)
)
bh <- character(0)
for (p in pv) {
  adj <- p.adjust(p, "BH")
  lambda <- median(qchisq(1 - p, 1), na.rm = TRUE) / qchisq(0.5, 1)
  bh <- c(bh, sprintf('{"p":[%s],"bh":[%s],"lambda":%s}', paste(vapply(p, num, ""), collapse = ","),
                      paste(vapply(adj, num, ""), collapse = ","), num(lambda)))
}

out <- sprintf('{"r":"%s","tails":[\n%s\n],\n"multiple":[\n%s\n]}\n', R.version.string,
               paste(rows, collapse = ",\n"), paste(bh, collapse = ",\n"))
writeLines(out, "data/stats/golden.json", sep = "")
