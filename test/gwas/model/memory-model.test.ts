import { mkdtempSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planScanMemory, type ScanShape } from '../../../gwas/memory-model.js';
import { registerGwas } from '../../../src/cli/gwas.js';
import { EXIT_CODES, ResourceError } from '../../../src/errors.js';
import { formatBytes, parseSize, peakRssBytes, resetPeakRss } from '../../../src/memory.js';
import { runCommand } from '../../helpers/cli.js';
import { expectThrown } from '../../helpers/errors.js';

const SHAPE: ScanShape = { N: 5000, n: 5000, m: 50000, phenotypes: 1, threads: 2, kinship: 'centered', locoChromosomes: 0, vc: 'exact' };
const PLAN = { blockSize: 4096, storeCapBytes: 2 ** 31 };

describe('memory model', () => {
  it('keeps the store and the requested blocks when they fit; the peak is the largest stage', () => {
    const plan = planScanMemory(SHAPE, { ...PLAN, limitBytes: 20e9 });
    // Blocks of 4096 would make the stream the largest stage: halved (down to 1024 at most) until it is not.
    const stage = (p: typeof plan, name: string) => p.stages.find((s) => s.stage === name)!.bytes;
    expect(plan.blockSize).toBe(2048);
    expect(stage(plan, 'stream')).toBeLessThanOrEqual(Math.max(stage(plan, 'kinship'), stage(plan, 'decompositions')));
    expect(planScanMemory({ ...SHAPE, N: 500, n: 500 }, { ...PLAN, limitBytes: 20e9 }).blockSize).toBe(1024);
    expect(plan.storeNeededBytes).toBe(1250 * 50000); // 2 bits per genotype
    expect(plan.storeBytes).toBe(2 ** 31); // room beside the largest stage: up to the cap
    expect(planScanMemory(SHAPE, { ...PLAN, limitBytes: plan.peakBytes }).storeBytes).toBe(1250 * 50000);
    expect(plan.peakBytes).toBe(Math.max(...plan.stages.map((s) => s.bytes)));
    for (const s of plan.stages) expect(s.bytes).toBe(s.parts.reduce((a, p) => a + p.bytes, 0));
    // K, U and the eigh workspace grow as n^2: 10,000 individuals need about four times the decomposition stage.
    const big = planScanMemory({ ...SHAPE, N: 10000, n: 10000 }, { ...PLAN, limitBytes: 1e12 });
    const dec = (p: typeof plan) => p.stages.find((s) => s.stage === 'decompositions')!.bytes;
    expect(dec(big) / dec(plan)).toBeGreaterThan(3.2);
  });

  it('under a tighter limit drops the store first, then halves the blocks; below the smallest plan says needed, available and the option', () => {
    const roomy = planScanMemory(SHAPE, { ...PLAN, limitBytes: 20e9 });
    const noStore = planScanMemory(SHAPE, { ...PLAN, limitBytes: roomy.peakBytes - 1 });
    expect(noStore.storeBytes).toBe(0);
    expect(noStore.peakBytes).toBeLessThan(roomy.peakBytes);
    const decBytes = noStore.stages.find((s) => s.stage === 'decompositions')!.bytes;
    // Below the limit, blocks shrink further (n = 500: the stream is the largest stage even at 1024 SNPs).
    const small500 = { ...SHAPE, N: 500, n: 500 };
    const at = (b: number) => planScanMemory(small500, { blockSize: b, storeCapBytes: 0, limitBytes: 1e12 });
    expect(at(1024).peakBytes).toBe(at(1024).stages.find((s) => s.stage === 'stream')!.bytes);
    const limit = at(512).peakBytes + 1;
    expect(at(1024).peakBytes).toBeGreaterThan(limit);
    const small = planScanMemory(small500, { blockSize: 4096, storeCapBytes: 0, limitBytes: limit });
    expect(small.blockSize).toBe(512);
    expect(small.peakBytes).toBeLessThanOrEqual(limit);
    const err = expectThrown(() => planScanMemory(SHAPE, { ...PLAN, limitBytes: decBytes - 1, limitName: '--max-memory' }), ResourceError);
    expect(err.message).toContain(`needs ${formatBytes(decBytes)}`);
    expect(err.message).toContain(`but ${formatBytes(decBytes - 1)} is available (--max-memory)`);
    expect(err.message).toMatch(/decompositions stage: eigh workspace and U/);
  });

  it('parses sizes and tracks the peak resident set', () => {
    expect(parseSize('512M')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseSize('2g')).toBe(2 * 2 ** 30);
    expect(parseSize('4096')).toBe(4096);
    for (const bad of ['', 'G', '10X', '-1G', '0']) expect(() => parseSize(bad), bad).toThrow(RangeError);
    resetPeakRss();
    const before = peakRssBytes();
    const big = new Float64Array(32 * 2 ** 20 / 8).fill(1); // 32 MiB, touched
    expect(big[big.length - 1]).toBe(1);
    if (existsSync('/proc/self/status')) expect(peakRssBytes() - before).toBeGreaterThan(16 * 2 ** 20);
  });

  it('gpulmm gwas --max-memory below the plan stops before the scan with exit code 5 and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-mem-'));
    for (const ext of ['bed', 'bim', 'fam']) copyFileSync(`data/sim/sim.${ext}`, join(dir, `sim.${ext}`));
    const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', join(dir, 'sim'), '--tsv', join(dir, 'o.txt'), '--max-memory', '50M']);
    expect(r.code).toBe(EXIT_CODES.resource);
    expect(r.stderr).toMatch(/needs [\d.]+ MB of memory .* but 52.4 MB is available \(--max-memory\)/);
    expect(existsSync(join(dir, 'o.txt'))).toBe(false);
    const bad = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', join(dir, 'sim'), '--tsv', join(dir, 'o.txt'), '--max-memory', '10X']);
    expect(bad.code).toBe(EXIT_CODES.usage);
    const ok = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', join(dir, 'sim'), '--tsv', join(dir, 'o.txt'), '--max-memory', '2G', '--verbose']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/^memory plan \(limit 2\.15 GB\): peak .*\n  kinship .*\n  decompositions .*\n  stream /m);
    expect(ok.stderr).toMatch(/peak memory \(RSS\): kinship [\d.]+ [kMG]B, decompositions/);
  });
});
