/**
 * Calibration on a real null: split the donors of a dataset without a condition into two balanced groups in
 * every possible way, run each method on every split, and count genes with p < alpha. Any rejection is false,
 * so a calibrated method rejects about alpha of the tested genes.
 */
import type { JoinedCells } from './cell-table.js';
import { sortedLevels } from './design.js';
import type { PseudobulkNormalisation } from './pseudobulk.js';
import { runScde, type ScdeInput, type ScdeMethod } from './scde.js';

export interface CalibrationOptions {
  donor: string;
  celltype?: string;
  celltypeValue?: string;
  methods: readonly ScdeMethod[];
  alpha?: number;
  minFrac?: number;
  /** pseudobulk sample normalisation (default tmm). */
  pseudobulkNorm?: PseudobulkNormalisation;
  /** Run only this many splits, evenly spaced through the list (default: all). */
  maxSplits?: number;
  /** Called after each split with a one-line summary. */
  onSplit?: (message: string) => void;
}

export interface SplitResult {
  /** Donors of group B (group A: the others). */
  readonly groupB: readonly string[];
  /** Per method: genes tested and genes with p < alpha. */
  readonly tested: Record<string, number>;
  readonly rejected: Record<string, number>;
}

export interface CalibrationReport {
  readonly donors: readonly string[];
  readonly alpha: number;
  readonly splits: readonly SplitResult[];
  /** Per method: rejected / tested over all splits (pooled type-I error). */
  readonly typeIError: Record<string, number>;
  /** Per method: the smallest and largest per-split rejection rate. */
  readonly range: Record<string, [number, number]>;
}

/** All ways to pick k of n items that exclude item 0 from the pick when 2k = n (each balanced split once). */
export function balancedSplits(n: number): number[][] {
  const k = Math.floor(n / 2);
  const out: number[][] = [];
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === k) {
      if (2 * k !== n || !chosen.includes(0)) out.push([...chosen]);
      return;
    }
    for (let i = start; i < n; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return out;
}

/**
 * Runs every balanced donor split through each method. Cost: splits x methods analyses
 * (C(8,4)/2 = 35 splits for 8 donors).
 */
export function calibrate(input: ScdeInput, opts: CalibrationOptions): CalibrationReport {
  const alpha = opts.alpha ?? 0.05;
  const { table, present } = input.cells;
  const donorCol = table.columns.get(opts.donor);
  if (!donorCol) throw new Error(`calibrate: no donor column "${opts.donor}" in ${table.source}`);
  const ctCol = opts.celltype ? table.columns.get(opts.celltype) : undefined;
  const inScope = (i: number) => !ctCol || ctCol[i] === opts.celltypeValue;
  const donors = sortedLevels([...present].filter(inScope).map((i) => donorCol[i]!));
  if (donors.length < 4) throw new Error(`calibrate: need at least 4 donors, found ${donors.length}`);
  const splits: SplitResult[] = [];
  const all = balancedSplits(donors.length);
  const m = Math.min(all.length, opts.maxSplits ?? all.length);
  for (const pick of Array.from({ length: m }, (_, i) => all[Math.floor((i * all.length) / m)]!)) {
    const groupB = new Set(pick.map((i) => donors[i]!));
    const columns = new Map(table.columns);
    columns.set('__split', donorCol.map((d) => (groupB.has(d) ? 'B' : 'A')));
    const cells: JoinedCells = { ...input.cells, table: { ...table, columns } };
    const tested: Record<string, number> = {};
    const rejected: Record<string, number> = {};
    for (const method of opts.methods) {
      let t = 0;
      let r = 0;
      for (const block of runScde(
        { ...input, cells },
        { donor: opts.donor, condition: '__split', contrast: 'B:A', design: 'between', celltype: opts.celltype, celltypeValue: opts.celltypeValue, method, minFrac: opts.minFrac, ...(opts.pseudobulkNorm ? { pseudobulkNorm: opts.pseudobulkNorm } : {}) },
      )) {
        for (let g = 0; g < block.p.length; g++) {
          const p = block.p[g]!;
          if (Number.isNaN(p)) continue;
          t++;
          if (p < alpha) r++;
        }
      }
      tested[method] = t;
      rejected[method] = r;
    }
    const res: SplitResult = { groupB: [...groupB], tested, rejected };
    splits.push(res);
    opts.onSplit?.(
      `split ${splits.length}: B = {${res.groupB.join(', ')}}  ` + opts.methods.map((m) => `${m} ${(rejected[m]! / tested[m]!).toFixed(3)}`).join('  '),
    );
  }
  const typeIError: Record<string, number> = {};
  const range: Record<string, [number, number]> = {};
  for (const m of opts.methods) {
    const rates = splits.map((s) => s.rejected[m]! / s.tested[m]!);
    typeIError[m] = splits.reduce((a, s) => a + s.rejected[m]!, 0) / splits.reduce((a, s) => a + s.tested[m]!, 0);
    range[m] = [Math.min(...rates), Math.max(...rates)];
  }
  return { donors, alpha, splits, typeIError, range };
}
