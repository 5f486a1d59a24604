/** gpulmm: the library entry point. */
export { VERSION } from './version.js';
export * from '../kernels/matrix.js';
export * from '../kernels/backend.js';
export { createBackend, listBackends } from '../kernels/select.js';
export { getFlag, setFlags, FLAG_SPECS } from './flags.js';
