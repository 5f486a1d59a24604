/**
 * The files of one run (one CLI command), so that bad paths lose nothing:
 * - **inputs and outputs never meet**: an output that resolves to an input of the run (same device and inode, or
 *   the same real path) or to another output of the run is refused with a UsageError, whichever of the two is
 *   opened first (atomic-file.ts claims outputs, input-file.ts notes inputs);
 * - **outputs appear together**: an output committed during the run is published (renamed into place) only when
 *   the whole run succeeds; a run that fails removes every temporary it made, so a failure after the first file
 *   is complete leaves the previous outputs, not a mixture;
 * - **temporaries never outlive the process**: a process-wide registry removes them at exit and on SIGINT, SIGTERM
 *   and SIGHUP (then the process exits with 128 + the signal number: 130, 143, 129). SIGKILL cannot be caught:
 *   its hidden temporaries (`.NAME.PID-XXXXXXXX.tmp`) stay, and are removed by the next run that writes NAME.
 *
 * Outside a run (library use) nothing is cross-checked and commits are immediate. The run is carried through
 * awaits by AsyncLocalStorage, so concurrent runs in one process (tests) keep their own files.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { rmSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';

/** How a file is recognised: its device and inode, and its real path. */
export interface FileIdentity {
  /** `dev:ino`, or undefined when the file does not exist (yet). */
  inode: string | undefined;
  /** Absolute path with symbolic links resolved (for a file that does not exist: its resolved parent + name). */
  real: string;
}

/** `dev:ino` of a stat result. */
export const inodeKey = (st: Stats): string => `${st.dev}:${st.ino}`;

/** A committed output waiting for the end of the run. */
interface Pending {
  /** Renames the finished temporary into place. */
  publish(): Promise<void>;
  /** Removes the finished temporary (the run failed). */
  discard(): void;
}

/** One run's inputs, outputs, temporaries and outputs waiting to be published. */
export class RunFiles {
  private readonly inputs: { path: string; id: FileIdentity }[] = [];
  private readonly outputs: { path: string; id: FileIdentity }[] = [];
  /** Temporaries made by this run, each with what closes its open file (if any). */
  private readonly temps = new Map<string, (() => Promise<void>) | undefined>();
  private readonly pending: Pending[] = [];

  /** Records an input; UsageError when it is an output of this run. */
  noteInput(path: string, id: FileIdentity): void {
    const out = this.outputs.find((o) => sameFile(o.id, id));
    if (out) throw new UsageError(`${path} is read by this run and also one of its outputs (${out.path}): choose another output path`);
    if (!this.inputs.some((i) => sameFile(i.id, id))) this.inputs.push({ path, id });
  }

  /** Claims an output path; UsageError when it is an input or another output of this run. */
  claimOutput(path: string, id: FileIdentity): void {
    this.checkOutput(path, id);
    const other = this.outputs.find((o) => o.id.real === id.real);
    if (other) throw new UsageError(`${path} is written twice by this run (also as ${other.path}): give each output its own path`);
    this.outputs.push({ path, id });
  }

  /** Gives up the claim on an output that was aborted before it was committed: the run may open it again. */
  releaseOutput(path: string): void {
    const k = this.outputs.findIndex((o) => o.path === path);
    if (k >= 0) this.outputs.splice(k, 1);
  }

  /** UsageError when `path` (an output about to be replaced) is an input of this run. */
  checkOutput(path: string, id: FileIdentity): void {
    const input = this.inputs.find((i) => sameFile(i.id, id));
    if (input) {
      const same = input.path === path ? '' : ` (given as ${input.path})`;
      throw new UsageError(`${path} is an input of this run${same}: writing it would replace the input; choose another output path`);
    }
  }

  /** A temporary made by this run (removed if the run fails, after `close`). */
  addTemp(path: string, close?: () => Promise<void>): void {
    this.temps.set(path, close);
  }

  deleteTemp(path: string): void {
    this.temps.delete(path);
  }

  /** Queues a finished output for publication at the end of the run. */
  defer(p: Pending): void {
    this.pending.push(p);
  }

  /** Publishes the queued outputs in the order they were committed; on a failure the rest are discarded. */
  async publish(): Promise<void> {
    const queue = this.pending.splice(0);
    for (let k = 0; k < queue.length; k++) {
      try {
        await queue[k]!.publish();
      } catch (e) {
        for (const p of queue.slice(k + 1)) p.discard();
        throw e;
      }
    }
  }

  /** The run failed: removes its queued outputs and every temporary it still has (closing their files first). */
  async discard(): Promise<void> {
    for (const p of this.pending.splice(0)) p.discard();
    const temps = [...this.temps];
    this.temps.clear();
    for (const [t, close] of temps) {
      await close?.().catch(() => undefined);
      removeTemporary(t);
    }
  }
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return (a.inode !== undefined && a.inode === b.inode) || a.real === b.real;
}

const storage = new AsyncLocalStorage<RunFiles>();

/** The run the caller is part of, if any. */
export function currentRun(): RunFiles | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` as one run (see the module comment): on success its committed outputs are published; on any error
 * they and its temporaries are removed, and the error is rethrown.
 */
export async function withRunFiles<T>(fn: () => Promise<T>): Promise<T> {
  const run = new RunFiles();
  return storage.run(run, async () => {
    try {
      const result = await fn();
      await run.publish();
      return result;
    } catch (e) {
      await run.discard();
      throw e;
    }
  });
}

// ---- process-wide registry of temporaries ----

const temporaries = new Set<string>();
let hooksInstalled = false;

/** Signals that remove the temporaries before the process ends, with their numbers (exit code 128 + number). */
const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Removes every temporary; returns how many there were. */
function removeAllTemporaries(): number {
  const n = temporaries.size;
  for (const t of temporaries) removeTemporary(t);
  return n;
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => void removeAllTemporaries());
  for (const [signal, number] of Object.entries(SIGNALS) as [NodeJS.Signals, number][]) {
    process.on(signal, () => {
      const n = removeAllTemporaries();
      if (n > 0) process.stderr.write(`gpulmm: stopped by ${signal}: ${n} unfinished output${n === 1 ? '' : 's'} removed, earlier outputs left as they were\n`);
      process.exit(128 + number);
    });
  }
}

/**
 * Registers a temporary file or directory: removed at exit, on SIGINT/SIGTERM/SIGHUP, and if the run fails
 * (after `close`, which closes the file its writer still holds).
 */
export function trackTemporary(path: string, close?: () => Promise<void>): void {
  installHooks();
  temporaries.add(path);
  currentRun()?.addTemp(path, close);
}

/** The temporary was renamed into place or removed by its owner. */
export function untrackTemporary(path: string): void {
  temporaries.delete(path);
  currentRun()?.deleteTemp(path);
}

/** Removes a temporary (file or directory) now, synchronously, and forgets it. */
export function removeTemporary(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // already gone, or not ours to remove any more
  }
  temporaries.delete(path);
}
