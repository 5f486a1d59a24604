/**
 * The f64 cpu kernels as synchronous functions (the oracle every other backend is tested against, and the
 * workhorse of f64 model maths in src/ and gwas/). Semantics are exactly those of the Backend methods in
 * kernels/backend.ts; every function validates its input with kernels/validate.ts and returns fresh storage.
 */
export { cpuGemm } from './gemm.js';
export { cpuSyrk } from './syrk.js';
export { cpuPotrf } from './potrf.js';
export { cpuTrsm, cpuPotrs } from './trsm.js';
export { cpuEigh } from './eigh.js';
export { cpuBatchedWeightedDot } from './batched-weighted-dot.js';
export { createCpuBackend, cpuBackendInfo } from './backend.js';
