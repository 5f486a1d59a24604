#!/usr/bin/env node
/** The `gpulmm` command line: one file per subcommand in this folder. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { runProgram } from './command.js';

type Register = (program: Command) => void;

/**
 * Each subcommand's module, loaded on demand: a run imports only the command it names (the modules pull in
 * apache-arrow, benchmark.js, Dawn, ...: about 0.2 s when all are loaded), help and unknown names load all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  gwas: async () => (await import('./gwas.js')).registerGwas,
  grm: async () => (await import('./grm.js')).registerGrm,
  scde: async () => (await import('./scde.js')).registerScde,
  'scde-calibrate': async () => (await import('./scde-calibrate.js')).registerScdeCalibrate,
  fit: async () => (await import('./fit.js')).registerFit,
  nlme: async () => (await import('./nlme.js')).registerNlme,
  bench: async () => (await import('./bench.js')).registerBench,
  info: async () => (await import('./info.js')).registerInfo,
  plan: async () => (await import('./plan.js')).registerPlan,
  null: async () => (await import('./null.js')).registerNull,
  merge: async () => (await import('./merge.js')).registerMerge,
  meta: async () => (await import('./meta.js')).registerMeta,
};

const program = new Command();
program
  .name('gpulmm')
  .description('GPU-accelerated mixed models: GEMMA-exact GWAS, donor-aware single-cell DE, lme4-style fits.')
  .version(VERSION)
  .option('--debug', 'print the stack trace of every error, users\' mistakes included (also GPULMM_DEBUG=1)')
  .showHelpAfterError();

const named = process.argv[2];
const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : Object.values(COMMANDS);
for (const register of await Promise.all(load.map((l) => l()))) register(program);

await runProgram(program, process.argv);
