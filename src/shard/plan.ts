/**
 * A shard plan: the engine-neutral manifest behind `gpulmm plan`, `null`, `gwas|scde --plan --shard` and `merge`.
 *
 * The plan names the analysis (the command and its options as given), fingerprints every input file by content
 * (src/io/content-hash.ts), and lists the shards (SNP ranges x phenotype groups for gwas, gene chunks x cell
 * types for scde). Its hash covers the tool version, the command, the options that change results, the
 * inputs' fingerprints (by role, not by path) and the shards: two plans with the same hash describe the same
 * computation wherever their files live. Every job checks its inputs against the plan before it computes, and
 * every output carries the plan's hash, so a merge never mixes runs.
 *
 * The plan is JSON (written atomically); `jobs` (scheduler hints) is outside the hash.
 */
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { contentFingerprint, hashJson, type ContentFingerprint } from '../io/content-hash.js';
import { readInput } from '../io/input-file.js';

export const PLAN_FORMAT = 'gpulmm-plan';
export const PLAN_VERSION = 1;

/** One input file of the analysis: its role (e.g. `bfile.bed`, `pheno`), its path as given, its fingerprint. */
export interface PlanInput {
  role: string;
  path: string;
  fingerprint: ContentFingerprint;
}

/** Every shard has an id: 0, 1, ..., shards.length - 1, in order. */
export interface ShardSpec {
  id: number;
}

/** Hints for schedulers (not part of the hash: they do not change results). */
export interface PlanJobs {
  /** Jobs that compute (null, shards) ask for one GPU (`--gres=gpu:1`). */
  gpu: boolean;
  /** Extra `#SBATCH` options for every job (e.g. `--partition=gpu`, `--time=2:00:00`). */
  sbatch: string[];
}

export interface ShardPlan<S extends ShardSpec = ShardSpec> {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  /** `gpulmm VERSION` that made the plan; jobs of another version refuse it. */
  tool: string;
  /** The analysis command: `gwas` or `scde`. */
  command: string;
  /** The analysis options as given (paths relative to the working directory). */
  args: string[];
  /** Working directory when the plan was made (for messages; jobs resolve paths against their own). */
  workdir: string;
  inputs: PlanInput[];
  /** The options that change results, without paths (inputs are named by content). */
  options: Record<string, unknown>;
  shards: S[];
  /** Command-specific facts every job checks (e.g. the analysed SNP count). */
  summary: Record<string, unknown>;
  jobs: PlanJobs;
  hash: string;
}

/** The plan's hash: SHA-256 over everything but paths, the working directory and scheduler hints. */
export function planHash(p: Omit<ShardPlan, 'hash'>): string {
  return hashJson({
    format: p.format,
    version: p.version,
    tool: p.tool,
    command: p.command,
    options: p.options,
    inputs: p.inputs.map((i) => ({ role: i.role, fingerprint: i.fingerprint })),
    shards: p.shards,
    summary: p.summary,
  });
}

/** Fingerprints each (role, path) input. */
export async function fingerprintInputs(files: { role: string; path: string }[]): Promise<PlanInput[]> {
  return Promise.all(files.map(async (f) => ({ ...f, fingerprint: await contentFingerprint(f.path) })));
}

/** Completes a plan with its hash. Shard ids must be 0..n-1 in order. */
export function makePlan<S extends ShardSpec>(p: Omit<ShardPlan<S>, 'format' | 'version' | 'hash'>): ShardPlan<S> {
  p.shards.forEach((s, k) => {
    if (s.id !== k) throw new RangeError(`makePlan: shard ${k} has id ${s.id}`);
  });
  if (p.shards.length === 0) throw new RangeError('makePlan: no shards');
  // As written and read back (JSON drops undefined entries), so that readPlan recomputes the same hash.
  const body = JSON.parse(JSON.stringify({ format: PLAN_FORMAT, version: PLAN_VERSION, ...p })) as Omit<ShardPlan<S>, 'hash'>;
  return { ...body, hash: planHash(body) };
}

/** Writes the plan as indented JSON, atomically. */
export async function writePlan(path: string, plan: ShardPlan): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(plan, null, 2)}\n`);
}

/** First 12 hex digits of a hash, for messages. */
export function shortHash(h: string | undefined): string {
  return h ? h.slice(0, 12) : '(none)';
}

/**
 * Reads and validates a plan: JSON, format and version, and its hash recomputed (a plan edited by hand is
 * refused). Throws InputError naming the file.
 */
export async function readPlan(path: string): Promise<ShardPlan> {
  const text = (await readInput(path)).toString('utf8');
  let p: ShardPlan;
  try {
    p = JSON.parse(text) as ShardPlan;
  } catch (e) {
    throw new InputError(path, undefined, undefined, `not a plan (invalid JSON: ${(e as Error).message})`);
  }
  if (!p || p.format !== PLAN_FORMAT) throw new InputError(path, undefined, undefined, `not a gpulmm plan (format '${String(p?.format)}', expected '${PLAN_FORMAT}'): make one with gpulmm plan`);
  if (p.version !== PLAN_VERSION) throw new InputError(path, undefined, undefined, `plan format version ${p.version}, this gpulmm reads version ${PLAN_VERSION}`);
  for (const key of ['tool', 'command', 'args', 'inputs', 'options', 'shards', 'summary', 'jobs', 'hash'] as const) {
    if (p[key] === undefined) throw new InputError(path, undefined, undefined, `plan has no '${key}'`);
  }
  const want = planHash(p);
  if (want !== p.hash) throw new InputError(path, undefined, undefined, `the plan's content does not match its hash (${shortHash(p.hash)}; content hashes to ${shortHash(want)}): it was edited after gpulmm plan wrote it; make it again`);
  return p;
}

/**
 * Checks that the plan was made by this tool version and that every input still has the content it had when
 * the plan was made. Throws one InputError (on the plan file) listing every input that differs or is gone.
 */
export async function verifyPlanInputs(planPath: string, plan: ShardPlan, tool: string): Promise<void> {
  if (plan.tool !== tool) throw new InputError(planPath, undefined, undefined, `plan made by ${plan.tool}, this is ${tool}: make the plan again with this version (results of two versions are never mixed)`);
  const problems: string[] = [];
  await Promise.all(
    plan.inputs.map(async (i) => {
      let now: ContentFingerprint;
      try {
        now = await contentFingerprint(i.path);
      } catch (e) {
        problems.push(`${i.role} ${i.path}: ${(e as Error).message}`);
        return;
      }
      const was = i.fingerprint;
      if (now.size !== was.size) problems.push(`${i.role} ${i.path}: ${was.size} bytes when planned, now ${now.size}`);
      else if (now.sha256 !== was.sha256) problems.push(`${i.role} ${i.path}: content changed (sha256 ${shortHash(was.sha256)} when planned, now ${shortHash(now.sha256)})`);
    }),
  );
  if (problems.length > 0) {
    throw new InputError(planPath, undefined, undefined, `input files differ from when the plan was made:\n  ${problems.sort().join('\n  ')}\nmake the plan again (gpulmm plan) and rerun every job`);
  }
}
