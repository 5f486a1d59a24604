/**
 * The null step's files (`gpulmm null`): a scan's stage-3 models (scan-models.ts ScanModels) written once and
 * loaded by every shard, named by content so that no job can take another run's files for its own.
 *
 * DIR/null.json, the manifest (written last, atomically):
 *   { format: 'gpulmm-null', version: 1, tool, plan: <plan hash>, n, c, samplesHash,
 *     decompositions: [{ kind, chr, file, bytes, sha256, arrays: [{ name, rows, cols }], phenotypes: [{ pheno, nullModel }] }],
 *     hash: SHA-256 of the canonical JSON of everything above }
 * DIR/<kind>-<chr>-<first 16 hex of sha256>.f64, one per decomposition: its arrays, f64 little-endian,
 * column-major and packed, one after the other in the manifest's order:
 *   eigen:    values (n), vectors U (n x n), uw = U'W (n x c), uy:<pheno> = U'y (n) per phenotype;
 *   whitened: per phenotype l:<pheno> (n x n), lw:<pheno> (n x c), ly:<pheno> (n).
 * Null models are JSON with non-finite numbers spelled "NaN", "Infinity", "-Infinity" (read back exactly).
 * The manifest's hash is what shard outputs carry as their null-model hash. Loading checks the manifest's
 * hash, its plan, and each file's size and SHA-256; it reads only the decompositions and phenotypes asked for.
 * Size: 8 n^2 bytes per decomposition (one per chromosome with loco; one per phenotype and kinship with
 * fixed VC) plus O(n (c + p)).
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { f64Matrix, type F64Matrix } from '../kernels/matrix.js';
import { InputError } from '../src/errors.js';
import { writeFileAtomic } from '../src/io/atomic-file.js';
import { hashJson } from '../src/io/content-hash.js';
import type { NullModel } from '../src/lmm/snp/null-model.js';
import type { EigenModels, ScanModels, WhitenedModels } from './scan-models.js';
import { readInput } from '../src/io/input-file.js';

export const NULL_FORMAT = 'gpulmm-null';
export const NULL_VERSION = 1;
/** The manifest's file name in the null directory. */
export const NULL_MANIFEST = 'null.json';

interface ArraySpec {
  name: string;
  rows: number;
  cols: number;
}

/** One decomposition's file and what it holds. */
export interface NullFileEntry {
  kind: 'eigen' | 'whitened';
  chr: string | null;
  file: string;
  bytes: number;
  sha256: string;
  arrays: ArraySpec[];
  phenotypes: { pheno: string; nullModel: Record<string, unknown> }[];
}

export interface NullManifest {
  format: typeof NULL_FORMAT;
  version: typeof NULL_VERSION;
  tool: string;
  /** Hash of the plan the models were made for. */
  plan: string;
  n: number;
  c: number;
  samplesHash: string;
  decompositions: NullFileEntry[];
  hash: string;
}

/** A null model as JSON-safe data: non-finite numbers as strings. */
function encodeNullModel(nm: NullModel): Record<string, unknown> {
  return JSON.parse(JSON.stringify(nm, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))) as Record<string, unknown>;
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function decodeNullModel(v: Record<string, unknown>): NullModel {
  return JSON.parse(JSON.stringify(v), (_k, x: unknown) => (typeof x === 'string' && x in NON_FINITE ? NON_FINITE[x] : x)) as NullModel;
}

/** The arrays of one decomposition, in file order (packed copies of views). */
function decompositionArrays(dec: EigenModels | WhitenedModels, n: number, c: number): { spec: ArraySpec; data: Float64Array }[] {
  const mat = (name: string, m: F64Matrix) => {
    const data = new Float64Array(m.rows * m.cols);
    for (let j = 0; j < m.cols; j++) data.set(m.data.subarray(j * m.ld, j * m.ld + m.rows), j * m.rows);
    return { spec: { name, rows: m.rows, cols: m.cols }, data };
  };
  const vec = (name: string, v: Float64Array, rows: number, cols = 1) => ({ spec: { name, rows, cols }, data: v.subarray(0, rows * cols) });
  if (dec.kind === 'eigen') {
    return [vec('values', dec.values, n), mat('vectors', dec.vectors), vec('uw', dec.uw, n, c), ...dec.phenotypes.map((p) => vec(`uy:${p.pheno}`, p.uy, n))];
  }
  return dec.phenotypes.flatMap((p) => [mat(`l:${p.pheno}`, p.l), mat(`lw:${p.pheno}`, p.lw), vec(`ly:${p.pheno}`, p.ly, n)]);
}

/**
 * Writes `models` into `dir`: one content-named file per decomposition, then the manifest. Returns the
 * manifest. O(size of the models) to write and hash.
 */
