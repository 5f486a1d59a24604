import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { EXIT_CODES } from '../../src/errors.js';
import { expectSameDataset, gpulmm, MOUSE, simCopy } from './helpers.js';

/** plan -> null -> every shard -> merge, in this process; returns the run directory's paths. */
async function shardedRun(dir: string, planArgs: string[], gwasArgs: string[], mergeArgs: string[] = []): Promise<{ plan: string; nullJson: string; shards: string; merged: string; n: number }> {
  const run = join(dir, 'run');
  const plan = join(run, 'plan.json');
  const p = await gpulmm('plan', ['--out', plan, ...planArgs, 'gwas', ...gwasArgs, '--backend', 'cpu']);
  expect(p.stderr).toMatch(/gwas plan [0-9a-f]{12}, \d+ shards/);
  expect(p.code).toBe(0);
  const n = (JSON.parse(readFileSync(plan, 'utf8')) as { shards: unknown[] }).shards.length;
  const nullDir = join(run, 'null');
  const nu = await gpulmm('null', ['--plan', plan, '--out', nullDir]);
  expect(nu.code, nu.stderr).toBe(0);
  const nullJson = join(nullDir, 'null.json');
  const shards = join(run, 'shards');
  for (let k = 0; k < n; k++) {
    const s = await gpulmm('gwas', ['--plan', plan, '--shard', String(k), '--null', nullJson, '--out', join(shards, `shard-${k}.arrow`)]);
    expect(s.code, s.stderr).toBe(0);
  }
  const merged = join(run, 'merged');
  const m = await gpulmm('merge', ['--plan', plan, '--null', nullJson, '--out', merged, ...mergeArgs, shards]);
  expect(m.code, m.stderr).toBe(0);
  expect(existsSync(join(merged, '_SUCCESS'))).toBe(true);
  return { plan, nullJson, shards, merged, n };
}

/** One process: `gpulmm gwas ... --out one/ --tsv one.assoc.txt` (a dataset as the merge's). */
async function oneProcess(dir: string, gwasArgs: string[]): Promise<void> {
  const r = await gpulmm('gwas', [...gwasArgs, '--backend', 'cpu', '--out', join(dir, 'one/'), '--tsv', join(dir, 'one.assoc.txt')]);
  expect(r.code, r.stderr).toBe(0);
}

