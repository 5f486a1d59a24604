/**
 * The streamed sorted merge of a GWAS meta-analysis: every cohort's summary statistics, each sorted by chromosome
 * (1..22, X, Y, XY, MT, then other contigs in the order first met) and position, are read block by block in step;
 * the records at one position are aligned to the first cohort's alleles (alleles.ts) and combined (src/lmm/meta/ivw.ts).
 * Memory: one block per cohort plus one output batch, whatever the number of variants.
 *
 * Per record, in order: a missing (non-finite) beta or se is skipped (`invalid`; the reader refuses se <= 0); a
 * strand-ambiguous SNP is skipped when `ambiguous` is 'drop' (`ambiguousDropped`), else kept and flagged; with 'af',
 * one that matches an earlier cohort's variant by its labels is put on that cohort's strand by the allele frequencies
 * (alleles.ts ambiguousOrientation: opposite sides of 0.5 flip it, `strandFlipped`), and skipped when either frequency
 * is missing or its minor allele frequency exceeds `ambiguousMaxMaf` (`ambiguousUnresolved`); a record matching a
 * variant already given by an earlier cohort at this position joins it (beta and allele frequency flipped for swapped
 * alleles: `swapped`; `strandFlipped` when matched through complements). A record whose id names a variant at its
 * position is matched against that variant only, and such records are placed before the other records of their cohort
 * at that position (at a multi-allelic site G/A on the other strand is C/T: ids keep the variants apart, as METAL's
 * marker names do); otherwise, of the variants it matches (a variant named by another rsID never matches), it takes one
 * matched by labels over one matched through complements, then one its cohort has not given yet; a record matching by
 * labels a variant its cohort has already given, with the same id or none, is skipped (`duplicates`); a record whose
 * alleles match none of the earlier cohorts' variants at its position is skipped (`mismatched`) when it has no id or
 * the id of one of them; with another id (a multi-allelic site whose variants are named, as METAL tells markers apart
 * by name), or at a position no earlier cohort has, it starts a new variant. Chromosome names are compared without a
 * `chr` prefix, 23/24/25/26 as X/Y/XY/MT.
 */
import type { SumstatBlock } from '../../src/io/sumstats.js';
import { allocIvwColumns, ivwInto, type IvwColumns } from '../../src/lmm/meta/ivw.js';
import { ambiguousOrientation, isStrandAmbiguous, matchAlleles, type AmbiguousPolicy } from './alleles.js';

/** Counts of one cohort's records by what happened to them. */
export interface CohortCounts {
  read: number;
  used: number;
  invalid: number;
  ambiguousDropped: number;
  ambiguousKept: number;
  ambiguousUnresolved: number;
  /** records without a position (the reader leaves them out) */
  unplaced: number;
  duplicates: number;
  mismatched: number;
  swapped: number;
  strandFlipped: number;
}

export const newCounts = (): CohortCounts => ({ read: 0, used: 0, invalid: 0, ambiguousDropped: 0, ambiguousKept: 0, ambiguousUnresolved: 0, unplaced: 0, duplicates: 0, mismatched: 0, swapped: 0, strandFlipped: 0 });

export interface MergeOptions {
  /** strand-ambiguous SNPs: kept (aligned by label, flagged), resolved by allele frequency, or dropped */
  ambiguous: AmbiguousPolicy;
  /** with ambiguous 'af': the largest minor allele frequency that tells the strand (default 0.4) */
  ambiguousMaxMaf?: number;
  /** variants in fewer cohorts are not output (default 1) */
  minCohorts: number;
  /** output batch size (default 32768) */
  batchRows?: number;
}

/** One batch of meta-analysed variants. */
export interface MetaBatch {
  length: number;
  chr: string[];
  rs: string[];
  ps: Int32Array;
  allele1: string[];
  allele0: string[];
  nCohorts: Int32Array;
  /** per cohort in input order: + / - / 0 (sign of the aligned beta), ? absent */
  direction: string[];
  /** mean aligned effect allele frequency (n-weighted when every cohort gives n), NaN if none */
  af: Float64Array;
  /** total sample size, NaN unless every contributing cohort gives n */
  n: Float64Array;
  ambiguous: boolean[];
  ivw: IvwColumns;
}

