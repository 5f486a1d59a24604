/**
 * The eigendecomposition of the (restricted, double-centred) kinship, K_c = U diag(d) U', and a cache of it on
 * disk (`--eigen-cache DIR`) keyed by a fingerprint of everything that determines K_c, so that later runs
 * (another phenotype, another test) reuse U and d instead of recomputing the O(n^3) eigh.
 *
 * Cache entry `DIR/<key>.eig` (little-endian):
 *   bytes 0-7    magic "gpulmmE\0"
 *   bytes 8-11   u32 format version (1)
 *   bytes 12-15  u32 n
 *   bytes 16-79  the key (64 hex characters, ASCII), so a renamed file is not mistaken for another entry
 *   bytes 80-111 SHA-256 of the payload
 *   bytes 112-   payload: n f64 eigenvalues (ascending), then U as n * n f64 column-major
 * A missing, stale (other key) or corrupt (size, magic, checksum) entry is recomputed and rewritten.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, EighResult } from '../kernels/backend.js';
import { f64Matrix, shapeOf, type F64Matrix } from '../kernels/matrix.js';
import { makeDirectories, openAtomic, outputError } from '../src/io/atomic-file.js';
import { canonicalJson } from '../src/io/content-hash.js';
import { zeroSmallEigenvaluesInPlace } from '../src/lmm/snp/null-model.js';

const MAGIC = 'gpulmmE\0';
const VERSION = 1;
const HEADER_BYTES = 112;

/**
 * Eigendecomposition of a kinship as GEMMA uses it: K_c = U diag(d) U' in f64 on `backend`, then eigenvalues
 * with |d_i| < 1e-10 set to exactly 0 (GEMMA 0.98.5 EigenDecomp_Zeroed; a larger negative eigenvalue is kept).
 * Cost O(n^3).
 */
export function decomposeKinship(kc: F64Matrix, backend: Backend): Promise<EighResult> {
  if (kc.rows !== kc.cols) return Promise.reject(new RangeError(`decomposeKinship: kinship must be square, got ${shapeOf(kc)}`));
  // Not an async function: no frame of this one holds kc while the backend works (the cpu eigh lets it go
  // once copied, so a caller without its own reference frees 8 n^2 bytes during the decomposition).
  return backend.eigh(kc).then((eig) => ({ values: zeroSmallEigenvaluesInPlace(eig.values), vectors: eig.vectors }));
}

/** What a file contributes to a fingerprint: its size, modification time and (optionally) content hash. */
export async function fileFingerprint(path: string, hashContent: boolean): Promise<Record<string, string | number>> {
  const s = await stat(path);
  const fp: Record<string, string | number> = { path, size: s.size, mtimeMs: s.mtimeMs };
  if (hashContent) fp.sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
  return fp;
}

/**
 * The cache key: SHA-256 (hex) of the canonical JSON of `parts` (object keys sorted). Callers put in it what
 * determines K_c: the kinship file's fingerprint (content hash) or the genotype files' fingerprints with the
 * kinship mode and SNP filters, the analysed sample IDs (hashed), and the LOCO chromosome.
 */
export function eigenCacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/** SHA-256 (hex) of a list of sample IDs, for cache keys. */
export function hashSampleIds(ids: readonly string[]): string {
  return createHash('sha256').update(ids.join('\n')).digest('hex');
}

function entryPath(dir: string, key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new RangeError(`eigen cache: key must be 64 hex characters, got '${key}'`);
  return join(dir, `${key}.eig`);
}

/** Loads an entry; undefined when absent. Returns a reason string when the entry exists but is unusable. */
export async function loadEigen(dir: string, key: string, n: number): Promise<EighResult | string | undefined> {
  const path = entryPath(dir, key);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  const want = HEADER_BYTES + 8 * (n + n * n);
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return `${path} is not an eigen cache entry (bad magic)`;
  if (bytes.readUInt32LE(8) !== VERSION) return `${path} has format version ${bytes.readUInt32LE(8)}, expected ${VERSION}`;
  if (bytes.toString('latin1', 16, 80) !== key) return `${path} holds another key (stale)`;
  if (bytes.readUInt32LE(12) !== n || bytes.length !== want) return `${path} is for n = ${bytes.readUInt32LE(12)} with ${bytes.length} bytes, expected n = ${n} and ${want} bytes`;
  const payload = bytes.subarray(HEADER_BYTES);
  const sum = createHash('sha256').update(payload).digest();
  if (!sum.equals(bytes.subarray(80, 112))) return `${path} is corrupt (checksum mismatch)`;
  // U on a SharedArrayBuffer, as the cpu eigh returns it: the cpu backend's products then read it without a copy.
  const vectors = new Float64Array(new SharedArrayBuffer(8 * n * n));
  const values = new Float64Array(n);
  Buffer.from(values.buffer).set(payload.subarray(0, 8 * n));
  Buffer.from(vectors.buffer).set(payload.subarray(8 * n));
  return { values, vectors: f64Matrix(n, n, vectors) };
}

/** Writes an entry atomically (temporary name, renamed when complete); creates `dir` if needed. */
export async function storeEigen(dir: string, key: string, eig: EighResult): Promise<void> {
  const n = eig.values.length;
  const u = eig.vectors;
  if (u.rows !== n || u.cols !== n) throw new RangeError(`storeEigen: ${n} eigenvalues but eigenvectors ${shapeOf(u)}`);
  await makeDirectories(dir).catch((e: unknown) => {
    throw outputError(dir, e, 'cannot create the eigen cache directory');
  });
  const payload = new Float64Array(n + n * n);
  payload.set(eig.values);
  for (let j = 0; j < n; j++) payload.set(u.data.subarray(j * u.ld, j * u.ld + n), n + j * n);
  const bytes = new Uint8Array(payload.buffer);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(VERSION, 8);
  header.writeUInt32LE(n, 12);
  header.write(key, 16, 'latin1');
  createHash('sha256').update(bytes).digest().copy(header, 80);
  const out = await openAtomic(entryPath(dir, key), { publish: 'now' });
  try {
    await out.write(header);
    await out.write(bytes);
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/** How {@link cachedEigen} obtained the decomposition. */
export type EigenOrigin = 'computed' | 'cache' | 'recomputed';

/**
 * The decomposition for `key`: from `dir` when a valid entry exists, else `compute()` (then stored).
 * A stale or corrupt entry is reported through `log` and replaced. Without `dir`, always computes.
 */
export async function cachedEigen(
  dir: string | undefined,
  key: string,
  n: number,
  compute: () => Promise<EighResult>,
  log: (message: string) => void = () => {},
): Promise<{ eig: EighResult; origin: EigenOrigin }> {
  if (!dir) return { eig: await compute(), origin: 'computed' };
  const hit = await loadEigen(dir, key, n);
  if (hit && typeof hit !== 'string') {
    log(`eigen cache: reusing ${entryPath(dir, key)}`);
    return { eig: hit, origin: 'cache' };
  }
  log(typeof hit === 'string' ? `eigen cache: ${hit}; recomputing` : `eigen cache: no entry for these inputs (first run, or the inputs changed); computing`);
  const eig = await compute();
  await storeEigen(dir, key, eig);
  log(`eigen cache: stored ${entryPath(dir, key)}`);
  return { eig, origin: hit === undefined ? 'computed' : 'recomputed' };
}
