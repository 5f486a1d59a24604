/** Shared by the sharding tests: in-process commands, copies of the bundled cohort, and table comparison. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import type { Command } from 'commander';
import { expect } from 'vitest';
import { registerGwas } from '../../src/cli/gwas.js';
import { registerMerge } from '../../src/cli/merge.js';
import { registerNull } from '../../src/cli/null.js';
import { registerPlan } from '../../src/cli/plan.js';
import { runCommand, type CommandRun } from '../helpers/cli.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const SIM = join(ROOT, 'data/sim');
/** mouse_hs1940 in the workplace's shared data (beside the checkout, or beside the worktrees' folder). */
export const MOUSE = [join(ROOT, '../shared/data/mouse_hs1940'), join(ROOT, '../../shared/data/mouse_hs1940')].find((d) => existsSync(join(d, 'mouse_hs1940.bed'))) ?? join(ROOT, '../shared/data/mouse_hs1940');
/** The built CLI, for jobs run by Snakemake or SLURM (npm run build makes it; CI builds in npm ci). */
export const MAIN = join(ROOT, 'dist/src/cli/main.js');

const REGISTER: Record<string, (p: Command) => void> = { plan: registerPlan, null: registerNull, gwas: registerGwas, merge: registerMerge };

/** `gpulmm NAME ...args` in this process. */
export function gpulmm(name: keyof typeof REGISTER, args: string[]): Promise<CommandRun> {
  return runCommand(REGISTER[name]!, name, args);
}

/** A fresh directory with a copy of the simulated cohort (sim.bed/.bim/.fam, phenotypes, covariates). */
export function simCopy(prefix = 'gpulmm-shard-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const f of ['sim.bed', 'sim.bim', 'sim.fam', 'sim.pheno.txt', 'sim.covar.txt']) copyFileSync(join(SIM, f), join(dir, f));
  return dir;
}

/** Whether a command is on PATH. */
export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Whether the built CLI exists (the Snakemake and SLURM tests run it as a program). */
export function built(): boolean {
  return existsSync(MAIN);
}

export function readTable(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/**
 * Expects two result tables to hold the same rows, value for value (bitwise for numbers, NaN equal to NaN),
 * with the same columns; rows are matched by (pheno, rs) when `anyOrder`, else compared in order.
 */
export function expectSameRows(actual: Table, expected: Table, anyOrder = false): void {
  expect(actual.schema.fields.map((f) => f.name)).toEqual(expected.schema.fields.map((f) => f.name));
  expect(actual.numRows).toBe(expected.numRows);
  const key = (t: Table, i: number) => `${t.getChild('pheno')?.get(i) ?? ''}|${t.getChild('rs')!.get(i)}`;
  const at = new Map<string, number>();
  for (let i = 0; i < actual.numRows; i++) at.set(anyOrder ? key(actual, i) : String(i), i);
  let differences = 0;
  const first: string[] = [];
  for (const f of expected.schema.fields) {
    const e = expected.getChild(f.name)!.toArray() as ArrayLike<unknown>;
    const a = actual.getChild(f.name)!.toArray() as ArrayLike<unknown>;
    for (let i = 0; i < expected.numRows; i++) {
      const j = at.get(anyOrder ? key(expected, i) : String(i));
      const u = e[i], v = j === undefined ? undefined : a[j];
      const same = j !== undefined && (Object.is(u, v) || u === v || (typeof u === 'number' && Number.isNaN(u) && Number.isNaN(v as number)));
      if (!same) {
        differences++;
        if (first.length < 5) first.push(`${f.name} row ${i}: expected ${String(u)}, got ${String(v)}`);
      }
    }
  }
  expect(first, `${differences} differing values`).toEqual([]);
}

/** The IPC files of a dataset folder, by path relative to it (`pheno=p1/chr=1/part-0.arrow`), sorted. */
export function datasetFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.arrow')).sort();
}

/** Expects two datasets to have the same partitions, each file the same rows value for value, in order. */
export function expectSameDataset(actualDir: string, expectedDir: string): void {
  const files = datasetFiles(expectedDir);
  expect(files.length).toBeGreaterThan(0);
  expect(datasetFiles(actualDir)).toEqual(files);
  for (const f of files) expectSameRows(readTable(join(actualDir, f)), readTable(join(expectedDir, f)));
}
