/**
 * House rules as tests: imports run one way.
 * - kernels/ knows nothing above it (no src/, gwas/, bench/), except the knob registry src/flags.ts, a leaf module
 *   (it imports nothing of the project) that holds every tunable in one place;
 * - src/io (readers and writers) knows nothing of the scan (gwas/) or the models (src/lmm, src/sc);
 * - the model maths (src/lmm) knows nothing of the scan, the readers or the command line, and does no file I/O;
 * - src/, kernels/ and gwas/ never import bench/ (benchmarks use the library, not the other way round);
 * - only the command line (src/cli) imports src/cli.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function tsFiles(dir: string): string[] {
  const abs = join(root, dir);
  return readdirSync(abs).flatMap((name) => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return tsFiles(relative(root, p));
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [relative(root, p)] : [];
  });
}

/** Every module specifier a source text imports or re-exports: static (with or without bindings), dynamic, either quote. */
function specifiersOf(text: string): string[] {
  const re = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+(['"])([^'"]+)\1|(?:^|\n)\s*import\s+(['"])([^'"]+)\3|import\(\s*(['"])([^'"]+)\5\s*\)/g;
  return [...text.matchAll(re)].map((m) => m[2] ?? m[4] ?? m[6]!);
}

/** Every module specifier a file imports or re-exports, resolved to a path from the root for relative ones. */
function importsOf(file: string): string[] {
  const specs = specifiersOf(readFileSync(join(root, file), 'utf8'));
  return specs.map((s) => (s.startsWith('.') ? relative(root, resolve(dirname(join(root, file)), s)) : s));
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

describe('architecture: imports run one way', () => {
  const rules: { from: string; forbidden: string[]; allowed?: string[] }[] = [
    { from: 'kernels', forbidden: ['src', 'gwas', 'bench'], allowed: ['src/flags.js'] },
    { from: 'src/io', forbidden: ['gwas', 'bench', 'src/lmm', 'src/sc', 'src/cli', 'src/plot'] },
    { from: 'src/lmm', forbidden: ['gwas', 'bench', 'src/io', 'src/cli', 'src/sc', 'node:fs', 'node:fs/promises'] },
    { from: 'src/stats', forbidden: ['gwas', 'bench', 'src/io', 'src/cli', 'src/lmm', 'src/sc'] },
    { from: 'src', forbidden: ['bench'] },
    { from: 'gwas', forbidden: ['bench', 'src/cli'] },
  ];
  for (const rule of rules) {
    test(`${rule.from}/ imports nothing from ${rule.forbidden.join(', ')}${rule.allowed ? ` (except ${rule.allowed.join(', ')})` : ''}`, () => {
      const files = tsFiles(rule.from);
      expect(files.length).toBeGreaterThan(0);
      const offending = files.flatMap((f) =>
        importsOf(f)
          .filter((imp) => rule.forbidden.some((dir) => under(imp, dir)) && !(rule.allowed ?? []).includes(imp))
          .map((imp) => `${f} -> ${imp}`),
      );
      expect(offending).toEqual([]);
    });
  }

  test('only the command line imports src/cli', () => {
    const files = ['src', 'kernels', 'gwas'].flatMap(tsFiles).filter((f) => !under(f, 'src/cli'));
    expect(files.flatMap((f) => importsOf(f).filter((imp) => under(imp, 'src/cli')).map((imp) => `${f} -> ${imp}`))).toEqual([]);
  });

  test('the knob registry src/flags.ts is a leaf: it imports nothing of the project', () => {
    expect(importsOf('src/flags.ts').filter((imp) => !imp.startsWith('node:'))).toEqual([]);
  });

  test('the checker sees imports (guards the rules above against a broken parser)', () => {
    expect(importsOf('src/cli/gwas.ts')).toContain('gwas/scan.js');
    expect(importsOf('src/cli/main.ts')).toContain('src/cli/gwas.js');
    const text = [
      "import { a } from './a.js';",
      'import type {\n  B,\n  C,\n} from "../b.js";',
      "import './side-effect.js';",
      "export * from './c.js';",
      "const m = await import('../../bench/d.js');",
    ].join('\n');
    expect(specifiersOf(text)).toEqual(['./a.js', '../b.js', './side-effect.js', './c.js', '../../bench/d.js']);
  });
});
