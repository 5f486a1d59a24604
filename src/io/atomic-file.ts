/**
 * The output layer: every file or directory the project writes goes through here.
 * - **Atomic**: bytes go to a hidden temporary in the destination's directory (`.name.<pid>-<random>.tmp`), which
 *   is fsynced and renamed over the destination only on commit(); a run that fails or is killed never leaves a
 *   file under the final name that looks complete. Missing parent directories are created (like `mkdir -p`).
 *   Whole directories (a partitioned dataset) are written the same way: see openAtomicDir.
 * - **Special files are written, never replaced**: `/dev/stdout` and `/dev/stderr` (and `/dev/fd/1`, `/dev/fd/2`)
 *   go to the process's own stream; devices (`/dev/null`), FIFOs and sockets are opened and written directly (a
 *   rename over them would replace the device node itself). A symbolic link to a regular file stays a link: its
 *   target is replaced.
 * - **Inputs are safe** (run-files.ts): inside a run, an output that resolves to an input of the run or to another
 *   of its outputs is refused (UsageError), outputs are published together when the run succeeds, and temporaries
 *   are removed on any error and on SIGINT/SIGTERM/SIGHUP.
 * Errors name the path: UsageError for a path that cannot be written (a directory, no permission, a missing
 * parent that cannot be made), ResourceError when the disk is full.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GpulmmError, ResourceError, UsageError } from '../errors.js';
import { currentRun, inodeKey, removeTemporary, trackTemporary, untrackTemporary, type FileIdentity } from './run-files.js';

export interface AtomicFile {
  /** Final destination. */
  readonly path: string;
  /** Where the bytes are while the file is being written (flushed content is readable there); `path` for a special file. */
  readonly tempPath: string;
  /**
   * Appends text (UTF-8) or bytes. Buffered up to 1 MiB; when the buffer is full the returned promise waits for
   * the disk write, so a producer that awaits each write is held to the disk's pace (backpressure).
   */
  write(data: string | Uint8Array): Promise<void>;
  /** Writes out everything buffered so far (readers of tempPath then see it). */
  flush(): Promise<void>;
  /**
   * Flushes, fsyncs, closes and renames the temporary onto `path` (inside a run: when the run succeeds, see
   * run-files.ts). A special file is flushed and closed.
   */
  commit(): Promise<void>;
  /** Closes and deletes the temporary; `path` is left untouched. Safe after a failed write; no-op once committed. */
  abort(): Promise<void>;
}

/** How an output is published. */
export interface OpenAtomicOptions {
  /**
   * `run` (default): inside a run, renamed into place when the whole run succeeds (with its other outputs);
   * `now`: at commit, even inside a run (entries of a cache that outlives the run).
   */
  publish?: 'run' | 'now';
  /** Permission bits of a new regular file, e.g. 0o755 for a script (default: 0o666 less the umask). */
  mode?: number;
}

const BUFFER_BYTES = 1 << 20;

