/**
 * The benchmark harness behind `gpulmm bench`: for each (op, n) it makes one set of inputs and the cpu f64
 * reference on them, then for each backend times Backend calls with benchmark.js (deferred benchmarks, since
 * every op is async) and records the median, the throughput and the error against the reference.
 *
 * What is timed: one Backend call as a caller sees it, from F64Matrix in to F64Matrix out. For the f32 GPU
 * backends that includes the f64 -> f32 conversion, the upload, the launches, the read-back and the widening.
 */
import Benchmark from 'benchmark';
import type { AdapterInfo, Backend, BackendName, OpName, Precision } from '../../kernels/backend.js';
import { BENCH_OPS, maxRelErr } from './kernels.js';
import type { ReferenceRun } from './reference.js';
import { machineInfo, median, type MachineInfo } from './measure.js';

/** One measurement. Field names are the committed record format (bench/README.md). */
export interface BenchRecord {
  op: OpName;
  /** A gpulmm backend, or `R` for the reference tool (R on the system BLAS/LAPACK, src/bench/reference.R). */
  backend: BackendName | 'R';
  n: number;
  precision: Precision;
  /** Median seconds per call over the samples (null when the run failed). */
  median_s: number | null;
  /** Nominal flops (bench/kernels.ts conventions) / median_s / 1e9. */
  gflops: number | null;
  /** Against the cpu f64 result on the same inputs (null when not checked or failed). */
  max_rel_err: number | null;
  adapter: Pick<AdapterInfo, 'vendor' | 'architecture' | 'device' | 'description' | 'isSoftware'> | null;
  node: string;
  commit: string | null;
  /** Nominal flop count used for gflops. */
  flops: number;
  /** Samples benchmark.js took (each the mean of `count` calls) and their relative margin of error (%). */
  samples: number;
  rme_percent: number | null;
  machine: MachineInfo;
  date: string;
  quick: boolean;
  /** The reference tool's median at the same (op, n) in the same run, and reference_median_s / median_s
   *  (> 1: faster than the reference); present when the run included `--reference r`. */
  reference_median_s?: number;
  vs_reference?: number;
  /** Why the run failed, when it did. */
  error?: string;
}

/** One (op, n) to run on a set of backends. */
export interface BenchCase {
  op: OpName;
  n: number;
  backends: Backend[];
}

export interface HarnessOptions {
  /** Fewer samples and less time per case (for --quick). */
  quick: boolean;
  /** Largest n whose cpu f64 reference is computed (beyond it max_rel_err is null). */
  maxCheckN: number;
  commit: string | null;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
}

/**
 * Runs every case in order and returns one record per (case, backend). A failing call is recorded with
 * `error` and null numbers, never dropped; the caller decides the exit code.
 */
export async function runBenchmarks(cases: readonly BenchCase[], opts: HarnessOptions): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const total = cases.reduce((s, c) => s + c.backends.length, 0);
  const machine = machineInfo();
  let done = 0;
  for (const c of cases) {
    const spec = BENCH_OPS[c.op];
    const inputs = spec.inputs(c.n);
    const reference = c.n <= opts.maxCheckN ? spec.reference(inputs) : null;
    for (const backend of c.backends) {
      done++;
      opts.log(`[${done}/${total}] ${c.op} n=${c.n} on ${backend.name} ...`);
      const info = await backend.info();
      const base = {
        op: c.op,
        backend: backend.name,
        n: c.n,
        precision: backend.precision,
        median_s: null,
        gflops: null,
        max_rel_err: null,
        adapter: info.adapter && {
          vendor: info.adapter.vendor,
          architecture: info.adapter.architecture,
          device: info.adapter.device,
          description: info.adapter.description,
          isSoftware: info.adapter.isSoftware,
        },
        node: process.version,
        commit: opts.commit,
        flops: spec.flops(c.n),
        machine,
        date: new Date().toISOString(),
        quick: opts.quick,
        samples: 0,
        rme_percent: null,
      };
      let record: BenchRecord;
      try {
        // one untimed call: compiles pipelines, warms caches, and gives the result that is checked
        const result = await spec.run(backend, inputs);
        const err = reference ? maxRelErr(result, reference) : null;
        if (err !== null && !Number.isFinite(err)) throw new Error('result has non-finite values');
        const timing = await time(() => spec.run(backend, inputs), opts.quick);
        record = { ...base, median_s: timing.median, gflops: base.flops / timing.median / 1e9, max_rel_err: err, samples: timing.samples, rme_percent: timing.rme };
        opts.log(`    median ${fmt(timing.median)} s, ${fmt(record.gflops!)} GFLOP/s, max_rel_err ${err === null ? 'unchecked' : err.toExponential(2)}`);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        record = { ...base, error: message };
        opts.log(`    failed: ${message}`);
      }
      records.push(record);
    }
  }
  return records;
}

interface Timing {
  median: number;
  samples: number;
  rme: number | null;
}

/** Times an async call with a deferred benchmark.js benchmark; the median of its per-call sample means. */
function time(call: () => Promise<unknown>, quick: boolean): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark({
      defer: true,
      initCount: 1,
      minSamples: quick ? 2 : 5,
      maxTime: quick ? 0.5 : 3,
      fn: (deferred: { resolve(): void }) => {
        call().then(
          () => deferred.resolve(),
          (e: unknown) => {
            failure = e;
            deferred.resolve();
          },
        );
      },
    });
    let failure: unknown = null;
    bench.on('complete', () => {
      if (failure) return reject(failure);
      const sample = bench.stats.sample as number[];
      if (sample.length === 0) return reject(new Error(`benchmark.js took no samples${bench.error ? `: ${String(bench.error)}` : ''}`));
      resolve({ median: median(sample), samples: sample.length, rme: Number.isFinite(bench.stats.rme) ? bench.stats.rme : null });
    });
    bench.run({ async: true });
  });
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/**
 * Adds the reference tool's timings: one `R` record per (op, n) (max_rel_err null: R draws its own inputs),
 * and on every gpulmm record at the same (op, n) its reference median and the ratio to it.
 */
export function withReference(records: BenchRecord[], ref: ReferenceRun, opts: Pick<HarnessOptions, 'quick' | 'commit'>): BenchRecord[] {
  const machine = machineInfo();
  const out = records.map((r) => {
    const t = ref.timings.find((x) => x.op === r.op && x.n === r.n);
    return t && r.median_s !== null ? { ...r, reference_median_s: t.median_s, vs_reference: t.median_s / r.median_s } : r;
  });
  for (const t of ref.timings) {
    const flops = BENCH_OPS[t.op].flops(t.n);
    out.push({
      op: t.op,
      backend: 'R',
      n: t.n,
      precision: 'f64',
      median_s: t.median_s,
      gflops: flops / t.median_s / 1e9,
      max_rel_err: null,
      adapter: { vendor: 'R', architecture: machine.arch, device: machine.cpu, description: ref.description, isSoftware: false },
      node: process.version,
      commit: opts.commit,
      flops,
      machine,
      date: new Date().toISOString(),
      quick: opts.quick,
      samples: t.samples,
      rme_percent: null,
    });
  }
  // keep each (op, n) together, the reference row last in its group
  const group = (r: BenchRecord): number => out.findIndex((x) => x.op === r.op && x.n === r.n);
  return out.map((r, i) => ({ r, i })).sort((x, y) => group(x.r) - group(y.r) || x.i - y.i).map((x) => x.r);
}
