/**
 * The model libraries' errors in the CLI's vocabulary: a formula or a model that does not fit the data is a
 * UsageError (the user's --formula/--model), a bad value in the data file an InputError (the file names it).
 */
import { InputError, UsageError } from '../errors.js';
import { DataError, DataValueError, FormulaError } from '../lmm/mixed/index.js';

/** The CLI error for a model library's `e` about data file `file`, or undefined when `e` is not one of them. */
export function modelDataError(file: string, e: unknown): InputError | UsageError | undefined {
  if (e instanceof DataValueError) return new InputError(file, undefined, undefined, e.message);
  if (e instanceof FormulaError || e instanceof DataError) return new UsageError(`${file}: ${e.message}`);
  return undefined;
}