/** A cohort's input is not sorted: the merge cannot stream it (the caller sorts it in memory and restarts). */
export class UnsortedInputError extends Error {
  override name = 'UnsortedInputError';
  constructor(readonly cohort: number, readonly line: number) {
    super(`cohort ${cohort + 1} is not sorted by chromosome and position (line ${line})`);
  }
}

const TWO31 = 2 ** 31;
const RSID = /^rs\d+$/;
const SPECIAL: Record<string, string> = { '23': 'X', '24': 'Y', '25': 'XY', '26': 'MT', M: 'MT' };
const SPECIAL_RANK: Record<string, number> = { X: 23, Y: 24, XY: 25, MT: 26 };

/** Chromosome names -> display name (no chr prefix, 23..26 as X, Y, XY, MT) and sort rank; other contigs ranked as first met. */
export class Chromosomes {
  private readonly cache = new Map<string, { name: string; rank: number }>();
  private others = 0;

  get(raw: string): { name: string; rank: number } {
    let c = this.cache.get(raw);
    if (c) return c;
    let s = raw.replace(/^chr/i, '');
    if (/^[A-Za-z]+$/.test(s)) s = s.toUpperCase();
    s = SPECIAL[s] ?? s;
    const known = this.cache.get(`\u0000${s}`);
    if (known) c = known;
    else {
      const rank = /^\d+$/.test(s) ? Number(s) : (SPECIAL_RANK[s] ?? 1e6 + this.others++);
      c = { name: s, rank };
      this.cache.set(`\u0000${s}`, c);
    }
    this.cache.set(raw, c);
    return c;
  }
}

/** Sort key of a record: rank * 2^31 + position. */
const keyOf = (rank: number, pos: number) => rank * TWO31 + pos;

/** Reads one cohort's blocks in step, with the sort keys of the current block; checks the order as it goes. */
class Cursor {
  block: SumstatBlock | null = null;
  keys = new Float64Array(0);
  i = 0;
  private last = -Infinity;
  constructor(private readonly it: AsyncIterator<SumstatBlock>, private readonly chroms: Chromosomes, private readonly cohort: number, private readonly counts: CohortCounts) {}

  /** Loads the next non-empty block (block = null at the end). */
  async load(): Promise<void> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.block = null;
        return;
      }
      const b = r.value;
      this.counts.read += b.unplaced;
      this.counts.unplaced += b.unplaced;
      if (b.length === 0) continue;
      if (this.keys.length < b.length) this.keys = new Float64Array(b.length);
      let lastRaw = '';
      let rank = 0;
      for (let k = 0; k < b.length; k++) {
        if (b.chr[k] !== lastRaw) {
          lastRaw = b.chr[k]!;
          rank = this.chroms.get(lastRaw).rank;
        }
        const key = keyOf(rank, b.pos[k]!);
        if (key < this.last) throw new UnsortedInputError(this.cohort, b.line[k]!);
        this.keys[k] = key;
        this.last = key;
      }
      this.block = b;
      this.i = 0;
      return;
    }
  }

  key(): number {
    return this.block ? this.keys[this.i]! : Infinity;
  }

  /** Stops reading (closes the input when the merge ends early). */
  async close(): Promise<void> {
    this.block = null;
    await this.it.return?.();
  }
}

