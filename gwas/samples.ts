/**
 * Which individuals a scan analyses (GEMMA 0.98.5 PARAM::ProcessCvtPhen): those with every selected
 * phenotype and every covariate present, optionally restricted to a `--keep` list of sample IDs.
 */
import type { F64Matrix } from '../kernels/matrix.js';
import { InputError, NumericError } from '../src/errors.js';
import { readNonEmptyLines, splitFields } from '../src/io/gemma-tables.js';

/** The analysed individuals and why the others were left out (for messages). */
export interface SampleSelection {
  /** Indices into the genotype file's individuals, ascending. */
  indices: Int32Array;
  /** Their IDs, in the same order. */
  ids: string[];
  counts: {
    total: number;
    /** Left out because some selected phenotype is missing. */
    missingPhenotype: number;
    /** Left out (with phenotypes present) because some covariate is missing. */
    missingCovariate: number;
    /** Left out (otherwise complete) because they are not in the keep list. */
    notKept: number;
    analysed: number;
  };
  /** IDs of the keep list that are no individual of the genotype file (PLINK ignores them too), with their lines. */
  keepAbsent?: { ids: string[]; lineNos: number[] };
}

export interface SampleInputs {
  /** Sample IDs of the genotype file, in file order. */
  ids: readonly string[];
  /** Selected phenotypes, each of length ids.length, NaN missing. */
  phenotypes: readonly Float64Array[];
  /** Covariates, ids.length x c, NaN missing (omit for none). */
  covariates?: F64Matrix;
  /** IDs to keep (from {@link readKeepFile}); those absent from `ids` are listed in the selection's keepAbsent. */
  keep?: KeepList;
}

/** A `--keep` list: IDs with the line each came from. */
export interface KeepList {
  path: string;
  ids: string[];
  lineNos: number[];
}

/**
 * Reads a keep file: one sample per line, either `IID` or PLINK's `FID IID` (then the second column is used).
 */
export async function readKeepFile(path: string): Promise<KeepList> {
  const list: KeepList = { path, ids: [], lineNos: [] };
  for (const { line, lineNo } of await readNonEmptyLines(path)) {
    const f = splitFields(line, /[ \t]+/);
    list.ids.push(f.length >= 2 ? f[1]! : f[0]!);
    list.lineNos.push(lineNo);
  }
  if (list.ids.length === 0) throw new InputError(path, undefined, undefined, 'no sample IDs: expected one ID (or FID IID) per line');
  return list;
}

/** Applies the GEMMA rule (plus the keep list) and counts the exclusions. Cost O(n (p + c)). */
export function selectSamples(inputs: SampleInputs): SampleSelection {
  const { ids, phenotypes, covariates, keep } = inputs;
  const n = ids.length;
  for (const [k, p] of phenotypes.entries()) {
    if (p.length !== n) throw new RangeError(`selectSamples: phenotype ${k + 1} has ${p.length} values, expected ${n} (one per individual)`);
  }
  if (covariates && covariates.rows !== n) throw new RangeError(`selectSamples: covariates have ${covariates.rows} rows, expected ${n}`);
  let kept: Set<string> | undefined;
  const absent = { ids: [] as string[], lineNos: [] as number[] };
  if (keep) {
    const known = new Set(ids);
    kept = new Set();
    keep.ids.forEach((id, r) => {
      if (known.has(id)) kept!.add(id);
      else {
        absent.ids.push(id);
        absent.lineNos.push(keep.lineNos[r]!);
      }
    });
    if (kept.size === 0) {
      throw new InputError(keep.path, undefined, undefined, `none of its ${keep.ids.length} sample IDs is an individual of the genotype file (first: '${keep.ids[0]}' on line ${keep.lineNos[0]}): expected IIDs (or FID IID) of the genotype file`);
    }
  }
  const counts = { total: n, missingPhenotype: 0, missingCovariate: 0, notKept: 0, analysed: 0 };
  const chosen: number[] = [];
  for (let i = 0; i < n; i++) {
    if (phenotypes.some((p) => Number.isNaN(p[i]!))) {
      counts.missingPhenotype++;
      continue;
    }
    if (covariates && rowHasNaN(covariates, i)) {
      counts.missingCovariate++;
      continue;
    }
    if (kept && !kept.has(ids[i]!)) {
      counts.notKept++;
      continue;
    }
    chosen.push(i);
  }
  counts.analysed = chosen.length;
  if (chosen.length === 0) {
    throw new NumericError(`no individual has every selected phenotype${covariates ? ' and covariate' : ''} present${kept ? ' and is in the keep list' : ''} (${describeCounts(counts)})`);
  }
  const indices = Int32Array.from(chosen);
  return { indices, ids: chosen.map((i) => ids[i]!), counts, ...(absent.ids.length ? { keepAbsent: absent } : {}) };
}

/**
 * The warning for keep-list IDs absent from the genotype file (they select nobody), or undefined when there are
 * none: `keep.txt: 3 of its 40 sample IDs are not individuals of the genotype file and are ignored (line 7: 'x', ...)`.
 */
export function keepAbsentWarning(s: SampleSelection, keepPath: string): string | undefined {
  const a = s.keepAbsent;
  if (!a) return undefined;
  const shown = a.ids.slice(0, 3).map((id, k) => `line ${a.lineNos[k]}: '${id}'`).join(', ');
  const n = a.ids.length;
  return `${keepPath}: ${n} sample ID${n === 1 ? ' is not an individual' : 's are not individuals'} of the genotype file and ${n === 1 ? 'is' : 'are'} ignored (${shown}${n > 3 ? ', ...' : ''})`;
}

function rowHasNaN(m: F64Matrix, i: number): boolean {
  for (let j = 0; j < m.cols; j++) if (Number.isNaN(m.data[i + j * m.ld]!)) return true;
  return false;
}

/** One line for logs: "1410 of 1940 individuals analysed (530 missing a phenotype, ...)". */
export function describeSelection(s: SampleSelection): string {
  return describeCounts(s.counts);
}

function describeCounts(c: SampleSelection['counts']): string {
  const parts = [
    c.missingPhenotype ? `${c.missingPhenotype} missing a phenotype` : '',
    c.missingCovariate ? `${c.missingCovariate} missing a covariate` : '',
    c.notKept ? `${c.notKept} not in the keep list` : '',
  ].filter(Boolean);
  return `${c.analysed} of ${c.total} individuals analysed${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
