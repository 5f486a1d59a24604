/** gpulmm: the library entry point. */
export { VERSION } from './version.js';
export * from '../kernels/matrix.js';
export * from '../kernels/backend.js';
export { createBackend, listBackends } from '../kernels/select.js';
export { getFlag, setFlags, FLAG_SPECS } from './flags.js';
export { runScde, SCDE_METHODS, SCDE_COLUMNS, DEFAULT_MIN_FRAC, type ScdeOptions, type ScdeBlock, type ScdeInput } from './sc/scde.js';
export { loadScdeInput } from './sc/load-input.js';
export { readTenx, readMtx } from './io/mtx.js';
export { readH5ad } from './io/h5ad.js';
