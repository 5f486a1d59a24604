// PLACEHOLDER: replaced by the real `gpulmm scde` command.
import type { Command } from 'commander';

export function registerScde(program: Command): void {
  program.command('scde').description('(not built yet)');
}
