/** Public API of meta-analysis: random-effects models and meta-regression of study estimates (metafor's rma). */
export { rma, rmaPredict, TAU2_METHODS } from './rma.js';
export type { MetaData, RmaOptions, RmaFit, MetaCoef, MetaPrediction, PerLikelihood, Tau2Method, MetaTest } from './rma.js';
export { studyData, modsFormula } from './studies.js';
export type { StudyColumns } from './studies.js';
export { formatRma, rmaJson } from './format.js';
