/**
 * A run stopped mid-scan leaves nothing but the previous complete outputs (issue 17): SIGINT and SIGTERM remove
 * the run's temporaries before the process exits (130, 143); SIGKILL cannot be caught, so its hidden temporaries
 * stay until the next run that writes the same outputs removes them. The compiled CLI runs as a child process on a
 * cohort of 40,000 SNPs (data/sim's 2,000 repeated) so that the scan lasts long enough to be stopped half way: the
 * signal is sent once the Arrow output's temporary holds its first flushed results.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, snapshot } from './runner.js';

const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const REPEATS = 20;
const OUTPUTS = ['o.arrows', 'o.json', 'o.txt'];
const HIDDEN_TEMP = /^\.o\.(arrows|json|txt)\.\d+-[0-9a-f]{8}\.(tmp|old)$/;

let cohort: string;
let kinship: string;

/** data/sim's .bed/.bim repeated REPEATS times (SNP names and positions made distinct), its .fam, and its kinship. */
function bigCohort(dir: string): void {
  const bed = readFileSync(join(DATA, 'sim/sim.bed'));
  const body = bed.subarray(3);
  writeFileSync(join(dir, 'big.bed'), Buffer.concat([bed.subarray(0, 3), ...Array.from({ length: REPEATS }, () => body)]));
  const bim = readFileSync(join(DATA, 'sim/sim.bim'), 'utf8').trimEnd().split('\n');
  const lines: string[] = [];
  for (let k = 0; k < REPEATS; k++) {
    for (const l of bim) {
      const f = l.split(/\s+/);
      lines.push([f[0], `${f[1]}_${k}`, f[2], Number(f[3]) + k * 1e7, f[4], f[5]].join(' '));
    }
  }
  writeFileSync(join(dir, 'big.bim'), `${lines.join('\n')}\n`);
  copyFileSync(join(DATA, 'sim/sim.fam'), join(dir, 'big.fam'));
  const k = spawnSync(process.execPath, [CLI, 'grm', '--bfile', join(DATA, 'sim/sim'), '--out', join(dir, 'k.txt')], { encoding: 'utf8' });
  if (k.status !== 0) throw new Error(`grm failed: ${k.stderr}`);
}

/** A case directory with the previous complete outputs of an earlier run (recognisable bytes). */
function withPreviousOutputs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-kill-'));
  for (const o of OUTPUTS) writeFileSync(join(dir, o), `previous complete ${o}\n`);
  return dir;
}

const gwasArgs = (dir: string, prefix = join(cohort, 'big'), extra = ['--kinship', kinship]): string[] => [
  CLI, 'gwas', '--backend', 'cpu', '--bfile', prefix, ...extra, '--out', join(dir, 'o.arrows'), '--tsv', join(dir, 'o.txt'),
];

/** Starts the scan, waits until its Arrow temporary holds data (the scan is under way), sends `signal`. */
async function stopMidScan(dir: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, gwasArgs(dir), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  const deadline = Date.now() + 60_000;
  let sent = false;
  while (Date.now() < deadline && child.exitCode === null) {
    const temp = readdirSync(dir).find((n) => /^\.o\.arrows\..*\.tmp$/.test(n));
    if (temp && statSync(join(dir, temp), { throwIfNoEntry: false })?.size) {
      child.kill(signal);
      sent = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const result = await exited;
  expect(sent, `the scan ended before it could be stopped: ${stderr}`).toBe(true);
  return { ...result, stderr };
}

const previousIntact = (dir: string): void => {
  for (const o of OUTPUTS) expect(readFileSync(join(dir, o), 'utf8'), o).toBe(`previous complete ${o}\n`);
};

describe.skipIf(!existsSync(CLI))('a killed scan leaves nothing but the previous complete outputs (compiled CLI)', () => {
  const dirs: string[] = [];
  beforeAll(() => {
    cohort = mkdtempSync(join(tmpdir(), 'gpulmm-kill-cohort-'));
    dirs.push(cohort);
    bigCohort(cohort);
    kinship = join(cohort, 'k.txt');
  }, 60_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: exit ${code}, temporaries removed, previous outputs as they were`, async () => {
      const dir = withPreviousOutputs();
      dirs.push(dir);
      const before = snapshot(dir);
      const r = await stopMidScan(dir, signal);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(new RegExp(`stopped by ${signal}: \\d+ unfinished outputs? removed, earlier outputs left as they were`));
      expect(snapshot(dir)).toEqual(before);
      previousIntact(dir);
    }, 90_000);
  }

  it('SIGKILL: previous outputs intact; the next run writing the same outputs removes the stale temporaries', async () => {
    const dir = withPreviousOutputs();
    dirs.push(dir);
    const r = await stopMidScan(dir, 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    previousIntact(dir);
    const stale = readdirSync(dir).filter((n) => n.startsWith('.'));
    expect(stale.length).toBeGreaterThan(0);
    for (const n of stale) expect(n).toMatch(HIDDEN_TEMP);
    // the next run (the small cohort, same output paths) completes and cleans up after the killed one
    const next = spawnSync(process.execPath, gwasArgs(dir, join(DATA, 'sim/sim'), []), { encoding: 'utf8' });
    expect(next.status, next.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(OUTPUTS);
    expect(readFileSync(join(dir, 'o.txt'), 'utf8')).toMatch(/^chr\trs\tps/);
  }, 90_000);
});
