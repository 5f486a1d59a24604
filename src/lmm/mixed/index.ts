/** Public API of the mixed-model engine (lme4-style formulas, REML/ML, GLMM, small-sample inference). */
export { fit, varCorrRows, isSingular } from './model.js';
export type { FitOptions, Family, DdfMethod, FixefRow, VarCorrRow, RanefRow, MixedModel } from './model.js';
export { parseFormula, FormulaError } from './formula.js';
export type { ParsedFormula, RandomTerm, Term, TermList, Response } from './formula.js';
export { DataError } from './model-frame.js';
export type { DataInput } from './model-frame.js';
