/**
 * Sample IDs must name one individual (or cell) each: PLINK (1.9 and 2) refuses a sample list with a repeated ID,
 * and so does gpulmm, since `--keep`, phenotype and cell-metadata joins and the eigen cache go by ID.
 */
import { InputError, type InputLocation } from '../errors.js';

/**
 * Throws an InputError at the second occurrence of a repeated ID: `path` and `where(k)` (line and column, or byte
 * offset, of ID k) name it, the message names the first occurrence. `ids[k]` is the full ID as the file defines
 * it (e.g. FID and IID joined by a space for a .fam); `what` is how the file calls an ID. O(n).
 */
export function checkUniqueSampleIds(ids: readonly string[], path: string, where: (k: number) => InputLocation, what = 'sample ID'): void {
  const first = new Map<string, number>();
  ids.forEach((id, k) => {
    const i = first.get(id);
    if (i === undefined) {
      first.set(id, k);
      return;
    }
    const at = where(k);
    const before = where(i);
    const prior = before.line !== undefined ? `; first on line ${before.line}` : before.byteOffset !== undefined ? `; first at byte ${before.byteOffset}` : '';
    throw new InputError(path, at.line, at.column, `duplicate ${what} '${id}' (entries ${i + 1} and ${k + 1}${prior}): each needs its own ID`, at.byteOffset);
  });
}
