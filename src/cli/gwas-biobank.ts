/**
 * `gpulmm gwas --mode biobank`: the matrix-free BOLT-LMM-inf scan (gwas/biobank/scan.ts), written to the same
 * Arrow / TSV / plot outputs as the exact mode (statistic in the Wald columns: p_wald is the calibrated
 * BOLT-LMM-inf chi-square's p, l_remle = 1 / delta), or BOLT-LMM's stats layout with `--tsv-format bolt`.
 */
import { BoltTsvWriter } from '../../gwas/biobank/bolt-format.js';
import { biobankScan, estimateBiobankMemory, type BiobankModel, type BiobankPhase, type BiobankScan } from '../../gwas/biobank/scan.js';
import type { AnalysisInputs } from '../../gwas/inputs.js';
import { readKeepFile } from '../../gwas/samples.js';
import { arrowColumns, GemmaTsvWriter, writeArrowBatch } from '../../gwas/scan-output.js';
import { ScanReport } from '../../gwas/scan-report.js';
import type { PhenotypeInput } from '../../gwas/scan.js';
import { openAtomic } from '../io/atomic-file.js';
import { arrowOutputKind, arrowSiblingPath, openArrowTable, type ArrowTableSink } from '../io/arrow-output.js';
import { UsageError } from '../errors.js';
import { getFlag } from '../flags.js';
import { VERSION } from '../version.js';
import type { GwasCliOptions } from './gwas.js';
import { createProgress, type Progress } from './progress.js';
import { analysedSnpsLine, commitAllOrNone } from './scan-outputs.js';

/** The options of `gpulmm gwas` the biobank mode reads. */
export type BiobankCliOptions = Pick<GwasCliOptions, 'keep' | 'maf' | 'miss' | 'out' | 'tsv' | 'tsvFormat' | 'plot' | 'plotFormat' | 'verbose' | 'h2Probes' | 'calibrationSnps' | 'cgTol' | 'seed' | 'h2' | 'calibration'>;

const WALD = { wald: true, lrt: false, score: false };
const PHASE_LABEL: Record<BiobankPhase, { label: string; unit: string }> = {
  read: { label: 'biobank: read genotypes', unit: 'SNPs' },
  h2: { label: 'biobank: h2 (REML, Lanczos)', unit: 'digits' },
  solve: { label: 'biobank: LOCO solves (CG)', unit: 'digits' },
  association: { label: 'biobank: association', unit: 'SNPs' },
};

