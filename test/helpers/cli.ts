/** Runs one `gpulmm` command in-process (as the CLI would), capturing stdout, stderr and the exit code it set. */
import { Command } from 'commander';
import { vi } from 'vitest';

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `gpulmm NAME ...args` with only the command registered by `register`; commander's own exits become throws
 * (exitOverride), and process.exitCode is read and reset so one failing run does not leak into the next.
 */
export async function runCommand(register: (program: Command) => void, name: string, args: string[]): Promise<CommandRun> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(['node', 'gpulmm', name, ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}
