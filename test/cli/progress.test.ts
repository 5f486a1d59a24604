import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 120, write: (s: string) => out.push(s) } };
}

describe('createProgress', () => {
  it('is silent when the stream is not a TTY', () => {
    const { out, stream } = fakeStream(false);
    const p = createProgress({ label: 'scan', total: 100, unit: 'SNPs', stream });
    for (let i = 0; i < 100; i++) p.tick();
    p.done('ok');
    expect(out).toEqual([]);
  });
  it('draws bar, rate and ETA on a TTY, throttled to ~10 Hz', () => {
    const { out, stream } = fakeStream(true);
    let t = 0;
    const p = createProgress({ label: 'scan', total: 1000, unit: 'SNPs', stream, now: () => t });
    for (let i = 0; i < 500; i++) {
      t += 1; // 1 ms per SNP -> 1000 SNPs/s
      p.tick();
    }
    // 500 ms of ticks at one redraw per 100 ms.
    expect(out.length).toBeGreaterThanOrEqual(5);
    expect(out.length).toBeLessThanOrEqual(6);
    const last = out[out.length - 1]!;
    expect(last).toContain('scan');
    expect(last).toMatch(/\[#+\.+\]/);
    // Last redraw at t = 401 ms (draws at 1, 101, ..., 401).
    expect(last).toContain(' 40%');
    expect(last).toContain('401/1000 SNPs');
    expect(last).toContain('1000 SNPs/s');
    expect(last).toContain('ETA 0.6s');
    t = 2000;
    p.tick(500);
    p.done('12 hits');
    const fin = out[out.length - 1]!;
    expect(fin).toMatch(/100%.*1000\/1000 SNPs.*in 2\.0s {2}12 hits\n$/);
  });
  it('without a total shows count and rate only', () => {
    const { out, stream } = fakeStream(true);
    let t = 0;
    const p = createProgress({ label: 'read', unit: 'genes', stream, now: () => t });
    t = 1000;
    p.tick(25_000);
    expect(out[0]).toContain('25.0k genes  25.0k genes/s');
    expect(out[0]).not.toContain('ETA');
  });
});
