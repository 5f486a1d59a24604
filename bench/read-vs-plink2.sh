#!/usr/bin/env bash
# Read speed of the genotype readers against `plink2 --freq` on the same files, side by side in one command
# (alternating, REPS each): a simulated cohort (data/simulate/cohort.mjs, N individuals x M SNPs, hard calls) as
# PLINK 1 .bed, PGEN (plink2 --make-pgen), BGEN v1.2 8-bit zlib (plink2 --export bgen-1.2 bits=8) and VCF.gz
# (plink2 --export vcf bgz). Ours: bench/read-genotypes.ts opening the input and computing every SNP's ALT frequency
# (what --freq computes) from the f64 blocks a scan consumes, and for .bed/PGEN also from the packed 2-bit blocks.
# Records wall and cpu seconds (medians), SNPs/s over the whole command (open included), our throughput over
# plink2's, the largest |frequency - plink2's| and the load average. Writes bench/results/read-vs-plink2-cpu2.json
# (override with OUT=...). Data are made once under $DATA_DIR (default /tmp/gpulmm-read-bench).
# ONLY="bed bed-packed ..." runs only those cases (then write to another OUT).
# Usage: npm run build && flock /work/bench.lock bash bench/read-vs-plink2.sh [REPS] [N] [M]    (needs plink2)
set -euo pipefail
REPS=${1:-3}
N=${2:-4000}
M=${3:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results/read-vs-plink2-cpu2.json}
DATA_DIR=${DATA_DIR:-/tmp/gpulmm-read-bench}/n${N}m${M}
mkdir -p "$DATA_DIR"
cd "$DATA_DIR"
if [ ! -e c.vcf.gz ]; then
  nice node "$ROOT/data/simulate/cohort.mjs" --out c --n "$N" --m "$M" >/dev/null
  p2() { nice plink2 --silent --threads 1 "$@" >/dev/null 2>&1; }
  p2 --bfile c --make-pgen --out c
  p2 --bfile c --export bgen-1.2 bits=8 --out c
  p2 --bfile c --export vcf bgz --out c
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOAD_BEFORE=$(cat /proc/loadavg)
READ="node $ROOT/dist/bench/read-genotypes.js"
# name | plink2 input options | our input options
CASES=(
  "bed|--bfile c|--bfile c"
  "bed-packed|--bfile c|--bfile c --packed"
  "pgen|--pfile c|--pfile c"
  "pgen-packed|--pfile c|--pfile c --packed"
  "bgen-1.2-zlib-8bit|--bgen c.bgen ref-last|--bgen c.bgen"
  "vcf.gz|--vcf c.vcf.gz|--vcf c.vcf.gz"
)
: > "$WORK/times.txt"
for r in $(seq 1 "$REPS"); do
  for c in "${CASES[@]}"; do
    IFS='|' read -r name theirs ours <<< "$c"
    [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $name "* ]] || continue
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" plink2 $theirs --nonfounders --freq cols=chrom,pos,ref,alt,altfreq,nobs --out "$WORK/$name" >/dev/null 2>&1
    echo "$name plink2 $(cat "$WORK/t")" >> "$WORK/times.txt"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" $READ $ours --freq-out "$WORK/$name.ours" > "$WORK/$name.json"
    echo "$name ours $(cat "$WORK/t")" >> "$WORK/times.txt"
    echo "rep $r $name: $(tail -2 "$WORK/times.txt" | awk '{print $2, $3 "s"}' | tr '\n' ' ')" >&2
  done
done
node - "$ROOT" "$OUT" "$WORK" "$REPS" "$N" "$M" "$LOAD_BEFORE" <<'JS'
const [root, out, work, reps, n, m, loadBefore] = process.argv.slice(2);
const fs = require('node:fs'), os = require('node:os');
const { execSync } = require('node:child_process');
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const rows = fs.readFileSync(`${work}/times.txt`, 'utf8').trim().split('\n').map((l) => l.split(' '));
const cases = {};
for (const [name, tool, e, u, s] of rows) {
  const c = (cases[name] ??= { plink2: { wall_s: [], cpu_s: [] }, ours: { wall_s: [], cpu_s: [] } });
  c[tool].wall_s.push(Number(e));
  c[tool].cpu_s.push(Number(u) + Number(s));
}
const snps = Number(m);
for (const [name, c] of Object.entries(cases)) {
  for (const t of ['plink2', 'ours']) {
    c[t].median_wall_s = median(c[t].wall_s);
    c[t].median_cpu_s = median(c[t].cpu_s);
    c[t].snps_per_s = snps / c[t].median_wall_s;
  }
  c.throughput_ratio_ours_over_plink2 = c.ours.snps_per_s / c.plink2.snps_per_s;
  c.cpu_ratio_plink2_over_ours = c.plink2.median_cpu_s / c.ours.median_cpu_s;
  const theirs = new Map(fs.readFileSync(`${work}/${name}.afreq`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')).map((f) => [f[2], Number(f[5])]));
  let worst = 0;
  for (const line of fs.readFileSync(`${work}/${name}.ours`, 'utf8').trim().split('\n')) {
    const [rs, f] = line.split('\t');
    worst = Math.max(worst, Math.abs(Number(f) - theirs.get(rs)));
  }
  c.max_abs_freq_diff_vs_plink2 = worst;
  c.ours.stages_last_run = JSON.parse(fs.readFileSync(`${work}/${name}.json`, 'utf8'));
}
const target = { 'bgen-1.2-zlib-8bit': 0.5, 'vcf.gz': 0.5, bed: 1, 'bed-packed': 1, pgen: 1, 'pgen-packed': 1 };
for (const [name, c] of Object.entries(cases)) c.target_throughput_ratio = target[name];
const rec = {
  benchmark: 'read-vs-plink2', dataset: `data/simulate/cohort.mjs --n ${n} --m ${m} (hard calls, 2% missing), converted by plink2`,
  op: 'open + read every SNP + ALT frequency per SNP (plink2 --freq --nonfounders: its own reading, PGEN/.bed directly, BGEN and VCF through its import)',
  command: `${process.env.ONLY ? `ONLY="${process.env.ONLY}" ` : ''}flock /work/bench.lock bash bench/read-vs-plink2.sh ${reps} ${n} ${m}`, reps: Number(reps), snps, samples: Number(n),
  reference: execSync('plink2 --version').toString().trim(),
  cases, load_average_before: loadBefore, load_average_after: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
  adapter: { vendor: 'cpu', device: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
  node: process.version, commit: execSync(`git -C ${JSON.stringify(root)} rev-parse HEAD`).toString().trim(), date: new Date().toISOString(),
  note: 'plink2 uses its default threads (all cores); ours: one JS thread plus libuv threads inflating BGZF blocks. Machine shared: compare ratios within this record.',
};
fs.writeFileSync(out, JSON.stringify(rec, null, 2) + '\n');
for (const [name, c] of Object.entries(cases)) console.log(`${name}: ours ${c.ours.snps_per_s.toFixed(0)} SNPs/s, plink2 ${c.plink2.snps_per_s.toFixed(0)} -> ${c.throughput_ratio_ours_over_plink2.toFixed(3)}x (target ${target[name]}x); cpu ${c.ours.median_cpu_s.toFixed(2)} vs ${c.plink2.median_cpu_s.toFixed(2)} s; max |freq diff| ${c.max_abs_freq_diff_vs_plink2.toExponential(1)}`);
JS
