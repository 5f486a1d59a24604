/** Public API of the mixed-model engine (lme4-style formulas, REML/ML, GLMM, small-sample inference). */
export { fit, varCorrRows, isSingular } from './model.js';
export type { LaplaceMode } from './glmm.js';
export type { FitOptions, Family, DdfMethod, FixefRow, VarCorrRow, RanefRow, MixedModel } from './model.js';
export { anova } from './anova.js';
export type { AnovaRow } from './anova.js';
export { anovaType3, contrastTest } from './type3.js';
export type { Type3Row, ContrastTest } from './type3.js';
export { r2Nakagawa } from './r2.js';
export type { VarianceExplained } from './r2.js';
export { splitWithinBetween } from './within-between.js';
export type { WithinBetween } from './within-between.js';
export { formatSummary, formatType3, formatComparison, summaryJson } from './summary.js';
export { parseFormula, FormulaError } from './formula.js';
export type { ParsedFormula, RandomTerm, Term, TermList, Response, ContrastKind, CodingStep } from './formula.js';
export { DataError } from './model-frame.js';
export type { DataInput, ContrastDefaults } from './model-frame.js';
export { contrastMatrix } from './contrasts.js';
export type { ContrastMatrix } from './contrasts.js';
