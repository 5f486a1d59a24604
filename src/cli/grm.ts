// PLACEHOLDER: replaced by the real `gpulmm grm` command.
import type { Command } from 'commander';

export function registerGrm(program: Command): void {
  program.command('grm').description('(not built yet)');
}
