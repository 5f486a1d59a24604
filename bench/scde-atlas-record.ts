/**
 * Assembles the record of bench/scde-atlas.sh from its work directory: per timed run the command, wall and CPU
 * seconds and peak RSS (/usr/bin/time -v), the stage times of `--verbose` (metadata, counts read, results
 * written) and the memory estimate; the read-only passes; the agreement on the subsample (gpulmm vs lmerTest,
 * lmerTest with the crossed batch effect, limma-voom: largest |delta log10 p|, |delta beta| / se); the targets.
 *
 *   node dist/bench/scde-atlas-record.js --dir ATLAS_DIR --work ATLAS_DIR/run --out bench/results/scde-atlas-cpu2.json
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requiredArg } from './args.js';

const dir = requiredArg('dir');
const work = requiredArg('work');
const out = requiredArg('out');
const read = (f: string) => readFileSync(path.join(work, f), 'utf8');

/** Fields of /usr/bin/time -v. */
function timeV(text: string): { wall_s: number; user_s: number; sys_s: number; peak_rss_bytes: number; exit: number } {
  const field = (label: string) => new RegExp(`${label}: (.*)`).exec(text)?.[1]?.trim() ?? '';
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').map(Number);
  const wallS = wall.reduce((a, v) => a * 60 + v, 0);
  return {
    wall_s: wallS,
    user_s: Number(field('User time \\(seconds\\)')),
    sys_s: Number(field('System time \\(seconds\\)')),
    peak_rss_bytes: Number(field('Maximum resident set size \\(kbytes\\)')) * 1024,
    exit: Number(field('Exit status')),
  };
}

/** `--verbose` stage lines: "scde: <stage> at <s> s, resident <x> MiB". */
function stages(log: string): Record<string, number> {
  const outS: Record<string, number> = {};
  for (const m of log.matchAll(/^scde: (metadata read and analyses planned|counts read \(statistics of the first pass complete\)|results written) at ([\d.]+) s/gm)) {
    outS[m[1]!.startsWith('metadata') ? 'metadata_s' : m[1]!.startsWith('counts') ? 'counts_read_s' : 'results_written_s'] = Number(m[2]);
  }
  return outS;
}

const runs = readdirSync(work)
  .filter((f) => f.endsWith('.time'))
  .map((f) => f.replace(/\.time$/, ''))
  .map((name) => {
    const log = read(`${name}.log`);
    return {
      name,
      command: read(`${name}.cmd`).trim(),
      ...timeV(read(`${name}.time`)),
      ...stages(log),
      ...(name.startsWith('read') ? { read: JSON.parse(read(`${name}.out`)) } : {}),
      memory_estimate: log.split('\n').filter((l) => /^scde: (memory estimate|  )/.test(l)).map((l) => l.replace(/^scde: /, '')),
    };
  });

/** TSV as rows of named fields. */
function tsv(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const cols = head!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i]!, v])));
}

const sub = path.join(work, 'subsample');
const r = tsv(path.join(sub, 'r.tsv'));
const rJson = JSON.parse(readFileSync(path.join(sub, 'r.json'), 'utf8').trim().split('\n').pop()!);
function agreement(file: string, pCol: string, betaCol: string) {
  const g = new Map(tsv(path.join(sub, file)).map((row) => [row.gene!, row]));
  let dLog = 0;
  let dBeta = 0;
  let n = 0;
  for (const row of r) {
    const ours = g.get(row.gene!);
    if (!ours || ours.p === 'NA') continue;
    n++;
    dLog = Math.max(dLog, Math.abs(Math.log10(Number(ours.p)) - Math.log10(Number(row[pCol]))));
    dBeta = Math.max(dBeta, Math.abs(Number(ours.beta) - Number(row[betaCol])) / Number(ours.se));
  }
  return { genes: n, of: r.length, max_abs_delta_log10_p: dLog, max_abs_delta_beta_over_se: dBeta };
}

const sh = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
};
const params = JSON.parse(readFileSync(path.join(dir, 'params.json'), 'utf8'));
const byName = Object.fromEntries(runs.map((x) => [x.name, x]));
const GB3 = 3 * 1e9;
const record = {
  what: 'gpulmm scde at atlas scale (issue 14): simulated atlas read in blocks from .h5ad and Cell Ranger .h5; lmm and pseudobulk timed end to end with peak RSS; agreement with lmerTest and limma-voom on a subsample',
  command: `bash bench/scde-atlas.sh data DIR && flock /work/bench.lock bash bench/scde-atlas.sh run DIR ${out}`,
  commit: sh('git', ['rev-parse', '--short', 'HEAD']) + (sh('git', ['status', '--porcelain', '--untracked-files=no']) ? '-dirty' : ''),
  node: process.version,
  host: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
  date: new Date().toISOString(),
  load_before: read('uptime-before').trim(),
  load_after: read('uptime-after').trim(),
  data: params,
  file_bytes: Object.fromEntries(['atlas.h5ad', 'atlas_10x.h5', 'cells.csv'].filter((f) => existsSync(path.join(dir, f))).map((f) => [f, statSync(path.join(dir, f)).size])),
  runs,
  agreement_subsample: {
    subsample: JSON.parse(read('subsample.out')),
    reference: rJson,
    lmm_vs_lmerTest: agreement('gpulmm-lmm.tsv', 'lmm_p', 'lmm_beta'),
    lmm_random_batch_vs_lmerTest: agreement('gpulmm-crossed.tsv', 'crossed_p', 'crossed_beta'),
    pseudobulk_vs_limma_voom: agreement('gpulmm-pseudobulk.tsv', 'pb_p', 'pb_logFC'),
  },
  targets: {
    h5ad_lmm: { wall_s: byName['h5ad-lmm']?.wall_s, peak_rss_bytes: byName['h5ad-lmm']?.peak_rss_bytes, within_5_min: (byName['h5ad-lmm']?.wall_s ?? Infinity) <= 300, within_3_GB: (byName['h5ad-lmm']?.peak_rss_bytes ?? Infinity) <= GB3 },
    h5ad_pseudobulk: { wall_s: byName['h5ad-pseudobulk']?.wall_s, peak_rss_bytes: byName['h5ad-pseudobulk']?.peak_rss_bytes, within_5_min: (byName['h5ad-pseudobulk']?.wall_s ?? Infinity) <= 300, within_3_GB: (byName['h5ad-pseudobulk']?.peak_rss_bytes ?? Infinity) <= GB3 },
  },
};
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
console.log(JSON.stringify({ out, targets: record.targets, agreement: record.agreement_subsample }, null, 2));
