import { describe, expect, it } from 'vitest';
import { readKinship } from '../../../src/io/kinship-file.js';
import { expectLmm4Parity, expectNullParity, readGemmaAssoc, readGemmaLog, scanPlink } from './parity.js';

const SIM = new URL('../../../data/sim/', import.meta.url).pathname;

describe('parity with GEMMA 0.98.5 on the simulated cohort (data/sim), kinship computed end to end', () => {
  it('-lmm 4 without covariates: same SNPs, af, n_miss, p-values, beta, null model', async () => {
    const { rows, nullModel, summary } = await scanPlink(`${SIM}sim`);
    expect(summary.nAnalysed).toBe(340);
    expectLmm4Parity(await readGemmaAssoc(`${SIM}gemma/lmm4.assoc.txt.gz`), rows);
    expectNullParity(nullModel, await readGemmaLog(`${SIM}gemma/lmm4.log.txt.gz`));
  });

  it("-lmm 4 with covariates and GEMMA's own kinship file (intercept appended, collinear SNP dropped)", async () => {
    const k = await readKinship(`${SIM}gemma/kin.cXX.txt.gz`);
    const { rows, nullModel, summary } = await scanPlink(`${SIM}sim`, { covarFile: `${SIM}sim.covar.txt`, kinship: { matrix: k, describe: 'kin.cXX.txt' } });
    expect(summary.nAnalysed).toBe(335);
    expect(rows.has('snp556')).toBe(false);
    expectLmm4Parity(await readGemmaAssoc(`${SIM}gemma/lmm4_covar.assoc.txt.gz`), rows);
    expectNullParity(nullModel, await readGemmaLog(`${SIM}gemma/lmm4_covar.log.txt.gz`));
  });
});
