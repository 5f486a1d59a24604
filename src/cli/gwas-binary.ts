/**
 * `gpulmm gwas --trait binary` (and `auto` on two-valued phenotypes): the logistic mixed model scan of
 * gwas/scan-binary.ts, written as Arrow (`--out`), TSV (`--tsv`) and plots (`--plot`); see the README's
 * "Binary traits" section. Called by src/cli/gwas.ts once the inputs are loaded.
 */
import type { PlotFormat } from '../plot/index.js';
import { asScoreBatch, BinaryTsvWriter, describeBinaryNullModel, openBinaryArrow, writeBinaryArrowBatch } from '../../gwas/scan-binary-output.js';
import { binaryScan } from '../../gwas/scan-binary.js';
import { ScanReport } from '../../gwas/scan-report.js';
import type { KinshipInput, PhenotypeInput } from '../../gwas/scan.js';
import type { KeepList } from '../../gwas/samples.js';
import type { GenotypeSource } from '../../gwas/types.js';
import type { F64Matrix } from '../../kernels/matrix.js';
import { UsageError } from '../errors.js';
import { getFlag } from '../flags.js';
import { codeBinary, detectBinaryCoding, type BinaryCoding } from '../lmm/binary/coding.js';
import { arrowOutputKind, arrowSiblingPath } from '../io/arrow-output.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { VERSION } from '../version.js';
import { createProgress } from './progress.js';
import { analysedSnpsLine, commitAllOrNone } from './scan-outputs.js';

export type TraitChoice = 'auto' | 'quantitative' | 'binary';

/**
 * Which trait the phenotypes are: `--trait` as given, or with `auto` binary when every phenotype has two values
 * coded 0/1 or 1/2 (and 0 missing in a .fam column), quantitative when none has. Returns the codings when binary.
 * Throws UsageError naming the phenotypes when `auto` sees both kinds or `binary` a phenotype it cannot code.
 */
export function chooseTrait(trait: TraitChoice, phenotypes: PhenotypeInput[], fromFam: boolean): BinaryCoding[] | undefined {
  if (trait !== 'auto' && trait !== 'quantitative' && trait !== 'binary') throw new UsageError(`--trait ${trait as string}: expected auto, quantitative or binary`);
  if (trait === 'quantitative') return undefined;
  const codings = phenotypes.map((p) => detectBinaryCoding(p.values, fromFam));
  const binary = phenotypes.filter((_, k) => codings[k]);
  if (trait === 'binary') {
    const bad = phenotypes.filter((_, k) => !codings[k]).map((p) => p.name);
    if (bad.length > 0) throw new UsageError(`--trait binary: phenotype ${bad.join(', ')} does not have exactly two values coded 0/1 (control/case), 1/2 (PLINK) or control/case`);
    return codings as BinaryCoding[];
  }
  if (binary.length === 0) return undefined;
  if (binary.length < phenotypes.length) {
    throw new UsageError(`--trait auto: phenotypes ${binary.map((p) => p.name).join(', ')} are binary but ${phenotypes.filter((_, k) => !codings[k]).map((p) => p.name).join(', ')} not: scan them separately or give --trait`);
  }
  return codings as BinaryCoding[];
}

export interface BinaryGwasArgs {
  source: GenotypeSource;
  phenotypes: PhenotypeInput[];
  codings: BinaryCoding[];
  covariates?: F64Matrix;
  keep?: KeepList;
  kinship: KinshipInput;
  kinshipName: string;
  maf: number;
  miss: number;
  loco: boolean;
  firthP: number;
  out?: string;
  tsv?: string;
  plot?: string;
  plotFormat?: PlotFormat;
  verbose: boolean;
  tsvPath: (path: string, pheno: string) => string;
  started: number;
}

