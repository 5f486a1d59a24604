#!/usr/bin/env bash
# Golden outputs of BOLT-LMM 2.4 (`bolt --lmmInfOnly`, Debian package bolt-lmm) for the biobank-mode tests
# (test/gwas/biobank/bolt-golden.test.ts): the cohort is re-made by data/simulate/cohort.mjs with the arguments
# below (deterministic), so only BOLT's outputs are committed: bolt/c1200.stats.gz (the stats file) and
# bolt/c1200.json (h2, calibration and lambda_GC lines of its log, and the exact command).
# Usage: bash data/biobank/make-bolt-golden.sh   (needs `bolt` on PATH)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SIM_ARGS=(--n 1200 --m 3000 --chr 6 --seed 5)
node "$ROOT/data/simulate/cohort.mjs" --out "$WORK/c" "${SIM_ARGS[@]}"
CMD=(bolt --bfile "$WORK/c" --phenoFile "$WORK/c.phe" --phenoCol quant --covarFile "$WORK/c.cov" --qCovarCol age --qCovarCol sex
  --lmmInfOnly --LDscoresUseChip --numThreads 1 --maxMissingPerSnp 0.1 --verboseStats --statsFile "$WORK/c.stats")
"${CMD[@]}" >"$WORK/bolt.log" 2>&1
mkdir -p "$HERE/bolt"
gzip -9n <"$WORK/c.stats" >"$HERE/bolt/c1200.stats.gz"
node - "$WORK/bolt.log" "$HERE/bolt/c1200.json" "${SIM_ARGS[*]}" <<'JS'
const fs = require('node:fs');
const [log, out, sim] = process.argv.slice(2);
const text = fs.readFileSync(log, 'utf8');
const pick = (re) => (re.exec(text) ?? [])[0] ?? null;
fs.writeFileSync(out, JSON.stringify({
  tool: (/BOLT-LMM, v[0-9.]+/.exec(text) ?? [''])[0],
  cohort: `node data/simulate/cohort.mjs --out c ${sim}`,
  command: 'bolt --bfile c --phenoFile c.phe --phenoCol quant --covarFile c.cov --qCovarCol age --qCovarCol sex --lmmInfOnly --LDscoresUseChip --numThreads 1 --maxMissingPerSnp 0.1 --verboseStats --statsFile c.stats',
  h2g: Number((/h2g = ([0-9.]+)/.exec(text) ?? [])[1]),
  calibration: pick(/AvgPro:.*$/m), ratio_of_medians: pick(/Ratio of medians:.*$/m), warning: pick(/Using ratio of medians instead.*$/m),
  mean_and_lambda: pick(/Mean BOLT_LMM_INF:.*$/m),
}, null, 2) + '\n');
JS
cat "$HERE/bolt/c1200.json"
