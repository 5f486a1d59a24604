/** Runs one `gpulmm` command in-process (as the CLI would), capturing stdout, stderr and the exit code it set. */
import { Command } from 'commander';
import { vi } from 'vitest';
import { runProgram } from '../../src/cli/command.js';

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `gpulmm NAME ...args` with only the command registered by `register`, through the CLI's own runProgram (errors
 * reported and mapped to exit codes as in the real CLI; commander's exits become exit codes); process.exitCode is
 * read and reset so one failing run does not leak into the next.
 */
export async function runCommand(register: (program: Command) => void, name: string, args: string[]): Promise<CommandRun> {
  let stdout = '';
  let stderr = '';
  const text = (s: string | Uint8Array): string => (typeof s === 'string' ? s : Buffer.from(s).toString('utf8'));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += text(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += text(s)), true));
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride().configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
    register(program);
    await runProgram(program, ['node', 'gpulmm', name, ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}
