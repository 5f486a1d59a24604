/**
 * Manhattan plot: -log10 p against genome position, chromosomes side by side in natural order (1..22, X, Y, MT,
 * then others alphabetically) with alternating colours and their names under the axis, a dashed genome-wide
 * significance line. Points are a raster layer (points.ts), axes and text vectors. Cost O(n) plus the
 * O(#chromosomes log #chromosomes) sort; memory one Int32 per point.
 */
import { drawFrame, line } from './frame.js';
import { PointLayer } from './points.js';
import { openSurface, type SurfaceOptions } from './surface.js';

/** Inputs of manhattanPlot (all arrays of one length n). */
export interface ManhattanOptions extends SurfaceOptions {
  /** Chromosome of each variant ("1", "chr2", "X", ...). */
  chr: readonly string[];
  /** Base-pair position of each variant. */
  pos: ArrayLike<number>;
  /** log10 p of each variant (<= 0); NaN is skipped, -Infinity drawn at the top. */
  log10p: ArrayLike<number>;
  title?: string;
  /** Genome-wide significance p for the dashed line (default 5e-8; 0 for none). */
  threshold?: number;
  /** Size in CSS px (default 1200 x 500). */
  width?: number;
  height?: number;
}

const COLORS = [0x1f4e79, 0x6fa8dc] as const;
const THRESHOLD_COLOR = 0xd62728;

/** Sort key of a chromosome name: numbers first in numeric order, then X, Y, XY, MT, then the rest by name. */
function chromosomeKey(name: string): [number, string] {
  const s = name.replace(/^chr/i, '');
  if (/^\d+$/.test(s)) return [Number(s), ''];
  const special = ['X', 'Y', 'XY', 'MT', 'M'].indexOf(s.toUpperCase());
  return special >= 0 ? [1e6 + special, ''] : [2e6, s];
}

/** Renders a Manhattan plot as PNG (default), SVG or PDF bytes. */
export function manhattanPlot(options: ManhattanOptions): Buffer {
  const { chr, pos, log10p, title, threshold = 5e-8, width = 1200, height = 500 } = options;
  const n = log10p.length;
  if (chr.length !== n || pos.length !== n) {
    throw new RangeError(`manhattanPlot: chr (${chr.length}), pos (${pos.length}) and log10p (${n}) must have the same length`);
  }
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`manhattanPlot: threshold must be a p-value in [0, 1), got ${threshold}`);
  const s = openSurface(width, height, options, 'manhattanPlot');
  // Chromosome extents.
  const index = new Map<string, number>();
  const chrOf = new Int32Array(n);
  const lo: number[] = [];
  const hi: number[] = [];
  let yMax = threshold > 0 ? -Math.log10(threshold) : 1;
  let lastName: string | undefined;
  let k = -1;
  for (let i = 0; i < n; i++) {
    // Variants come grouped by chromosome: look the name up only when it changes.
    if (chr[i] !== lastName) {
      lastName = chr[i]!;
      k = index.get(lastName) ?? -1;
      if (k < 0) {
        k = lo.length;
        index.set(lastName, k);
        lo.push(Infinity);
        hi.push(-Infinity);
      }
    }
    chrOf[i] = k;
    const p = pos[i]!;
    if (p < lo[k]!) lo[k] = p;
    if (p > hi[k]!) hi[k] = p;
    const y = -log10p[i]!;
    if (y > yMax && y !== Infinity) yMax = y;
  }
  const names = [...index.keys()].sort((a, b) => {
    const [ka, sa] = chromosomeKey(a);
    const [kb, sb] = chromosomeKey(b);
    return ka - kb || (sa < sb ? -1 : sa > sb ? 1 : 0);
  });
  // Cumulative offsets: each chromosome spans [lo, hi], separated by a small gap.
  const spans = names.map((c) => Math.max(1, hi[index.get(c)!]! - lo[index.get(c)!]!));
  const total = spans.reduce((a, b) => a + b, 0);
  const gap = names.length > 1 ? total * 0.01 : 0;
  const offset = new Float64Array(lo.length);
  const rank = new Int32Array(lo.length);
  let acc = 0;
  const xTicks = names.map((c, r) => {
    const kk = index.get(c)!;
    offset[kk] = acc - lo[kk]!;
    rank[kk] = r;
    const mid = acc + spans[r]! / 2;
    acc += spans[r]! + gap;
    return { value: mid, label: c.replace(/^chr/i, '') };
  });
  const xEnd = Math.max(acc - gap, 1);
  const pad = Math.max(gap, xEnd * 0.005);
  const top = yMax * 1.05;

  const f = drawFrame(s, { title, xLabel: 'Chromosome', yLabel: '\u2212log\u2081\u2080(p)', x: [-pad, xEnd + pad], y: [0, top], xTicks });
  const layer = new PointLayer(f.right - f.left, f.bottom - f.top, options.pixelRatio ?? 2, 1.6, COLORS);
  for (let i = 0; i < n; i++) {
    const l = log10p[i]!;
    if (Number.isNaN(l)) continue;
    const kk = chrOf[i]!;
    layer.disk(f.px(pos[i]! + offset[kk]!) - f.left, f.py(l === -Infinity ? top : -l) - f.top, rank[kk]! & 1);
  }
  layer.drawOnto(s.ctx, f.left, f.top);
  if (threshold > 0) {
    const y = f.py(-Math.log10(threshold));
    line(s, f.left, y, f.right, y, THRESHOLD_COLOR, [6, 4]);
  }
  return s.finish();
}
