import { describe, expect, it } from 'vitest';
import { existsSync, expectLmm4Parity, expectNullParity, readGemmaAssoc, readGemmaLog, scanPlink } from './parity.js';

// Real data shipped with the workplace (../shared/data); skipped cleanly when it is absent. End to end: our
// centred kinship (GEMMA -gk 1), eigendecomposition and -lmm 4, against GEMMA 0.98.5's files.
const MOUSE = new URL('../../../../shared/data/mouse_hs1940/', import.meta.url).pathname;
const present = existsSync(`${MOUSE}mouse_hs1940.bed`) && existsSync(`${MOUSE}gemma-0.98.5/lmm4.assoc.txt.gz`);

describe.skipIf(!present)('parity with GEMMA 0.98.5 on mouse_hs1940 (end to end)', () => {
  it('-gk 1 then -lmm 4: 10768 SNPs, af, n_miss, p-values, beta, null model to printed digits', async () => {
    const { rows, nullModel, summary } = await scanPlink(`${MOUSE}mouse_hs1940`);
    expect(summary.nAnalysed).toBe(1410);
    expect(summary.nTested).toBe(10768);
    expectLmm4Parity(await readGemmaAssoc(`${MOUSE}gemma-0.98.5/lmm4.assoc.txt.gz`), rows);
    expectNullParity(nullModel, await readGemmaLog(`${MOUSE}gemma-0.98.5/lmm4.log.txt.gz`));
  });
});
