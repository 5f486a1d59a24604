/**
 * `gpulmm info [--json]`: the gpulmm and Node versions, the platform, and what every kernel backend reports
 * about itself (available or not and why, precision, adapter with its limits). Every backend's probe releases
 * what it opened, so the command exits on its own, with or without a WebGPU adapter.
 */
import os from 'node:os';
import type { Command } from 'commander';
import type { BackendInfo } from '../../kernels/backend.js';
import { listBackends } from '../../kernels/select.js';
import { VERSION } from '../version.js';
import { action } from './command.js';

/** The `info --json` document. */
export interface InfoReport {
  version: string;
  node: string;
  platform: string;
  backends: BackendInfo[];
}

/** Probes every backend (cpu, webgpu, gpujs). */
export async function collectInfo(): Promise<InfoReport> {
  return {
    version: VERSION,
    node: process.version,
    platform: `${os.platform()} ${os.arch()} (${os.release()})`,
    backends: await listBackends(),
  };
}

/** A few limits worth a glance in the table; `--json` has them all. */
const SHOWN_LIMITS = ['maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'logicalCores', 'totalMemoryBytes'];

/** Human-readable form of the report. */
export function formatInfo(r: InfoReport): string {
  const lines = [`gpulmm ${r.version}, Node ${r.node}, ${r.platform}`, ''];
  const head = ['backend', 'available', 'precision', 'adapter'];
  const rows = r.backends.map((b) => [
    b.name,
    b.available ? 'yes' : 'no',
    b.precision,
    b.adapter ? `${b.adapter.vendor} / ${b.adapter.architecture} / ${b.adapter.device}${b.adapter.isSoftware ? ' (software)' : ''}` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  lines.push(line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '');
  for (const b of r.backends) {
    if (!b.available) {
      lines.push(`${b.name}: unavailable: ${b.reason ?? 'no reason given'}`);
      continue;
    }
    if (!b.adapter) continue;
    const limits = SHOWN_LIMITS.filter((k) => k in b.adapter!.limits).map((k) => `${k}=${b.adapter!.limits[k]}`);
    lines.push(`${b.name}: ${b.adapter.description}${limits.length ? `; ${limits.join(', ')}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('Show versions and every kernel backend with its adapter (vendor, architecture, device, limits)')
    .option('--json', 'print the report as JSON: { version, node, platform, backends: [...] }')
    .action(
      action('info', async (opts: { json?: boolean }) => {
        const report = await collectInfo();
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInfo(report));
      }),
    );
}
