/**
 * The f64 cpu kernels as synchronous functions (the oracle every other backend is tested against, and the
 * workhorse of f64 model maths in src/ and gwas/). Semantics are exactly those of the Backend methods in
 * kernels/backend.ts; every function validates its input with kernels/validate.ts and returns fresh storage.
 * Beyond the Backend ops: cpuSyrkInt8, an exact X X^T for small-integer (genotype dosage) data.
 */
export { cpuGemm } from './gemm.js';
export { cpuSyrk } from './syrk.js';
export { cpuPotrf } from './potrf.js';
export { cpuTrsm, cpuPotrs } from './trsm.js';
export { cpuEigh } from './eigh.js';
export { cpuBatchedWeightedDot } from './batched-weighted-dot.js';
export { cpuSyrkInt8, type Int8Matrix } from './syrk-int8.js';
export { createCpuBackend, cpuBackendInfo } from './backend.js';
