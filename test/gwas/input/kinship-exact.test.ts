/**
 * The exact integer kinship must not change K by a single bit: against the bytes the kinship of commit
 * 0f26db5 produced (sha256 prefixes, computed then with the same calls), and against a scalar transcription
 * of the same formula (gwas/kinship.ts, GramAccumulator) on genotypes with many missing values, for every
 * thread count and block size.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import type { Backend } from '../../../kernels/backend.js';
import { createCpuBackend } from '../../../kernels/cpu/index.js';
import { f64Matrix, type F64Matrix } from '../../../kernels/matrix.js';
import { loadAnalysisInputs } from '../../../gwas/inputs.js';
import { computeKinship, locoKinship } from '../../../gwas/kinship.js';
import { SnpFilter } from '../../../gwas/snp-filter.js';
import type { GenotypeSource } from '../../../gwas/types.js';
import { packCodes } from '../../helpers/packed-codes.js';
import { rng } from '../../helpers/random.js';
import { SIM_PREFIX } from './sim-fixtures.js';

let backend: Backend | undefined;
async function cpu(): Promise<Backend> {
  backend ??= await createCpuBackend();
  return backend;
}
afterAll(async () => {
  await backend?.dispose();
});

const sha = (m: F64Matrix): string => createHash('sha256').update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.rows * m.cols * 8)).digest('hex').slice(0, 16);

/** sha256 prefixes of K's f64 bytes from 0f26db5's computeKinship on data/sim (centered, default filter). */
const BEFORE = {
  all: '2e34ddb6bf78d7ff',
  rows: '2dfc039cd07ea5de',
  loco: ['a542e4bdaeb6c8af', '143e17a32d1110ca', '54c10d57c250a691', '9d9c3a36fcfda781', '6efe0804ef1f2f2d', '6010b3b7050d2e02'],
};

/** The same source read only through f64 blocks (its packedBlocks hidden). */
function f64Only(src: GenotypeSource): GenotypeSource {
  return { describe: src.describe, samples: src.samples, nSnps: src.nSnps, snps: src.snps, blocks: (bs, keep, range) => src.blocks(bs, keep, range) };
}

describe('exact kinship: bit-identical to the kinship before the relaxed-SIMD Gram', () => {
  for (const [threads, blockSize] of [[1, 300], [2, 4096], [2, 77]] as const) {
    test(`data/sim (1.2% missing), ${threads} thread(s), blocks of ${blockSize}: K, K over rows, LOCO`, async () => {
      const inputs = await loadAnalysisInputs({ bfile: SIM_PREFIX });
      const base = { mode: 'centered' as const, filter: new SnpFilter(), filterRows: inputs.samples.indices, backend: await cpu(), blockSize, threads };
      expect(sha((await computeKinship(inputs.source, base)).k)).toBe(BEFORE.all);
      expect(sha((await computeKinship(inputs.source, { ...base, rows: inputs.samples.indices })).k)).toBe(BEFORE.rows);
      const loco = await computeKinship(inputs.source, { ...base, loco: true });
      expect([sha(loco.k), ...[...loco.chromosomes!.keys()].map((c) => sha(locoKinship(loco, c)))]).toEqual(BEFORE.loco);
    });
  }
  test('data/sim read as f64 dosages instead of 2-bit codes: the same K, K over rows and LOCO bits', async () => {
    const inputs = await loadAnalysisInputs({ bfile: SIM_PREFIX });
    expect(inputs.source.packedBlocks).toBeDefined(); // the tests above took the codes path
    const source = f64Only(inputs.source);
    const base = { mode: 'centered' as const, filter: new SnpFilter(), filterRows: inputs.samples.indices, backend: await cpu(), blockSize: 500, threads: 2 };
    expect(sha((await computeKinship(source, base)).k)).toBe(BEFORE.all);
    expect(sha((await computeKinship(source, { ...base, rows: inputs.samples.indices })).k)).toBe(BEFORE.rows);
    const loco = await computeKinship(source, { ...base, loco: true });
    expect([sha(loco.k), ...[...loco.chromosomes!.keys()].map((c) => sha(locoKinship(loco, c)))]).toEqual(BEFORE.loco);
  });
});

/** An in-memory hard-call source: N x m dosages 0/1/2 with missing rate `miss` (NaN); with `packed`, packedBlocks too. */
function memorySource(N: number, m: number, miss: number, seed: number, packed = false): GenotypeSource {
  const u = rng(seed);
  const g = new Float64Array(N * m);
  for (let j = 0; j < m; j++) {
    const p = 0.05 + 0.9 * u();
    for (let i = 0; i < N; i++) g[i + j * N] = u() < miss ? Number.NaN : (u() < p ? 1 : 0) + (u() < p ? 1 : 0);
  }
  const snps = Array.from({ length: m }, (_, j) => ({ chr: String(1 + (j % 3)), rs: `s${j}`, ps: j, allele1: 'A', allele0: 'G' }));
  const source: GenotypeSource = {
    describe: 'memory',
    samples: Array.from({ length: N }, (_, i) => `i${i}`),
    nSnps: m,
    snps,
    async *blocks(blockSize) {
      for (let s = 0; s < m; s += blockSize) {
        const k = Math.min(blockSize, m - s);
        yield { start: s, snps: snps.slice(s, s + k), dosages: f64Matrix(N, k, g.slice(s * N, (s + k) * N)), hardCalls: true };
      }
    },
  };
  if (!packed) return source;
  return {
    ...source,
    async *packedBlocks(blockSize) {
      for await (const b of source.blocks(blockSize)) yield { start: b.start, snps: b.snps, codes: packCodes(b.dosages) };
    },
  };
}