/** Sorts one cohort's records in memory (stable, by the merge's key) and yields them in blocks: for unsorted inputs. */
export async function* sortedBlocks(blocks: AsyncIterable<SumstatBlock>, chroms: Chromosomes, size = 65536): AsyncGenerator<SumstatBlock> {
  const all: SumstatBlock[] = [];
  let unplaced = 0;
  for await (const b of blocks) {
    all.push(b);
    unplaced += b.unplaced;
  }
  if (unplaced > 0 && all.every((b) => b.length === 0)) yield { ...all[0]!, unplaced };
  const total = all.reduce((s, b) => s + b.length, 0);
  const keys = new Float64Array(total);
  const where = new Int32Array(total * 2);
  let r = 0;
  all.forEach((b, bi) => {
    for (let k = 0; k < b.length; k++, r++) {
      keys[r] = keyOf(chroms.get(b.chr[k]!).rank, b.pos[k]!);
      where[2 * r] = bi;
      where[2 * r + 1] = k;
    }
  });
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
  for (let start = 0; start < total; start += size) {
    const rows = order.slice(start, start + size);
    const m = rows.length;
    const out: SumstatBlock = {
      length: m, chr: new Array(m), pos: new Float64Array(m), id: new Array(m), effect: new Array(m), other: new Array(m), beta: new Float64Array(m),
      se: new Float64Array(m), af: new Float64Array(m), n: new Float64Array(m), line: new Float64Array(m), unplaced: start === 0 ? unplaced : 0,
    };
    rows.forEach((row, j) => {
      const b = all[where[2 * row]!]!;
      const k = where[2 * row + 1]!;
      out.chr[j] = b.chr[k]!;
      out.pos[j] = b.pos[k]!;
      out.id[j] = b.id[k]!;
      out.effect[j] = b.effect[k]!;
      out.other[j] = b.other[k]!;
      out.beta[j] = b.beta[k]!;
      out.se[j] = b.se[k]!;
      out.af[j] = b.af[k]!;
      out.n[j] = b.n[k]!;
      out.line[j] = b.line[k]!;
    });
    yield out;
  }
}

function allocBatch(rows: number): MetaBatch {
  return {
    length: 0, chr: new Array(rows), rs: new Array(rows), ps: new Int32Array(rows), allele1: new Array(rows), allele0: new Array(rows),
    nCohorts: new Int32Array(rows), direction: new Array(rows), af: new Float64Array(rows), n: new Float64Array(rows), ambiguous: new Array(rows),
    ivw: allocIvwColumns(rows),
  };
}

/** A batch cut to its filled rows. */
function finished(b: MetaBatch): MetaBatch {
  const k = b.length;
  if (k === b.ps.length) return b;
  const sub = <T extends { subarray(a: number, b: number): T }>(a: T) => a.subarray(0, k);
  const ivw = Object.fromEntries(Object.entries(b.ivw).map(([key, v]) => [key, sub(v as Float64Array)])) as unknown as IvwColumns;
  return {
    length: k, chr: b.chr.slice(0, k), rs: b.rs.slice(0, k), ps: sub(b.ps), allele1: b.allele1.slice(0, k), allele0: b.allele0.slice(0, k),
    nCohorts: sub(b.nCohorts), direction: b.direction.slice(0, k), af: sub(b.af), n: sub(b.n), ambiguous: b.ambiguous.slice(0, k), ivw,
  };
}

/**
 * Merges the cohorts' sorted blocks into meta-analysed batches (module comment); `counts[c]` is filled as it goes.
 * Throws UnsortedInputError when a cohort goes back in the order. Cost O(total records x cohorts).
 */
