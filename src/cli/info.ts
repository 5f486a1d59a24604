// PLACEHOLDER: replaced by the real `gpulmm info` command.
import type { Command } from 'commander';

export function registerInfo(program: Command): void {
  program.command('info').description('(not built yet)');
}
