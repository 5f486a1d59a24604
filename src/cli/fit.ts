// PLACEHOLDER: replaced by the real `gpulmm fit` command.
import type { Command } from 'commander';

export function registerFit(program: Command): void {
  program.command('fit').description('(not built yet)');
}
