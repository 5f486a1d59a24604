# Reference timings for `gpulmm bench --reference r`: the same ops at the same n in R, whose dense linear
# algebra is the system BLAS/LAPACK (OpenBLAS on the project's machines), so every gpulmm record can be read
# against it, measured in the same command.
#
# Usage: Rscript bench/reference.R REPS OP:N [OP:N ...]
# Prints one line per case: "OP N MEDIAN_SECONDS SAMPLES", then a final line "blas <BLAS path> | <R version>".
# Each sample times as many consecutive calls as fill at least 20 ms and divides; one untimed call warms up.
# Inputs are uniform in [-1, 1) (SPD ones: G G^T / n + I), like the TypeScript harness; nothing is checked.

args <- commandArgs(trailingOnly = TRUE)
reps <- as.integer(args[1])
cases <- args[-1]

spd <- function(n) {
  g <- matrix(runif(n * n, -1, 1), n)
  tcrossprod(g) / n + diag(n)
}

make_case <- function(op, n) {
  u <- function() matrix(runif(n * n, -1, 1), n)
  switch(op,
    gemm = { a <- u(); b <- u(); function() a %*% b },
    syrk = { a <- u(); function() tcrossprod(a) },
    potrf = { s <- spd(n); function() chol(s) },
    trsm = { l <- t(chol(spd(n))); b <- u(); function() forwardsolve(l, b) },
    potrs = { l <- t(chol(spd(n))); b <- u(); function() backsolve(t(l), forwardsolve(l, b)) },
    eigh = { s <- spd(n); function() eigen(s, symmetric = TRUE) },
    batchedWeightedDot = { w <- u(); a <- u(); b <- u(); function() colSums(w * a * b) },
    stop(paste("unknown op", op))
  )
}

time_one <- function(f) {
  count <- 0L
  t0 <- proc.time()[["elapsed"]]
  repeat {
    f()
    count <- count + 1L
    el <- proc.time()[["elapsed"]] - t0
    if (el >= 0.02) return(el / count)
  }
}

for (case in cases) {
  parts <- strsplit(case, ":", fixed = TRUE)[[1]]
  op <- parts[1]
  n <- as.integer(parts[2])
  f <- make_case(op, n)
  f()
  samples <- vapply(seq_len(reps), function(i) time_one(f), numeric(1))
  cat(op, n, format(median(samples), digits = 6), reps, "\n")
}
si <- sessionInfo()
cat("blas", si$BLAS, "|", R.version.string, "\n")
