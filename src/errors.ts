/**
 * The error vocabulary of gpulmm: four kinds of failure, each naming what the caller gave in the caller's words.
 *
 * - {@link InputError}: a file (or in-memory table) is not what was expected; names the file and, where known,
 *   the 1-based line and column or the byte offset.
 * - {@link UsageError}: an option or argument value is invalid or conflicts with another; names the option as
 *   the caller spelled it (a library function names its parameter, the CLI names its flag).
 * - {@link NumericError}: the data are valid but the computation cannot give a meaningful answer (constant
 *   response, singular design, non-finite values, an optimiser that does not converge).
 * - {@link ResourceError}: not enough memory, disk or time for the requested work; says how much is needed,
 *   how much is available, and what lowers the need.
 *
 * The CLI maps each kind to its own exit code ({@link EXIT_CODES}) and prints the message without a stack
 * trace; any other error is a bug (exit code 1, stack trace shown).
 */

/** The four kinds of user-facing failure. */
export type ErrorKind = 'usage' | 'input' | 'numeric' | 'resource';

/** Process exit codes: 0 success, 1 internal error (a bug), then one per error kind; signals exit 128 + signo. */
export const EXIT_CODES: Readonly<Record<ErrorKind | 'internal', number>> = {
  internal: 1,
  usage: 2,
  input: 3,
  numeric: 4,
  resource: 5,
};

/** Base class of every user-facing error: `.message` is meant for the user as is. */
export abstract class GpulmmError extends Error {
  abstract readonly kind: ErrorKind;
  /** The CLI's exit code for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** Where in an input the problem is: 1-based line and column (text), or a 0-based byte offset (binary). */
export interface InputLocation {
  line?: number;
  column?: number;
  byteOffset?: number;
}

/**
 * Bad input data. `.message` reads like a compiler diagnostic: `pheno.csv:12:3: expected a number, got "abc"`,
 * or `cohort.bgen: byte 1234: unknown compression 7` for binary files.
 */
export class InputError extends GpulmmError {
  override name = 'InputError';
  readonly kind = 'input' as const;
  /** The problem alone, without the location prefix. */
  readonly detail: string;
  readonly byteOffset: number | undefined;

  /**
   * @param file path as the user gave it (or a name for an in-memory table)
   * @param line 1-based line number, or undefined when the problem concerns the whole file (or a byte offset)
   * @param column 1-based column (field) number, or undefined
   * @param message what was expected and what was found
   * @param byteOffset 0-based byte offset in a binary file, when known
   */
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    message: string,
    byteOffset?: number,
  ) {
    const where = line !== undefined ? `:${line}${column !== undefined ? `:${column}` : ''}` : '';
    const at = byteOffset !== undefined ? ` byte ${byteOffset}:` : '';
    super(`${file}${where}:${at} ${message}`);
    this.detail = message;
    this.byteOffset = byteOffset;
  }

  /** An error at a byte offset of a binary file: `file: byte N: message`. */
  static atByte(file: string, byteOffset: number, message: string): InputError {
    return new InputError(file, undefined, undefined, message, byteOffset);
  }
}

/** An invalid option or argument value, or options that conflict. The message names the option as given. */
export class UsageError extends GpulmmError {
  override name = 'UsageError';
  readonly kind = 'usage' as const;
}

/** The computation cannot give a meaningful answer on these (valid) data. */
export class NumericError extends GpulmmError {
  override name = 'NumericError';
  readonly kind = 'numeric' as const;
}

/** Not enough memory, disk or time: the message says what is needed, what is available and which option lowers it. */
export class ResourceError extends GpulmmError {
  override name = 'ResourceError';
  readonly kind = 'resource' as const;
}
