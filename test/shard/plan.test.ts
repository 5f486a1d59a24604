import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { gwasShards } from '../../gwas/shard-ranges.js';
import { InputError } from '../../src/errors.js';
import { contentFingerprint, FULL_HASH_MAX_BYTES } from '../../src/io/content-hash.js';
import { makePlan, planHash, readPlan, verifyPlanInputs, writePlan, type ShardPlan } from '../../src/shard/plan.js';
import { runLayout, sbatchScripts } from '../../src/shard/sbatch.js';
import { checkShardSet, formatIds, missingShards, type ShardFileInfo } from '../../src/shard/shard-set.js';
import { gpulmm, simCopy } from './helpers.js';

const snps = (chrs: [string, number][]) => chrs.flatMap(([chr, n]) => Array.from({ length: n }, (_, i) => ({ chr, rs: `${chr}_${i}`, ps: i, allele1: 'A', allele0: 'G' })));

describe('gwas shard ranges', () => {
  test('--shards n: n near-equal ranges over the whole file, crossing chromosomes', () => {
    const s = gwasShards(snps([['1', 5], ['2', 6]]), ['p1'], { shards: 3, byChromosome: false });
    expect(s.map((x) => [x.start, x.end])).toEqual([[0, 3], [3, 7], [7, 11]]);
    expect(s[1]!.chrs).toEqual(['1', '2']);
  });

  test('byChromosome (loco): each chromosome cut into near-equal pieces of at most chunkSnps; phenotype groups', () => {
    const s = gwasShards(snps([['1', 10], ['2', 3]]), ['a', 'b', 'c'], { chunkSnps: 4, byChromosome: true, phenoGroups: 2 });
    expect(s.map((x) => [x.start, x.end, x.chrs.join(), x.phenos.join()])).toEqual([
      [0, 3, '1', 'a'], [0, 3, '1', 'b,c'], [3, 6, '1', 'a'], [3, 6, '1', 'b,c'], [6, 10, '1', 'a'], [6, 10, '1', 'b,c'], [10, 13, '2', 'a'], [10, 13, '2', 'b,c'],
    ]);
    expect(s.map((x) => x.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('bad counts are refused', () => {
    expect(() => gwasShards(snps([['1', 3]]), ['p'], { shards: 0, byChromosome: false })).toThrow(/positive integer/);
    expect(() => gwasShards(snps([['1', 3]]), ['p'], { shards: 2, chunkSnps: 2, byChromosome: false })).toThrow(/exactly one/);
    expect(() => gwasShards(snps([['1', 3]]), ['p'], { shards: 1, byChromosome: false, phenoGroups: 2 })).toThrow(/phenoGroups/);
  });
});

describe('plans: hash over content, not paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpulmm-plan-'));
  writeFileSync(join(dir, 'a.txt'), 'hello');
  const base = (path: string): Omit<ShardPlan, 'format' | 'version' | 'hash'> => ({
    tool: 'gpulmm 0', command: 'gwas', args: [], workdir: dir, inputs: [{ role: 'pheno', path, fingerprint: { size: 5, sha256: 'x', scope: 'full' } }],
    options: { maf: 0.01, loco: undefined }, shards: [{ id: 0 }, { id: 1 }], summary: {}, jobs: { gpu: false, sbatch: [] },
  });

  test('paths, working directory and scheduler hints do not change the hash; options and shards do', () => {
    const p = makePlan(base('a.txt'));
    expect(makePlan({ ...base('/elsewhere/a.txt'), workdir: '/x', jobs: { gpu: true, sbatch: ['--partition=gpu'] } }).hash).toBe(p.hash);
    expect(makePlan({ ...base('a.txt'), options: { maf: 0.05 } }).hash).not.toBe(p.hash);
    expect(makePlan({ ...base('a.txt'), shards: [{ id: 0 }] }).hash).not.toBe(p.hash);
    expect(planHash(p)).toBe(p.hash);
  });

  test('readPlan recomputes the hash: written and read back it verifies; edited it is refused', async () => {
    const p = makePlan(base('a.txt'));
    await writePlan(join(dir, 'p.json'), p);
    expect((await readPlan(join(dir, 'p.json'))).hash).toBe(p.hash);
    writeFileSync(join(dir, 'q.json'), JSON.stringify({ ...p, options: { maf: 0.2 } }));
    await expect(readPlan(join(dir, 'q.json'))).rejects.toThrow(/does not match its hash/);
    writeFileSync(join(dir, 'r.json'), '{"format": "other"}');
    await expect(readPlan(join(dir, 'r.json'))).rejects.toThrow(/not a gpulmm plan/);
  });

  test('verifyPlanInputs names every input that changed or is gone, and refuses another tool version', async () => {
    writeFileSync(join(dir, 'b.txt'), 'one');
    writeFileSync(join(dir, 'c.txt'), 'two');
    const inputs = [
      { role: 'pheno', path: join(dir, 'b.txt'), fingerprint: await contentFingerprint(join(dir, 'b.txt')) },
      { role: 'covar', path: join(dir, 'c.txt'), fingerprint: await contentFingerprint(join(dir, 'c.txt')) },
      { role: 'keep', path: join(dir, 'gone.txt'), fingerprint: { size: 1, sha256: 'x', scope: 'full' as const } },
    ];
    const p = makePlan({ ...base('a.txt'), inputs });
    writeFileSync(join(dir, 'b.txt'), 'One');
    writeFileSync(join(dir, 'c.txt'), 'three');
    const err = await verifyPlanInputs('p.json', p, 'gpulmm 0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/pheno .*b\.txt: content changed \(sha256 [0-9a-f]{12} when planned, now [0-9a-f]{12}\)/);
    expect(msg).toMatch(/covar .*c\.txt: 3 bytes when planned, now 5/);
    expect(msg).toMatch(/keep .*gone\.txt: .*cannot read: ENOENT/);
    await expect(verifyPlanInputs('p.json', p, 'gpulmm 9')).rejects.toThrow(/plan made by gpulmm 0, this is gpulmm 9/);
  });

  test('content fingerprints: same bytes same hash wherever they are; whole-file below 1 GiB', async () => {
    writeFileSync(join(dir, 'd1'), 'same');
    writeFileSync(join(dir, 'd2'), 'same');
    const [a, b] = [await contentFingerprint(join(dir, 'd1')), await contentFingerprint(join(dir, 'd2'))];
    expect(a).toEqual(b);
    expect(a.scope).toBe('full');
    expect(FULL_HASH_MAX_BYTES).toBe(2 ** 30);
  });
});

describe('the shard set a merge accepts', () => {
  const plan = makePlan({ tool: 't', command: 'gwas', args: [], workdir: '/', inputs: [], options: {}, shards: [0, 1, 2, 3].map((id) => ({ id })), summary: {}, jobs: { gpu: false, sbatch: [] } });
  const info = (shard: number, over: Partial<ShardFileInfo> = {}): ShardFileInfo => ({
    path: `s${shard}.arrow`, planHash: plan.hash, shard, nShards: 4, nullHash: 'n'.repeat(64), tool: 't', backend: 'cpu', metadata: {}, ...over,
  });
  const all = [0, 1, 2, 3].map((k) => info(k));

  test('exactly the plan\'s shards: returned in shard order', () => {
    expect(checkShardSet('p.json', plan, [all[2]!, all[0]!, all[3]!, all[1]!], 'n'.repeat(64)).map((s) => s.shard)).toEqual([0, 1, 2, 3]);
  });

  test('every problem named in one error: missing, duplicated, foreign, null models, backend', () => {
    const files = [all[0]!, { ...all[0]!, path: 'copy.arrow' }, info(1, { planHash: 'f'.repeat(64), path: 'other.arrow' }), info(3, { nullHash: 'm'.repeat(64), backend: 'webgpu' })];
    let msg = '';
    try {
      checkShardSet('p.json', plan, files, 'n'.repeat(64));
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^p\.json: the shard outputs are not one complete run of this plan \(4 shards/);
    expect(msg).toContain('other.arrow: shard 1 of another plan (ffffffffffff');
    expect(msg).toContain('shard 0 appears 2 times: s0.arrow, copy.arrow');
    expect(msg).toContain('missing shards 1-2 (of 0-3)');
    expect(msg).toContain('null models differ from nnnnnnnnnnnn: shard 3 used mmmmmmmmmmmm');
    expect(() => checkShardSet('p.json', plan, [all[0]!, all[1]!, all[2]!, info(3, { backend: 'webgpu' })])).toThrow(/shards disagree on backend: cpu \(shards 0-2\), webgpu \(shard 3\)/);
  });

  test('missing shards for a rerun; ranges for sbatch --array', () => {
    expect(missingShards(plan, [all[0]!, all[3]!])).toEqual([1, 2]);
    expect(missingShards(plan, all, 'x'.repeat(64))).toEqual([0, 1, 2, 3]);
    expect(formatIds([5, 0, 1, 2, 9, 10])).toBe('0-2,5,9-10');
  });
});

describe('sbatch scripts', () => {
  test('gpulmm plan --emit-sbatch writes the four scripts executable (without a cluster)', async () => {
    const dir = simCopy();
    const out = join(dir, 'sb');
    const r = await gpulmm('plan', ['--out', join(dir, 'run', 'plan.json'), '--shards', '2', '--emit-sbatch', out, 'gwas', '--bfile', join(dir, 'sim'), '--test', 'wald']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['merge.sbatch', 'null.sbatch', 'shards.sbatch', 'submit.sh']);
    for (const f of readdirSync(out)) expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o755);
  });

  const plan = makePlan({ tool: 't', command: 'gwas', args: [], workdir: '/w', inputs: [], options: {}, shards: [{ id: 0 }, { id: 1 }], summary: {}, jobs: { gpu: true, sbatch: ['--partition=gpu', '--time=1:00:00'] } });
  const files = sbatchScripts(plan, runLayout('/w', '/w/run/plan.json', '/w/run'), ['/usr/bin/node', '/opt/gpulmm/main.js'], 2, '/w/sb');

  test('computing jobs ask for a GPU, every job gets the extra options, the merge depends on the array', () => {
    expect(Object.keys(files).sort()).toEqual(['merge.sbatch', 'null.sbatch', 'shards.sbatch', 'submit.sh']);
    for (const f of ['null.sbatch', 'shards.sbatch']) expect(files[f]).toMatch(/#SBATCH --gres=gpu:1\n/);
    expect(files['merge.sbatch']).not.toContain('--gres');
    for (const f of ['null.sbatch', 'shards.sbatch', 'merge.sbatch']) expect(files[f]).toContain('#SBATCH --partition=gpu\n#SBATCH --time=1:00:00\n');
    expect(files['shards.sbatch']).toContain('#SBATCH --cpus-per-task=2');
    expect(files['shards.sbatch']).toContain('/usr/bin/node /opt/gpulmm/main.js gwas --plan /w/run/plan.json --shard "$k" --null /w/run/null/null.json --out /w/run/shards/shard-"$k".arrow');
    expect(files['submit.sh']).toContain('--array="$todo" /w/sb/shards.sbatch');
    expect(files['submit.sh']).toContain('dep=(--dependency=afterok:$id --kill-on-invalid-dep=yes)');
    expect(files['submit.sh']).toContain('merge --plan /w/run/plan.json --null /w/run/null/null.json --list-missing /w/run/shards');
  });
});
