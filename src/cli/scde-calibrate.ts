/**
 * `gpulmm scde-calibrate`: type-I error of each scde method over all balanced donor splits of a dataset with no
 * true condition (see src/sc/calibrate.ts). Writes a JSON record (bench/results/ keeps the committed ones).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Command, Option } from 'commander';
import { calibrate } from '../sc/calibrate.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { loadScdeInput } from '../sc/load-input.js';
import type { PseudobulkNormalisation } from '../sc/pseudobulk.js';
import { DEFAULT_MIN_FRAC, SCDE_METHODS, type ScdeMethod } from '../sc/scde.js';
import { VERSION } from '../version.js';
import { UsageError } from '../errors.js';
import { action } from './command.js';
import { parseNumberOption, OPEN_UNIT, POSITIVE_INT, PROBABILITY } from './option-values.js';
import { asUserError } from './scde.js';

interface CalibrateCliOptions {
  counts: string;
  cells: string;
  donor: string;
  celltype?: string;
  celltypeValue?: string;
  methods: string;
  alpha: string;
  minFrac: string;
  pseudobulkNorm: PseudobulkNormalisation;
  maxSplits?: string;
  json?: string;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function registerScdeCalibrate(program: Command): void {
  program
    .command('scde-calibrate')
    .description('Type-I error of scde methods over all balanced donor splits of a dataset without a true condition.')
    .requiredOption('--counts <dir>', '10x directory')
    .requiredOption('--cells <file>', 'cell metadata with a barcode column')
    .requiredOption('--donor <col>', 'donor column')
    .option('--celltype <col>', 'cell type column')
    .option('--celltype-value <value>', 'cell type to analyse')
    .option('--methods <list>', `comma-separated methods (${SCDE_METHODS.join(', ')})`, 'lmm,pseudobulk,welch')
    .option('--alpha <p>', 'rejection threshold', '0.05')
    .option('--min-frac <share>', 'gene filter (share of cells with a non-zero count)', String(DEFAULT_MIN_FRAC))
    .addOption(new Option('--pseudobulk-norm <norm>', 'pseudobulk sample normalisation: tmm or none').choices(['tmm', 'none']).default('tmm'))
    .option('--max-splits <n>', 'run only n splits, evenly spaced (nbglmm is slow: ~0.05 s per gene and split)')
    .option('--json <file>', 'write the report as JSON')
    .action(
      action('scde-calibrate', async (opts: CalibrateCliOptions) => {
        const methods = opts.methods.split(',').map((m) => m.trim()) as ScdeMethod[];
        const bad = methods.filter((m) => !(SCDE_METHODS as readonly string[]).includes(m));
        if (bad.length > 0) throw new UsageError(`--methods: unknown ${bad.join(', ')} (expected ${SCDE_METHODS.join(', ')})`);
        const alpha = parseNumberOption(opts.alpha, '--alpha', OPEN_UNIT);
        const minFrac = parseNumberOption(opts.minFrac, '--min-frac', PROBABILITY);
        const maxSplits = opts.maxSplits === undefined ? undefined : parseNumberOption(opts.maxSplits, '--max-splits', POSITIVE_INT);
        const t0 = performance.now();
        try {
          const input = await loadScdeInput({ countsDir: opts.counts, cellsFile: opts.cells });
          const report = calibrate(input, {
            donor: opts.donor,
            celltype: opts.celltype,
            celltypeValue: opts.celltypeValue,
            methods,
            alpha,
            minFrac,
            pseudobulkNorm: opts.pseudobulkNorm,
            maxSplits,
            onSplit: (m) => process.stderr.write(`${m}\n`),
          });
          const seconds = (performance.now() - t0) / 1000;
          for (const m of methods) {
            const [lo, hi] = report.range[m]!;
            process.stdout.write(`${m.padEnd(10)} type-I error at p < ${alpha}: ${report.typeIError[m]!.toFixed(4)}  (per split ${lo.toFixed(3)}..${hi.toFixed(3)}, ${report.splits.length} splits)\n`);
          }
          if (opts.json) {
            const record = {
              what: 'scde calibration: all balanced donor splits of a dataset with no true condition',
              dataset: opts.counts,
              celltype: opts.celltypeValue ?? 'all',
              command: `gpulmm ${process.argv.slice(2).join(' ')}`,
              gpulmm: VERSION,
              commit: gitCommit(),
              node: process.version,
              host: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
              date: new Date().toISOString(),
              seconds,
              ...report,
            };
            await writeFileAtomic(opts.json, `${JSON.stringify(record, null, 2)}\n`);
          }
        } catch (err) {
          throw asUserError(err);
        }
      }),
    );
}
