/**
 * Memory budget of a streaming scde run (src/sc/scde-stream.ts), estimated after the metadata is read and the
 * analyses planned, before any count is read: what is already held (metadata, designs: the process's resident
 * size), one block of the file, the statistics of one pass, per-cell routing and library sizes, and nbglmm's gene
 * chunk. When the estimate exceeds the budget, the statistics are split over more passes; when even one analysis
 * does not fit, the run is refused with a ResourceError naming what lowers the need.
 */
import { ResourceError } from '../errors.js';
import type { CountSource } from '../io/count-blocks.js';
import type { ScdePlan } from './scde.js';
import { DEFAULT_BLOCK_ENTRIES, DEFAULT_NB_CHUNK_ENTRIES, passGroups } from './scde-stream.js';

/** The parts of the estimate, in bytes. */
export interface ScdeMemoryEstimate {
  /** Resident size when the estimate was made (runtime, metadata, designs). */
  readonly held: number;
  /** One block of the file: the reader's copies (HDF5 buffer, typed arrays) and the block itself. */
  readonly block: number;
  /** Statistics of the largest pass. */
  readonly state: number;
  /** Per-cell routing and library sizes. */
  readonly perCell: number;
  /** nbglmm gene chunk (0 without nbglmm). */
  readonly nbChunk: number;
  readonly total: number;
  /** Passes over the file for the statistics. */
  readonly passes: number;
  /** State budget handed to the run (bytes of statistics per pass). */
  readonly stateBudget: number;
}

/** Copies of a block alive at once while it is read (HDF5 heap buffer, its JS copy, the narrowed arrays). */
const BLOCK_COPIES = 3;

/**
 * Estimates the peak of a run and fits it to `maxBytes` by splitting the statistics over passes. Throws
 * ResourceError when the held memory plus one block plus the largest single analysis exceed `maxBytes`.
 * Cost O(analyses).
 */
export function fitScdeMemory(
  plan: ScdePlan,
  source: CountSource,
  maxBytes: number,
  opts: { held: number; blockEntries?: number; nbChunkEntries?: number },
): ScdeMemoryEstimate {
  const blockEntries = opts.blockEntries ?? DEFAULT_BLOCK_ENTRIES;
  const block = blockEntries * source.bytesPerEntry * BLOCK_COPIES;
  const perCell = source.nCells * (8 + 8 + (plan.methods.includes('nbglmm') ? 4 : 0));
  const nbChunk = plan.methods.includes('nbglmm') ? (opts.nbChunkEntries ?? DEFAULT_NB_CHUNK_ENTRIES) * 8 : 0;
  const fixed = opts.held + block + perCell + nbChunk;
  const one = passGroups(plan);
  let stateBudget = Infinity;
  let { groups, maxStateBytes } = one;
  if (fixed + maxStateBytes > maxBytes) {
    stateBudget = Math.max(0, maxBytes - fixed);
    ({ groups, maxStateBytes } = passGroups(plan, stateBudget));
    if (fixed + maxStateBytes > maxBytes) {
      throw new ResourceError(
        `scde needs about ${gib(fixed + maxStateBytes)} (held ${gib(opts.held)}, block ${gib(block)}, statistics of one cell type ${gib(maxStateBytes)}, ` +
          `per-cell arrays ${gib(perCell)}${nbChunk ? `, nbglmm chunk ${gib(nbChunk)}` : ''}) but --max-memory is ${gib(maxBytes)}: ` +
          'raise --max-memory, or lower the need with --celltype-value (one cell type), --block-entries, or fewer genes in the input',
      );
    }
  }
  return { held: opts.held, block, state: maxStateBytes, perCell, nbChunk, total: fixed + maxStateBytes, passes: Math.max(1, groups.length), stateBudget };
}

/** Bytes as GiB with two decimals (MiB below 1 GiB). */
export function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** One line per part of the estimate, for --verbose. */
export function describeScdeMemory(e: ScdeMemoryEstimate, maxBytes: number): string[] {
  return [
    `memory estimate: ${gib(e.total)} of --max-memory ${gib(maxBytes)}`,
    `  held now (runtime, metadata, designs): ${gib(e.held)}`,
    `  one block of the file: ${gib(e.block)}`,
    `  statistics: ${gib(e.state)} per pass, ${e.passes} pass${e.passes > 1 ? 'es' : ''} over the file`,
    `  per-cell arrays: ${gib(e.perCell)}`,
    ...(e.nbChunk ? [`  nbglmm gene chunk: ${gib(e.nbChunk)}`] : []),
  ];
}

/**
 * Parses a byte size: a number with an optional unit K, M, G, T (powers of 1024; a trailing B or iB allowed),
 * e.g. "3G", "512M", "2.5GiB". Returns NaN for anything else.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const exp = ['', 'K', 'M', 'G', 'T'].indexOf(m[2]!.toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** exp);
}
