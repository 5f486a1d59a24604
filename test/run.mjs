#!/usr/bin/env node
// `npm test`: type-checks the tests with the sources (test/tsconfig.json), runs vitest once (extra arguments are
// passed on, e.g. a file filter), then prints the closing line that CI reads: `N passed, N failed, N skipped`
// (a type error counts as one failure). Exit code: vitest's, or 1 after a type error.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test', '.results');
const outFile = join(outDir, 'vitest.json');
mkdirSync(outDir, { recursive: true });
rmSync(outFile, { force: true });

process.env.XDG_RUNTIME_DIR ??= outDir;
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'test', 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
const typeErrors = tsc.status === 0 ? 0 : 1;
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = [vitest, 'run', '--config', 'test/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${outFile}`, ...process.argv.slice(2)];
const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });

let passed = 0, failed = 0, skipped = 0;
try {
  const report = JSON.parse(readFileSync(outFile, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + countSuitesThatFailedToRun(report);
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
} catch {
  failed = Math.max(1, failed);
}
failed += typeErrors;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(typeErrors ? 1 : (res.status ?? 1));

// A test file that failed to load or crashed has no failed test of its own: count it once as a failure.
function countSuitesThatFailedToRun(report) {
  return (report.testResults ?? []).filter((s) => s.status === 'failed' && !(s.assertionResults ?? []).some((t) => t.status === 'failed')).length;
}
