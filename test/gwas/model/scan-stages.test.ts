import { describe, expect, it } from 'vitest';
import { scanKinship } from '../../../gwas/scan-kinship.js';
import { lmmStreamGroups } from '../../../gwas/scan-lmm-tests.js';
import { centredKinship, decomposeCentredKinship, fitEigenModels, type ScanModels } from '../../../gwas/scan-models.js';
import { scanSamples } from '../../../gwas/scan-samples.js';
import { streamScan, type ResultBatch, type StreamGroup } from '../../../gwas/scan-stream.js';
import { gwasScan } from '../../../gwas/scan.js';
import { SnpTestPool } from '../../../gwas/snp-pool.js';
import { createCpuBackend } from '../../../kernels/cpu/index.js';
import type { AssocColumns } from '../../../src/lmm/snp/assoc.js';
import { famPhenotype, openPlink } from '../../../src/io/plink.js';

const SIM = new URL('../../../data/sim/sim', import.meta.url).pathname;
const TESTS = { wald: true, lrt: true, score: true };

async function collect<R>(it: AsyncIterable<ResultBatch<R>>): Promise<ResultBatch<R>[]> {
  const out: ResultBatch<R>[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** Per SNP (rs) its result row: af, n_miss and every assoc column. */
function rowsOf(batches: ResultBatch<AssocColumns>[]): Map<string, unknown[]> {
  const rows = new Map<string, unknown[]>();
  for (const b of batches) {
    b.snps.forEach((s, j) => rows.set(s.rs, [b.af[j], b.nMiss[j], ...Object.values(b.assoc).map((col) => (col as ArrayLike<unknown>)[j])]));
  }
  return rows;
}

describe('scan stages (samples -> kinship -> models -> stream)', () => {
  it('composed by hand, over SNP ranges and from copied (serialisable) models, equal gwasScan', async () => {
    const source = await openPlink(SIM);
    const phenotypes = [{ name: 'p1', values: famPhenotype(source.fam, 1) }];
    const whole = await gwasScan({ source, phenotypes, kinship: { mode: 'centered' }, tests: TESTS, backend: 'cpu', blockSize: 300 });
    const expected = rowsOf(await collect(whole.batches));

    const backend = await createCpuBackend();
    const samples = scanSamples({ ids: source.samples, phenotypes });
    const kin = await scanKinship(source, samples, { mode: 'centered' }, { backend, blockSize: 300, storeBytes: 0 });
    expect(kin.store).toBeUndefined();
    const eig = await decomposeCentredKinship(centredKinship(kin, null), null, samples, backend);
    const models: ScanModels = { n: samples.n, c: samples.c, samplesHash: '', decompositions: [await fitEigenModels(eig, samples, backend)] };
    // What a sharded run does: the models go through a copy (structured clone: plain data only), then shards
    // stream disjoint SNP ranges with their own blocks.
    const copy = structuredClone(models);
    const pool = new SnpTestPool(1);
    const cut = 777; // not a block boundary
    const parts = [];
    for (const range of [{ start: 0, end: cut }, { start: cut, end: source.nSnps }]) {
      const s = streamScan({ source, samples, groups: lmmStreamGroups(copy, { backend, pool, tests: TESTS }), blockSize: 256, range });
      parts.push(...(await collect(s.batches)));
      expect(s.stats.fromStore).toBe(false);
    }
    const got = rowsOf(parts);
    expect(got.size).toBe(expected.size);
    expect(got).toEqual(expected);
    expect(whole.nullModels.get('p1')).toEqual(models.decompositions[0]!.phenotypes[0]!.nullModel);
    await pool.dispose();
    await backend.dispose();
  });

  it('takes any model\'s groups: an identity transform and a test of its own result type', async () => {
    const source = await openPlink(SIM);
    const samples = scanSamples({ ids: source.samples, phenotypes: [{ name: 'p1', values: famPhenotype(source.fam, 1) }] });
    const seen: number[] = [];
    const group: StreamGroup<Float64Array> = {
      chr: '2',
      transform: async (x) => x,
      tests: [{ pheno: 'sum', run: async (xt, block) => {
        expect(xt).toBe(block.x);
        seen.push(xt.cols);
        // Column sums of the mean-imputed dosages: 2 af n for every SNP.
        return Float64Array.from({ length: xt.cols }, (_, j) => xt.data.subarray(j * xt.ld, j * xt.ld + xt.rows).reduce((a, b) => a + b, 0));
      } }],
    };
    const s = streamScan({ source, samples, groups: [group], blockSize: 500, range: { start: 300, end: 1300 } });
    const batches = await collect(s.batches);
    const snps = batches.flatMap((b) => b.snps);
    expect(snps.length).toBe(s.stats.nTested);
    expect(snps.every((x) => x.chr === '2')).toBe(true);
    const positions = new Map(source.snps.map((x, j) => [x.rs, j]));
    expect(snps.every((x) => positions.get(x.rs)! >= 400 && positions.get(x.rs)! < 800)).toBe(true);
    expect(snps.length).toBeGreaterThan(350);
    for (const b of batches) b.assoc.forEach((sum, j) => expect(sum).toBeCloseTo(2 * b.af[j]! * samples.n, 8));
    // Dropped SNPs are counted over the whole range (every chromosome), kept ones only where a group tests them.
    const dropped = Object.values(s.stats.dropped).reduce((a, b) => a + b, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(() => streamScan({ source, samples, groups: [group], blockSize: 500, range: { start: 10, end: source.nSnps + 1 } })).toThrow(/outside/);
  });
});
