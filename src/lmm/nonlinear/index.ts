/** Public API of the nonlinear mixed-model engine (nlme's Lindstrom-Bates fits of user or SSfol-type models). */
export { nlmeFit } from './nlme.js';
export type { NlmeOptions, NlmeModel, NlmeFixefRow, CovarianceKind } from './nlme.js';
export { parseExpression, expressionVariables, CompiledExpression, ExpressionError } from './expression.js';
export type { ExprNode, Evaluation } from './expression.js';
export { formatNlmeSummary, nlmeJson } from './summary.js';
