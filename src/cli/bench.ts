/**
 * `gpulmm bench`: times the kernel ops on each backend (benchmark.js), checks each result against the cpu
 * f64 oracle on the same inputs, prints a table on stdout and optionally writes the records as a JSON array
 * (atomically). Progress goes to stderr. The harness and the op catalogue live in src/bench/.
 */
import type { Command } from 'commander';
import { OP_NAMES, type Backend, type BackendName, type OpName } from '../../kernels/backend.js';
import { createBackend } from '../../kernels/select.js';
import { runBenchmarks, withReference, type BenchCase, type BenchRecord } from '../bench/harness.js';
import { gitCommit } from '../bench/measure.js';
import { runReferenceR } from '../bench/reference.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { UsageError } from '../errors.js';
import { action } from './command.js';
import { parseNumberOption, POSITIVE_INT } from './option-values.js';

const BACKENDS: readonly BackendName[] = ['cpu', 'webgpu', 'gpujs'];
const DEFAULT_OPS: readonly OpName[] = ['gemm', 'syrk', 'potrf', 'eigh'];
const DEFAULT_SIZES: readonly number[] = [256, 1024];

/**
 * Sizes `--quick` picks when no --sizes is given, by kind of backend, chosen so that the whole quick run
 * stays under two minutes on a 2-core machine with lavapipe: the cpu runs gemm at n = 1024 (the issue's
 * target size); software GPU adapters (lavapipe) get small n; real GPUs get sizes where they are not
 * dominated by transfer and launch overheads.
 */
export const QUICK_SIZES: Readonly<Record<'cpu' | 'softwareGpu' | 'gpu', Partial<Record<OpName, number>>>> = {
  cpu: { gemm: 1024, syrk: 1024, potrf: 1024, eigh: 512, trsm: 1024, potrs: 1024, batchedWeightedDot: 2048 },
  softwareGpu: { gemm: 256, syrk: 256, potrf: 128, eigh: 128, trsm: 128, potrs: 128, batchedWeightedDot: 1024 },
  gpu: { gemm: 2048, syrk: 2048, potrf: 1024, eigh: 512, trsm: 1024, potrs: 1024, batchedWeightedDot: 4096 },
};

export interface BenchOptions {
  quick: boolean;
  ops: OpName[];
  /** null: the default sizes (or, with quick, QUICK_SIZES). */
  sizes: number[] | null;
  /** Backends to run; `all` expands to every backend that is available here. */
  backends: BackendName[];
  /** True when the user named the backends: then an unavailable one is an error, not a skip. */
  explicitBackends: boolean;
  json: string | null;
  maxCheckN: number;
  /** Also time the same (op, n) cases in R (system BLAS/LAPACK) and record the ratios. */
  referenceR: boolean;
}

/** Raw commander values, as strings. */
export interface RawBenchOptions {
  quick?: boolean;
  ops?: string;
  sizes?: string;
  backend?: string;
  json?: string;
  maxCheckN?: string;
  reference?: string;
}

