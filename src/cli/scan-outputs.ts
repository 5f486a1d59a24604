/**
 * What the gwas commands (exact, binary-trait and biobank scans, the shard merge) share around a scan's outputs:
 * committing every output file or none, and the summary line of analysed SNPs.
 */

/** An output committed by close() and removed by abort() (atomic files, Arrow sinks, the TSV writers). */
export interface Committable {
  close(): Promise<unknown>;
  abort(): Promise<unknown>;
}

/**
 * Runs `write` (which streams into the outputs), then closes the outputs in order; on any error (in `write` or a
 * close) aborts every one and rethrows, so no output of a failed run looks complete. `outputs` is called when
 * closing or aborting: outputs opened inside `write` are included; undefined entries (outputs not asked for) are
 * skipped.
 */
export async function commitAllOrNone(outputs: () => Iterable<Committable | undefined>, write: () => Promise<void>): Promise<void> {
  try {
    await write();
    for (const o of outputs()) await o?.close();
  } catch (e) {
    for (const o of outputs()) await o?.abort();
    throw e;
  }
}

/** `analysed SNPs{tag}: tested of all (dropped: reason count, ...)`, the dropped part only when some were. */
export function analysedSnpsLine(s: { nTested: number; nSnps: number; dropped: Record<string, number> }, tag = ''): string {
  const dropped = Object.entries(s.dropped);
  return `analysed SNPs${tag}: ${s.nTested} of ${s.nSnps}${dropped.length ? ` (dropped: ${dropped.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`;
}
