// `gpulmm info`: the JSON report lists the three backends with their adapters, and the command returns
// (every probe releases its device) whether or not WebGPU is usable here.
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectInfo, formatInfo, registerInfo } from '../../src/cli/info.js';
import { VERSION } from '../../src/version.js';

describe('gpulmm info', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('--json prints { version, node, platform, backends } with cpu, webgpu and gpujs', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const program = new Command().exitOverride();
    registerInfo(program);
    await program.parseAsync(['node', 'gpulmm', 'info', '--json']);
    vi.restoreAllMocks();
    expect(process.exitCode ?? 0).toBe(0);
    const report = JSON.parse(out.join(''));
    expect(report.version).toBe(VERSION);
    expect(report.node).toBe(process.version);
    expect(report.backends.map((b: { name: string }) => b.name)).toEqual(['cpu', 'webgpu', 'gpujs']);
    for (const b of report.backends) {
      expect(typeof b.available).toBe('boolean');
      expect(['f64', 'f32']).toContain(b.precision);
      if (b.available) {
        for (const k of ['vendor', 'architecture', 'device', 'description']) expect(typeof b.adapter[k]).toBe('string');
        expect(Object.keys(b.adapter.limits).length).toBeGreaterThan(0);
      } else {
        expect(b.reason).toBeTruthy();
      }
    }
    expect(report.backends[0]).toMatchObject({ name: 'cpu', available: true, precision: 'f64' });
  });

  it('the table names every backend and says why an unavailable one is unavailable', async () => {
    const report = await collectInfo();
    const text = formatInfo({ ...report, backends: [...report.backends, { name: 'gpujs', available: false, precision: 'f32', adapter: null, reason: 'no adapter (test)' }] });
    for (const name of ['cpu', 'webgpu', 'gpujs']) expect(text).toMatch(new RegExp(`^${name}\\s+(yes|no)\\s+f(32|64)`, 'm'));
    expect(text).toContain('gpujs: unavailable: no adapter (test)');
  });
});