export async function* mergeCohorts(inputs: AsyncIterable<SumstatBlock>[], chroms: Chromosomes, counts: CohortCounts[], options: MergeOptions): AsyncGenerator<MetaBatch> {
  const nc = inputs.length;
  const cursors = inputs.map((src, c) => new Cursor(src[Symbol.asyncIterator](), chroms, c, counts[c]!));
  try {
    for (const cur of cursors) await cur.load();
    const batchRows = options.batchRows ?? 32768;
    const dropAmbiguous = options.ambiguous === 'drop';
    const byAf = options.ambiguous === 'af';
    const maxMaf = options.ambiguousMaxMaf ?? 0.4;
    const minCohorts = Math.max(1, options.minCohorts);
    const upper = new Map<string, string>();
    const up = (s: string) => {
      let u = upper.get(s);
      if (u === undefined) {
        u = s.toUpperCase();
        if (upper.size < 1 << 16) upper.set(s, u);
      }
      return u;
    };
    // per-position variant slots (reused)
    const maxV = 64;
    const vE: string[] = new Array(maxV);
    const vO: string[] = new Array(maxV);
    const vFirst = new Int32Array(maxV);
    const vId: string[] = new Array(maxV);
    const vChr: string[] = new Array(maxV);
    const vPos = new Float64Array(maxV);
    const vBeta = new Float64Array(maxV * nc);
    const vSe = new Float64Array(maxV * nc);
    const vAf = new Float64Array(maxV * nc);
    const vN = new Float64Array(maxV * nc);
    const vHas = new Uint8Array(maxV * nc);
    const bScratch = new Float64Array(nc);
    const sScratch = new Float64Array(nc);
    let out = allocBatch(batchRows);

    const emit = (v: number): void => {
      let m = 0;
      let afSum = 0;
      let afW = 0;
      let nSum = 0;
      let nKnown = true;
      let afAny = false;
      let dir = '';
      let nWeighted = true;
      for (let c = 0; c < nc; c++) if (vHas[v * nc + c] && !(vN[v * nc + c]! > 0)) nWeighted = false;
      for (let c = 0; c < nc; c++) {
        const j = v * nc + c;
        if (!vHas[j]) {
          dir += '?';
          continue;
        }
        const b = vBeta[j]!;
        bScratch[m] = b;
        sScratch[m] = vSe[j]!;
        m++;
        dir += b > 0 ? '+' : b < 0 ? '-' : '0';
        const n = vN[j]!;
        if (n > 0) nSum += n;
        else nKnown = false;
        const af = vAf[j]!;
        if (af === af) {
          const w = nWeighted ? n : 1;
          afSum += w * af;
          afW += w;
          afAny = true;
        }
      }
      if (m < minCohorts) return;
      const r = out.length++;
      out.chr[r] = vChr[v]!;
      out.rs[r] = vId[v]!;
      out.ps[r] = vPos[v]!;
      out.allele1[r] = vE[v]!;
      out.allele0[r] = vO[v]!;
      out.nCohorts[r] = m;
      out.direction[r] = dir;
      out.af[r] = afAny ? afSum / afW : NaN;
      out.n[r] = nKnown ? nSum : NaN;
      out.ambiguous[r] = isStrandAmbiguous(vE[v]!, vO[v]!);
      ivwInto(out.ivw, r, bScratch, sScratch, m);
    };

    /** no match at a position an earlier cohort has: a mismatch, unless the record names another variant (a different id) */
    const mismatch = (nv: number, c: number, id: string): boolean => {
      if (nv === 0 || vFirst[0]! >= c) return false;
      if (id === '') return true;
      for (let u = 0; u < nv; u++) if (vFirst[u]! < c && vId[u] === id) return true;
      return false;
    };

    let nv = 0;
    /** Places record i of block b (cohort c; beta and se valid) on a variant at this position (module comment). */
    const place = (b: SumstatBlock, i: number, c: number, e: string, o: string, amb: boolean): void => {
      const cnt = counts[c]!;
      let v = -1;
      let best = 0;
      let sign: 1 | -1 = 1;
      let strand = false;
      const id = b.id[i]!;
      const named = id !== '';
      let only = -1; // the variant the record's id names, if any
      if (named) for (let u = 0; u < nv && only < 0; u++) if (vId[u] === id) only = u;
      for (let u = only < 0 ? 0 : only; u < (only < 0 ? nv : only + 1); u++) {
        const mt = matchAlleles(vE[u]!, vO[u]!, e, o);
        const given = vHas[u * nc + c] === 1;
        // a variant this cohort already gave: only the same record again (a duplicate: same labels, same or no id)
        if (mt.sign === 0 || (given && (mt.strand || (named && vId[u] !== id && vId[u] !== '')))) continue;
        // two different rsIDs name two variants (other ids, e.g. chr:pos, may be another cohort's names for it)
        if (only < 0 && named && RSID.test(id) && RSID.test(vId[u]!)) continue;
        const score = (mt.strand ? 1 : 3) + (given ? 0 : 1);
        if (score > best) {
          best = score;
          v = u;
          sign = mt.sign;
          strand = mt.strand;
        }
      }
      let orient = 1;
      if (amb && byAf && v >= 0) {
        const af = b.af[i]!;
        orient = ambiguousOrientation(vAf[v * nc + vFirst[v]!]!, sign < 0 ? 1 - af : af, maxMaf);
        if (orient < 0) {
          sign = sign < 0 ? 1 : -1;
          strand = true;
        }
      }
      if (orient === 0) cnt.ambiguousUnresolved++;
      else if (v >= 0 && vHas[v * nc + c]) cnt.duplicates++;
      else if (v < 0 && mismatch(nv, c, id)) cnt.mismatched++;
      else if (v < 0 && nv === maxV) cnt.duplicates++;
      else {
        if (v < 0) {
          v = nv++;
          vE[v] = e;
          vO[v] = o;
          vFirst[v] = c;
          vId[v] = id;
          vChr[v] = chroms.get(b.chr[i]!).name;
          vPos[v] = b.pos[i]!;
          vHas.fill(0, v * nc, v * nc + nc);
        }
        const j = v * nc + c;
        vHas[j] = 1;
        vBeta[j] = sign * b.beta[i]!;
        vSe[j] = b.se[i]!;
        const af = b.af[i]!;
        vAf[j] = sign < 0 ? 1 - af : af;
        vN[j] = b.n[i]!;
        cnt.used++;
        if (sign < 0) cnt.swapped++;
        if (strand) cnt.strandFlipped++;
        if (amb) cnt.ambiguousKept++;
      }
    };
    // one cohort's valid records at the current position (they may span two blocks)
    const recBlock: SumstatBlock[] = [];
    let recIdx = new Int32Array(16);
    const recE: string[] = [];
    const recO: string[] = [];

    for (;;) {
      let minKey = Infinity;
      for (const cur of cursors) {
        const k = cur.key();
        if (k < minKey) minKey = k;
      }
      if (minKey === Infinity) break;
      nv = 0;
      for (let c = 0; c < nc; c++) {
        const cur = cursors[c]!;
        const cnt = counts[c]!;
        let nr = 0;
        while (cur.block && cur.keys[cur.i] === minKey) {
          const b = cur.block;
          const i = cur.i;
          cnt.read++;
          const se = b.se[i]!;
          if (!(Number.isFinite(b.beta[i]!) && se > 0 && se < Infinity)) cnt.invalid++;
          else {
            const e = up(b.effect[i]!);
            const o = up(b.other[i]!);
            if (dropAmbiguous && isStrandAmbiguous(e, o)) cnt.ambiguousDropped++;
            else {
              if (nr === recIdx.length) {
                const next = new Int32Array(nr * 2);
                next.set(recIdx);
                recIdx = next;
              }
              recBlock[nr] = b;
              recIdx[nr] = i;
              recE[nr] = e;
              recO[nr] = o;
              nr++;
            }
          }
          cur.i++;
          if (cur.i >= b.length) await cur.load();
        }
        if (nr === 1) place(recBlock[0]!, recIdx[0]!, c, recE[0]!, recO[0]!, isStrandAmbiguous(recE[0]!, recO[0]!));
        else if (nr > 1) {
          // records whose id names an earlier cohort's variant first, so that another record cannot take that variant
          const namesEarlier = (r: number) => {
            const id = recBlock[r]!.id[recIdx[r]!]!;
            if (id === '') return false;
            for (let u = 0; u < nv; u++) if (vId[u] === id) return true;
            return false;
          };
          const first = Array.from({ length: nr }, (_, r) => namesEarlier(r));
          for (const pass of [true, false]) {
            for (let r = 0; r < nr; r++) if (first[r] === pass) place(recBlock[r]!, recIdx[r]!, c, recE[r]!, recO[r]!, isStrandAmbiguous(recE[r]!, recO[r]!));
          }
        }
      }
      for (let v = 0; v < nv; v++) emit(v);
      if (out.length >= batchRows - maxV) {
        yield finished(out);
        out = allocBatch(batchRows);
      }
    }
    if (out.length > 0) yield finished(out);
  } finally {
    // an error or a consumer that stops early: close every input
    for (const cur of cursors) await cur.close();
  }
}