export async function writeNullModels(dir: string, models: ScanModels, meta: { tool: string; plan: string }): Promise<NullManifest> {
  const entries: NullFileEntry[] = [];
  for (const dec of models.decompositions) {
    const arrays = decompositionArrays(dec, models.n, models.c);
    const total = arrays.reduce((s, a) => s + a.data.length, 0);
    const payload = new Float64Array(total);
    let at = 0;
    for (const a of arrays) {
      payload.set(a.data, at);
      at += a.data.length;
    }
    const bytes = new Uint8Array(payload.buffer);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = `${dec.kind}-${dec.chr === null ? 'all' : `chr${dec.chr.replace(/[^A-Za-z0-9._-]/g, '_')}`}-${sha256.slice(0, 16)}.f64`;
    await writeFileAtomic(join(dir, file), bytes);
    entries.push({
      kind: dec.kind, chr: dec.chr, file, bytes: bytes.length, sha256, arrays: arrays.map((a) => a.spec),
      phenotypes: dec.phenotypes.map((p) => ({ pheno: p.pheno, nullModel: encodeNullModel(p.nullModel) })),
    });
  }
  const body = { format: NULL_FORMAT, version: NULL_VERSION, tool: meta.tool, plan: meta.plan, n: models.n, c: models.c, samplesHash: models.samplesHash, decompositions: entries } as const;
  const manifest: NullManifest = { ...body, hash: hashJson(body) };
  await writeFileAtomic(join(dir, NULL_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

/** Reads and checks a manifest (format, version, hash). InputError naming the file otherwise. */
export async function readNullManifest(path: string): Promise<NullManifest> {
  let m: NullManifest;
  try {
    m = JSON.parse((await readInput(path)).toString('utf8')) as NullManifest;
  } catch (e) {
    if (e instanceof InputError) throw new InputError(path, undefined, undefined, `${e.detail} (run gpulmm null first)`);
    throw new InputError(path, undefined, undefined, `not a null-model manifest (${(e as Error).message})`);
  }
  if (!m || m.format !== NULL_FORMAT) throw new InputError(path, undefined, undefined, `not a gpulmm null-model manifest (format '${String(m?.format)}', expected '${NULL_FORMAT}')`);
  if (m.version !== NULL_VERSION) throw new InputError(path, undefined, undefined, `null-model format version ${m.version}, this gpulmm reads version ${NULL_VERSION}`);
  const { hash, ...body } = m;
  if (hashJson(body) !== hash) throw new InputError(path, undefined, undefined, `the manifest's content does not match its hash ${hash?.slice(0, 12)}: it was edited; run gpulmm null again`);
  return m;
}

/**
 * Loads the models of a manifest found in `dir`: the decompositions whose chromosome is in `chrs` (all when
 * omitted; the global one always), with only the phenotypes in `phenos` (all when omitted). Each file's size
 * and SHA-256 must match the manifest (InputError naming the file otherwise).
 */
export async function loadNullModels(manifest: NullManifest, dir: string, select: { chrs?: ReadonlySet<string>; phenos?: ReadonlySet<string> } = {}): Promise<ScanModels> {
  const { n, c } = manifest;
  const models: ScanModels = { n, c, samplesHash: manifest.samplesHash, decompositions: [] };
  for (const e of manifest.decompositions) {
    if (e.chr !== null && select.chrs && !select.chrs.has(e.chr)) continue;
    const path = join(dir, basename(e.file));
    let bytes: Buffer;
    try {
      bytes = await readInput(path);
    } catch (err) {
      throw new InputError(path, undefined, undefined, `cannot read a null-model file listed in ${NULL_MANIFEST}: ${err instanceof InputError ? err.detail : String(err)}`);
    }
    if (bytes.length !== e.bytes) throw new InputError(path, undefined, undefined, `${bytes.length} bytes, ${NULL_MANIFEST} says ${e.bytes}: the null step's files were changed or mixed; run gpulmm null again`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== e.sha256) throw new InputError(path, undefined, undefined, `content (sha256 ${sha.slice(0, 12)}) does not match ${NULL_MANIFEST} (${e.sha256.slice(0, 12)}): the null step's files were changed or mixed; run gpulmm null again`);
    const all = new Float64Array(bytes.length / 8);
    Buffer.from(all.buffer).set(bytes);
    const arrays = new Map<string, F64Matrix>();
    let at = 0;
    for (const a of e.arrays) {
      arrays.set(a.name, f64Matrix(a.rows, a.cols, all.subarray(at, at + a.rows * a.cols)));
      at += a.rows * a.cols;
    }
    const get = (name: string): F64Matrix => {
      const m = arrays.get(name);
      if (!m) throw new InputError(path, undefined, undefined, `${NULL_MANIFEST} lists no array '${name}'`);
      return m;
    };
    const phenotypes = e.phenotypes.filter((p) => !select.phenos || select.phenos.has(p.pheno));
    if (e.kind === 'eigen') {
      models.decompositions.push({
        // Vectors stay a view of the file's buffer; the small arrays are copied (they are posted to the SNP test
        // threads, and posting a view would copy the whole buffer).
        kind: 'eigen', chr: e.chr, values: get('values').data.slice(), vectors: get('vectors'), uw: get('uw').data.slice(), c,
        phenotypes: phenotypes.map((p) => ({ pheno: p.pheno, uy: get(`uy:${p.pheno}`).data.slice(), nullModel: decodeNullModel(p.nullModel) })),
      });
    } else {
      models.decompositions.push({
        kind: 'whitened', chr: e.chr,
        phenotypes: phenotypes.map((p) => ({ pheno: p.pheno, l: get(`l:${p.pheno}`), lw: get(`lw:${p.pheno}`), ly: get(`ly:${p.pheno}`).data, nullModel: decodeNullModel(p.nullModel) })),
      });
    }
  }
  return models;
}
