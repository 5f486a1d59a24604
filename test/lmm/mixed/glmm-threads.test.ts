/**
 * The GLMM Hessian's stencil split between the calling thread and a helper of the process pool (compiled build
 * only: the helper loads dist/src/lmm/mixed/glmm-worker.js) gives the same vcov, bit for bit, as the one-thread
 * evaluation that vitest's TypeScript run uses (each point's PIRLS starts from the same lp0).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../../src/io/csv.js';
import { fit } from '../../../src/lmm/mixed/index.js';
import { normal, rng } from '../../helpers/random.js';

const cli = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;

describe('GLMM Hessian on two threads', () => {
  it.skipIf(!existsSync(cli))('the compiled CLI (helper thread) and the in-process fit (one thread) agree exactly', async () => {
    const u = rng(42);
    const z = normal(u);
    const a = Array.from({ length: 60 }, () => 0.8 * z());
    const b = Array.from({ length: 25 }, () => 0.5 * z());
    const rows = ['y,x,w,g,h'];
    for (let i = 0; i < 6000; i++) {
      const g = i % 60;
      const h = Math.floor(u() * 25);
      const x = z();
      const w = u() < 0.5 ? 1 : 0;
      const eta = -0.3 + 0.7 * x - 0.4 * w + a[g]! + b[h]!;
      rows.push(`${u() < 1 / (1 + Math.exp(-eta)) ? 1 : 0},${x.toFixed(4)},${w},g${g},h${h}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-glmm-'));
    writeFileSync(join(dir, 'd.csv'), `${rows.join('\n')}\n`);
    const formula = 'y ~ x + w + (1 | g) + (1 | h)';
    const r = spawnSync(process.execPath, [cli, 'fit', '--data', join(dir, 'd.csv'), '--formula', formula, '--family', 'binomial', '--json', join(dir, 'f.json')], { encoding: 'utf8', env: { ...process.env, GPULMM_THREADS: '2' } });
    expect(r.status, r.stderr).toBe(0);
    const threaded = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8')) as { fixef: { estimate: number; se: number }[] };
    const one = fit(await readTable(join(dir, 'd.csv')), formula, { family: 'binomial' });
    expect(threaded.fixef.map((f) => [f.estimate, f.se])).toEqual(one.fixef.map((f) => [f.estimate, f.se]));
  });
});
