// `gpulmm bench`: records written to --json are complete and honest (finite numbers, cpu error ~0); bad
// options fail clearly with a non-zero exit code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBenchTable, parseBenchOptions, registerBench, runBench } from '../../src/cli/bench.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

const runCli = (args: string[]): Promise<CommandRun> => runCommand(registerBench, 'bench', args);

describe('gpulmm bench', () => {
  it('--quick --ops gemm --sizes 64 --backend cpu --json writes valid records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-bench-'));
    const file = join(dir, 'records.json');
    const res = await runCli(['--quick', '--ops', 'gemm', '--sizes', '64', '--backend', 'cpu', '--json', file]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^gemm\s+cpu\s+64\s+f64/m);
    expect(res.stderr).toContain('gemm n=64 on cpu');
    const records = JSON.parse(readFileSync(file, 'utf8'));
    expect(records).toHaveLength(1);
    const r = records[0];
    expect(r).toMatchObject({ op: 'gemm', backend: 'cpu', n: 64, precision: 'f64', node: process.version, quick: true, flops: 2 * 64 ** 3 });
    for (const k of ['median_s', 'gflops']) {
      expect(Number.isFinite(r[k])).toBe(true);
      expect(r[k]).toBeGreaterThan(0);
    }
    expect(r.gflops).toBeCloseTo(r.flops / r.median_s / 1e9, 6);
    expect(r.max_rel_err).toBeLessThan(1e-14);
    expect(r.samples).toBeGreaterThanOrEqual(2);
    expect(typeof r.adapter.device).toBe('string');
    expect(r.commit === null || /^[0-9a-f]{4,}(-dirty)?$/.test(r.commit)).toBe(true);
    expect(r.error).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['records.json']); // no temporary left behind
  });

  it('measures and checks several ops and sizes in one run', async () => {
    const records = await runBench(parseBenchOptions({ quick: true, ops: 'syrk,potrf,eigh', sizes: '16,33', backend: 'cpu' }), () => undefined);
    expect(records.map((r) => `${r.op}:${r.n}`)).toEqual(['syrk:16', 'syrk:33', 'potrf:16', 'potrf:33', 'eigh:16', 'eigh:33']);
    for (const r of records) expect(r.max_rel_err).toBeLessThan(1e-12);
    expect(formatBenchTable(records).split('\n')).toHaveLength(records.length + 3);
  });

  const hasR = (() => {
    try {
      execFileSync('Rscript', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasR)('--reference r times the same cases in R and records the ratio', async () => {
    const records = await runBench(parseBenchOptions({ quick: true, ops: 'gemm,potrf', sizes: '40', backend: 'cpu', reference: 'r' }), () => undefined);
    expect(records.map((r) => `${r.op}:${r.backend}`)).toEqual(['gemm:cpu', 'gemm:R', 'potrf:cpu', 'potrf:R']);
    for (const [mine, ref] of [[records[0]!, records[1]!], [records[2]!, records[3]!]] as const) {
      expect(ref.median_s).toBeGreaterThan(0);
      expect(ref.max_rel_err).toBeNull();
      expect(ref.adapter?.description).toMatch(/R version/);
      expect(mine.reference_median_s).toBe(ref.median_s);
      expect(mine.vs_reference).toBeCloseTo(ref.median_s! / mine.median_s!, 12);
    }
  });

  it.each([
    [['--ops', 'gemm,nope'], /--ops: unknown op 'nope'/],
    [['--backend', 'tpu'], /--backend: unknown backend 'tpu'/],
    [['--sizes', '64,big'], /--sizes big: expected an integer in \[1, 9007199254740991\]/],
    [['--sizes', '0'], /--sizes 0: expected an integer in \[1, /],
    [['--backend', 'all,cpu'], /'all' cannot be combined/],
    [['--reference', 'matlab'], /--reference: unknown reference 'matlab'/],
  ])('rejects %j with a clear error and a non-zero exit', async (args, message) => {
    const res = await runCli(args);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/^gpulmm bench: error: /);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
  });
});
