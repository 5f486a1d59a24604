/**
 * `gpulmm meta --gwas` end to end on the simulated cohorts of data/meta/gwas (make-gwas-cohorts.mjs: a GEMMA
 * assoc.txt, a GWAS-SSF .tsv.gz and a BOLT table with swapped alleles, strand flips, mismatches and failed fits):
 * every variant's fixed- and random-effects estimate, Q, I^2 and p-values against metafor's rma (FE, DL) after the
 * golden script's own allele alignment (make-gwas-golden.R), and the per-cohort counts; the same result from an
 * Arrow stream and an Arrow dataset as the third cohort and from an unsorted first cohort; ambiguous SNPs dropped;
 * bad input.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerMeta } from '../../../src/cli/meta.js';
import { EXIT_CODES } from '../../../src/errors.js';
import { ArrowStreamWriter } from '../../../src/io/arrow-stream.js';
import { ArrowDatasetWriter } from '../../../src/io/arrow-dataset.js';
import { readArrowTable } from '../../../src/io/arrow-batch.js';
import { ambiguousOrientation, isStrandAmbiguous, matchAlleles } from '../../../gwas/meta/alleles.js';
import { runCommand } from '../../helpers/cli.js';

const dir = new URL('../../../data/meta/gwas/', import.meta.url).pathname;
const cohorts = ['cohort1.assoc.txt', 'cohort2.tsv.gz', 'cohort3.bolt.tsv'].map((f) => join(dir, f));
interface GoldenVariant {
  chr: string; ps: number; allele1: string; allele0: string; n_cohorts: number; direction: string;
  beta: number; se: number; p: number; q: number; beta_re?: number; se_re?: number; p_re?: number; tau2?: number; i2?: number; p_het?: number;
}
interface Golden { counts: Record<string, number>[]; variants: GoldenVariant[] }
const readGolden = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Golden;
const golden = readGolden('golden.json');
const run = (args: string[]) => runCommand(registerMeta, 'meta', args);
const tmp = () => mkdtempSync(join(tmpdir(), 'gpulmm-gwas-meta-'));

function readTsv(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, j) => [cols[j]!, v])));
}
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('allele alignment', () => {
  it('same, swapped, other strand, swapped on the other strand, mismatch; ambiguous SNPs by label', () => {
    expect(matchAlleles('A', 'G', 'A', 'G')).toEqual({ sign: 1, strand: false });
    expect(matchAlleles('A', 'G', 'G', 'A')).toEqual({ sign: -1, strand: false });
    expect(matchAlleles('A', 'G', 'T', 'C')).toEqual({ sign: 1, strand: true });
    expect(matchAlleles('A', 'G', 'C', 'T')).toEqual({ sign: -1, strand: true });
    expect(matchAlleles('A', 'G', 'A', 'C').sign).toBe(0);
    expect(matchAlleles('A', 'AT', 'T', 'TA').sign).toBe(0);
    expect(matchAlleles('A', 'T', 'T', 'A')).toEqual({ sign: -1, strand: false });
    expect(isStrandAmbiguous('A', 'T') && isStrandAmbiguous('G', 'C')).toBe(true);
    expect(isStrandAmbiguous('A', 'G') || isStrandAmbiguous('A', 'AT')).toBe(false);
  });
  it('strand of an ambiguous SNP from allele frequencies', () => {
    expect(ambiguousOrientation(0.2, 0.25, 0.4)).toBe(1);
    expect(ambiguousOrientation(0.2, 0.8, 0.4)).toBe(-1);
    expect(ambiguousOrientation(0.9, 0.05, 0.4)).toBe(-1);
    expect(ambiguousOrientation(0.2, 0.45, 0.4)).toBe(0);
    expect(ambiguousOrientation(0.58, 0.1, 0.4)).toBe(0);
    expect(ambiguousOrientation(NaN, 0.1, 0.4)).toBe(0);
  });
});

describe('gpulmm meta --gwas', () => {
  it.each([
    ['golden.json', 'keep'],
    ['golden-af.json', 'af'],
  ])('matches metafor per variant (FE and DL) and the alignment counts of %s (--ambiguous %s)', async (file, policy) => {
    const golden = readGolden(file);
    const d = tmp();
    const json = join(d, 'r.json');
    const r = await run(['--gwas', ...cohorts, '--tsv', join(d, 'm.tsv'), '--json', json, '--ambiguous', policy]);
    expect(r.code).toBe(0);
    const rows = readTsv(join(d, 'm.tsv'));
    expect(rows).toHaveLength(golden.variants.length);
    const byKey = new Map(rows.map((x) => [`${x.chr}:${x.ps}:${x.allele1}:${x.allele0}`, x]));
    for (const g of golden.variants) {
      const x = byKey.get(`${g.chr}:${g.ps}:${g.allele1}:${g.allele0}`)!;
      expect(x, `${g.chr}:${g.ps}`).toBeDefined();
      expect(Number(x.n_cohorts)).toBe(g.n_cohorts);
      expect(x.direction).toBe(g.direction);
      expect(Math.abs(Number(x.beta) - g.beta) / g.se).toBeLessThan(1e-5);
      expect(rel(Number(x.se), g.se)).toBeLessThan(1e-5);
      expect(rel(Number(x.p), g.p)).toBeLessThan(1e-5);
      expect(Math.abs(Number(x.q) - g.q)).toBeLessThan(1e-5 * Math.max(1, g.q));
      if (g.beta_re !== undefined) {
        expect(Math.abs(Number(x.beta_re) - g.beta_re) / g.se_re!).toBeLessThan(1e-5);
        expect(rel(Number(x.se_re), g.se_re!)).toBeLessThan(1e-5);
        expect(rel(Number(x.p_re), g.p_re!)).toBeLessThan(1e-5);
        expect(Math.abs(Number(x.tau2) - g.tau2!)).toBeLessThan(1e-5 * Math.max(g.tau2!, 1e-6));
        expect(Math.abs(Number(x.i2) - g.i2!)).toBeLessThan(1e-4);
        expect(rel(Number(x.p_het), g.p_het!)).toBeLessThan(1e-5);
      } else expect(x.p_het).toBe('NA');
    }
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    rep.cohorts.forEach((c: { counts: Record<string, number> }, i: number) => {
      for (const k of ['used', 'invalid', 'mismatched', 'swapped', 'strandFlipped', 'duplicates', 'ambiguousUnresolved']) expect(c.counts[k], `cohort ${i + 1} ${k}`).toBe(golden.counts[i]![k]);
    });
    expect(r.stdout).toMatch(/cohort 2: .*cohort2\.tsv\.gz \(ssf\): \d+ variants read/);
  });

  it('Arrow stream and Arrow dataset inputs, an unsorted input and --out / --plot give the same result', async () => {
    const d = tmp();
    const ref = join(d, 'ref.tsv');
    expect((await run(['--gwas', ...cohorts, '--tsv', ref])).code).toBe(0);
    // cohort 3 as an Arrow stream (gpulmm's gwas column names) and as a dataset partitioned by chr
    const rows = readTsv(cohorts[2]!);
    const batch = {
      chr: rows.map((x) => x.CHR!), rs: rows.map((x) => x.SNP!), ps: Int32Array.from(rows, (x) => Number(x.BP)), allele1: rows.map((x) => x.ALLELE1!),
      allele0: rows.map((x) => x.ALLELE0!), af: Float64Array.from(rows, (x) => Number(x.A1FREQ)),
      beta: Float64Array.from(rows, (x) => (x.BETA === 'NA' ? NaN : Number(x.BETA))), se: Float64Array.from(rows, (x) => (x.SE === 'NA' ? NaN : Number(x.SE))),
    };
    const columns = [
      { name: 'chr', type: 'utf8' as const }, { name: 'rs', type: 'utf8' as const }, { name: 'ps', type: 'i32' as const }, { name: 'allele1', type: 'utf8' as const },
      { name: 'allele0', type: 'utf8' as const }, { name: 'af', type: 'f64' as const }, { name: 'beta', type: 'f64' as const }, { name: 'se', type: 'f64' as const },
    ];
    const stream = join(d, 'c3.arrows');
    const w = await ArrowStreamWriter.open(stream, { columns });
    await w.write(batch);
    await w.close();
    const ds = join(d, 'c3ds');
    const dw = await ArrowDatasetWriter.open(ds, { columns, partitionBy: ['chr'] });
    await dw.write(batch);
    await dw.close();
    // cohort 1 with its lines shuffled (deterministically)
    const [head, ...lines] = readFileSync(cohorts[0]!, 'utf8').trim().split('\n');
    const shuffled = join(d, 'c1.txt');
    writeFileSync(shuffled, `${[head, ...lines.map((l, i) => [(i * 7919) % lines.length, l] as const).sort((a, b) => a[0] - b[0]).map((x) => x[1])].join('\n')}\n`);
    const expected = readFileSync(ref, 'utf8');
    const viaStream = join(d, 's.tsv');
    expect((await run(['--gwas', cohorts[0]!, cohorts[1]!, stream, '--tsv', viaStream])).code).toBe(0);
    expect(readFileSync(viaStream, 'utf8')).toBe(expected);
    const viaDs = join(d, 'd.tsv');
    expect((await run(['--gwas', cohorts[0]!, cohorts[1]!, ds, '--tsv', viaDs])).code).toBe(0);
    expect(readFileSync(viaDs, 'utf8')).toBe(expected);
    const viaShuffled = join(d, 'u.tsv');
    const out = join(d, 'u.arrows');
    const u = await run(['--gwas', shuffled, cohorts[1]!, cohorts[2]!, '--tsv', viaShuffled, '--out', out, '--plot', join(d, 'u'), '--plot-format', 'svg']);
    expect(u.code).toBe(0);
    expect(u.stderr).toMatch(/c1\.txt is not sorted by chromosome and position \(line \d+\): sorting it in memory/);
    expect(readFileSync(viaShuffled, 'utf8')).toBe(expected);
    const t = await readArrowTable(out);
    let n = 0;
    for await (const b of t.batches) n += (b.ps as Int32Array).length;
    expect(n).toBe(golden.variants.length);
    expect(readFileSync(join(d, 'u.fe.manhattan.svg'), 'utf8')).toMatch(/^<\?xml|^<svg/);
  });

  it('a multi-allelic site: a record is matched to the variant its id names, else by labels over complements', async () => {
    const d = tmp();
    const head = 'chr\trs\tps\tallele1\tallele0\tbeta\tse\n';
    // G/A is C/T on the other strand, but rs2 is another variant of the site (cohort a's second record); cohort b's
    // rs2 G/T matches neither (a mismatch, as METAL finds by name), and its second rs1 is a duplicate
    const a = join(d, 'a.tsv');
    writeFileSync(a, `${head}3\trs1\t100\tC\tT\t0.1\t0.1\n3\trs2\t100\tG\tA\t-0.2\t0.1\n`);
    const b = join(d, 'b.tsv');
    writeFileSync(b, `${head}3\trs1\t100\tT\tC\t-0.3\t0.1\n3\trs2\t100\tG\tT\t0.4\t0.1\n3\trs1\t100\tC\tT\t0.5\t0.1\n`);
    const tsv = join(d, 'm.tsv');
    const json = join(d, 'm.json');
    expect((await run(['--gwas', a, b, '--tsv', tsv, '--json', json])).code).toBe(0);
    const rows = readTsv(tsv);
    expect(rows.map((x) => [x.rs, x.allele1, x.allele0, x.n_cohorts, x.direction])).toEqual([['rs1', 'C', 'T', '2', '++'], ['rs2', 'G', 'A', '1', '-?']]);
    expect(Number(rows[0]!.beta)).toBeCloseTo(0.2, 12);
    const counts = JSON.parse(readFileSync(json, 'utf8')).cohorts.map((c: { counts: Record<string, number> }) => [c.counts.used, c.counts.mismatched, c.counts.duplicates, c.counts.swapped]);
    expect(counts).toEqual([[2, 0, 0, 0], [1, 1, 1, 1]]);
    // cohort c's rs1 C/A is G/T on the other strand, but its id names rs1 (C/T): a mismatch, and rs2 G/T still joins rs2
    const a2 = join(d, 'a2.tsv');
    // (and GEMMA's unplaced SNPs, position -9 or NA, are left out and counted)
    writeFileSync(a2, `${head}-9\trs8\t-9\tA\tG\t0.1\t0.1\n3\trs1\t100\tC\tT\t0.1\t0.1\n3\trs2\t100\tG\tT\t0.2\t0.1\n3\trs9\tNA\tA\tG\t0.1\t0.1\n`);
    const c = join(d, 'c.tsv');
    writeFileSync(c, `${head}3\trs1\t100\tC\tA\t0.9\t0.1\n3\trs2\t100\tG\tT\t0.4\t0.1\n`);
    expect((await run(['--gwas', a2, c, '--tsv', tsv, '--json', json])).code).toBe(0);
    const rows2 = readTsv(tsv);
    expect(rows2.map((x) => [x.rs, x.n_cohorts, x.direction])).toEqual([['rs1', '1', '+?'], ['rs2', '2', '++']]);
    expect(Number(rows2[1]!.beta)).toBeCloseTo(0.3, 12);
    const rep2 = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep2.cohorts[0].counts).toMatchObject({ read: 4, used: 2, unplaced: 2 });
    expect(rep2.cohorts[1].counts).toMatchObject({ used: 1, mismatched: 1, strandFlipped: 0 });
    // a record that names a variant is placed before the others of its cohort there: e's v0 A/C (T/G on the other
    // strand) cannot take v1 from e's own v1 T/G, and becomes a variant of its own; f's rs7 T/G never joins rs5 T/G
    const a3 = join(d, 'a3.tsv');
    writeFileSync(a3, `${head}3\tv1\t100\tT\tG\t0.1\t0.1\n3\trs5\t200\tT\tG\t0.1\t0.1\n`);
    const e = join(d, 'e.tsv');
    writeFileSync(e, `${head}3\tv0\t100\tA\tC\t0.7\t0.1\n3\tv1\t100\tT\tG\t0.3\t0.1\n3\trs7\t200\tT\tG\t0.4\t0.1\n`);
    expect((await run(['--gwas', a3, e, '--tsv', tsv])).code).toBe(0);
    expect(readTsv(tsv).map((x) => [x.rs, x.ps, x.allele1, x.n_cohorts, x.beta])).toEqual([
      ['v1', '100', 'T', '2', '0.200000'], ['v0', '100', 'A', '1', '0.700000'], ['rs5', '200', 'T', '1', '0.100000'], ['rs7', '200', 'T', '1', '0.400000'],
    ]);
  });

  it('--ambiguous drop and --min-cohorts', async () => {
    const d = tmp();
    const tsv = join(d, 'm.tsv');
    const r = await run(['--gwas', ...cohorts, '--tsv', tsv, '--ambiguous', 'drop', '--min-cohorts', '3']);
    expect(r.code).toBe(0);
    const rows = readTsv(tsv);
    expect(rows.every((x) => x.ambiguous === '0' && x.n_cohorts === '3')).toBe(true);
    expect(rows.length).toBeLessThan(golden.variants.filter((g) => g.n_cohorts === 3).length);
    expect(r.stdout).toMatch(/dropped: .*, [1-9]\d* strand-ambiguous/);
  });

  it('bad input: missing column, non-numeric beta and se <= 0 (file:line:column), too few files, conflicting options', async () => {
    const d = tmp();
    const noSe = join(d, 'nose.tsv');
    writeFileSync(noSe, 'chr\tps\tallele1\tallele0\tbeta\n1\t100\tA\tG\t0.1\n');
    const a = await run(['--gwas', noSe, cohorts[1]!, '--tsv', join(d, 'x.tsv')]);
    expect(a.code).toBe(EXIT_CODES.input);
    expect(a.stderr).toMatch(/nose\.tsv:1: no se column \(looked for se, standard_error, stderr\)/);
    const badBeta = join(d, 'bad.tsv');
    writeFileSync(badBeta, 'chr\tps\tallele1\tallele0\tbeta\tse\n1\t100\tA\tG\t0.1\t0.2\n1\t200\tA\tG\tx1\t0.2\n');
    const b = await run(['--gwas', badBeta, cohorts[1]!, '--tsv', join(d, 'y.tsv')]);
    expect(b.code).toBe(EXIT_CODES.input);
    expect(b.stderr).toMatch(/bad\.tsv:3:5: expected a number in the beta column, got "x1"/);
    const zeroSe = join(d, 'zero.tsv');
    writeFileSync(zeroSe, 'chr\tps\tallele1\tallele0\tbeta\tse\n1\t100\tA\tG\t0.1\tNA\n1\t200\tA\tG\t0.1\t0\n');
    const z = await run(['--gwas', zeroSe, cohorts[1]!, '--tsv', join(d, 'w.tsv')]);
    expect(z.code).toBe(EXIT_CODES.input);
    expect(z.stderr).toMatch(/zero\.tsv:3:6: expected a standard error > 0, got "0"/);
    expect((await run(['--gwas', cohorts[0]!, '--tsv', join(d, 'z.tsv')])).code).toBe(EXIT_CODES.usage);
    expect((await run(['--gwas', ...cohorts, '--mods', 'x', '--tsv', join(d, 'z.tsv')])).code).toBe(EXIT_CODES.usage);
    expect((await run(['--gwas', ...cohorts])).stderr).toMatch(/nothing would be written/);
  });
});
