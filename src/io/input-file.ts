/**
 * Opening an input file: the one place that turns the operating system's refusal into an InputError naming the
 * file in plain words (`cannot open: no such file (ENOENT)`, `is a directory, expected a file`, `permission
 * denied`), and that notes the file as an input of the current run (run-files.ts), so that no output of the run
 * can replace it.
 */
import { closeSync, fstatSync, openSync, readFileSync, statSync, type ReadStream, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { fileIdentity, fileIdentitySync } from './atomic-file.js';
import { currentRun } from './run-files.js';

const WHY: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, expected a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a parent in the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/** The InputError for a file that cannot be opened or read (`e`: the error of the system call). */
export function cannotOpen(path: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why = code ? `${WHY[code] ?? 'error'} (${code})` : String(e);
  return new InputError(path, undefined, undefined, `cannot open: ${why}`);
}

/**
 * A directory, a pipe (FIFO, e.g. the shell's `<(...)`) or a socket is refused: readers seek, and several read a
 * file more than once, which a pipe cannot give (it failed with ESPIPE). Devices (/dev/null: empty) are read.
 */
function checkRegular(path: string, st: Stats): void {
  if (st.isDirectory()) throw new InputError(path, undefined, undefined, 'cannot open: is a directory, expected a file (EISDIR)');
  if (st.isFIFO() || st.isSocket()) {
    throw new InputError(path, undefined, undefined, `cannot read: is a ${st.isFIFO() ? 'pipe (FIFO)' : 'socket'}, expected a file: inputs are read by position and some more than once; save it to a file first`);
  }
}

/** Notes `path` as an input of the current run (UsageError if the run writes it). No-op outside a run. */
export async function noteInput(path: string): Promise<void> {
  const run = currentRun();
  if (run) run.noteInput(path, await fileIdentity(path));
}

/** noteInput, synchronously. */
export function noteInputSync(path: string): void {
  const run = currentRun();
  if (run) run.noteInput(path, fileIdentitySync(path));
}

/** Opens `path` for reading: InputError naming it when it is missing, a directory or unreadable; noted as an input. */
export async function openInput(path: string): Promise<FileHandle> {
  // stat first: opening a pipe that no one writes would block for ever
  checkRegular(path, await stat(path).catch((e: unknown) => {
    throw cannotOpen(path, e);
  }));
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw cannotOpen(path, e);
  });
  try {
    checkRegular(path, await fh.stat());
    await noteInput(path);
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh;
}

/** openInput, synchronously: a file descriptor. */
export function openInputSync(path: string): number {
  let fd: number;
  try {
    checkRegular(path, statSync(path));
    fd = openSync(path, 'r');
  } catch (e) {
    throw cannotOpen(path, e);
  }
  try {
    checkRegular(path, fstatSync(fd));
    noteInputSync(path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** The whole file (see openInput). */
export async function readInput(path: string): Promise<Buffer> {
  const fh = await openInput(path);
  try {
    return await fh.readFile();
  } catch (e) {
    throw cannotOpen(path, e);
  } finally {
    await fh.close();
  }
}

/** The whole file, synchronously (see openInput). */
export function readInputSync(path: string): Buffer {
  const fd = openInputSync(path);
  try {
    return readFileSync(fd);
  } catch (e) {
    throw cannotOpen(path, e);
  } finally {
    closeSync(fd);
  }
}

/** A read stream over the file (opened and checked first: see openInput); the stream closes the file. */
export async function inputReadStream(path: string, options: { highWaterMark?: number; start?: number } = {}): Promise<ReadStream> {
  const fh = await openInput(path);
  return fh.createReadStream({ ...options, autoClose: true });
}
