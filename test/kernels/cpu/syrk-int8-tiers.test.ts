import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { relaxedSimdAvailable } from '../../../kernels/cpu/wasm/runtime.js';
import { syrkInt8KernelBytes } from '../../../kernels/cpu/wasm/syrk-int8-kernel.js';

/**
 * V8 compiles wasm twice (Liftoff first, TurboFan for hot code) and the two have disagreed on relaxed SIMD
 * integer dot products (Node 20's Liftoff drops the addend of i32x4.relaxed_dot_i8x16_i7x16_add_s). So the
 * relaxed kernel is run in child processes pinned to each compiler, against the widening kernel on the same
 * packed dosages, over several call shapes.
 */
const CHILD = `
const v8 = require('node:v8');
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const bytes = require('node:fs').readFileSync(process.argv[1]);
const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const panels = 20, kPad = 16 * 300, R = 3, cBytes = panels * R * panels * R * 4;
const packed = new Int8Array(memory.buffer, 2 * cBytes, panels * R * kPad);
let s = 7;
for (let i = 0; i < packed.length; i++) packed[i] = (s = (s * 1103515245 + 12345) % 2147483648) % 3;
let bad = 0;
for (const [g0, groups, qi0, qj0, qj1] of [[0, 300, 0, 0, 20], [5, 128, 3, 2, 9], [299, 1, 19, 0, 20], [17, 255, 0, 7, 8]]) {
  for (let rep = 0; rep < 3; rep++) {
    new Int32Array(memory.buffer, 0, 2 * cBytes / 4).fill(rep);
    ex.syrk8r(2 * cBytes, kPad, g0, groups, qi0, panels, qj0, qj1, 0, panels * R * 4);
    ex.syrk8(2 * cBytes, kPad, g0, groups, qi0, panels, qj0, qj1, cBytes, panels * R * 4);
    const a = new Int32Array(memory.buffer, 0, cBytes / 4), b = new Int32Array(memory.buffer, cBytes, cBytes / 4);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) bad++;
  }
}
process.stdout.write(bad === 0 ? 'same' : bad + ' entries differ');
`;

describe('relaxed int8 syrk kernel under each V8 wasm compiler', () => {
  it.skipIf(!relaxedSimdAvailable())('equals the widening kernel exactly under Liftoff only and TurboFan only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'syrk8-tiers-'));
    try {
      const file = join(dir, 'kernel.wasm');
      writeFileSync(file, syrkInt8KernelBytes(true, true));
      for (const flag of ['--liftoff-only', '--no-liftoff']) {
        const r = spawnSync(process.execPath, [flag, '-e', CHILD, file], { encoding: 'utf8' });
        expect(r.stderr, flag).toBe('');
        expect(r.stdout, flag).toBe('same');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
