/**
 * The exact LMM's tests for the stream stage (scan-stream.ts), built from the models of stage 3
 * (scan-models.ts): per eigendecomposition one group whose transform is U'X (backend gemm, U held on the
 * backend) and whose tests are GEMMA's Wald / LRT / score per phenotype on the SNP test threads
 * (snp-pool.ts); per fixed-VC phenotype one group whose transform is L^-1 X (trsm) and whose test is the
 * fixed-lambda Wald (src/lmm/snp/fixed-vc.ts).
 */
import type { Backend } from '../kernels/backend.js';
import { packF64, type F64Matrix } from '../kernels/matrix.js';
import { allocAssocColumns, type AssocColumns, type TestSelection } from '../src/lmm/snp/assoc.js';
import { FixedVcWald } from '../src/lmm/snp/fixed-vc.js';
import { rotatedInputs, type ScanModels } from './scan-models.js';
import type { StreamGroup } from './scan-stream.js';
import type { SnpTestPool } from './snp-pool.js';

/** Key of a phenotype's null model: `pheno`, or `pheno:chr` for a decomposition without chromosome chr. */
export function nullModelKey(pheno: string, chr: string | null): string {
  return chr === null ? pheno : `${pheno}:${chr}`;
}

/**
 * Stream groups of the exact LMM for every decomposition of `models`. Registers each (decomposition,
 * phenotype) model on `pool` (its threads then hold U'W, U'y, d: O(n c) each) and holds each U on `backend`
 * (release with {@link releaseLmmModels}). The fixed-VC tests run on the calling thread; their seconds are
 * added to pool.seconds.
 */
export function lmmStreamGroups(models: ScanModels, opts: { backend: Backend; pool: SnpTestPool; tests: TestSelection }): StreamGroup<AssocColumns>[] {
  const { backend, pool, tests } = opts;
  const n = models.n;
  const groups: StreamGroup<AssocColumns>[] = [];
  for (const dec of models.decompositions) {
    if (dec.kind === 'eigen') {
      const u = dec.vectors;
      backend.hold(u);
      groups.push({
        chr: dec.chr,
        transform: (x: F64Matrix) => backend.gemm(u, x, { transA: true }),
        tests: dec.phenotypes.map((p, k) => {
          const id = nullModelKey(p.pheno, dec.chr);
          pool.register(id, rotatedInputs(dec, k), p.nullModel, tests);
          return { pheno: p.pheno, run: (xt: F64Matrix) => pool.run(id, packF64(xt).data, n, xt.cols) };
        }),
      });
      continue;
    }
    for (const p of dec.phenotypes) {
      const wald = new FixedVcWald(p.lw, p.ly, p.nullModel);
      groups.push({
        chr: dec.chr,
        transform: (x: F64Matrix) => backend.trsm(p.l, x, { side: 'left', lower: true }),
        tests: [{
          pheno: p.pheno,
          run: async (xt: F64Matrix) => {
            const t0 = performance.now();
            const out = allocAssocColumns(xt.cols);
            wald.testInto(xt, out, 0);
            pool.seconds += (performance.now() - t0) / 1000;
            return out;
          },
        }],
      });
    }
  }
  return groups;
}

/** Releases what {@link lmmStreamGroups} held on the backend. */
export function releaseLmmModels(models: ScanModels, backend: Backend): void {
  for (const dec of models.decompositions) if (dec.kind === 'eigen') backend.release(dec.vectors);
}
