import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { labelRows, plotArea } from '../../src/plot/frame.js';
import { manhattanPlot, qqPlot, volcanoPlot } from '../../src/plot/index.js';
import { PointLayer } from '../../src/plot/points.js';

/** Decoded PNG: size and the 0xRRGGBB colour of a pixel. */
async function decode(png: Buffer) {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const pixel = (x: number, y: number) => {
    const o = (Math.floor(y) * img.width + Math.floor(x)) * 4;
    return (data[o]! << 16) | (data[o + 1]! << 8) | data[o + 2]!;
  };
  const count = (pred: (rgb: number) => boolean, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height) => {
    let k = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pred(pixel(x, y))) k++;
    return k;
  };
  return { width: img.width, height: img.height, pixel, count };
}

/** CSS pixel of data (x, y) in a w x h plot with data ranges [x0, x1] x [y0, y1] (the map every plot uses). */
function at(w: number, h: number, x: number, y: number, [x0, x1]: readonly [number, number], [y0, y1]: readonly [number, number]): [number, number] {
  const a = plotArea(w, h);
  return [a.left + ((x - x0) / (x1 - x0)) * (a.right - a.left), a.bottom - ((y - y0) / (y1 - y0)) * (a.bottom - a.top)];
}

const grey = (rgb: number) => {
  const r = rgb >> 16, g = (rgb >> 8) & 255, b = rgb & 255;
  return r === g && g === b;
};

describe('PointLayer', () => {
  it('anti-aliased disks: full colour at the centre, partial coverage at the rim, repeats in a pixel skipped, clipped', async () => {
    const layer = new PointLayer(20, 10, 1, 2, [0xff0000, 0x0000ff]);
    layer.disk(5.5, 5.5, 0);
    layer.disk(5.6, 5.4, 0); // same pixel, same colour: skipped
    layer.disk(5.6, 5.4, 1); // another colour: drawn
    layer.disk(-10, 5, 0); // far outside: nothing
    layer.disk(19.9, 5, 0); // half outside: clipped
    expect(layer.stamped).toBe(3);
    const c = createCanvas(20, 10);
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, 20, 10);
    layer.drawOnto(ctx, 0, 0);
    const d = await decode(c.toBuffer('image/png'));
    expect(d.pixel(5, 5)).toBe(0x0000ff);
    expect(d.pixel(19, 5)).toBe(0xff0000);
    expect(d.pixel(12, 2)).toBe(0xffffff);
    // The rim of the disk blends with the white background: neither background nor a pure colour.
    const rim = [d.pixel(5, 3), d.pixel(3, 5), d.pixel(7, 5)];
    for (const p of rim) expect([0xffffff, 0xff0000, 0x0000ff]).not.toContain(p);
  });
  it('rejects an empty or oversized palette', () => {
    expect(() => new PointLayer(5, 5, 1, 1, [])).toThrow(/palette/);
  });
});

