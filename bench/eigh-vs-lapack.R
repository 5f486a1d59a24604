# One large case in R (the system BLAS/LAPACK: OpenBLAS here), for bench/eigh-vs-lapack.sh: eigen(symmetric =
# TRUE) (LAPACK dsyevr, values and vectors) or %*% (dgemm) of n x n uniform [-1, 1) matrices. Prints one JSON
# line: wall and process cpu seconds of the call alone, and the BLAS/LAPACK libraries from sessionInfo().
# Usage: Rscript bench/eigh-vs-lapack.R eigh|gemm N
args <- commandArgs(trailingOnly = TRUE)
op <- args[1]
n <- as.integer(args[2])
a <- matrix(runif(n * n, -1, 1), n)
if (op == "eigh") {
  a[upper.tri(a)] <- t(a)[upper.tri(a)]
  t0 <- proc.time()
  e <- eigen(a, symmetric = TRUE)
  t1 <- proc.time()
} else {
  b <- matrix(runif(n * n, -1, 1), n)
  t0 <- proc.time()
  c <- a %*% b
  t1 <- proc.time()
}
d <- t1 - t0
s <- sessionInfo()
cat(sprintf('{"tool":"R","op":"%s","n":%d,"wall_s":%.3f,"cpu_s":%.3f,"blas":"%s","lapack":"%s","r":"%s"}\n',
  op, n, d[["elapsed"]], d[["user.self"]] + d[["sys.self"]] + d[["user.child"]] + d[["sys.child"]],
  s$BLAS, s$LAPACK, R.version.string))
