/**
 * Which individuals a scan analyses (GEMMA 0.98.5 PARAM::ProcessCvtPhen): those with every selected
 * phenotype and every covariate present, optionally restricted to a `--keep` list of sample IDs.
 */
import type { F64Matrix } from '../kernels/matrix.js';
import { InputError } from '../src/errors.js';
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
}

export interface SampleInputs {
  /** Sample IDs of the genotype file, in file order. */
  ids: readonly string[];
  /** Selected phenotypes, each of length ids.length, NaN missing. */
  phenotypes: readonly Float64Array[];
  /** Covariates, ids.length x c, NaN missing (omit for none). */
  covariates?: F64Matrix;
  /** IDs to keep (from {@link readKeepFile}); every one must exist in `ids`. */
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
  if (keep) {
    const known = new Set(ids);
    kept = new Set();
    keep.ids.forEach((id, r) => {
      if (!known.has(id)) throw new InputError(keep.path, keep.lineNos[r], undefined, `sample '${id}' is not an individual of the genotype file`);
      kept!.add(id);
    });
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
    throw new RangeError(`no individual has every selected phenotype${covariates ? ' and covariate' : ''} present${kept ? ' and is in the keep list' : ''} (${describeCounts(counts)})`);
  }
  const indices = Int32Array.from(chosen);
  return { indices, ids: chosen.map((i) => ids[i]!), counts };
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