describe('plots (PNG)', () => {
  it('manhattan: chromosomes end to end, colour alternates, dashed genome-wide line, labels and title as anti-aliased text', async () => {
    const w = 600, h = 300;
    const d = await decode(manhattanPlot({ chr: ['1', '1', '2'], pos: [100, 200, 50], log10p: Float64Array.of(-1, -3, -5), title: 'Manhattan', width: w, height: h, pixelRatio: 1 }));
    expect([d.width, d.height]).toEqual([w, h]);
    // chr1 spans [100, 200] -> x [0, 100]; gap and padding 1% of the total span (101); chr2 (one point) at 101.01.
    const xr = [-1.01, 103.02] as const;
    const yr = [0, -Math.log10(5e-8) * 1.05] as const;
    expect(d.pixel(...at(w, h, 100, 3, xr, yr))).toBe(0x1f4e79);
    expect(d.pixel(...at(w, h, 101.01, 5, xr, yr))).toBe(0x6fa8dc);
    expect(d.pixel(...at(w, h, 50, 5, xr, yr))).toBe(0xffffff);
    const [, ty] = at(w, h, 50, -Math.log10(5e-8), xr, yr);
    const reds = Array.from({ length: 60 }, (_, k) => d.pixel(100 + k, ty)).filter((p) => p === 0xd62728);
    expect(reds.length).toBeGreaterThan(20);
    expect(reds.length).toBeLessThan(50); // dashed, not solid
    // Title above the plot area: dark text with anti-aliased (intermediate grey) edges.
    const a = plotArea(w, h);
    const titleBox = [w / 2 - 60, 0, w / 2 + 60, a.top - 2] as const;
    expect(d.count((p) => p === 0, ...titleBox)).toBeGreaterThan(30);
    expect(d.count((p) => grey(p) && p !== 0 && p !== 0xffffff, ...titleBox)).toBeGreaterThan(30);
    // Chromosome names under the axis near their centres.
    for (const x of [50, 101.01]) {
      const [cx] = at(w, h, x, 0, xr, yr);
      expect(d.count((p) => p !== 0xffffff, cx - 6, a.bottom + 6, cx + 6, a.bottom + 20)).toBeGreaterThan(5);
    }
  });
  it('qq: a single p = 0.01 at (-log10 0.5, 2), the identity line, the 95% band and lambda_GC', async () => {
    const w = 300, h = 300;
    const log10p = Float64Array.from({ length: 2000 }, (_, i) => Math.log10((i + 0.5) / 2000));
    const d = await decode(qqPlot({ log10p, lambda: 1.234, width: w, height: h, pixelRatio: 1 }));
    const xMax = -Math.log10(0.25 / 2000);
    const a = plotArea(w, h);
    // Band (light grey) around the diagonal near the top ranks, where it is wide.
    expect(d.count((p) => p === 0xd9d9d9, a.left, a.top, a.right, a.bottom)).toBeGreaterThan(100);
    expect(d.count((p) => p === 0x1f4e79, a.left, a.top, a.right, a.bottom)).toBeGreaterThan(100);
    expect(d.count((p) => p !== 0xffffff, a.left + 8, a.top + 4, a.left + 90, a.top + 30)).toBeGreaterThan(40); // lambda text
    expect(xMax).toBeGreaterThan(3);
    const one = await decode(qqPlot({ log10p: Float64Array.of(-2, NaN), width: w, height: h, pixelRatio: 1 }));
    const ex = -Math.log10(0.5);
    // y range: the observed 2 exceeds the band's upper end at rank 1 of n = 1 (-log10 0.025).
    const yTop = 2 * 1.05;
    expect(one.pixel(...at(w, h, ex, 2, [0, ex * 1.05], [0, yTop]))).toBe(0x1f4e79);
  });
  it('qq of 100,000 p without a full sort: every sorted point is inked, nothing far off the curve', async () => {
    const w = 300, h = 300, n = 100_000;
    let seed = 17;
    const u = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296;
    const log10p = Float64Array.from({ length: n }, () => Math.log10(u() ** 1.3)); // inflated: the curve leaves the diagonal
    log10p[5] = -Infinity; // p = 0: drawn at the top
    log10p[6] = NaN;
    const d = await decode(qqPlot({ log10p, width: w, height: h, pixelRatio: 1 }));
    const obs = Array.from(log10p.filter((v) => !Number.isNaN(v)), (v) => -v).sort((a, b) => b - a); // descending
    const m = obs.length;
    const xTop = -Math.log10(0.5 / m) * 1.05;
    const yTop = Math.max(-Math.log10(0.5 / m), -Math.log10(0.025), obs[1]!) * 1.05;
    const inked = (rgb: number) => rgb >> 16 < 150 && (rgb & 255) > (rgb >> 16); // blue-dominant: a point
    let checked = 0;
    for (let r = 2; r <= m; r = Math.ceil(r * 1.07)) {
      const [x, y] = at(w, h, -Math.log10((r - 0.5) / m), obs[r - 1]!, [0, xTop], [0, yTop]);
      expect(inked(d.pixel(x, y)), `rank ${r}`).toBe(true);
      // 12 px above the curve there is no point.
      if (y - 12 > plotArea(w, h).top + 30) expect(inked(d.pixel(x, y - 12)), `above rank ${r}`).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    const [tx, ty] = at(w, h, -Math.log10(0.5 / m), yTop, [0, xTop], [0, yTop]);
    expect(inked(d.pixel(tx, ty + 0.5))).toBe(true);
  });
  it('volcano: significant points red over grey ones, count in the corner', async () => {
    const w = 400, h = 300;
    const d = await decode(volcanoPlot({ beta: [-1, 0.5], log10p: Float64Array.of(-2, -4), fdr: Float64Array.of(0.01, 0.5), title: 'v', width: w, height: h, pixelRatio: 1 }));
    const xr = [-1.05, 1.05] as const;
    const yr = [0, 4 * 1.05] as const;
    expect(d.pixel(...at(w, h, -1, 2, xr, yr))).toBe(0xd62728);
    expect(d.pixel(...at(w, h, 0.5, 4, xr, yr))).toBe(0x9e9e9e);
    expect(d.pixel(...at(w, h, 0.5, 1.5, xr, yr))).toBe(0xffffff);
  });
  it('pixelRatio scales the raster; bad sizes, formats and lengths are refused', async () => {
    const d = await decode(qqPlot({ log10p: Float64Array.of(-1, -2), width: 300, height: 200 }));
    expect([d.width, d.height]).toEqual([600, 400]);
    expect(() => manhattanPlot({ chr: ['1'], pos: [1, 2], log10p: new Float64Array(2) })).toThrow(/same length/);
    expect(() => volcanoPlot({ beta: [1], log10p: new Float64Array(2) })).toThrow(/same length/);
    expect(() => qqPlot({ log10p: Float64Array.of(NaN) })).toThrow(/no non-NaN/);
    expect(() => qqPlot({ log10p: Float64Array.of(-1), format: 'gif' as 'png' })).toThrow(/format must be one of png, svg, pdf/);
    expect(() => qqPlot({ log10p: Float64Array.of(-1), width: 10 })).toThrow(/width and height/);
  });
});

describe('plots (SVG and PDF)', () => {
  const log10p = Float64Array.from({ length: 5000 }, (_, i) => Math.log10((i + 0.5) / 5000));
  const chr = Array.from(log10p, (_, i) => String(1 + (i % 3)));
  const pos = Array.from(log10p, (_, i) => i);
  it('SVG: text as outlines (no font needed), points as one embedded PNG raster, axes as vector paths', () => {
    const svg = manhattanPlot({ chr, pos, log10p, title: 'svg', format: 'svg', width: 800, height: 400 }).toString();
    expect(svg).toMatch(/^<\?xml[^>]*>\s*<svg[^>]*width="800" height="400"/);
    expect(svg).not.toMatch(/<text/);
    const images = [...svg.matchAll(/<image[^>]*width="(\d+)" height="(\d+)"[^>]*xlink:href="data:image\/png;base64,([^"]+)"/g)];
    expect(images.length).toBe(1);
    const a = plotArea(800, 400);
    expect([Number(images[0]![1]), Number(images[0]![2])]).toEqual([(a.right - a.left) * 2, (a.bottom - a.top) * 2]);
    expect(Buffer.from(images[0]![3]!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(20);
  });
  it('PDF: one page, Inter embedded as a subset, points as one image (with its alpha as a soft mask)', () => {
    const pdf = qqPlot({ log10p, title: 'pdf', lambda: 1, format: 'pdf' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.subarray(pdf.length - 8).toString()).toMatch(/%%EOF\s*$/);
    const text = pdf.toString('latin1');
    expect(text).toMatch(/\/BaseFont\s*\/[A-Z]{6}\+Inter-Regular/);
    expect(text).toMatch(/\/FontFile2/);
    expect((text.match(/\/Subtype\s*\/Image/g) ?? []).length).toBe(2);
    expect((text.match(/\/SMask\s+\d+ 0 R/g) ?? []).length).toBe(1);
    expect((text.match(/\/Type\s*\/Page\b/g) ?? []).length).toBe(1);
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
