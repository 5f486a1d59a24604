/**
 * Crash-safe output files: bytes go to a hidden temporary file in the destination's directory
 * (`.name.<pid>-<random>.tmp`), which is fsynced and renamed over the destination only on commit(). A run that
 * fails or is killed therefore never leaves a file under the final name that looks complete; on a normal process
 * exit, temporaries not yet committed are removed. Missing parent directories are created (like `mkdir -p`).
 * Whole directories (a partitioned dataset) are written the same way: see openAtomicDir.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { basename, dirname, join } from 'node:path';

export interface AtomicFile {
  /** Final destination. */
  readonly path: string;
  /** Where the bytes are while the file is being written (flushed content is readable there). */
  readonly tempPath: string;
  /**
   * Appends text (UTF-8) or bytes. Buffered up to 1 MiB; when the buffer is full the returned promise waits for
   * the disk write, so a producer that awaits each write is held to the disk's pace (backpressure).
   */
  write(data: string | Uint8Array): Promise<void>;
  /** Writes out everything buffered so far (readers of tempPath then see it). */
  flush(): Promise<void>;
  /** Flushes, fsyncs, closes and renames the temporary onto `path`. */
  commit(): Promise<void>;
  /** Closes and deletes the temporary; `path` is left untouched. Safe after a failed write; no-op once committed. */
  abort(): Promise<void>;
}

const BUFFER_BYTES = 1 << 20;
const pendingTemps = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const t of pendingTemps) {
      try {
        rmSync(t, { recursive: true, force: true });
      } catch {
        // already gone
      }
    }
  });
}

/** `.name.<pid>-<random>.<suffix>` next to `path`. */
function hiddenSibling(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.${suffix}`);
}

/** Opens `path` for atomic writing (see AtomicFile). Missing parent directories are created. */
export async function openAtomic(path: string): Promise<AtomicFile> {
  if (typeof path !== 'string' || path === '') throw new TypeError('openAtomic: expected a non-empty path');
  const tempPath = hiddenSibling(path, 'tmp');
  let fh: FileHandle | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    fh = await open(tempPath, 'wx');
  } catch (e) {
    throw new Error(`cannot create ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (writing to ${tempPath})`);
  }
  installExitHook();
  pendingTemps.add(tempPath);
  return new AtomicFileImpl(path, tempPath, fh);
}

class AtomicFileImpl implements AtomicFile {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
  ) {}

  private checkOpen(op: string): void {
    if (this.state !== 'open') throw new Error(`${op} on ${this.path}: file already ${this.state}`);
  }

  async write(data: string | Uint8Array): Promise<void> {
    this.checkOpen('write');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.byteLength === 0) return;
    this.chunks.push(bytes);
    this.buffered += bytes.byteLength;
    if (this.buffered >= BUFFER_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    this.checkOpen('flush');
    if (this.buffered === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    let off = 0;
    while (off < data.byteLength) {
      const { bytesWritten } = await this.fh.write(data, off, data.byteLength - off);
      off += bytesWritten;
    }
  }

  async commit(): Promise<void> {
    this.checkOpen('commit');
    try {
      await this.flush();
      await this.fh.sync();
      this.state = 'committed';
      await this.fh.close();
      await rename(this.tempPath, this.path);
    } catch (e) {
      this.state = 'aborted';
      await this.fh.close().catch(() => undefined);
      await unlink(this.tempPath).catch(() => undefined);
      pendingTemps.delete(this.tempPath);
      throw e;
    }
    pendingTemps.delete(this.tempPath);
    // Make the rename itself durable (not supported on every platform: best effort).
    try {
      const dir = await open(dirname(this.path), 'r');
      await dir.sync().finally(() => dir.close());
    } catch {
      // directory fsync unsupported
    }
  }

  /** No-op once committed or aborted. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.chunks = [];
    await this.fh.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
    pendingTemps.delete(this.tempPath);
  }
}

/** Writes a whole file atomically: `data` goes to a temporary name that is renamed to `path` once complete. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const file = await openAtomic(path);
  try {
    await file.write(data);
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
}

/** A directory written as a whole: files go under `tempPath`, and commit() puts the directory at `path`. */
export interface AtomicDir {
  /** Final destination. */
  readonly path: string;
  /** The hidden directory (next to `path`) to write into. */
  readonly tempPath: string;
  /**
   * Moves the temporary directory to `path`. An existing `path` (checked again with `replaceable`) is first
   * renamed aside, then removed once the new directory is in place: readers see the old or the new complete
   * directory, or (for the instant between the two renames) none, never a mixture.
   */
  commit(): Promise<void>;
  /** Removes the temporary directory; `path` is left untouched. No-op once committed or aborted. */
  abort(): Promise<void>;
}

/**
 * Opens directory `path` for atomic writing (see AtomicDir); missing parents are created. When `path` already
 * exists, `replaceable(path)` must say it may be replaced (e.g. it is an earlier output of the same kind),
 * else UsageError, so that a mistyped path never deletes a user's directory. Checked now (before any work)
 * and again at commit.
 */
export async function openAtomicDir(path: string, replaceable: (existing: string) => Promise<boolean>): Promise<AtomicDir> {
  if (typeof path !== 'string' || path === '') throw new TypeError('openAtomicDir: expected a non-empty path');
  const target = path.replace(/\/+$/, '') || path;
  await checkReplaceable(target, replaceable);
  const tempPath = hiddenSibling(target, 'tmp');
  try {
    await mkdir(tempPath, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create ${target}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (writing to ${tempPath})`);
  }
  installExitHook();
  pendingTemps.add(tempPath);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const abort = async (): Promise<void> => {
    if (state !== 'open') return;
    state = 'aborted';
    await rm(tempPath, { recursive: true, force: true });
    pendingTemps.delete(tempPath);
  };
  return {
    path: target,
    tempPath,
    abort,
    async commit(): Promise<void> {
      if (state !== 'open') throw new Error(`commit on ${target}: directory already ${state}`);
      try {
        const existing = await checkReplaceable(target, replaceable);
        let aside: string | undefined;
        if (existing) {
          aside = hiddenSibling(target, 'old');
          await rename(target, aside);
          pendingTemps.add(aside);
        }
        try {
          await rename(tempPath, target);
        } catch (e) {
          if (aside) await rename(aside, target).catch(() => undefined);
          throw e;
        }
        state = 'committed';
        pendingTemps.delete(tempPath);
        if (aside) {
          await rm(aside, { recursive: true, force: true });
          pendingTemps.delete(aside);
        }
      } catch (e) {
        await abort();
        throw e;
      }
      try {
        const dir = await open(dirname(target), 'r');
        await dir.sync().finally(() => dir.close());
      } catch {
        // directory fsync unsupported
      }
    },
  };
}

/** Whether `path` exists; throws UsageError when it exists but `replaceable` refuses it. */
async function checkReplaceable(path: string, replaceable: (existing: string) => Promise<boolean>): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return false;
  if (!(await replaceable(path))) {
    throw new UsageError(`${path} already exists and is not an earlier output of this kind (${st.isDirectory() ? 'it holds other files' : 'it is not a directory'}): remove it or choose another path`);
  }
  return true;
}
