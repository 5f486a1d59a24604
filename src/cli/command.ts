/**
 * Shared plumbing for CLI commands: one place that turns a thrown error into a clear message on stderr and the
 * exit code of its kind (src/errors.ts: usage 2, input 3, numeric 4, resource 5; anything else is a bug: 1), and
 * one run of files per command (src/io/run-files.ts: no output may be an input or another output; outputs are
 * published together when the command succeeds; temporaries are removed on any error and on SIGINT/SIGTERM).
 */
import { CommanderError, type Command } from 'commander';
import { EXIT_CODES, GpulmmError } from '../errors.js';
import { withRunFiles } from '../io/run-files.js';

/** Whether stack traces are shown for users' mistakes too (`--debug` or GPULMM_DEBUG=1). */
function debugging(): boolean {
  return process.env.GPULMM_DEBUG === '1';
}

/**
 * Prints `gpulmm <cmd>: error: ...` and sets the exit code of the error's kind. A user's mistake (a GpulmmError)
 * prints no stack trace unless debugging; any other error is a bug and shows it.
 */
export function reportError(name: string, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const known = e instanceof GpulmmError;
  process.stderr.write(`gpulmm ${name}: error: ${e.message}\n`);
  if ((!known || debugging()) && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = known ? e.exitCode : EXIT_CODES.internal;
}

/** Wraps a command action: its files form one run (see the module comment), its errors go to reportError. */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await withRunFiles(() => fn(...args));
    } catch (err) {
      reportError(name, err);
    }
  };
}

/**
 * Parses `argv` (node, script, command, ...) with `program` and runs the command. Errors raised while the options
 * are parsed (an option's value parser throws a UsageError) are reported like the action's; commander's own
 * usage errors (unknown option, missing argument: already printed by commander) exit with the usage code, its
 * help and version exits with 0. Sets process.exitCode; never throws for these.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  if (argv.includes('--debug')) process.env.GPULMM_DEBUG = '1';
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv.filter((a) => a !== '--debug'));
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_CODES.usage;
      return;
    }
    const named = argv[2] !== undefined && !argv[2].startsWith('-') ? argv[2] : 'gpulmm';
    reportError(named, err);
  }
}

/** A command module registers its subcommand on the program. */
export type RegisterCommand = (program: Command) => void;
