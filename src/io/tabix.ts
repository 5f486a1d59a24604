/**
 * Tabix (.tbi) and CSI (.csi) indexes of bgzipped, position-sorted text files (htslib's formats, SAMv1/tabix
 * specs): for a region, the BGZF chunks [begin, end) (virtual offsets, see text-lines.ts) that may hold records
 * overlapping it. Bins follow the UCSC binning scheme (tabix: 14-bit minimum shift, depth 5; CSI: as stored);
 * chunks ending before the linear index's (tabix) or the bin's (CSI) first offset for the region are dropped, the
 * rest sorted and merged.
 */
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { sameChromosome, type GenomicRegion } from './region.js';
import { readInput } from './input-file.js';

/** A chunk of a BGZF file: records whose virtual offsets lie in [begin, end). */
export interface Chunk {
  begin: number;
  end: number;
}

interface Bin {
  chunks: Chunk[];
  /** CSI: smallest virtual offset of a record in the bin. */
  loffset: number;
}

interface RefIndex {
  bins: Map<number, Bin>;
  /** Tabix: the smallest record offset per 16 kb window. */
  linear: number[];
}

/** A parsed tabix or CSI index. */
export interface TextIndex {
  path: string;
  names: string[];
  minShift: number;
  depth: number;
  refs: RefIndex[];
  csi: boolean;
}

/** Reads a .tbi or .csi (BGZF-compressed); InputError naming the file for anything else. */
export async function readTextIndex(path: string): Promise<TextIndex> {
  const bytes = await readInput(path);
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes);
  } catch (e) {
    throw new InputError(path, undefined, undefined, `cannot read a tabix/CSI index: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let p = 0;
  const need = (n: number): void => {
    if (p + n > raw.length) throw InputError.atByte(path, p, `truncated index (byte ${p} of ${raw.length} decompressed)`);
  };
  const i32 = (): number => (need(4), (p += 4), raw.readInt32LE(p - 4));
  const u64 = (): number => (need(8), (p += 8), Number(raw.readBigUInt64LE(p - 8)));
  const magic = raw.toString('latin1', 0, 4);
  const csi = magic === 'CSI\x01';
  if (!csi && magic !== 'TBI\x01') throw InputError.atByte(path, 0, `not a tabix or CSI index (magic '${magic.replace(/[^\x20-\x7e]/g, '.')}')`);
  p = 4;
  let minShift = 14;
  let depth = 5;
  let names: string[] = [];
  let nRef = 0;
  const tabixHeader = (end: number): void => {
    // format, col_seq, col_beg, col_end, meta, skip, l_nm, names
    p += 24;
    const lnm = i32();
    need(lnm);
    names = raw.toString('latin1', p, p + lnm).split('\0').filter((s) => s !== '');
    p += lnm;
    if (p > end) throw InputError.atByte(path, p, 'index header overruns its length');
  };
  if (csi) {
    minShift = i32();
    depth = i32();
    const laux = i32();
    const auxEnd = p + laux;
    if (laux >= 28) tabixHeader(auxEnd);
    p = auxEnd;
    nRef = i32();
  } else {
    nRef = i32();
    tabixHeader(raw.length);
    if (names.length !== nRef) throw InputError.atByte(path, 4, `header lists ${nRef} sequences but names ${names.length}`);
  }
  const refs: RefIndex[] = [];
  for (let r = 0; r < nRef; r++) {
    const bins = new Map<number, Bin>();
    const nBin = i32();
    for (let b = 0; b < nBin; b++) {
      need(4);
      const bin = raw.readUInt32LE(p);
      p += 4;
      const loffset = csi ? u64() : 0;
      const nChunk = i32();
      const chunks: Chunk[] = [];
      for (let c = 0; c < nChunk; c++) chunks.push({ begin: u64(), end: u64() });
      bins.set(bin, { chunks, loffset });
    }
    const linear: number[] = [];
    if (!csi) {
      const nIntv = i32();
      for (let k = 0; k < nIntv; k++) linear.push(u64());
    }
    refs.push({ bins, linear });
  }
  return { path, names, minShift, depth, refs, csi };
}

/** The bins (UCSC scheme with the index's min shift and depth) overlapping [beg, end) (0-based). */
function binsOverlapping(beg: number, end: number, minShift: number, depth: number): number[] {
  const out: number[] = [];
  end -= 1;
  for (let level = 0, t = 0, s = minShift + depth * 3; level <= depth; level++, s -= 3) {
    const b = t + Math.floor(beg / 2 ** s);
    const e = t + Math.floor(end / 2 ** s);
    for (let k = b; k <= e; k++) out.push(k);
    t += 2 ** (3 * level);
  }
  return out;
}

/**
 * The merged chunks that may hold records of `region` (1-based inclusive), in file order; empty when the index
 * does not know the chromosome. `names`: the sequence names by reference index when the index stores none (a
 * BCF's CSI: its header's contig dictionary).
 */
export function regionChunks(index: TextIndex, region: GenomicRegion, names: readonly string[] = index.names): Chunk[] {
  const r = names.findIndex((n) => n !== undefined && sameChromosome(n, region.chr));
  if (r < 0 || r >= index.refs.length) return [];
  const ref = index.refs[r]!;
  const beg = region.from - 1;
  const maxPos = 2 ** (index.minShift + 3 * index.depth);
  const end = Math.min(region.to, maxPos);
  let minOffset = 0;
  if (!index.csi && ref.linear.length > 0) minOffset = ref.linear[Math.min(beg >> 14, ref.linear.length - 1)]!;
  const chunks: Chunk[] = [];
  for (const b of binsOverlapping(beg, end, index.minShift, index.depth)) {
    const bin = ref.bins.get(b);
    if (!bin) continue;
    for (const c of bin.chunks) if (c.end > minOffset) chunks.push(c);
  }
  chunks.sort((a, b) => a.begin - b.begin);
  const merged: Chunk[] = [];
  for (const c of chunks) {
    const last = merged[merged.length - 1];
    if (last && c.begin <= last.end) last.end = Math.max(last.end, c.end);
    else merged.push({ ...c });
  }
  return merged;
}
