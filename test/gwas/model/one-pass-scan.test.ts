import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { computeKinship } from '../../../gwas/kinship.js';
import { gwasScan } from '../../../gwas/scan.js';
import { selectSamples } from '../../../gwas/samples.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import type { GenotypeSource } from '../../../gwas/types.js';
import { createCpuBackend } from '../../../kernels/cpu/index.js';
import { setFlags } from '../../../src/flags.js';
import { famPhenotype, openPlink } from '../../../src/io/plink.js';
import { scanPlink } from './parity.js';

const SIM = new URL('../../../data/sim/sim', import.meta.url).pathname;
/** Two individuals in three (IIDs, .fam column 2). */
const KEEP = readFileSync(`${SIM}.fam`, 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[1]!).filter((_, i) => i % 3 !== 0);

afterEach(() => setFlags({ scanStoreMb: 2048 }));

/** First index where two f64 arrays differ bitwise (-1: identical); much faster than toEqual on 10^5 entries. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length), y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe('kinship on helper threads', () => {
  it('is identical with 1, 2 and 3 threads (centred, analysed rows, loco; standardized)', async () => {
    const source = await openPlink(SIM);
    const rows = selectSamples({ ids: source.samples, phenotypes: [famPhenotype(source.fam, 1)] }).indices;
    const backend = await createCpuBackend();
    const run = (threads: number, mode: 'centered' | 'standardized') =>
      computeKinship(source, { mode, filter: new SnpFilter(), filterRows: rows, rows, backend, blockSize: 300, loco: true, threads });
    for (const mode of ['centered', 'standardized'] as const) {
      const one = await run(1, mode);
      for (const threads of [2, 3]) {
        const many = await run(threads, mode);
        expect(many.nSnps).toBe(one.nSnps);
        expect(firstDifference(many.k.data, one.k.data)).toBe(-1);
        expect(one.chromosomes!.size).toBeGreaterThan(1);
        for (const [chr, g] of one.chromosomes!) expect(firstDifference(many.chromosomes!.get(chr)!.gram.data, g.gram.data)).toBe(-1);
      }
    }
    await backend.dispose();
  });
});

/** The sim genotypes with every heterozygote at dosage 0.97: no block is hard calls only. */
async function fractionalSim(): Promise<GenotypeSource> {
  const plink = await openPlink(SIM);
  return {
    describe: `${plink.describe} (fractional)`, samples: plink.samples, nSnps: plink.nSnps, snps: plink.snps,
    async *blocks(blockSize, keep) {
      for await (const b of plink.blocks(blockSize, keep)) {
        const d = b.dosages.data;
        for (let q = 0; q < d.length; q++) if (d[q] === 1) d[q] = 0.97;
        yield b;
      }
    },
  };
}

describe('one pass over the genotypes (the scan reuses the kinship pass)', () => {
  const cases: [string, Parameters<typeof scanPlink>[1]][] = [
    ['default', { blockSize: 300 }],
    ['loco', { blockSize: 300, loco: true }],
    ['kinship blocks joined for the stream', { blockSize: 1500 }],
    ['keep list', { blockSize: 512, keep: { path: 'keep.txt', ids: KEEP, lineNos: KEEP.map((_, i) => i + 1) } }],
  ];
  for (const [name, extra] of cases) {
    it(`${name}: every result equals the scan that reads the genotypes twice`, async () => {
      const once = await scanPlink(SIM, extra);
      setFlags({ scanStoreMb: 0 });
      const twice = await scanPlink(SIM, extra);
      expect([once.summary.genotypePasses, twice.summary.genotypePasses]).toEqual([1, 2]);
      expect(once.summary.nTested).toBeGreaterThan(1000);
      expect(once.summary.nTested).toBe(twice.summary.nTested);
      expect(once.summary.dropped).toEqual(twice.summary.dropped);
      expect(once.rows).toEqual(twice.rows);
    });
  }

  it('fractional dosages (stored as f64 columns): equals two passes', async () => {
    const scan = async () => {
      const source = await fractionalSim();
      const s = await gwasScan({
        source, phenotypes: [{ name: 'p1', values: famPhenotype((await openPlink(SIM)).fam, 1) }], kinship: { mode: 'centered' },
        tests: { wald: true, lrt: true, score: true }, backend: 'cpu', blockSize: 400,
      });
      const out: unknown[] = [];
      for await (const b of s.batches) out.push(b);
      return { out, passes: s.summary.genotypePasses };
    };
    const once = await scan();
    setFlags({ scanStoreMb: 0 });
    const twice = await scan();
    expect([once.passes, twice.passes]).toEqual([1, 2]);
    expect(twice.out).toEqual(once.out);
  });
});