/** Where the bytes of an output go. */
interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** `.name.<pid>-<random>.<suffix>` next to `path`. */
function hiddenSibling(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.${suffix}`);
}

/**
 * `mkdir -p dir`, one level at a time from the deepest existing ancestor. (Node's recursive mkdir loops for ever
 * where mkdir fails with ENOENT under a parent that exists, e.g. anywhere under /proc.) Errors are the system's.
 */
export async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!(await stat(d).catch(() => undefined))) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) await mkdir(m).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  });
}

/** The identity of a path for the run's input/output checks (see run-files.ts); the path need not exist. */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const st = await stat(path).catch(() => undefined);
  const abs = resolve(path);
  const real = await realpath(abs).catch(async () => join(await realpath(dirname(abs)).catch(() => dirname(abs)), basename(abs)));
  return { inode: st ? inodeKey(st) : undefined, real };
}

/** fileIdentity, synchronously (for readers that open files synchronously). */
export function fileIdentitySync(path: string): FileIdentity {
  let inode: string | undefined;
  try {
    inode = inodeKey(statSync(path));
  } catch {
    inode = undefined;
  }
  const abs = resolve(path);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    try {
      real = join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      real = abs;
    }
  }
  return { inode, real };
}

/** The descriptor a `/dev/stdout`-like path names (1 or 2), else undefined. */
function standardStream(path: string): NodeJS.WriteStream | undefined {
  const m = /^\/(?:dev\/(?:fd\/)?|proc\/self\/fd\/)(stdout|stderr|1|2)$/.exec(path);
  if (!m) return undefined;
  return m[1] === 'stdout' || m[1] === '1' ? process.stdout : process.stderr;
}

/** What writing to `path` means: a standard stream, a special file written in place, or an atomic replacement of `target`. */
type Destination = { kind: 'stream'; stream: NodeJS.WriteStream } | { kind: 'special'; charDevice: boolean } | { kind: 'atomic'; target: string };

async function destinationOf(path: string): Promise<Destination> {
  const stream = standardStream(path);
  if (stream) return { kind: 'stream', stream };
  if (/[/\\]$/.test(path)) throw new UsageError(`${path}: ends in "/" but a file name is expected here`);
  const link = await lstat(path).catch(() => undefined);
  if (!link) return { kind: 'atomic', target: path };
  const st = link.isSymbolicLink() ? await stat(path).catch(() => undefined) : link;
  if (!st) return { kind: 'atomic', target: path }; // a dangling link is replaced by the file
  if (st.isDirectory()) throw new UsageError(`${path} is a directory: expected a file name`);
  if (!st.isFile()) return { kind: 'special', charDevice: st.isCharacterDevice() };
  return { kind: 'atomic', target: link.isSymbolicLink() ? await realpath(path) : path };
}

/** The error to throw when creating, writing or renaming an output failed with `e`. */
export function outputError(path: string, e: unknown, doing = 'cannot write'): Error {
  if (e instanceof GpulmmError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ResourceError(`${path}: ${doing}: no space left on the device (${code}): free some space or write to another disk`);
  }
  if (code === undefined) return e instanceof Error ? e : new Error(String(e));
  const why: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'read-only file system', ENOTDIR: 'a parent is not a directory',
    EEXIST: 'a parent is not a directory', EISDIR: 'is a directory', ENAMETOOLONG: 'name too long', ENOENT: 'its directory does not exist', ELOOP: 'too many symbolic links',
  };
  return new UsageError(`${path}: ${doing}: ${why[code] ?? 'error'} (${code})`);
}

/**
 * Removes the temporaries that runs killed by SIGKILL left next to `path` (`.name.<pid>-<hex>.tmp|old` whose
 * process is gone). Best effort: never throws.
 */
function removeStaleTemporaries(path: string): void {
  const base = basename(path);
  const prefix = `.${base}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path)).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(\d+)-[0-9a-f]{8}\.(?:tmp|old)$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    removeTemporary(join(dirname(path), name));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Opens `path` for atomic writing (see the module comment and AtomicFile). Missing parent directories are created. */
export async function openAtomic(path: string, options: OpenAtomicOptions = {}): Promise<AtomicFile> {
  if (typeof path !== 'string' || path === '') throw new TypeError('openAtomic: expected a non-empty path');
  const dest = await destinationOf(path);
  const run = currentRun();
  if (run && !(dest.kind === 'special' && dest.charDevice)) run.claimOutput(path, await fileIdentity(path));
  if (dest.kind === 'stream') return new BufferedFile(path, path, streamSink(dest.stream));
  if (dest.kind === 'special') {
    const fh = await open(path, 'w').catch((e: unknown) => {
      throw outputError(path, e, 'cannot open');
    });
    return new BufferedFile(path, path, specialSink(path, fh));
  }
  const tempPath = hiddenSibling(dest.target, 'tmp');
  let fh: FileHandle;
  try {
    await makeDirectories(dirname(dest.target));
    fh = await open(tempPath, 'wx');
  } catch (e) {
    throw outputError(path, e, 'cannot create');
  }
  trackTemporary(tempPath, () => fh.close());
  removeStaleTemporaries(dest.target);
  const publishNow = options.publish === 'now' || !run;
  return new BufferedFile(path, tempPath, temporarySink(path, dest.target, tempPath, fh, publishNow, options.mode));
}

/** Writes to the process's stdout or stderr (awaiting 'drain' when the stream asks for it); nothing to close. */
function streamSink(stream: NodeJS.WriteStream): Sink {
  return {
    async write(bytes) {
      if (!stream.write(bytes)) await once(stream, 'drain');
    },
    async commit() {},
    async abort() {},
  };
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += (await fh.write(data, off, data.byteLength - off)).bytesWritten;
}

/** A device, FIFO or socket, written in place: there is nothing to rename and nothing to remove. */
function specialSink(path: string, fh: FileHandle): Sink {
  return {
    async write(bytes) {
      await writeAll(fh, bytes).catch((e: unknown) => {
        throw outputError(path, e);
      });
    },
    async commit() {
      await fh.close();
    },
    async abort() {
      await fh.close().catch(() => undefined);
    },
  };
}

/** The temporary of an atomic file: fsynced and renamed onto `target` at commit (or when the run succeeds). */
function temporarySink(path: string, target: string, tempPath: string, fh: FileHandle, publishNow: boolean, mode: number | undefined): Sink {
  const remove = async (): Promise<void> => {
    await fh.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    untrackTemporary(tempPath);
  };
  const publish = async (): Promise<void> => {
    try {
      await rename(tempPath, target);
    } catch (e) {
      await unlink(tempPath).catch(() => undefined);
      untrackTemporary(tempPath);
      throw outputError(path, e, 'cannot rename the finished file into place');
    }
    untrackTemporary(tempPath);
    await syncDirectory(dirname(target));
  };
  return {
    async write(bytes) {
      await writeAll(fh, bytes).catch((e: unknown) => {
        throw outputError(path, e);
      });
    },
    async commit() {
      try {
        if (mode !== undefined) await fh.chmod(mode);
        await fh.sync();
        await fh.close();
      } catch (e) {
        await remove();
        throw outputError(path, e);
      }
      const run = currentRun();
      if (publishNow || !run) await publish();
      else run.defer({ publish, discard: () => removeTemporary(tempPath) });
    },
    async abort() {
      await remove();
      // nothing is left: the run may open the path again (a driver that starts over)
      currentRun()?.releaseOutput(path);
    },
  };
}