/** `out.assoc.txt` -> `out.PHENO.assoc.txt` (one file per phenotype). */
function tsvPath(path: string, pheno: string): string {
  const m = /^(.*?)(\.assoc\.txt|\.stats|\.txt|\.tsv)?$/.exec(path)!;
  return `${m[1]}.${pheno}${m[2] ?? ''}`;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Runs the biobank scan on loaded inputs and writes the outputs and the summary (stderr). */
export async function runBiobankGwas(o: BiobankCliOptions, inputs: AnalysisInputs, command: string, t0: number): Promise<void> {
  if (o.calibration !== 'mean' && o.calibration !== 'bolt') throw new UsageError(`--calibration ${o.calibration}: expected mean or bolt`);
  if (o.tsvFormat !== 'gemma' && o.tsvFormat !== 'bolt') throw new UsageError(`--tsv-format ${o.tsvFormat}: expected gemma or bolt`);
  const source = inputs.source;
  const phenotypes: PhenotypeInput[] = inputs.phenotypes.map((values, k) => ({ name: `p${inputs.phenoCols[k]}`, values }));
  const several = phenotypes.length > 1;
  const n = inputs.samples.indices.length;
  const chromosomes = new Set(source.snps.map((s) => s.chr)).size;
  const mem = estimateBiobankMemory(n, source.nSnps, phenotypes.length, chromosomes, o.h2Probes, o.calibrationSnps, getFlag('threads'));
  if (o.verbose) {
    process.stderr.write(`biobank mode: ${n} individuals x ${source.nSnps} SNPs; memory: 2-bit genotypes ${mib(mem.codes)} + work ${mib(mem.work)} (O(n x right-hand sides)) = ${mib(mem.total)}, ${getFlag('threads')} threads\n`);
  }

  // Step 1: the scan, one progress line per phase.
  let bar: { phase: BiobankPhase; progress: Progress; done: number } | undefined;
  const onProgress = (phase: BiobankPhase, done: number, total: number): void => {
    if (bar?.phase !== phase) {
      bar?.progress.done();
      bar = { phase, progress: createProgress({ ...PHASE_LABEL[phase], total }), done: 0 };
    }
    if (done > bar.done) {
      bar.progress.tick(done - bar.done);
      bar.done = done;
    }
  };
  // Phenotypes with the same missing individuals are analysed together (shared probes and passes); each group
  // on its own individuals, so a phenotype loses only its own missing values.
  const groups = new Map<string, PhenotypeInput[]>();
  for (const p of phenotypes) {
    let key = '';
    for (let i = 0; i < p.values.length; i++) key += Number.isNaN(p.values[i]!) ? '1' : '0';
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const keep = o.keep ? await readKeepFile(o.keep) : undefined;
  const scans: BiobankScan[] = [];
  for (const group of groups.values()) {
    scans.push(await biobankScan({
      source, phenotypes: group, ...(inputs.covariates ? { covariates: inputs.covariates } : {}), ...(keep ? { keep } : {}),
      maf: o.maf, miss: o.miss, probes: o.h2Probes, calibrationSnps: o.calibrationSnps, cgTol: o.cgTol, seed: o.seed, ...(o.h2 !== undefined ? { h2: o.h2 } : {}), calibration: o.calibration === 'bolt' ? 'bolt' : 'mean of ratios', blockSize: getFlag('blockSize'), backend: getFlag('backend'), onProgress,
    }));
  }
  const models = new Map(scans.flatMap((sc) => [...sc.models]));
  const nOf = new Map(scans.flatMap((sc) => [...sc.models.keys()].map((k) => [k, sc.summary.nAnalysed] as const)));

  // Step 2: outputs, streamed.
  const withPheno = several || (o.out !== undefined && arrowOutputKind(o.out) === 'dataset');
  const meta = { tool: `gpulmm ${VERSION}`, command, mode: 'biobank', test: 'bolt-lmm-inf' };
  let arrow: ArrowTableSink | undefined;
  const tsvs = new Map<string, { write(b: Parameters<GemmaTsvWriter['write']>[0]): Promise<void>; close(): Promise<void>; abort(): Promise<void> }>();
  const report = new ScanReport(WALD);
  await commitAllOrNone(() => [...tsvs.values(), arrow], async () => {
    if (o.out) arrow = await openArrowTable(o.out, { columns: arrowColumns(withPheno), metadata: { ...meta, 'gpulmm.biobank_model': JSON.stringify(Object.fromEntries(models)) }, partitionBy: ['pheno', 'chr'] });
    if (o.tsv) {
      for (const p of phenotypes) {
        const path = several ? tsvPath(o.tsv, p.name) : o.tsv;
        tsvs.set(p.name, o.tsvFormat === 'bolt' ? await BoltTsvWriter.open(path, nOf.get(p.name)!) : await GemmaTsvWriter.open(path, WALD));
      }
    }
    for (const scan of scans) {
      for await (const b of scan.batches) {
        if (arrow) await writeArrowBatch(arrow, b, nOf.get(b.pheno)!, withPheno);
        await tsvs.get(b.pheno)?.write(b);
        report.add(b);
      }
    }
    bar?.progress.done();
  });
  if (o.out) {
    const f = await openAtomic(arrowSiblingPath(o.out, '.json'));
    try {
      const summaries = scans.map((sc) => ({ phenotypes: [...sc.models.keys()], ...sc.summary, samples: sc.summary.samples.counts }));
      await f.write(`${JSON.stringify({ ...meta, biobank_model: Object.fromEntries(models), summary: summaries.length === 1 ? summaries[0] : summaries }, null, 2)}\n`);
      await f.commit();
    } catch (e) {
      await f.abort();
      throw e;
    }
  }

  // Step 3: summary (per group of phenotypes with the same individuals).
  const lines: string[] = [];
  for (const scan of scans) {
    const s = scan.summary;
    const tag = groups.size > 1 ? ` [${[...scan.models.keys()].join(', ')}]` : '';
    lines.push(`analysed individuals${tag}: ${s.nAnalysed} of ${s.nIndividuals}; covariates (intercept included): ${s.c}`);
    lines.push(analysedSnpsLine(s, tag));
    if (s.rounded > 0) lines.push(`note: ${s.rounded} fractional dosages were rounded to hard calls for the kinship and the tests`);
    for (const [pheno, m] of scan.models) lines.push(...describeBiobankModel(m).map((l) => `${several ? `[${pheno}] ` : ''}${l}`));
    if (!s.lanczosConverged) lines.push(`warning: the Lanczos quadratures were still changing after ${s.lanczosSteps} steps; h2 may be imprecise`);
  }
  const reports = report.reports();
  lines.push(...report.lines(reports, several));
  if (o.plot) await report.writePlots(o.plot, reports, several, o.plotFormat);
  if (o.verbose) {
    for (const scan of scans) {
      const s = scan.summary;
      const t = s.timings;
      lines.push(`biobank: ${s.probes} probes, ${s.deflated.length} outlying eigenvalues deflated${s.deflated.length ? ` (${s.deflated.map((v) => v.toFixed(1)).join(', ')})` : ''}, ${s.lanczosSteps} Lanczos steps, ${s.cgIterations} CG iterations, ${s.products} products over the 2-bit genotypes (${mib(s.packedBytes)})`);
      lines.push(`time (s): read+filter ${t.read.toFixed(2)}, model ${t.model.toFixed(2)}, h2 ${t.h2.toFixed(2)}, LOCO solves ${t.solve.toFixed(2)}, association ${t.association.toFixed(2)}`);
    }
    lines.push(`time (s): total ${((performance.now() - t0) / 1000).toFixed(2)} [products ${scans[0]!.summary.precision === 'f32' ? 'webgpu f32' : `cpu f64, ${getFlag('threads')} threads`}]`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Log lines for one phenotype's model (h2 with its standard errors, variance components, calibration). */
export function describeBiobankModel(m: BiobankModel): string[] {
  const g = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
  const out = [
    `h2 (BOLT-LMM pseudo-heritability${m.h2Source === 'reml' ? `, REML) = ${g(m.h2)} (s.e. ${g(m.h2SeReml)}; Monte Carlo s.e. ${g(m.h2SeMc)})` : `, fixed) = ${g(m.h2)}`}; sigma2g = ${g(m.sigma2g)}, sigma2e = ${g(m.sigma2e)}, delta = ${g(m.delta)}; M = ${m.m} SNPs`,
    `calibration of the LOCO statistic: ${g(m.calibration.factor)} (${m.calibration.method}, s.e. ${g(m.calibration.se)}, ${m.calibration.snps} SNPs; ${m.calibration.alternative.method} ${g(m.calibration.alternative.factor)}, s.e. ${g(m.calibration.alternative.se)}; mean prospective ${g(m.calibration.avgProspective)}, retrospective ${g(m.calibration.avgRetrospective)})`,
  ];
  if (m.boundary !== 'none') out.push(`warning: h2 is at the boundary of its range (${m.boundary}): ${m.boundary === 'h2=0' ? 'the mixed model does not correct for relatedness or structure' : 'the model may be unsuitable (sample too small, or ascertained)'}`);
  if (m.unconverged.length > 0) out.push(`warning: the LOCO solve did not converge for chromosome(s) ${m.unconverged.join(', ')}: their SNPs have status cg_not_converged`);
  return out;
}