describe('sharded gwas: plan, null, shards, merge equal one process', () => {
  test('bundled cohort in 8 shards: every value of every column, and the GEMMA text byte for byte', async () => {
    const dir = simCopy();
    const args = ['--bfile', join(dir, 'sim'), '--test', 'all'];
    const run = await shardedRun(dir, ['--shards', '8'], args, ['--tsv']);
    expect(run.n).toBe(8);
    await oneProcess(dir, args);
    expectSameDataset(join(run.merged, 'results'), join(dir, 'one'));
    expect(readFileSync(join(run.merged, 'gwas.assoc.txt'), 'utf8')).toBe(readFileSync(join(dir, 'one.assoc.txt'), 'utf8'));
    const summary = JSON.parse(readFileSync(join(run.merged, 'summary.json'), 'utf8'));
    expect(summary.rows).toBe(1934);
    expect(summary.phenotypes[0].top[0].rs).toBe('snp1651');
    for (const t of ['wald', 'lrt', 'score']) expect(existsSync(join(run.merged, `gwas.${t}.manhattan.png`))).toBe(true);
    // The null step is not repeated when its files are complete and of this plan.
    const again = await gpulmm('null', ['--plan', run.plan, '--out', join(dir, 'run', 'null')]);
    expect(again.stderr).toMatch(/already in .*null\.json .*kept/);
  }, 120_000);

  test('loco, covariates, two phenotypes in two groups (ranges never cross chromosomes): equal values, and the same GWAS-SSF', async () => {
    const dir = simCopy();
    const args = ['--bfile', join(dir, 'sim'), '--pheno', join(dir, 'sim.pheno.txt'), '--pheno-col', '1,2', '--covar', join(dir, 'sim.covar.txt'), '--test', 'all', '--loco'];
    const run = await shardedRun(dir, ['--chunk-snps', '300', '--pheno-groups', '2'], args, ['--ssf', join(dir, 'merged.tsv.gz')]);
    const plan = JSON.parse(readFileSync(run.plan, 'utf8')) as { shards: { chrs: string[]; phenos: string[] }[] };
    expect(plan.shards.length).toBe(20); // 5 chromosomes x 2 ranges x 2 groups
    for (const s of plan.shards) expect(s.chrs.length).toBe(1);
    await oneProcess(dir, [...args, '--ssf', join(dir, 'one.tsv.gz')]);
    expectSameDataset(join(run.merged, 'results'), join(dir, 'one'));
    // GWAS-SSF: one pair per phenotype, the same rows and metadata as one process's (but the file's own name).
    const ssfs = readdirSync(dir).filter((f) => /^one\..+\.tsv\.gz$/.test(f));
    expect(ssfs.length).toBe(2);
    const meta = (f: string) => readFileSync(join(dir, `${f}-meta.yaml`), 'utf8').replace(/^data_file_name: .*$/m, '');
    for (const f of ssfs) {
      const m = f.replace(/^one\./, 'merged.');
      expect(gunzipSync(readFileSync(join(dir, m))).toString('utf8')).toBe(gunzipSync(readFileSync(join(dir, f))).toString('utf8'));
      expect(meta(m)).toBe(meta(f));
    }
  }, 120_000);

  test.skipIf(!existsSync(`${MOUSE}/mouse_hs1940.bed`))('mouse_hs1940 in 8 shards: equal to one process', async () => {
    const dir = simCopy();
    const args = ['--bfile', `${MOUSE}/mouse_hs1940`, '--test', 'all'];
    const run = await shardedRun(dir, ['--shards', '8'], args);
    expect(run.n).toBe(8);
    await oneProcess(dir, args);
    expect(JSON.parse(readFileSync(join(run.merged, 'summary.json'), 'utf8')).rows).toBe(10768);
    expectSameDataset(join(run.merged, 'results'), join(dir, 'one'));
  }, 300_000);
});

