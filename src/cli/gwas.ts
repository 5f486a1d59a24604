// PLACEHOLDER: replaced by the real `gpulmm gwas` command.
import type { Command } from 'commander';

export function registerGwas(program: Command): void {
  program.command('gwas').description('(not built yet)');
}
