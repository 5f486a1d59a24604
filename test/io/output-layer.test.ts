/**
 * The output layer (src/io/atomic-file.ts, run-files.ts, input-file.ts): an output never replaces an input or
 * another output of its run, special files are written in place, a run's outputs appear together, and
 * temporaries are removed on errors and signals.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { openAtomic, openAtomicDir, writeFileAtomic } from '../../src/io/atomic-file.js';
import { openInput, readInput } from '../../src/io/input-file.js';
import { withRunFiles } from '../../src/io/run-files.js';

const dir = mkdtempSync(join(tmpdir(), 'gpulmm-outlayer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hidden = (d = dir) => readdirSync(d).filter((n) => n.startsWith('.'));

describe('inputs and outputs of a run never meet', () => {
  it('an output that is an input (same path, another spelling, a hard link, a symbolic link) is refused; the input is unchanged', async () => {
    const input = join(dir, 'pheno.txt');
    writeFileSync(input, 'data\n');
    linkSync(input, join(dir, 'hard.txt'));
    symlinkSync('pheno.txt', join(dir, 'soft.txt'));
    for (const out of [input, join(dir, 'sub', '..', 'pheno.txt'), join(dir, 'hard.txt'), join(dir, 'soft.txt')]) {
      const run = withRunFiles(async () => {
        await readInput(input);
        await writeFileAtomic(out, 'results\n');
      });
      await expect(run).rejects.toThrow(UsageError);
      await expect(run).rejects.toThrow(/is an input of this run.*choose another output path/);
    }
    expect(readFileSync(input, 'utf8')).toBe('data\n');
    expect(hidden()).toEqual([]);
  });

  it('an input opened after an output claimed its path is refused too', async () => {
    const input = join(dir, 'late.txt');
    writeFileSync(input, 'late\n');
    const run = withRunFiles(async () => {
      const f = await openAtomic(input);
      await f.write('x');
      await openInput(input);
    });
    await expect(run).rejects.toThrow(/late\.txt is read by this run and also one of its outputs/);
    expect(readFileSync(input, 'utf8')).toBe('late\n');
    expect(hidden()).toEqual([]);
  });

  it('two outputs of one run with the same path are refused', async () => {
    const run = withRunFiles(async () => {
      await writeFileAtomic(join(dir, 'twice.json'), '1');
      await writeFileAtomic(join(dir, '.', 'twice.json'), '2');
    });
    await expect(run).rejects.toThrow(/twice\.json is written twice by this run/);
    expect(existsSync(join(dir, 'twice.json'))).toBe(false);
    expect(hidden()).toEqual([]);
  });

  it('outside a run (library use) nothing is cross-checked', async () => {
    const path = join(dir, 'lib.txt');
    writeFileSync(path, 'a');
    await readInput(path);
    await writeFileAtomic(path, 'b');
    expect(readFileSync(path, 'utf8')).toBe('b');
  });
});

describe("a run's outputs appear together", () => {
  it('a committed output waits for the end of the run; a failure afterwards leaves the previous outputs and no temporary', async () => {
    const a = join(dir, 'res.tsv');
    const b = join(dir, 'res.json');
    writeFileSync(a, 'old a');
    writeFileSync(b, 'old b');
    const run = withRunFiles(async () => {
      await writeFileAtomic(a, 'new a');
      expect(readFileSync(a, 'utf8')).toBe('old a');
      const f = await openAtomic(b);
      await f.write('new b partial');
      throw new Error('the run fails after the first output');
    });
    await expect(run).rejects.toThrow(/fails after/);
    expect(readFileSync(a, 'utf8')).toBe('old a');
    expect(readFileSync(b, 'utf8')).toBe('old b');
    expect(hidden()).toEqual([]);
    await withRunFiles(async () => {
      await writeFileAtomic(a, 'new a');
      await writeFileAtomic(b, 'new b');
    });
    expect([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')]).toEqual(['new a', 'new b']);
    expect(hidden()).toEqual([]);
  });

  it("a directory output of a failed run leaves no trace; `publish: 'now'` (caches) is renamed at commit", async () => {
    const ds = join(dir, 'ds');
    const run = withRunFiles(async () => {
      const d = await openAtomicDir(ds, async () => true);
      writeFileSync(join(d.tempPath, 'part.arrow'), 'x');
      await d.commit();
      await writeFileAtomic(join(dir, 'cache.bin'), 'c', { publish: 'now' });
      expect(readFileSync(join(dir, 'cache.bin'), 'utf8')).toBe('c');
      throw new Error('boom');
    });
    await expect(run).rejects.toThrow(/boom/);
    expect(existsSync(ds)).toBe(false);
    expect(hidden()).toEqual([]);
  });
});

describe('special files are written in place, never replaced', () => {
  it('a FIFO is written directly (a reader gets the bytes; the FIFO stays a FIFO)', async () => {
    const fifo = join(dir, 'out.fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return void console.warn('skipped: mkfifo not available');
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
    const done = new Promise((r) => reader.on('close', r));
    await withRunFiles(() => writeFileAtomic(fifo, 'through the pipe\n'));
    await done;
    expect(got).toBe('through the pipe\n');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(hidden()).toEqual([]);
  });

  it('a symbolic link to a device stays a link to the device (and the device a device); a link to a file keeps linking', async () => {
    const link = join(dir, 'null-link');
    symlinkSync('/dev/null', link);
    await withRunFiles(() => writeFileAtomic(link, 'discarded\n'));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'old');
    symlinkSync('target.txt', join(dir, 'file-link'));
    await withRunFiles(() => writeFileAtomic(join(dir, 'file-link'), 'new'));
    expect(lstatSync(join(dir, 'file-link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(hidden()).toEqual([]);
  });

  it('/dev/stdout goes to the process stdout stream', async () => {
    let captured = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((captured += Buffer.from(s).toString()), true));
    try {
      await withRunFiles(() => writeFileAtomic('/dev/stdout', 'to stdout\n'));
    } finally {
      spy.mockRestore();
    }
    expect(captured).toBe('to stdout\n');
  });

  it('a path ending in "/" or naming a directory is a usage error, not a rename failure', async () => {
    await expect(writeFileAtomic(join(dir, 'nodir') + '/', 'x')).rejects.toThrow(/ends in "\/" but a file name is expected/);
    await expect(writeFileAtomic(dir, 'x')).rejects.toThrow(/is a directory: expected a file name/);
  });
});

describe('temporaries never outlive the process', () => {
  // The built module (npm ci builds it): a child process of plain node, as the CLI runs.
  const built = resolve('dist/src/io/atomic-file.js');
  const script = (body: string) => `
    const { openAtomic } = await import(${JSON.stringify(built)});
    ${body}`;
  const runNode = (code: string) => spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it.skipIf(!existsSync(built))(`${signal}: the temporary is removed and the process exits with ${code}`, async () => {
      const d = mkdtempSync(join(dir, 'sig-'));
      const child = runNode(script(`const f = await openAtomic(${JSON.stringify(join(d, 'out.tsv'))}); await f.write('x'.repeat(2 << 20)); console.log('ready'); setInterval(() => {}, 1000);`));
      await new Promise<void>((r) => child.stdout.on('data', (s: Buffer) => s.toString().includes('ready') && r()));
      expect(hidden(d).length).toBe(1);
      const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      child.kill(signal);
      expect(await exit).toBe(code);
      expect(readdirSync(d)).toEqual([]);
    }, 20000);
  }

  it.skipIf(!existsSync(built))('SIGKILL leaves only a hidden temporary, removed by the next run that writes the same file', async () => {
    const d = mkdtempSync(join(dir, 'kill-'));
    const out = join(d, 'out.tsv');
    const child = runNode(script(`const f = await openAtomic(${JSON.stringify(out)}); await f.write('x'.repeat(2 << 20)); console.log('ready'); setInterval(() => {}, 1000);`));
    await new Promise<void>((r) => child.stdout.on('data', (s: Buffer) => s.toString().includes('ready') && r()));
    const exit = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exit;
    expect(existsSync(out)).toBe(false);
    expect(hidden(d)).toHaveLength(1);
    await writeFileAtomic(out, 'complete\n');
    expect(readdirSync(d)).toEqual(['out.tsv']);
  }, 20000);
});
