/** GWAS-SSF: the writer's conventions, and `gpulmm gwas --ssf` checked against the spec's rules and the TSV. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatPFromLog10, SSF_COLUMNS, SsfWriter, ssfChromosome, ssfPath } from '../../gwas/ssf-output.js';
import type { ResultBatch } from '../../gwas/scan.js';
import { registerGwas } from '../../src/cli/gwas.js';
import { allocAssocColumns } from '../../src/lmm/snp/assoc.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCommand } from '../helpers/cli.js';

const SIM = 'data/sim/';

describe('GWAS-SSF conventions', () => {
  it('chromosome codes 1-25 (X 23, Y 24, MT 25; PLINK 25 = XY, 26 = MT); others have none', () => {
    expect(['1', 'chr7', '22', 'X', 'chrX', 'Y', 'XY', 'MT', 'M', 'chrM', '23', '24', '25', '26'].map(ssfChromosome)).toEqual([1, 7, 22, 23, 23, 24, 23, 25, 25, 25, 23, 24, 23, 25]);
    for (const c of ['0', '27', 'Un', 'chr1_random', '']) expect(ssfChromosome(c)).toBeUndefined();
  });
  it('p from log10 p with 6 significant digits, also below the f64 range', () => {
    expect(formatPFromLog10(0)).toBe('1.00000e0');
    expect(formatPFromLog10(Math.log10(0.05))).toBe('5.00000e-2');
    expect(formatPFromLog10(Math.log10(0.0552344))).toBe('5.52344e-2');
    expect(formatPFromLog10(-350 + Math.log10(5.01187))).toBe('5.01187e-350');
    expect(formatPFromLog10(Math.log10(9.999999e-3))).toBe('1.00000e-2');
    expect(ssfPath('r/out.tsv.gz', 'p2')).toBe('r/out.p2.tsv.gz');
    expect(ssfPath('r/out.tsv', 'p2')).toBe('r/out.p2.tsv');
  });
  it('variants the format cannot express are left out and counted; the rest keep their order; metadata names the file and its MD5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-ssf-'));
    const m = 5;
    const assoc = allocAssocColumns(m);
    assoc.beta.set([0.1, 0.2, 0.3, NaN, -0.5]);
    assoc.se.set([0.01, 0.02, 0.03, 0.04, 0.05]);
    assoc.log10pWald.set([-1, -2, -3, -4, -400]);
    const b: ResultBatch = {
      pheno: 'p1',
      snps: [
        { chr: '1', rs: 'rs12', ps: 100, allele1: 'a', allele0: 'G' },
        { chr: 'Un', rs: 'x', ps: 5, allele1: 'A', allele0: 'G' },
        { chr: '2', rs: 's2', ps: 10, allele1: 'A', allele0: '0' },
        { chr: '2', rs: 's3', ps: 20, allele1: 'A', allele0: 'C' },
        { chr: 'X', rs: 'rs9', ps: 7, allele1: 'TTA', allele0: 'T' },
      ] as ResultBatch['snps'],
      nMiss: new Int32Array(m),
      af: Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5),
      assoc,
    };
    const path = join(dir, 'x.tsv');
    const w = await SsfWriter.open(path, { trait: 'height', genomeAssembly: 'GRCh38', software: 'gpulmm test', sampleSize: 100 }, 'wald');
    await w.write(b);
    await w.close();
    expect(w.leftOut).toEqual({ chromosome: 1, allele: 1, 'no estimate': 1 });
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(
      `${SSF_COLUMNS.join('\t')}\n` +
        '1\t100\tA\tG\t0.1\t0.01\t0.1\t1.00000e-1\trs12\t100\n' +
        '23\t7\tTTA\tT\t-0.5\t0.05\t0.5\t1.00000e-400\trs9\t100\n',
    );
    const yaml = readFileSync(`${path}-meta.yaml`, 'utf8');
    expect(yaml).toContain(`data_file_md5sum: ${createHash('md5').update(text).digest('hex')}`);
    expect(yaml).toContain('data_file_name: "x.tsv"');
    expect(yaml).toContain('genome_assembly: "GRCh38"');
    expect(yaml).toContain('is_sorted: true');
    expect(yaml).toMatch(/author_notes: ".*1 chromosome \(Un\); 1 allele; 1 no estimate\."/);
    await expect(SsfWriter.open(join(dir, 'x.txt'), { trait: 't', genomeAssembly: 'NR', software: 's', sampleSize: 1 }, 'wald')).rejects.toThrow(/\.tsv or \.tsv\.gz/);
  });
});

describe('gpulmm gwas --ssf', () => {
  it('writes the mandatory columns in order, values equal to the GEMMA TSV of the same run, gzip, metadata with the MD5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpulmm-ssf-cli-'));
    for (const ext of ['bed', 'bim', 'fam']) copyFileSync(`${SIM}sim.${ext}`, join(dir, `sim.${ext}`));
    const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', join(dir, 'sim'), '--test', 'wald', '--tsv', join(dir, 'o.txt'), '--ssf', join(dir, 'o.tsv.gz'), '--ssf-genome-assembly', 'GRCh38']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/GWAS-SSF: 1934 variants in .*o\.tsv\.gz\n/);
    const gz = readFileSync(join(dir, 'o.tsv.gz'));
    const rows = gunzipSync(gz).toString().trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows[0]).toEqual([...SSF_COLUMNS]);
    const gemma = readFileSync(join(dir, 'o.txt'), 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
    const col = (name: string) => gemma[0]!.indexOf(name);
    expect(rows.length).toBe(gemma.length);
    for (let i = 1; i < rows.length; i++) {
      const [chr, pos, ea, oa, beta, se, eaf, p, rsid, n] = rows[i]!;
      const g = gemma[i]!;
      // Spec rules: integer chromosome 1-25, position > 0, alleles [ACGT]+, 0 <= eaf <= 1, 0 <= p <= 1.
      expect(Number(chr)).toBeGreaterThanOrEqual(1);
      expect(Number(chr)).toBeLessThanOrEqual(25);
      expect(Number(pos)).toBeGreaterThan(0);
      expect(ea).toMatch(/^[ACGT]+$/);
      expect(oa).toMatch(/^[ACGT]+$/);
      expect(Number(eaf)).toBeGreaterThanOrEqual(0);
      expect(Number(eaf)).toBeLessThanOrEqual(1);
      expect(Number(p)).toBeGreaterThanOrEqual(0);
      expect(Number(p)).toBeLessThanOrEqual(1);
      expect(rsid).toBe('#NA'); // the simulated SNPs are named snpNNNN, not rsIDs
      expect(n).toBe('340');
      // The same variant and statistics as GEMMA's layout (6 printed digits there).
      expect([chr, pos, ea, oa]).toEqual([g[col('chr')], g[col('ps')], g[col('allele1')], g[col('allele0')]]);
      expect(Math.abs(Number(beta) / Number(g[col('beta')]) - 1)).toBeLessThan(1e-6);
      expect(Math.abs(Number(se) / Number(g[col('se')]) - 1)).toBeLessThan(1e-6);
      expect(Math.abs(Number(p) / Number(g[col('p_wald')]) - 1)).toBeLessThan(1e-5);
      expect(Math.abs(Number(eaf) - Number(g[col('af')]))).toBeLessThanOrEqual(5e-4 + 1e-12);
    }
    const yamlText = readFileSync(join(dir, 'o.tsv.gz-meta.yaml'), 'utf8');
    expect(yamlText).toContain(`data_file_md5sum: ${createHash('md5').update(gz).digest('hex')}`);
    const py = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin), default=str))'], { input: yamlText, encoding: 'utf8' });
    if (py.status === 0) {
      const meta = JSON.parse(py.stdout);
      expect(meta).toMatchObject({ data_file_name: 'o.tsv.gz', file_type: 'GWAS-SSF v1.1', genome_assembly: 'GRCh38', coordinate_system: '1-based', is_harmonised: false, is_sorted: true, samples: [{ sample_size: 340, case_control_study: false }], trait_description: ['p1'] });
    } else {
      console.warn(`skipping the YAML parse check: python3 with PyYAML not available (${py.stderr?.split('\n')[0] ?? ''})`);
    }
  }, 60_000);
  it('--test lrt cannot give beta and se: usage error before the scan', async () => {
    const r = await runCommand(registerGwas, 'gwas', ['--backend', 'cpu', '--bfile', `${SIM}sim`, '--test', 'lrt', '--ssf', '/nonexistent/o.tsv.gz']);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toMatch(/--ssf needs beta and its standard error/);
  });
});
