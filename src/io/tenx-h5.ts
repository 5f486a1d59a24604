/**
 * Cell Ranger's HDF5 feature-barcode matrix (`filtered_feature_bc_matrix.h5`, Cell Ranger 3.0 and later; also
 * written by Space Ranger and Cell Ranger ARC), read block by block.
 *
 * Layout: group /matrix with `shape` (features, barcodes), `barcodes`, and the features x barcodes matrix in
 * compressed sparse columns - `indptr` (one offset per barcode), `indices` (feature of each entry, int64),
 * `data` (counts, int32) - so a block of whole cells is one slice of each; /matrix/features has `id`, `name`
 * and `feature_type`. Only "Gene Expression" features are genes (antibody, CRISPR or peak features are dropped,
 * so they never enter library sizes). The Cell Ranger 2 layout (one group per genome with genes/gene_names) and
 * any other layout are refused with an error naming what was found.
 */
import { checkUniqueSampleIds } from './sample-ids.js';
import { featureMap, GENE_EXPRESSION } from './mtx.js';
import type { CountSource } from './count-blocks.js';
import { h5SparseSource } from './h5-matrix.js';
import { childDataset, childGroup, has, h5Error, isGroup, openH5, readNumbers, readStrings } from './hdf5.js';

/** A 10x HDF5 file opened for streaming. */
export interface TenxH5 {
  readonly source: CountSource;
  /** Feature ids (Ensembl) of the genes. */
  readonly geneIds: string[];
  /** Gene names (symbols). */
  readonly geneNames: string[];
  readonly barcodes: string[];
  /** Features of other types left out. */
  readonly droppedFeatures: number;
  close(): void;
}

/**
 * Opens a Cell Ranger v3+ .h5 (see the module comment). Checks the layout, the shape against barcodes and
 * features, and the compressed-sparse offsets; errors name the file and the HDF5 path. Cost O(cells + features).
 */
export async function openTenxH5(file: string): Promise<TenxH5> {
  const f = await openH5(file);
  try {
    const top = f.keys();
    if (!top.includes('matrix') || !isGroup(f.get('matrix'))) {
      const genomes = top.filter((k) => {
        const g = f.get(k);
        return isGroup(g) && has(g, 'genes') && has(g, 'gene_names') && has(g, 'indptr');
      });
      const what = genomes.length > 0 ? `a Cell Ranger 2 layout (genome group${genomes.length > 1 ? 's' : ''} ${genomes.map((g) => `/${g}`).join(', ')} with genes/gene_names)` : `top-level members: ${top.join(', ') || 'none'}`;
      throw h5Error(file, '/matrix', `not found: unknown 10x HDF5 layout (expected Cell Ranger 3.0+ /matrix with features/; found ${what}). Convert it, e.g. write the counts as a 10x directory (matrix.mtx, features.tsv, barcodes.tsv) and pass --counts`);
    }
    const m = childGroup(file, f, 'matrix');
    for (const name of ['shape', 'barcodes', 'data', 'indices', 'indptr', 'features']) {
      if (!has(m, name)) throw h5Error(file, `/matrix/${name}`, 'not found: unknown 10x HDF5 layout (Cell Ranger 3.0+ has /matrix/{shape, barcodes, data, indices, indptr, features})');
    }
    const shape = readNumbers(file, childDataset(file, m, 'shape'));
    if (shape.length !== 2) throw h5Error(file, '/matrix/shape', `expected 2 values (features, barcodes), found ${shape.length}`);
    const [nFeatures, nCells] = [shape[0]!, shape[1]!];
    const features = childGroup(file, m, 'features');
    const ids = readStrings(file, childDataset(file, features, 'id'));
    const names = has(features, 'name') ? readStrings(file, childDataset(file, features, 'name')) : ids;
    const types = has(features, 'feature_type') ? readStrings(file, childDataset(file, features, 'feature_type')) : ids.map(() => GENE_EXPRESSION);
    if (ids.length !== nFeatures || names.length !== nFeatures || types.length !== nFeatures) {
      throw h5Error(file, '/matrix/features', `${ids.length} ids, ${names.length} names, ${types.length} types for ${nFeatures} features in /matrix/shape`);
    }
    const barcodes = readStrings(file, childDataset(file, m, 'barcodes'));
    if (barcodes.length !== nCells) throw h5Error(file, '/matrix/barcodes', `${barcodes.length} barcodes, but /matrix/shape says ${nCells}`);
    checkUniqueSampleIds(barcodes, file, () => ({}), 'barcode in /matrix/barcodes');
    const { geneOf, kept } = featureMap(types);
    if (kept.length === 0) throw h5Error(file, '/matrix/features/feature_type', `no "${GENE_EXPRESSION}" features (types: ${[...new Set(types)].join(', ')})`);
    const source = h5SparseSource({
      file,
      h5: f,
      data: childDataset(file, m, 'data'),
      indices: childDataset(file, m, 'indices'),
      indptr: childDataset(file, m, 'indptr'),
      major: 'cell',
      nGenes: kept.length,
      nCells,
      geneOf,
    });
    return {
      source,
      geneIds: kept.map((i) => ids[i]!),
      geneNames: kept.map((i) => names[i]!),
      barcodes,
      droppedFeatures: nFeatures - kept.length,
      close: () => source.close(),
    };
  } catch (err) {
    f.close();
    throw err;
  }
}
