/** Public API of the GEE engine (geepack's geeglm: working correlations, sandwich standard errors). */
export { fitGee } from './gee.js';
export type { GeeFit, GeeOptions, GeeCoefficient } from './gee.js';
export type { GeeFamily } from './family.js';
export { CORSTRS } from './working-correlation.js';
export type { CorStr } from './working-correlation.js';
export { formatGee, geeJson } from './summary.js';