/** Makes a rename in `dir` durable (not supported on every platform: best effort). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // directory fsync unsupported
  }
}

/** Buffers writes up to 1 MiB in front of a sink; the state machine shared by every kind of output. */
class BufferedFile implements AtomicFile {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly sink: Sink,
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
    await this.sink.write(data);
  }

  async commit(): Promise<void> {
    this.checkOpen('commit');
    try {
      await this.flush();
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.state = 'committed';
    await this.sink.commit();
  }

  /** No-op once committed or aborted. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.chunks = [];
    await this.sink.abort();
  }
}

/** Writes a whole file atomically: `data` goes to a temporary name that is renamed to `path` once complete. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: OpenAtomicOptions = {}): Promise<void> {
  const file = await openAtomic(path, options);
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
   * Moves the temporary directory to `path` (inside a run: when the run succeeds). An existing `path` (checked
   * again with `replaceable`) is first renamed aside, then removed once the new directory is in place: readers
   * see the old or the new complete directory, or (for the instant between the two renames) none, never a mixture.
   */
  commit(): Promise<void>;
  /** Removes the temporary directory; `path` is left untouched. No-op once committed or aborted. */
  abort(): Promise<void>;
}

/**
 * Opens directory `path` for atomic writing (see AtomicDir); missing parents are created. When `path` already
 * exists, `replaceable(path)` must say it may be replaced (e.g. it is an earlier output of the same kind),
 * else UsageError, so that a mistyped path never deletes a user's directory. Checked now (before any work)
 * and again at commit. Inside a run, `path` must not be an input or another output of the run.
 */
export async function openAtomicDir(path: string, replaceable: (existing: string) => Promise<boolean>): Promise<AtomicDir> {
  if (typeof path !== 'string' || path === '') throw new TypeError('openAtomicDir: expected a non-empty path');
  const target = path.replace(/\/+$/, '') || path;
  await checkReplaceable(target, replaceable);
  const run = currentRun();
  run?.claimOutput(path, await fileIdentity(target));
  const tempPath = hiddenSibling(target, 'tmp');
  try {
    await makeDirectories(dirname(tempPath));
    await mkdir(tempPath);
  } catch (e) {
    throw outputError(target, e, 'cannot create');
  }
  trackTemporary(tempPath);
  removeStaleTemporaries(target);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const abort = async (): Promise<void> => {
    if (state !== 'open') return;
    state = 'aborted';
    await rm(tempPath, { recursive: true, force: true });
    untrackTemporary(tempPath);
    run?.releaseOutput(path);
  };
  const publish = async (): Promise<void> => {
    try {
      const existing = await checkReplaceable(target, replaceable);
      let aside: string | undefined;
      if (existing) {
        aside = hiddenSibling(target, 'old');
        await rename(target, aside);
        trackTemporary(aside);
      }
      try {
        await rename(tempPath, target);
      } catch (e) {
        if (aside) await rename(aside, target).catch(() => undefined);
        throw outputError(target, e, 'cannot rename the finished directory into place');
      }
      untrackTemporary(tempPath);
      if (aside) {
        await rm(aside, { recursive: true, force: true });
        untrackTemporary(aside);
      }
    } catch (e) {
      removeTemporary(tempPath);
      throw e;
    }
    await syncDirectory(dirname(target));
  };
  return {
    path: target,
    tempPath,
    abort,
    async commit(): Promise<void> {
      if (state !== 'open') throw new Error(`commit on ${target}: directory already ${state}`);
      state = 'committed';
      const r = currentRun();
      if (r) r.defer({ publish, discard: () => removeTemporary(tempPath) });
      else await publish();
    },
  };
}

/** Whether `path` exists; throws UsageError when it exists but `replaceable` refuses it. */
async function checkReplaceable(path: string, replaceable: (existing: string) => Promise<boolean>): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return false;
  if (!st.isDirectory() && !st.isFile()) throw new UsageError(`${path} is a special file (device, FIFO or socket): a directory is written here; choose another path`);
  if (!(await replaceable(path))) {
    throw new UsageError(`${path} already exists and is not an earlier output of this kind (${st.isDirectory() ? 'it holds other files' : 'it is not a directory'}): remove it or choose another path`);
  }
  return true;
}