describe('sharded gwas refuses what would mix runs, naming what differs', () => {
  test('merge: missing, duplicated and foreign shards, and null models of another plan', async () => {
    const dir = simCopy();
    const args = ['--bfile', join(dir, 'sim'), '--test', 'wald'];
    const a = await shardedRun(dir, ['--shards', '4'], args);
    const other = simCopy();
    const b = await shardedRun(other, ['--shards', '4'], [...args.slice(0, 1), join(other, 'sim'), '--test', 'wald', '--maf', '0.05']);
    const merge = (...extra: string[]) => gpulmm('merge', ['--plan', a.plan, '--out', join(dir, 'm2'), ...extra]);

    // Missing: shard 2 gone; --list-missing names it for a rerun.
    const kept = join(dir, 'shard-2.keep');
    copyFileSync(join(a.shards, 'shard-2.arrow'), kept);
    rmSync(join(a.shards, 'shard-2.arrow'));
    let r = await merge(a.shards);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/missing shard 2 \(of 0-3\)/);
    expect(existsSync(join(dir, 'm2'))).toBe(false);
    r = await gpulmm('merge', ['--plan', a.plan, '--null', a.nullJson, '--list-missing', a.shards]);
    expect(r.stdout).toBe('2\n');
    copyFileSync(kept, join(a.shards, 'shard-2.arrow'));

    // Duplicated: the same shard twice.
    r = await merge(a.shards, kept);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/shard 2 appears 2 times: .*shard-2\.arrow, .*shard-2\.keep/);

    // Foreign: a shard of plan b among a's (b filters at another maf: another plan hash).
    const foreign = join(dir, 'foreign.arrow');
    copyFileSync(join(b.shards, 'shard-1.arrow'), foreign);
    r = await merge(a.shards, foreign);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/foreign\.arrow: shard 1 of another plan/);

    // Null models of another plan.
    r = await merge('--null', b.nullJson, a.shards);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/null models made for plan [0-9a-f]{12}, not for this plan/);
    expect(readdirSync(dir).includes('m2')).toBe(false);
  }, 180_000);

  test('a shard refuses changed inputs, null models of another plan or altered, options of its own, and unknown shards', async () => {
    const dir = simCopy();
    const args = ['--bfile', join(dir, 'sim'), '--test', 'wald'];
    const a = await shardedRun(dir, ['--shards', '2'], args);
    const other = simCopy();
    const b = await shardedRun(other, ['--shards', '2'], [...args.slice(0, 1), join(other, 'sim'), '--test', 'wald', '--miss', '0.1']);
    const shard = (...extra: string[]) => gpulmm('gwas', ['--plan', a.plan, '--shard', '0', '--out', join(dir, 'x.arrow'), ...extra]);

    let r = await shard('--null', b.nullJson);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/null models made for plan [0-9a-f]{12}, not for .*plan\.json/);

    r = await shard('--null', a.nullJson, '--test', 'lrt');
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/--test: a shard takes its analysis options from the plan/);

    r = await gpulmm('gwas', ['--plan', a.plan, '--shard', '7', '--null', a.nullJson, '--out', join(dir, 'x.arrow')]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/--shard 7: the plan has 2 shards \(0-1\)/);

    // A model file altered after the null step.
    const f64 = readdirSync(join(dir, 'run', 'null')).find((f) => f.endsWith('.f64'))!;
    const path = join(dir, 'run', 'null', f64);
    const bytes = readFileSync(path);
    bytes[100]! ^= 1;
    writeFileSync(path, bytes);
    r = await shard('--null', a.nullJson);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toContain(`${f64}: content (sha256`);
    bytes[100]! ^= 1;
    writeFileSync(path, bytes);

    // An input changed between plan and shard: one phenotype in the .fam.
    const fam = readFileSync(join(dir, 'sim.fam'), 'utf8');
    const at = fam.indexOf('\n') - 1; // the last character of the first individual's phenotype
    writeFileSync(join(dir, 'sim.fam'), `${fam.slice(0, at)}${fam[at] === '1' ? '2' : '1'}${fam.slice(at + 1)}`);
    r = await shard('--null', a.nullJson);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/input files differ from when the plan was made:\n {2}bfile\.fam .*sim\.fam: content changed/);
    expect(existsSync(join(dir, 'x.arrow'))).toBe(false);

    // A plan edited by hand.
    const text = readFileSync(a.plan, 'utf8').replace('"end": 1000', '"end": 999');
    writeFileSync(join(dir, 'edited.json'), text);
    r = await gpulmm('gwas', ['--plan', join(dir, 'edited.json'), '--shard', '0', '--null', a.nullJson, '--out', join(dir, 'x.arrow')]);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/edited\.json: the plan's content does not match its hash/);
  }, 180_000);

  test('plan refuses outputs among the analysis options and an unknown analysis', async () => {
    const dir = simCopy();
    let r = await gpulmm('plan', ['--out', join(dir, 'p.json'), 'gwas', '--bfile', join(dir, 'sim'), '--tsv', join(dir, 'x.txt')]);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/--tsv is not part of a plan/);
    r = await gpulmm('plan', ['--out', join(dir, 'p.json'), 'gwas', '--bfile', join(dir, 'sim'), '--pheno', join(dir, 'sim.pheno.txt'), '--pheno-col', '1,2', '--pheno-missing', 'separate']);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/--pheno-missing separate: a sharded run analyses the phenotypes on the individuals with every one/);
    r = await gpulmm('plan', ['--out', join(dir, 'p.json'), 'fit', '--data', 'x']);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/unknown analysis 'fit'/);
    r = await gpulmm('plan', ['--out', join(dir, 'p.json'), 'gwas', '--bfile', join(dir, 'sim'), '--maf', 'x']);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(existsSync(join(dir, 'p.json'))).toBe(false);
    appendFileSync(join(dir, 'sim.bim'), 'garbage\n');
    r = await gpulmm('plan', ['--out', join(dir, 'p.json'), 'gwas', '--bfile', join(dir, 'sim')]);
    expect(r.code).toBe(EXIT_CODES.input);
    expect(r.stderr).toMatch(/sim\.bim:2001: expected 6 columns/);
  }, 60_000);
});
