/**
 * Shared plumbing for CLI commands: one place that turns a thrown error into a clear message on stderr and the
 * exit code of its kind (src/errors.ts: usage 2, input 3, numeric 4, resource 5; anything else is a bug: 1).
 */
import type { Command } from 'commander';
import { EXIT_CODES, GpulmmError } from '../errors.js';

/**
 * Wraps a command action: errors print `gpulmm <cmd>: error: ...` and set the exit code of their kind. A user's
 * mistake (a GpulmmError) prints no stack trace unless GPULMM_DEBUG=1; any other error is a bug and shows it.
 */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const known = e instanceof GpulmmError;
      process.stderr.write(`gpulmm ${name}: error: ${e.message}\n`);
      if ((!known || process.env.GPULMM_DEBUG === '1') && e.stack) process.stderr.write(`${e.stack}\n`);
      process.exitCode = known ? e.exitCode : EXIT_CODES.internal;
    }
  };
}

/** A command module registers its subcommand on the program. */
export type RegisterCommand = (program: Command) => void;
