/**
 * Writers for scde result blocks: TSV and Arrow (an IPC stream `.arrows`, an IPC file `.arrow`, or a dataset
 * directory partitioned by `celltype=`: src/io/arrow-output.ts), all written under a temporary name and renamed
 * only when complete. Column order: {@link SCDE_COLUMNS}. Missing numbers are `NA` in TSV and NaN in Arrow.
 */
import { openArrowTable, type ArrowTableSink } from '../io/arrow-output.js';
import { openAtomic, type AtomicFile } from '../io/atomic-file.js';
import { SCDE_COLUMNS, type ScdeBlock } from './scde.js';

type ColumnKind = 'utf8' | 'i32' | 'f64';

const KINDS: Record<(typeof SCDE_COLUMNS)[number], ColumnKind> = {
  gene: 'utf8',
  celltype: 'utf8',
  n_cells: 'i32',
  n_donors: 'i32',
  mean: 'f64',
  beta: 'f64',
  se: 'f64',
  df: 'f64',
  t: 'f64',
  p: 'f64',
  fdr: 'f64',
  var_donor: 'f64',
  var_random: 'f64',
  var_resid: 'f64',
  icc: 'f64',
  method: 'utf8',
  status: 'utf8',
};

/** The block as named output columns. */
function columnsOf(b: ScdeBlock): Record<(typeof SCDE_COLUMNS)[number], Float64Array | Int32Array | readonly string[]> {
  const n = b.gene.length;
  return {
    gene: b.gene,
    celltype: new Array<string>(n).fill(b.celltype),
    n_cells: b.nCells,
    n_donors: b.nDonors,
    mean: b.mean,
    beta: b.beta,
    se: b.se,
    df: b.df,
    t: b.t,
    p: b.p,
    fdr: b.fdr,
    var_donor: b.varDonor,
    var_random: b.varRandom,
    var_resid: b.varResid,
    icc: b.icc,
    method: new Array<string>(n).fill(b.method),
    status: b.status,
  };
}

function formatNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NA' : v > 0 ? 'Inf' : '-Inf';
}

/** Streams result blocks to any of a TSV and an Arrow file; `close` commits both, `abort` removes both. */
export class ScdeResultWriter {
  private constructor(
    private readonly tsv: AtomicFile | null,
    private readonly arrow: ArrowTableSink | null,
  ) {}

  static async open(paths: { tsv?: string; arrow?: string }, metadata: Record<string, string>): Promise<ScdeResultWriter> {
    const tsv = paths.tsv ? await openAtomic(paths.tsv) : null;
    let arrow: ArrowTableSink | null = null;
    try {
      if (paths.arrow) arrow = await openArrowTable(paths.arrow, { columns: SCDE_COLUMNS.map((name) => ({ name, type: KINDS[name] })), metadata, partitionBy: ['celltype'] });
      if (tsv) await tsv.write(`${SCDE_COLUMNS.join('\t')}\n`);
    } catch (err) {
      await tsv?.abort();
      await arrow?.abort();
      throw err;
    }
    return new ScdeResultWriter(tsv, arrow);
  }

  /** Appends one cell type's rows (awaits the disk: backpressure). Cost O(genes). */
  async write(block: ScdeBlock): Promise<void> {
    const cols = columnsOf(block);
    if (this.arrow) await this.arrow.write(cols);
    if (this.tsv) {
      const n = block.gene.length;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        lines.push(
          SCDE_COLUMNS.map((name) => {
            const v = cols[name][i]!;
            return typeof v === 'string' ? v : KINDS[name] === 'i32' ? String(v) : formatNumber(v);
          }).join('\t'),
        );
      }
      await this.tsv.write(`${lines.join('\n')}\n`);
    }
  }

  async close(): Promise<void> {
    await this.arrow?.close();
    await this.tsv?.commit();
  }

  async abort(): Promise<void> {
    await this.arrow?.abort();
    await this.tsv?.abort();
  }
}
