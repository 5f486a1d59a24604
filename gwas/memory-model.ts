/**
 * The memory model of a GWAS scan, planned before the heavy work starts: per stage, what is alive at its peak,
 *   kinship pass     runtime + genotype blocks + int8 Gram accumulator + missing-genotype term + K (+ store)
 *   decompositions   runtime + K_c (+ K and the Grams with loco, or the given K) + eigh workspace + earlier U (+ store)
 *   stream           runtime + U per decomposition (L per phenotype with fixed VC) + blocks in flight (+ store)
 * where the store (GenotypeStore: two bits per analysed genotype kept from the kinship pass, so that the
 * stream does not read the file again) is optional and the block size can shrink. Given a limit, the plan
 * keeps the store only when every stage still fits with it, and halves the stream's block size until the
 * stream fits (and, down to FREE_BLOCK, while the stream would be the largest stage); when even the smallest plan does not fit it throws a ResourceError saying what is needed,
 * what is available and which parameter lowers it. The sizes are upper bounds of the large allocations
 * (8-byte f64 matrices unless said), calibrated against per-stage peak RSS in bench/gwas-scale.sh.
 */
import { cpuEighWorkspaceBytes } from '../kernels/cpu/eigh.js';
import { ResourceError } from '../src/errors.js';
import { formatBytes } from '../src/memory.js';
import { storeBytes as genotypeStoreBytes } from './genotype-store.js';
import { KINSHIP_BLOCK_SNPS } from './kinship.js';

/** What a scan's memory depends on. */
export interface ScanShape {
  /** Individuals in the genotype file. */
  N: number;
  /** Analysed individuals. */
  n: number;
  /** SNPs in the genotype file. */
  m: number;
  phenotypes: number;
  /** Threads of the process (the helpers each hold a runtime and a product workspace). */
  threads: number;
  /** Where K comes from: computed from hard calls (centred: the exact integer Gram) or in f64 (standardized), or given (N x N). */
  kinship: 'centered' | 'standardized' | 'given';
  /** Phenotype missingness patterns analysed separately (each its own decompositions; default 1). */
  patterns?: number;
  /** Chromosomes left out one at a time (loco), 0 without loco. */
  locoChromosomes: number;
  vc: 'exact' | 'fixed';
}

export interface MemoryPart {
  what: string;
  bytes: number;
}

export interface StageMemory {
  stage: 'kinship' | 'decompositions' | 'stream';
  parts: MemoryPart[];
  /** Sum of the parts. */
  bytes: number;
}

export interface ScanMemoryPlan {
  limitBytes: number;
  /** SNPs per streamed block (the requested size, or smaller to fit). */
  blockSize: number;
  /**
   * Byte budget of the genotype store (0: the stream reads the genotype file again): at least n m, the hard
   * calls' need that the stages count, and up to the cap where the limit leaves room beside the largest stage.
   */
  storeBytes: number;
  /** Bytes the store needs to hold every SNP as hard calls (n m / 4; 8 n m for fractional dosages). */
  storeNeededBytes: number;
  stages: StageMemory[];
  /** The largest stage. */
  peakBytes: number;
}

export interface PlanOptions {
  limitBytes: number;
  /** Requested SNPs per block (the most the plan uses). */
  blockSize: number;
  /** Most bytes the store may hold (a cap below the limit; 0 disables it). */
  storeCapBytes: number;
  /** How the caller names the limit in messages (the CLI: '--max-memory'). */
  limitName?: string;
}

/** Default limit: this fraction of the machine's memory (physical, or the cgroup limit). */
export const DEFAULT_MEMORY_FRACTION = 0.8;

/** Node, the modules and the calling thread's heap, measured at about 110 MB RSS before any data. */
const RUNTIME_BYTES = 120e6;
/** Each helper thread: a V8 isolate and the product kernel's workspace. */
const HELPER_BYTES = 40e6;
/** The smallest block the plan shrinks to. */
const MIN_BLOCK = 128;
/**
 * Blocks at least this large keep the rotation a large product (n x n times n x 1024: the product kernel's
 * column panel), so the plan may shrink them to this size at no cost in speed: it does so while the stream
 * would be the scan's largest stage.
 */
const FREE_BLOCK = 1024;

const f64 = (rows: number, cols: number): number => 8 * rows * cols;