/**
 * The centred kinship's integer path as scalar loops, in the order of the formula's f64 operations:
 * per SNP (file order) u_i += mu d_i, v_k += mu^2 and W[:, k] += (mu d_i, or mu^2 / 2 where i is missing too)
 * at each missing k, sum mu^2 += mu^2; then K = fl(fl(S - u_i - u_k + sum mu^2 - v_i - v_k + (W_ik + W_ki)) / m).
 */
async function scalarKinship(src: GenotypeSource, filter: SnpFilter, filterRows: Int32Array, rows: Int32Array): Promise<{ k: F64Matrix; used: number }> {
  const N = src.samples.length, n = rows.length;
  const s = new Float64Array(n * n), u = new Float64Array(n), v = new Float64Array(n);
  let w: Float64Array | undefined;
  let sumMu2 = 0;
  let used = 0;
  for await (const b of src.blocks(50)) {
    const verdict = filter.apply(b.dosages, filterRows, { impute: false });
    for (const j of verdict.keptIndex) {
      const col = Array.from(b.dosages.data.subarray(j * b.dosages.ld, j * b.dosages.ld + N));
      const present = col.filter((d) => d === d);
      const mean = present.reduce((a, d) => a + d, 0) / present.length;
      expect(N - present.length).toBeLessThanOrEqual(N / 8); // every SNP takes the integer path
      used++;
      sumMu2 += mean * mean;
      const d = Array.from(rows, (r) => col[r]!);
      for (let i = 0; i < n; i++) if (d[i] === d[i]) u[i]! += mean * d[i]!;
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < n; i++) if (d[i] === d[i] && d[k] === d[k]) s[i + k * n]! += d[i]! * d[k]!;
        if (d[k] === d[k]) continue;
        v[k]! += mean * mean;
        w ??= new Float64Array(n * n);
        for (let i = 0; i < n; i++) w[i + k * n]! += d[i] === d[i] ? mean * d[i]! : (mean * mean) / 2;
      }
    }
  }
  const k = f64Matrix(n, n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let z = s[i + c * n]! - u[i]! - u[c]! + sumMu2 - v[i]! - v[c]!;
      if (w) z += w[i + c * n]! + w[c + i * n]!;
      k.data[i + c * n] = (0 + z) * (1 / used);
    }
  }
  return { k, used };
}

describe('exact kinship: equals the scalar loops of its formula bit for bit', () => {
  for (const packed of [false, true]) {
    test(`5% missing, output rows a subset, ragged blocks, 1 and 2 threads (${packed ? '2-bit codes' : 'f64 dosages'})`, async () => {
      const src = memorySource(83, 310, 0.05, 11, packed);
      const filter = new SnpFilter({ miss: 0.1 }); // at most 8 of 83 missing: every kept SNP takes the integer path
      const filterRows = Int32Array.from({ length: 83 }, (_, i) => i);
      const rows = filterRows.filter((i) => i % 5 !== 2);
      const ref = await scalarKinship(src, filter, filterRows, rows);
      expect(ref.used).toBeGreaterThan(250);
      const want = sha(ref.k);
      for (const [threads, blockSize] of [[1, 310], [2, 64], [2, 17]] as const) {
        const got = await computeKinship(src, { mode: 'centered', filter, filterRows, rows, backend: await cpu(), threads, blockSize });
        expect(got.nSnps).toBe(ref.used);
        expect(sha(got.k)).toBe(want);
      }
    });
  }
});

describe('exact kinship: 2-bit codes and f64 dosages give the same bits', () => {
  test('both modes, LOCO, filters over a subset (N = 83, not a multiple of 4), output rows a subset', async () => {
    const packed = memorySource(83, 240, 0.15, 5, true); // up to 15% missing: some SNPs take the f64 path
    const plain = f64Only(packed);
    const filterRows = Int32Array.from({ length: 83 }, (_, i) => i).filter((i) => i % 7 !== 3);
    const rows = filterRows.filter((i) => i % 3 !== 1);
    for (const mode of ['centered', 'standardized'] as const) {
      for (const opts of [{}, { rows }, { loco: true }]) {
        const base = { mode, filter: new SnpFilter({ miss: 0.2 }), filterRows, backend: await cpu(), blockSize: 37, threads: 2, ...opts };
        const a = await computeKinship(packed, base);
        const b = await computeKinship(plain, base);
        expect(a.nSnps).toBe(b.nSnps);
        expect(sha(a.k)).toBe(sha(b.k));
        for (const c of b.chromosomes?.keys() ?? []) expect(sha(locoKinship(a, c))).toBe(sha(locoKinship(b, c)));
      }
    }
  });
});
