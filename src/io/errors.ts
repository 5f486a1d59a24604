/**
 * The error every reader throws for bad input: it names the file and, where known, the 1-based line and column,
 * so that `.message` reads like a compiler diagnostic: `pheno.csv:12:3: expected a number, got "abc"`.
 */
export class InputError extends Error {
  override name = 'InputError';
  /** The problem alone, without the location prefix. */
  readonly detail: string;

  /**
   * @param file path as the user gave it
   * @param line 1-based line number, or undefined when the problem concerns the whole file
   * @param column 1-based column (field) number, or undefined
   * @param message what was expected and what was found
   */
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    message: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}${line !== undefined && column !== undefined ? `:${column}` : ''}: ${message}`);
    this.detail = message;
  }
}
