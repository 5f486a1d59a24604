/**
 * The hostile-input catalogue's runner (issue 17): each case builds its inputs in a fresh directory, runs one
 * command in-process (test/helpers/cli.ts, the CLI's own error reporting and exit codes) and asserts
 * - the exit code (0, or the error kind's: usage 2, input 3, numeric 4, resource 5);
 * - the message's key words (file name, line/column, option), and no stack trace;
 * - no input changed: every file that was in the directory before the run has the same bytes after it;
 * - nothing left behind: a failed run adds no file (no partial output, no hidden temporary); a run that
 *   succeeds adds exactly the outputs the case names.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerBench } from '../../src/cli/bench.js';
import { registerFit } from '../../src/cli/fit.js';
import { registerGrm } from '../../src/cli/grm.js';
import { registerGwas } from '../../src/cli/gwas.js';
import { registerMeta } from '../../src/cli/meta.js';
import { registerNlme } from '../../src/cli/nlme.js';
import { registerScdeCalibrate } from '../../src/cli/scde-calibrate.js';
import { registerScde } from '../../src/cli/scde.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

const COMMANDS = {
  gwas: registerGwas,
  grm: registerGrm,
  scde: registerScde,
  'scde-calibrate': registerScdeCalibrate,
  fit: registerFit,
  meta: registerMeta,
  nlme: registerNlme,
  bench: registerBench,
} satisfies Record<string, (p: Command) => void>;

export type CommandName = keyof typeof COMMANDS;

/** The kind of hostility a case stands for (the catalogue is counted by these in the notes). */
export type CaseKind =
  | 'output-is-input'
  | 'outputs-collide'
  | 'special-output'
  | 'bad-output-path'
  | 'missing-or-directory'
  | 'empty'
  | 'truncated-or-corrupt'
  | 'crlf-bom'
  | 'malformed-text'
  | 'huge-or-degenerate'
  | 'long-line'
  | 'bad-option'
  | 'conflicting-options'
  | 'cross-file';

export interface HostileCase {
  name: string;
  kind: CaseKind;
  command: CommandName;
  /** Builds the inputs under `dir` and returns the command's arguments. */
  setup: (dir: string) => string[] | Promise<string[]>;
  /** Expected exit code: 0 or an EXIT_CODES value. */
  code: number;
  /** Key words the message (stderr) must contain. */
  message?: (RegExp | string)[];
  /** Files (relative to the case directory) a successful run writes. */
  outputs?: string[];
  /** Why the case cannot run here (it is then reported as skipped with this reason), or undefined. */
  skip?: string;
  /** Further assertions after the run. */
  check?: (dir: string, run: CommandRun) => void | Promise<void>;
}

/** `data/...` of the repository. */
export const DATA = new URL('../../data/', import.meta.url).pathname;

/** Copies `data/REL` files into `dir` (same base names); returns their new paths. */
export function copyData(dir: string, ...rels: string[]): string[] {
  return rels.map((rel) => {
    const to = join(dir, basename(rel));
    copyFileSync(join(DATA, rel), to);
    return to;
  });
}

/** data/sim's PLINK files, phenotype and covariates copied into `dir`; returns the prefix `dir/sim`. */
export function simCohort(dir: string): string {
  copyData(dir, 'sim/sim.bed', 'sim/sim.bim', 'sim/sim.fam', 'sim/sim.pheno.txt', 'sim/sim.covar.txt');
  return join(dir, 'sim');
}

/** data/sc/fixture (10x directory with cells.csv) copied to `dir/tenx`; returns that directory. */
export function scFixture(dir: string): string {
  const to = join(dir, 'tenx');
  mkdirSync(to);
  for (const f of ['matrix.mtx', 'features.tsv', 'barcodes.tsv', 'cells.csv']) copyData(to, `sc/fixture/${f}`);
  return to;
}

/** Every entry under `dir` (hidden ones too): relative path -> content hash, or the entry's kind. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else if (st.isFile()) out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
      else out.set(rel, st.isSymbolicLink() ? 'link' : st.isFIFO() ? 'fifo' : 'special');
    }
  };
  walk(dir);
  return out;
}

const STACK = /\n\s+at .+:\d+:\d+\)?/;

/** Registers one vitest test per case. */
export function hostileCases(title: string, cases: readonly HostileCase[]): void {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  describe(title, () => {
    for (const c of cases) {
      it.skipIf(c.skip !== undefined)(`${c.command}: ${c.name} -> exit ${c.code}${c.skip ? ` (skipped: ${c.skip})` : ''}`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'gpulmm-hostile-'));
        dirs.push(dir);
        const args = await c.setup(dir);
        const before = snapshot(dir);
        const run = await runCommand(COMMANDS[c.command], c.command, args);
        const after = snapshot(dir);
        expect(run.code, `stderr: ${run.stderr}`).toBe(c.code);
        for (const m of c.message ?? []) expect(run.stderr).toMatch(m);
        if (c.code !== 0) {
          expect(run.stderr, 'a user mistake prints no stack trace').not.toMatch(STACK);
          expect(run.stderr).toMatch(/error: /);
        }
        for (const [rel, hash] of before) expect(after.get(rel), `input ${rel} changed`).toBe(hash);
        const added = [...after.keys()].filter((rel) => !before.has(rel)).sort();
        expect(added, 'files left behind').toEqual(c.code === 0 ? [...(c.outputs ?? [])].sort() : []);
        await c.check?.(dir, run);
      });
    }
  });
}

export { EXIT_CODES };
