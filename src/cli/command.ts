/**
 * Shared plumbing for CLI commands: one place that turns a thrown error into a clear message on stderr and a
 * non-zero exit code, so every command fails the same way.
 */
import type { Command } from 'commander';

/** An error whose message is meant for the user as is (bad input, missing file): printed without a stack. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Wraps a command action: errors print `gpulmm <cmd>: error: ...` and set a non-zero exit code. */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const verbose = process.env.GPULMM_DEBUG === '1';
      process.stderr.write(`gpulmm ${name}: error: ${e.message}\n`);
      if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
      process.exitCode = e instanceof UserError ? e.exitCode : 1;
    }
  };
}

/** A command module registers its subcommand on the program. */
export type RegisterCommand = (program: Command) => void;
