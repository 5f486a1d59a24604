#!/usr/bin/env bash
# The issue-11 parity target on real data: mouse_hs1940 as plink2 converts it (plink2 skips the 1,926 variants at
# position -9, so the reference is plink2's own --make-bed of it) to BGEN v1.2 8-bit (zlib), BGEN v1.3 (zstd),
# PGEN and VCF.gz; `gpulmm gwas --test all` on each must give the .bed run's statistics: the same SNPs, and
# |delta log10 p| <= 1e-6 (beta up to the sign of the counted allele: here plink2 counts the same allele in every
# format). Writes bench/results/readers-mouse-parity.json (override with OUT=...). No timings: run it niced.
# Usage: npm run build && bash bench/readers-mouse-parity.sh      (needs plink2 on PATH)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/mouse_hs1940}
OUT=${OUT:-$ROOT/bench/results/readers-mouse-parity.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
p2() { plink2 --silent "$@" >/dev/null; }
p2 --bfile "$DATA/mouse_hs1940" --make-bed --out mb
p2 --bfile mb --export bgen-1.2 bits=8 --out m12
p2 --bfile mb --export bgen-1.3 --out m13
p2 --bfile mb --make-pgen --out mp
p2 --bfile mb --export vcf bgz --out mv
# Phenotype 1 of the .fam (plink2 writes -9 for missing) as a GEMMA phenotype file, for the formats without one.
awk '{ print ($6 == "-9" ? "NA" : $6) }' mb.fam > pheno.txt
gwas() { local name=$1; shift; node "$ROOT/dist/src/cli/main.js" gwas --backend cpu --test all --tsv "$name.assoc.txt" "$@" 2> "$name.log"; }
gwas bed --bfile mb
gwas bgen12 --bgen m12.bgen --pheno pheno.txt
gwas bgen13 --bgen m13.bgen --pheno pheno.txt
gwas pgen --pfile mp
gwas vcf --vcf mv.vcf.gz --pheno pheno.txt
node - "$ROOT" "$OUT" "$(wc -l < mb.bim)" "$(wc -l < "$DATA/mouse_hs1940.bim")" <<'JS'
const [root, out, bedSnps, origSnps] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os');
const { execSync } = require('node:child_process');
const read = (f) => fs.readFileSync(f, 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
const bed = read('bed.assoc.txt');
const col = (n) => bed[0].indexOf(n);
const formats = {};
for (const name of ['bgen12', 'bgen13', 'pgen', 'vcf']) {
  const t = read(`${name}.assoc.txt`);
  const r = { snps: t.length - 1, same_snps: t.length === bed.length && t.every((row, i) => ['chr', 'rs', 'ps'].every((c) => row[col(c)] === bed[i][col(c)])), identical_lines: 0, max_abs_delta_log10p: {}, max_abs_delta_beta_over_se_up_to_sign: 0 };
  for (const test of ['p_wald', 'p_lrt', 'p_score']) {
    let w = 0;
    for (let i = 1; i < bed.length; i++) w = Math.max(w, Math.abs(Math.log10(Number(t[i][col(test)])) - Math.log10(Number(bed[i][col(test)]))));
    r.max_abs_delta_log10p[test] = w;
  }
  for (let i = 1; i < bed.length; i++) {
    if (t[i].join('\t') === bed[i].join('\t')) r.identical_lines++;
    const b0 = Number(bed[i][col('beta')]), b1 = Number(t[i][col('beta')]), se = Number(bed[i][col('se')]);
    r.max_abs_delta_beta_over_se_up_to_sign = Math.max(r.max_abs_delta_beta_over_se_up_to_sign, Math.min(Math.abs(b1 - b0), Math.abs(b1 + b0)) / se);
  }
  r.target_met = r.same_snps && Object.values(r.max_abs_delta_log10p).every((v) => v <= 1e-6);
  formats[name] = r;
}
const rec = {
  benchmark: 'readers-mouse-parity', dataset: `mouse_hs1940: plink2 --make-bed keeps ${bedSnps} of ${origSnps} variants (drops those at position -9)`,
  reference: 'gpulmm gwas --bfile on plink2\'s --make-bed; the formats are plink2 --export bgen-1.2 bits=8, --export bgen-1.3, --make-pgen, --export vcf bgz of it',
  command: 'bash bench/readers-mouse-parity.sh', tests: 'gwas --test all (Wald, LRT, score), our kinship', analysed_snps: bed.length - 1,
  formats,
  node: process.version, commit: execSync(`git -C ${JSON.stringify(root)} rev-parse HEAD`).toString().trim(), date: new Date().toISOString(),
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
console.log(JSON.stringify(rec, null, 2));
JS
