// The public entry point (what `import ... from 'gpulmm'` gives) drives a whole scan and a mixed-model fit.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { famPhenotype, fit, gwasScan, openPlink } from '../src/index.js';

const goldenWald = (): Map<string, number> => {
  const text = gunzipSync(readFileSync(new URL('../data/sim/gemma/lmm1.assoc.txt.gz', import.meta.url))).toString('utf8');
  const rows = text.trim().split('\n').slice(1).map((l) => l.split('\t'));
  return new Map(rows.map((r) => [r[1]!, Number(r[11])]));
};

describe('library entry point', () => {
  it('gwasScan streams batches that match GEMMA -lmm 1 on the bundled cohort', async () => {
    const source = await openPlink(new URL('../data/sim/sim', import.meta.url).pathname);
    const scan = await gwasScan({
      source,
      phenotypes: [{ name: 'p1', values: famPhenotype(source.fam, 1) }],
      kinship: { mode: 'centered' },
      tests: { wald: true, lrt: false, score: false },
      backend: 'cpu',
      threads: 1,
    });
    const golden = goldenWald();
    let tested = 0;
    let worst = 0;
    for await (const b of scan.batches) {
      b.snps.forEach((s, j) => {
        const ref = golden.get(s.rs);
        expect(ref, `${s.rs} is not in GEMMA's output`).toBeDefined();
        worst = Math.max(worst, Math.abs(Math.log10(b.assoc.pWald[j]!) - Math.log10(ref!)));
        tested++;
      });
    }
    expect(tested).toBe(golden.size);
    expect(scan.summary.nAnalysed).toBe(340);
    expect(worst).toBeLessThan(1e-3);
  });

  it('fit returns an lme4-style model', () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ g: `g${i % 6}`, x: i % 10, y: (i % 6) * 0.7 + 0.3 * (i % 10) + Math.sin(i) }));
    const m = fit({ y: rows.map((r) => r.y), x: rows.map((r) => r.x), g: rows.map((r) => r.g) }, 'y ~ x + (1 | g)');
    const slope = m.fixef.find((f) => f.term === 'x');
    expect(slope).toBeDefined();
    expect(slope!.estimate).toBeGreaterThan(0.2);
    expect(slope!.estimate).toBeLessThan(0.4);
  });
});
