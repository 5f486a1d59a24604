/**
 * The reference tool measured side by side with the gpulmm backends: R's dense linear algebra (the system
 * BLAS/LAPACK, OpenBLAS here) running the same ops at the same n, through src/bench/reference.R.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpName } from '../../kernels/backend.js';

export interface ReferenceTiming {
  op: OpName;
  n: number;
  median_s: number;
  samples: number;
}

export interface ReferenceRun {
  timings: ReferenceTiming[];
  /** R version and BLAS/LAPACK library, as R reports them. */
  description: string;
}

/** src/bench/reference.R, found from the source tree (src/bench/) or the build (dist/src/bench/). */
function scriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const found = [join(here, 'reference.R'), join(here, '..', '..', '..', 'src', 'bench', 'reference.R')].find((p) => existsSync(p));
  if (!found) throw new Error(`src/bench/reference.R not found near ${here}`);
  return found;
}

/**
 * Times every (op, n) in R with `reps` samples each. Rejects with the reason when Rscript is missing or
 * fails. Cost: the same ops again, at the system BLAS's speed.
 */
export function runReferenceR(cases: readonly { op: OpName; n: number }[], reps: number): Promise<ReferenceRun> {
  const args = [scriptPath(), String(reps), ...cases.map((c) => `${c.op}:${c.n}`)];
  return new Promise((resolve, reject) => {
    execFile('Rscript', args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`Rscript failed: ${err.message}${stderr ? `\n${stderr.trim()}` : ''}`));
      const timings: ReferenceTiming[] = [];
      let description = 'R';
      for (const line of stdout.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f[0] === 'blas') {
          description = line.trim().slice('blas'.length).trim();
        } else if (f.length === 4) {
          timings.push({ op: f[0] as OpName, n: Number(f[1]), median_s: Number(f[2]), samples: Number(f[3]) });
        }
      }
      if (timings.length !== cases.length || timings.some((t) => !(t.median_s > 0))) {
        return reject(new Error(`Rscript returned ${timings.length} timings for ${cases.length} cases:\n${stdout}`));
      }
      resolve({ timings, description });
    });
  });
}
