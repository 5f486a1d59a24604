/** Simulated cohorts for the biobank tests, made by the committed generator data/simulate/cohort.mjs in a temp dir. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = new URL('../../../data/simulate/cohort.mjs', import.meta.url).pathname;

/** Writes PREFIX.bed/.bim/.fam, .pheno.txt, .covar.txt, ... for the options and returns PREFIX. */
export function simulateCohort(name: string, options: Record<string, string | number>): string {
  const prefix = join(mkdtempSync(join(tmpdir(), 'gpulmm-biobank-')), name);
  const args = Object.entries(options).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const r = spawnSync(process.execPath, [script, '--out', prefix, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cohort.mjs failed: ${r.stderr}`);
  return prefix;
}