/** The parts of each stage with a given block size and store budget. */
function stages(s: ScanShape, blockSize: number, storeBytes: number): StageMemory[] {
  const { N, n } = s;
  const runtime: MemoryPart = { what: `runtime (${s.threads} thread${s.threads > 1 ? 's' : ''})`, bytes: RUNTIME_BYTES + HELPER_BYTES * Math.max(0, s.threads - 1) };
  const store: MemoryPart[] = storeBytes > 0 ? [{ what: 'genotype store (2 bits per analysed genotype)', bytes: storeBytes }] : [];
  const nPad = n + 8;
  const chr = s.locoChromosomes;
  const stage = (name: StageMemory['stage'], parts: MemoryPart[]): StageMemory => ({ stage: name, parts, bytes: parts.reduce((a, p) => a + p.bytes, 0) });

  // Kinship pass.
  const kin: MemoryPart[] = [runtime];
  if (s.kinship === 'given') kin.push({ what: `K given (${N} x ${N})`, bytes: f64(N, N) });
  else {
    const kb = Math.min(KINSHIP_BLOCK_SNPS, s.m);
    kin.push({ what: `genotype blocks (${N} x ${kb}, 2 in flight)`, bytes: 2 * f64(N, kb) + 2 * nPad * kb });
    if (s.kinship === 'centered') {
      kin.push({ what: 'int8 Gram accumulator (int32)', bytes: (s.threads > 1 ? 8 : 4) * nPad * nPad });
      kin.push({ what: 'missing-genotype term (n x n)', bytes: f64(n, n) });
    } else kin.push({ what: 'f64 Gram (n x n, with a shared copy)', bytes: 2 * f64(n, n) });
    kin.push({ what: chr > 0 ? `K and ${chr} chromosome Grams` : 'K (n x n)', bytes: (chr + 1) * f64(n, n) });
    kin.push(...store);
  }

  // Decompositions: the largest is the last (every earlier U is held).
  const dec: MemoryPart[] = [runtime];
  if (s.kinship === 'given') dec.push({ what: `K given (${N} x ${N})`, bytes: f64(N, N) });
  else if (chr > 0) dec.push({ what: `K and ${chr} chromosome Grams`, bytes: (chr + 1) * f64(n, n) });
  // K_c: the exact mode hands it to eigh, which frees it once copied (before its own peak); fixed VC keeps it.
  if (s.vc === 'fixed') dec.push({ what: 'K_c (n x n)', bytes: f64(n, n) });
  dec.push({ what: 'eigh workspace and U', bytes: cpuEighWorkspaceBytes(n) });
  const patterns = s.patterns ?? 1;
  if (patterns > 1 && chr === 0 && s.kinship !== 'given') dec.push({ what: 'K (n x n, shared by the patterns)', bytes: f64(n, n) });
  const decompositions = Math.max(1, chr) * patterns;
  if (s.vc === 'exact' && decompositions > 1) dec.push({ what: `U of the other ${decompositions - 1} decompositions`, bytes: (decompositions - 1) * f64(n, n) });
  if (s.vc === 'fixed') dec.push({ what: `V, L and the Cholesky workspace (${s.phenotypes} phenotype(s) x ${decompositions})`, bytes: (2 + s.phenotypes * decompositions) * f64(n, n) });
  dec.push(...store);

  // Stream.
  const str: MemoryPart[] = [runtime];
  if (s.kinship === 'given') str.push({ what: `K given (${N} x ${N})`, bytes: f64(N, N) });
  str.push(s.vc === 'exact'
    ? { what: `U (${decompositions} decomposition${decompositions > 1 ? 's' : ''})`, bytes: decompositions * f64(n, n) }
    : { what: `L (${s.phenotypes} phenotype(s) x ${decompositions})`, bytes: s.phenotypes * decompositions * f64(n, n) });
  // Per block: the decoded block (N x B, when read from the file), X and U'X for two blocks in flight and one being made.
  const b = Math.min(blockSize, s.m);
  str.push({ what: `blocks of ${b} SNPs (2 in flight + 1 being read)`, bytes: (storeBytes > 0 ? 0 : f64(N, b)) + 5 * f64(n, b) });
  str.push(...store);
  return [stage('kinship', kin), stage('decompositions', dec), stage('stream', str)];
}

