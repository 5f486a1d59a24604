import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Canvas } from '../../src/plot/canvas.js';
import { drawText, textWidth } from '../../src/plot/font.js';
import { labelRows, plotArea } from '../../src/plot/frame.js';
import { manhattanPng, qqPng, volcanoPng } from '../../src/plot/index.js';
import { crc32 } from '../../src/plot/png.js';

/** Independent PNG reader for what the encoder promises: RGBA8, filter 0; checks signature, CRCs and IEND. */
function decodePng(png: Buffer) {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    expect(png.readUInt32BE(off + 8 + len)).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([8, 6, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  expect(types[0]).toBe('IHDR');
  expect(types[types.length - 1]).toBe('IEND');
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (width * 4 + 1));
  const pixel = (x: number, y: number) => {
    const row = y * (width * 4 + 1);
    expect(raw[row]).toBe(0);
    const o = row + 1 + x * 4;
    return (raw[o]! << 16) | (raw[o + 1]! << 8) | raw[o + 2]!;
  };
  return { width, height, pixel };
}

/** Pixel of data (x, y) in a plot with data ranges [x0, x1] x [y0, y1] (the linear map every plot promises). */
function expectedPixel(w: number, h: number, x: number, y: number, [x0, x1]: number[], [y0, y1]: number[]) {
  const a = plotArea(w, h);
  return [
    Math.round(a.left + ((x - x0) / (x1 - x0)) * (a.right - 1 - a.left)),
    Math.round(a.bottom - 1 - ((y - y0) / (y1 - y0)) * (a.bottom - 1 - a.top)),
  ] as const;
}

describe('png + canvas', () => {
  it('round-trips pixels through the encoder', () => {
    const c = new Canvas(7, 5, 0x102030);
    c.setPixel(3, 2, 0xabcdef);
    c.line(0, 4, 6, 4, 0xff0000);
    const d = decodePng(c.toPng());
    expect([d.width, d.height]).toEqual([7, 5]);
    expect(d.pixel(3, 2)).toBe(0xabcdef);
    expect(d.pixel(0, 0)).toBe(0x102030);
    expect(d.pixel(6, 4)).toBe(0xff0000);
  });
  it('text draws inside its measured box, vertical text rotated', () => {
    const c = new Canvas(80, 80);
    drawText(c, 'HqH', 10, 10, { scale: 2 });
    let minX = 80, maxX = 0, maxY = 0;
    for (let y = 0; y < 80; y++) for (let x = 0; x < 80; x++) if (c.getPixel(x, y) !== 0xffffff) {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    }
    expect(minX).toBe(10);
    expect(maxX).toBe(10 + textWidth('HqH', 2) - 1);
    expect(maxY).toBe(10 + 9 * 2 - 1); // q's descender reaches the 9th row
    const v = new Canvas(40, 60);
    // 'I' read bottom to top: its top bar (glyph columns 1..3) becomes x = 5, y = 48..46; its stem runs right at y = 47.
    drawText(v, 'I', 5, 50, { vertical: true });
    expect([48, 47, 46].map((y) => v.getPixel(5, y))).toEqual([0, 0, 0]);
    expect([49, 45].map((y) => v.getPixel(5, y))).toEqual([0xffffff, 0xffffff]);
    expect([6, 8, 10, 11].map((x) => v.getPixel(x, 47))).toEqual([0, 0, 0, 0]);
    expect(v.getPixel(8, 46)).toBe(0xffffff);
  });
  it('rejects bad sizes', () => {
    expect(() => new Canvas(0, 3)).toThrow(RangeError);
  });
});

describe('plots', () => {
  it('volcano: highlighted and plain points land on their pixels', () => {
    const png = volcanoPng({ beta: [-1, 0.5], log10p: Float64Array.of(-2, -4), fdr: Float64Array.of(0.01, 0.5), title: 'v', width: 400, height: 300 });
    const d = decodePng(png);
    expect([d.width, d.height]).toEqual([400, 300]);
    const xr = [-1.05, 1.05];
    const yr = [0, 4 * 1.05];
    expect(d.pixel(...expectedPixel(400, 300, -1, 2, xr, yr))).toBe(0xd62728);
    expect(d.pixel(...expectedPixel(400, 300, 0.5, 4, xr, yr))).toBe(0x999999);
    expect(d.pixel(...expectedPixel(400, 300, 0.5, 1.5, xr, yr))).toBe(0xffffff);
  });
  it('manhattan: chromosomes laid end to end, point colour alternates by chromosome', () => {
    const png = manhattanPng({ chr: ['1', '1', '2'], pos: [100, 200, 50], log10p: Float64Array.of(-1, -3, -5), title: 'm', width: 600, height: 300 });
    const d = decodePng(png);
    // chr1 spans [100, 200] -> x [0, 100]; gap 1% of the total span (101); chr2 (one point) at 101.01.
    const xr = [0, 103.01 - 1];
    const yr = [0, -Math.log10(5e-8) * 1.05];
    expect(d.pixel(...expectedPixel(600, 300, 100, 3, xr, yr))).toBe(0x1f4e79);
    expect(d.pixel(...expectedPixel(600, 300, 101.01, 5, xr, yr))).toBe(0x6fa8dc);
    const [, ty] = expectedPixel(600, 300, 50, -Math.log10(5e-8), xr, yr);
    const reds = Array.from({ length: 40 }, (_, k) => d.pixel(100 + k, ty)).filter((p) => p === 0xd62728);
    expect(reds.length).toBeGreaterThan(10); // dashed threshold line
  });
  it('qq: a single p = 0.01 sits at (-log10 0.5, 2)', () => {
    const d = decodePng(qqPng({ log10p: Float64Array.of(-2, NaN), width: 300, height: 300 }));
    const ex = -Math.log10(0.5);
    expect(d.pixel(...expectedPixel(300, 300, ex, 2, [0, ex * 1.05], [0, 2 * 1.05]))).toBe(0x1f4e79);
  });
  it('validates lengths', () => {
    expect(() => manhattanPng({ chr: ['1'], pos: [1, 2], log10p: new Float64Array(2) })).toThrow(/same length/);
    expect(() => volcanoPng({ beta: [1], log10p: new Float64Array(2) })).toThrow(/same length/);
    expect(() => qqPng({ log10p: Float64Array.of(NaN) })).toThrow(/no non-NaN/);
  });
});

describe('x-axis label placement', () => {
  it('labels sharing a row never come within 3 px; crowded ones are dropped, sparse ones all on row 0', () => {
    const xs = Array.from({ length: 300 }, (_, k) => 70 + k * 1.1);
    const widths = xs.map((_, k) => 6 * `contig${k}`.length - 1);
    const rows = labelRows(xs, widths);
    for (const r of [0, 1]) {
      const placed = xs.map((x, k) => [x - widths[k]! / 2, x + widths[k]! / 2, rows[k]] as const).filter((p) => p[2] === r);
      expect(placed.length).toBeGreaterThan(0);
      for (let k = 1; k < placed.length; k++) expect(placed[k]![0] - placed[k - 1]![1]).toBeGreaterThan(3);
    }
    expect(rows.filter((r) => r < 0).length).toBeGreaterThan(250);
    expect(labelRows([100, 200, 300], [11, 11, 11])).toEqual([0, 0, 0]);
    expect(labelRows([100, 110, 120], [11, 11, 11])).toEqual([0, 1, 0]);
  });
});