function splitList(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** A positive integer (at most 2^53 - 1) of a list option. */
const positiveInt = (flag: string, s: string): number => parseNumberOption(s, flag, { ...POSITIVE_INT, max: Number.MAX_SAFE_INTEGER });

/** Validates the command-line options; throws UsageError naming the bad value and what was expected. */
export function parseBenchOptions(raw: RawBenchOptions): BenchOptions {
  const ops = raw.ops === undefined ? [...DEFAULT_OPS] : splitList(raw.ops);
  if (ops.length === 0) throw new UsageError('--ops: empty list');
  for (const op of ops) {
    if (!(OP_NAMES as readonly string[]).includes(op)) throw new UsageError(`--ops: unknown op '${op}'; expected one of ${OP_NAMES.join(', ')}`);
  }
  const sizes = raw.sizes === undefined ? null : splitList(raw.sizes).map((s) => positiveInt('--sizes', s));
  if (sizes && sizes.length === 0) throw new UsageError('--sizes: empty list');
  const backendList = splitList(raw.backend ?? 'all');
  const explicitBackends = !backendList.includes('all');
  if (!explicitBackends && backendList.length > 1) throw new UsageError(`--backend: 'all' cannot be combined with other names`);
  for (const b of backendList) {
    if (b !== 'all' && !(BACKENDS as readonly string[]).includes(b)) throw new UsageError(`--backend: unknown backend '${b}'; expected ${BACKENDS.join(', ')} or all`);
  }
  if (backendList.length === 0) throw new UsageError('--backend: empty list');
  return {
    quick: raw.quick ?? false,
    ops: [...new Set(ops)] as OpName[],
    sizes: sizes && [...new Set(sizes)],
    backends: explicitBackends ? ([...new Set(backendList)] as BackendName[]) : [...BACKENDS],
    explicitBackends,
    json: raw.json ?? null,
    maxCheckN: raw.maxCheckN === undefined ? 4096 : positiveInt('--max-check-n', raw.maxCheckN),
    referenceR: parseReference(raw.reference ?? 'none'),
  };
}

function parseReference(raw: string): boolean {
  if (raw !== 'r' && raw !== 'none') throw new UsageError(`--reference: unknown reference '${raw}'; expected r or none`);
  return raw === 'r';
}

/** Opens the requested backends; with `all`, one that cannot start is skipped with a note on stderr. */
async function openBackends(opts: BenchOptions, log: (s: string) => void): Promise<Backend[]> {
  const out: Backend[] = [];
  for (const name of opts.backends) {
    try {
      out.push(await createBackend(name));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (opts.explicitBackends) {
        await Promise.all(out.map((b) => b.dispose()));
        throw new UsageError(`backend ${name} is not available: ${why}`);
      }
      log(`skipping backend ${name}: ${why}`);
    }
  }
  return out;
}

/** The (op, n) cases to run, each with the backends that support the op (and, with quick, plan that n). */
async function planCases(opts: BenchOptions, backends: Backend[], log: (s: string) => void): Promise<BenchCase[]> {
  const cases = new Map<string, BenchCase>();
  for (const be of backends) {
    const info = await be.info();
    const kind = be.name === 'cpu' ? 'cpu' : info.adapter?.isSoftware ? 'softwareGpu' : 'gpu';
    for (const op of opts.ops) {
      if (!be.supports(op)) {
        log(`${be.name} does not support ${op}: skipped`);
        continue;
      }
      const sizes = opts.sizes ?? (opts.quick ? [QUICK_SIZES[kind][op]!] : DEFAULT_SIZES);
      for (const n of sizes) {
        const key = `${op}:${n}`;
        const c = cases.get(key) ?? { op, n, backends: [] };
        c.backends.push(be);
        cases.set(key, c);
      }
    }
  }
  return [...cases.values()].sort((x, y) => opts.ops.indexOf(x.op) - opts.ops.indexOf(y.op) || x.n - y.n);
}

/** Runs the benchmarks described by `opts`; writes the JSON file when asked; returns the records. */
export async function runBench(opts: BenchOptions, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BenchRecord[]> {
  const backends = await openBackends(opts, log);
  try {
    const cases = await planCases(opts, backends, log);
    if (cases.length === 0) throw new UsageError('nothing to run: no requested backend supports the requested ops');
    const commit = gitCommit();
    let records = await runBenchmarks(cases, { quick: opts.quick, maxCheckN: opts.maxCheckN, commit, log });
    if (opts.referenceR) {
      log(`reference: timing ${cases.length} cases in R ...`);
      const ref = await runReferenceR(cases, opts.quick ? 3 : 5);
      records = withReference(records, ref, { quick: opts.quick, commit });
    }
    if (opts.json) await writeFileAtomic(opts.json, `${JSON.stringify(records, null, 2)}\n`);
    return records;
  } finally {
    await Promise.all(backends.map((b) => b.dispose()));
  }
}

/** The human-readable table of records. */
export function formatBenchTable(records: readonly BenchRecord[]): string {
  const head = ['op', 'backend', 'n', 'prec', 'median_s', 'GFLOP/s', 'max_rel_err', 'vs_ref', 'samples', 'adapter / note'];
  const rows = records.map((r) => [
    r.op,
    r.backend,
    String(r.n),
    r.precision,
    r.median_s === null ? '-' : r.median_s.toPrecision(4),
    r.gflops === null ? '-' : r.gflops.toPrecision(4),
    r.max_rel_err === null ? '-' : r.max_rel_err.toExponential(2),
    r.vs_reference === undefined ? '-' : `${r.vs_reference.toPrecision(3)}x`,
    String(r.samples),
    r.error ? `FAILED: ${r.error}` : (r.adapter?.device ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Time the kernel ops on each backend and check them against the cpu f64 oracle')
    .option('--quick', 'a short run (< 2 min on 2 cores + lavapipe): gemm, syrk, potrf, eigh at sizes chosen per backend kind')
    .option('--ops <list>', `comma-separated ops (${OP_NAMES.join(', ')}); default ${DEFAULT_OPS.join(',')}`)
    .option('--sizes <list>', `comma-separated n; default ${DEFAULT_SIZES.join(',')} (with --quick: per backend kind)`)
    .option('--backend <list>', `comma-separated backends (${BACKENDS.join(', ')}) or all`, 'all')
    .option('--json <file>', 'write the records as a JSON array to this file (atomically)')
    .option('--max-check-n <n>', 'largest n whose result is checked against the cpu f64 oracle', '4096')
    .option('--reference <tool>', 'also time the same cases in a reference tool, side by side: r (R on the system BLAS/LAPACK) or none', 'none')
    .action(
      action('bench', async (raw: RawBenchOptions) => {
        const opts = parseBenchOptions(raw);
        const records = await runBench(opts);
        process.stdout.write(formatBenchTable(records));
        if (records.some((r) => r.error)) throw new Error('some benchmarks failed (see the table)');
      }),
    );
}