/**
 * Plans a scan within `limitBytes`: keeps the store when it fits (and is allowed), shrinks the block size until
 * the stream fits. Throws ResourceError (needed vs available, and the parameter that raises the limit) when
 * the smallest plan does not fit.
 */
export function planScanMemory(shape: ScanShape, opts: PlanOptions): ScanMemoryPlan {
  const limit = opts.limitBytes;
  const storeNeeded = shape.kinship === 'given' ? 0 : genotypeStoreBytes(shape.n, shape.m);
  const peak = (st: StageMemory[]): number => Math.max(...st.map((x) => x.bytes));
  const fit = (storeBytes: number): { blockSize: number; st: StageMemory[] } => {
    let blockSize = opts.blockSize;
    let st = stages(shape, blockSize, storeBytes);
    while (peak(st) > limit && blockSize > MIN_BLOCK) {
      blockSize = Math.max(MIN_BLOCK, Math.floor(blockSize / 2));
      st = stages(shape, blockSize, storeBytes);
    }
    // Smaller blocks, as long as they cost no speed, while the stream raises the peak above the other stages.
    const others = (x: StageMemory[]): number => Math.max(...x.filter((y) => y.stage !== 'stream').map((y) => y.bytes));
    while (blockSize > FREE_BLOCK && st.find((y) => y.stage === 'stream')!.bytes > others(st)) {
      blockSize = Math.max(FREE_BLOCK, Math.floor(blockSize / 2));
      st = stages(shape, blockSize, storeBytes);
    }
    return { blockSize, st };
  };
  const storeBytes = storeNeeded > 0 && storeNeeded <= opts.storeCapBytes ? storeNeeded : 0;
  let plan = fit(storeBytes);
  let store = storeBytes;
  // The store is a convenience (one read of the genotypes instead of two): drop it before shrinking blocks.
  if (store > 0) {
    const without = fit(0);
    if ((peak(plan.st) > limit || without.blockSize > plan.blockSize) && (peak(without.st) <= limit || peak(without.st) < peak(plan.st))) {
      plan = without;
      store = 0;
    }
  }
  // The store's budget: what it needs for hard calls (2 bits each), or more up to the cap where the limit leaves
  // room (fractional dosages take 8 bytes each; past its budget the store empties itself and the stream reads again).
  const budget = store > 0 ? Math.max(store, Math.min(opts.storeCapBytes, limit - peak(stages(shape, plan.blockSize, 0)))) : 0;
  const result: ScanMemoryPlan = { limitBytes: limit, blockSize: plan.blockSize, storeBytes: budget, storeNeededBytes: storeNeeded, stages: plan.st, peakBytes: peak(plan.st) };
  if (result.peakBytes > limit) {
    const worst = plan.st.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const top = [...worst.parts].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((p) => `${p.what} ${formatBytes(p.bytes)}`).join(', ');
    throw new ResourceError(
      `the scan needs ${formatBytes(result.peakBytes)} of memory (${worst.stage} stage: ${top}) but ${formatBytes(limit)} is available ` +
      `(${opts.limitName ?? 'maxMemoryBytes'}): raise ${opts.limitName ?? 'maxMemoryBytes'} if the machine has more, or analyse fewer individuals ` +
      `(${shape.n} analysed; memory grows as n^2)${shape.locoChromosomes > 0 ? ', or scan without loco' : ''}`,
    );
  }
  return result;
}

/** Lines for --verbose: the plan's stages and parts. */
export function describeMemoryPlan(plan: ScanMemoryPlan): string[] {
  const lines = [`memory plan (limit ${formatBytes(plan.limitBytes)}): peak ${formatBytes(plan.peakBytes)}; blocks of ${plan.blockSize} SNPs; ${plan.storeBytes > 0 ? `genotypes kept from the kinship pass (${formatBytes(plan.storeNeededBytes)} as hard calls)` : plan.storeNeededBytes > 0 ? `genotypes read twice (keeping them would take ${formatBytes(plan.storeNeededBytes)})` : 'genotypes read once'}`];
  for (const st of plan.stages) lines.push(`  ${st.stage} ${formatBytes(st.bytes)}: ${st.parts.map((p) => `${p.what} ${formatBytes(p.bytes)}`).join(', ')}`);
  return lines;
}
