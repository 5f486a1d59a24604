/**
 * A fixed-effects-only model: R's model.frame + model.matrix of a formula without random terms (`y ~ x + f`),
 * for the models that share the mixed engine's formula language but have no random effects (GEE, meta-regression).
 */
import type { F64Matrix } from '../../../kernels/matrix.js';
import { dropRankDeficient, modelMatrix } from './design.js';
import { parseFormula, type ParsedFormula } from './formula.js';
import { buildModelFrame, DataError, type ContrastDefaults, type DataInput, type ExtraColumns, type ModelFrame } from './model-frame.js';

/** The frame, the n x p design X (linearly dependent columns dropped, with a message) and its column names. */
export interface FixedDesign {
  parsed: ParsedFormula;
  frame: ModelFrame;
  x: F64Matrix;
  names: string[];
  /** R's assign: the term index of each column (-1 the intercept) */
  assign: number[];
  dropped: string[];
  messages: string[];
}

/**
 * Builds the design of a formula with no random-effects terms. `extra` names further columns the model needs
 * (a cluster id, a variance column): rows missing one of them are dropped like the formula's. Throws
 * FormulaError / DataError on bad input. Cost O(n p^2) (the rank check).
 */
export function fixedDesign(data: DataInput, formula: string, options: { contrasts?: ContrastDefaults; factorResponse?: boolean; extra?: ExtraColumns } = {}): FixedDesign {
  const parsed = parseFormula(formula);
  if (parsed.random.length > 0) throw new DataError(`formula "${parsed.text}" has random-effects terms; this model takes fixed effects only`);
  const frame = buildModelFrame(data, parsed, options.contrasts ?? {}, options.factorResponse ?? false, options.extra ?? {});
  const messages = frame.messages.slice();
  const { design, dropped } = dropRankDeficient(modelMatrix(parsed.fixed, frame));
  if (design.names.length === 0) throw new DataError(`formula "${parsed.text}" has no fixed-effect columns`);
  if (dropped.length) messages.push(`model matrix is rank deficient so dropping ${dropped.length} column${dropped.length === 1 ? '' : 's'} (${dropped.join(', ')})`);
  return { parsed, frame, x: design.x, names: design.names, assign: design.assign, dropped, messages };
}
