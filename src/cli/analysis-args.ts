/**
 * The options of an analysis command (`gwas`, `scde`) parsed from a list of words, through that command's
 * own definition (so every option, default and value check of the command applies, and options added to it
 * later are understood without change here). Used by `gpulmm plan` (the analysis it plans) and by the jobs of
 * a plan (the analysis they run a shard of).
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import type { RegisterCommand } from './command.js';

/** Parsed options, and which of them the words gave (the rest are defaults). */
export interface ParsedArgs<T> {
  opts: T;
  given: Set<string>;
}

/**
 * Parses `args` as the options of `gpulmm NAME` without running it. A bad option or value throws a UsageError
 * whose message starts with `context` (e.g. "the plan's gwas options").
 */
export async function parseCommandArgs<T>(register: RegisterCommand, name: string, args: readonly string[], context: string): Promise<ParsedArgs<T>> {
  const program = new Command().exitOverride();
  let message = '';
  program.configureOutput({ writeErr: (s) => (message += s), writeOut: (s) => (message += s) });
  register(program);
  const sub = program.commands.find((c) => c.name() === name);
  if (!sub) throw new RangeError(`parseCommandArgs: ${name} is not registered`);
  sub.exitOverride().configureOutput({ writeErr: (s) => (message += s), writeOut: (s) => (message += s) });
  let parsed: ParsedArgs<T> | undefined;
  sub.action((...a: unknown[]) => {
    const cmd = a[a.length - 1] as Command;
    const opts = cmd.opts() as T & Record<string, unknown>;
    parsed = { opts, given: new Set(Object.keys(opts).filter((k) => cmd.getOptionValueSource(k) === 'cli')) };
  });
  try {
    await program.parseAsync(['node', 'gpulmm', name, ...args]);
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageError(`${context}: ${(message || e.message).trim().replace(/^error: /, '')}`);
    throw e;
  }
  if (!parsed) throw new UsageError(`${context}: nothing to run`);
  return parsed;
}

/** Option name as typed on the command line: blockSize -> --block-size. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
