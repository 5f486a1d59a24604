#!/usr/bin/env node
/** The `gpulmm` command line: one file per subcommand in this folder. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerBench } from './bench.js';
import { registerFit } from './fit.js';
import { registerGrm } from './grm.js';
import { registerGwas } from './gwas.js';
import { registerInfo } from './info.js';
import { registerScde } from './scde.js';
import { registerScdeCalibrate } from './scde-calibrate.js';

const program = new Command();
program
  .name('gpulmm')
  .description('GPU-accelerated mixed models: GEMMA-exact GWAS, donor-aware single-cell DE, lme4-style fits.')
  .version(VERSION)
  .showHelpAfterError();

for (const register of [registerGwas, registerGrm, registerScde, registerScdeCalibrate, registerFit, registerBench, registerInfo]) register(program);

await program.parseAsync(process.argv);