/** Runs the binary scan and writes its outputs and summary (stderr). */
export async function runBinaryGwas(a: BinaryGwasArgs): Promise<void> {
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const phenotypes = a.phenotypes.map((p, k) => ({ name: p.name, values: codeBinary(p.values, a.codings[k]!) }));
  const progress = createProgress({ label: 'gwas (binary)', total: a.source.nSnps * phenotypes.length, unit: 'SNPs' });
  let lastDone = 0;
  const scan = await binaryScan({
    source: a.source, phenotypes, ...(a.covariates ? { covariates: a.covariates } : {}), ...(a.keep ? { keep: a.keep } : {}),
    kinship: a.kinship, maf: a.maf, miss: a.miss, ...(a.loco ? { loco: true } : {}), firthP: a.firthP,
    backend: getFlag('backend'), blockSize: getFlag('blockSize'), ...(a.verbose ? { log } : {}),
    onProgress: (done) => {
      progress.tick((done - lastDone) * phenotypes.length);
      lastDone = done;
    },
  });
  const several = phenotypes.length > 1;
  const meta = { tool: `gpulmm ${VERSION}`, command: process.argv.slice(2).join(' '), test: 'score-spa', kinship: a.kinshipName, loco: String(a.loco), firth_p: String(a.firthP) };
  const withPheno = several || (a.out !== undefined && arrowOutputKind(a.out) === 'dataset');
  const arrow = a.out ? await openBinaryArrow(a.out, scan.nullModels, withPheno, meta) : undefined;
  const tsvs = new Map<string, BinaryTsvWriter>();
  const report = new ScanReport({ wald: false, lrt: false, score: true });
  const methods = new Map<string, number>();
  await commitAllOrNone(() => [...tsvs.values(), arrow], async () => {
    if (a.tsv) for (const p of phenotypes) tsvs.set(p.name, await BinaryTsvWriter.open(several ? a.tsvPath(a.tsv, p.name) : a.tsv));
    for await (const b of scan.batches) {
      if (arrow) await writeBinaryArrowBatch(arrow, b, withPheno);
      await tsvs.get(b.pheno)?.write(b);
      report.add(asScoreBatch(b));
      for (let j = 0; j < b.snps.length; j++) {
        const key = `${b.assoc.method[j]}${b.assoc.status[j] === 'ok' ? '' : ` (${b.assoc.status[j]})`}`;
        methods.set(key, (methods.get(key) ?? 0) + 1);
      }
    }
    progress.done();
  });
  if (a.out) {
    const json = { tool: meta.tool, command: meta.command, trait: 'binary', null_model: Object.fromEntries(scan.nullModels) };
    await writeFileAtomic(arrowSiblingPath(a.out, '.json'), `${JSON.stringify(json, null, 2)}\n`);
  }

  const s = scan.summary;
  const lines: string[] = [];
  lines.push(`binary trait (${phenotypes.map((p, k) => `${p.name}: ${a.codings[k]}`).join(', ')}): logistic mixed model, score test with SPA, Firth below p ${a.firthP}`);
  lines.push(`analysed individuals: ${s.nAnalysed} of ${s.nIndividuals}; covariates (intercept included): ${s.c}`);
  lines.push(analysedSnpsLine(s));
  for (const [key, nm] of scan.nullModels) {
    if (!a.loco || !several) lines.push(`null model${several || a.loco ? ` [${key}]` : ''}:`, ...describeBinaryNullModel(nm).map((l) => `  ${l}`));
  }
  lines.push(`methods: ${[...methods].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const reports = report.reports();
  lines.push(...report.lines(reports, several));
  if (a.plot) await report.writePlots(a.plot, reports, several, a.plotFormat);
  if (a.verbose) {
    const t = s.timings;
    lines.push(`time (s): kinship ${t.kinship.toFixed(2)}, null model ${t.nullModel.toFixed(2)}, whitening ${t.rotation.toFixed(2)}, tests ${t.optimisation.toFixed(2)}, read+filter ${t.io.toFixed(2)}, total ${((performance.now() - a.started) / 1000).toFixed(2)} [backend ${s.backend}]`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}
