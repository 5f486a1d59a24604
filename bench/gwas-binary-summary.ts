/**
 * Summarises bench/gwas-binary.sh's two scans of one simulated case/control cohort into its JSON record:
 * type-I error at alpha = 1e-3 and 1e-4 over the null (non-causal) SNPs for the binary scan's SPA p (`log10p`),
 * its normal approximation (`log10p_normal`) and the linear LMM on 0/1 (`log10p_wald`), overall and by MAF
 * (< 0.01, >= 0.01); power on the causal SNPs at the nominal and at the calibrated (empirical null quantile)
 * thresholds; and the per-variant cost of each scan from its --verbose timings.
 *   node dist/bench/gwas-binary-summary.js DIR PREFIX OUT.json   (DIR holds lin.arrows, bin.arrows, *.log, *.time)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';

const [dirArg, prefix, outPath] = process.argv.slice(2);
if (!dirArg || !prefix || !outPath) throw new Error('usage: gwas-binary-summary DIR PREFIX OUT.json');
const dir: string = dirArg;

const causal = new Set(readFileSync(`${prefix}.causal.txt`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]!));
const read = (file: string) => tableFromIPC(readFileSync(join(dir, file)));
const col = (t: ReturnType<typeof read>, name: string): ArrayLike<unknown> => t.getChild(name)!.toArray() as ArrayLike<unknown>;

/** rs -> { maf, log10p per method }. */
const snps = new Map<string, { maf: number; p: Record<string, number> }>();
function load(file: string, methods: Record<string, string>): void {
  const t = read(file);
  const rs = col(t, 'rs') as string[];
  const af = col(t, 'af') as Float64Array;
  const cols = Object.entries(methods).map(([m, c]) => [m, col(t, c) as Float64Array] as const);
  for (let i = 0; i < t.numRows; i++) {
    const e = snps.get(rs[i]!) ?? { maf: Math.min(af[i]!, 1 - af[i]!), p: {} };
    for (const [m, v] of cols) e.p[m] = v[i]!;
    snps.set(rs[i]!, e);
  }
}
load('bin.arrows', { spa: 'log10p', normal: 'log10p_normal' });
load('lin.arrows', { linear: 'log10p_wald' });
const methods = ['spa', 'normal', 'linear'] as const;
const both = [...snps].filter(([, e]) => methods.every((m) => Number.isFinite(e.p[m])));
const nulls = both.filter(([rs]) => !causal.has(rs));
const hits = both.filter(([rs]) => causal.has(rs));

const alphas = [1e-3, 1e-4];
function typeI(set: typeof nulls): Record<string, unknown> {
  const out: Record<string, unknown> = { snps: set.length };
  for (const m of methods) {
    out[m] = Object.fromEntries(alphas.map((a) => {
      const k = set.filter(([, e]) => e.p[m]! < Math.log10(a)).length;
      return [String(a), { count: k, rate: k / set.length, ratio: k / set.length / a }];
    }));
  }
  return out;
}
/** The empirical alpha-quantile of a method's null log10 p (the calibrated threshold). */
function nullQuantile(m: string, a: number): number {
  const v = nulls.map(([, e]) => e.p[m]!).sort((x, y) => x - y);
  return v[Math.max(0, Math.floor(a * v.length) - 1)]!;
}
const power: Record<string, unknown> = { causal: hits.length };
for (const m of methods) {
  power[m] = Object.fromEntries(alphas.map((a) => {
    const thr = nullQuantile(m, a);
    return [String(a), {
      nominal: hits.filter(([, e]) => e.p[m]! < Math.log10(a)).length,
      calibrated: hits.filter(([, e]) => e.p[m]! <= thr).length,
      calibratedLog10Threshold: thr,
    }];
  }));
}

/** Seconds of the --verbose time line and peak RSS of /usr/bin/time -v. */
function timings(name: string): Record<string, number> {
  const log = readFileSync(join(dir, `${name}.log`), 'utf8');
  const line = log.split('\n').find((l) => l.startsWith('time (s):')) ?? '';
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/([a-z+ ]+) ([0-9.]+)/g)) out[m[1]!.trim().replace(/[ +]/g, '_')] = Number(m[2]);
  const time = readFileSync(join(dir, `${name}.time`), 'utf8');
  out.peak_rss_mb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)?.[1] ?? NaN) / 1024;
  out.wall_s = wallSeconds(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)/.exec(time)?.[1] ?? '');
  out.tested = Number(/analysed SNPs: (\d+)/.exec(log)?.[1] ?? NaN);
  return out;
}
function wallSeconds(s: string): number {
  return s.split(':').reduce((acc, v) => acc * 60 + Number(v), 0);
}
const lin = timings('lin');
const bin = timings('bin');
// Per-variant stream cost: the transform (rotation U'X / whitening L^-1 X) plus the per-SNP tests.
const linPer = ((lin.rotation ?? 0) + (lin.optimisation ?? 0)) / lin.tested!;
const binPer = ((bin.whitening ?? 0) + (bin.tests ?? 0)) / bin.tested!;
const nullLog = readFileSync(join(dir, 'bin.log'), 'utf8');

const record = {
  bench: 'gwas-binary', issue: 12,
  cohort: readFileSync(join(dir, 'cohort.txt'), 'utf8').trim(),
  nullModel: nullLog.split('\n').filter((l) => /^\s+(cases|tau|alpha|se\(alpha\)|PQL)/.test(l)).map((l) => l.trim()),
  methodsUsed: /methods: (.*)/.exec(nullLog)?.[1],
  typeI: { all: typeI(nulls), mafBelow001: typeI(nulls.filter(([, e]) => e.maf < 0.01)), mafAtLeast001: typeI(nulls.filter(([, e]) => e.maf >= 0.01)) },
  spaWithin: Object.fromEntries(alphas.map((a) => {
    const k = nulls.filter(([, e]) => e.p.spa! < Math.log10(a)).length / nulls.length / a;
    return [String(a), k >= 0.5 && k <= 1.5];
  })),
  power,
  speed: {
    linear: lin, binary: bin,
    perVariantSeconds: { linear: linPer, binary: binPer, ratio: binPer / linPer },
    note: 'per-variant = (transform + per-SNP tests) / tested SNPs; linear: rotation U\'X (gemm) + GEMMA Wald optimisation (summed over test threads); binary: whitening L^-1 X (trsm) + score/SPA/Firth tests',
  },
};
writeFileSync(outPath, `${JSON.stringify(record, null, 2)}\n`);
process.stdout.write(`${JSON.stringify({ typeI: record.typeI.all, spaWithin: record.spaWithin, perVariant: record.speed.perVariantSeconds }, null, 1)}\n`);
